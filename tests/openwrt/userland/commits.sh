# shellcheck shell=bash
# The upstream commits the OpenWrt tests build (and firewall4, which they run as it is) (../shared/openwrt-src/MANIFEST.tsv names the
# repositories). One userland serves all four LuCI versions: ucode, ubus, uci, rpcd and libubox
# keep their interfaces, and uhttpd is past 7e64e8b (2025-07-06), the fix for chunked CGI and
# ucode responses that b3e3c05 (2024-01-23) broke.
# shellcheck disable=SC2034  # read by build.sh and docs checks
declare -A COMMITS=(
    [libubox]=1aa36ee774c8db4d7a396903e0d2e1fb79ee8bf1   # 2026-02-13
    [ubus]=3cc98db1a422dcf560f2d6347fd410f17565a89d      # 2025-12-02
    [uci]=66127cd76c5d0bd46d5a90302cc6110f53a4e2f8       # 2025-12-02
    [ucode]=81205a25437a83e3b9e1eb55ac169be84453d53b     # 2026-07-22
    [rpcd]=4476687403d8c6e988eaa1ecc892e998838e6da9      # 2026-04-21
    [uhttpd]=f682ccabee9ed5f39dd3b0aaf96228975eeb478d    # 2026-07-24
    [lucihttp]=9b5b683fbb2bb0010aa031d620d0ab8105516757  # 2023-03-15
    [cgi-io]=901b0f0463c9d16a8cf5b9ed37118d8484bc9176    # 2022-08-10
    [firewall4]=b6e5157527d361f99ad52eaa6da273cb0f2dfd59 # 2025-03-17 (ucode and shell: nothing to compile)
)
# LuCI subsets (luci-<version>.tar.gz), in release order.
LUCI_VERSIONS=(23.05 24.10 25.12 master-2026-06)
# The LuCI subsets and openwrt/packages' utils/collectd the tarballs were made from
# (openwrt/luci and openwrt/packages commits; MANIFEST.tsv must name the same).
declare -A LUCI_COMMITS=(
    [23.05]=cf8a024c53c3ced6d82e5b745d2196cf6be34fbc            # branch openwrt-23.05, 2024-09-18
    [24.10]=d90728d2c05da46fe5c2a1a1100a93f9a55730d7            # master at the 24.10 branch point
    [25.12]=4c4b5c31bd529b9d713cd6c9a167dc578c5b8e77            # master at the 25.12 branch point
    [master-2026-06]=46cd82328dfb7fbb15961c63f9e674a41cef2500   # master, 2026-06-07
)
declare -A PACKAGES_COMMITS=(
    [23.05]=16c320b7fd67c64a80d71fa9016f2ef87e5b01bc   # branch openwrt-23.05
    [24.10]=42525d32c41080d8a2a9f1b7929f4207427d5ce8   # branch openwrt-24.10
    [25.12]=57654a9f48f82a2163a36de4123c2537abb5fce8   # branch openwrt-25.12
    [master]=0521bb56793387788798e4a69b84d96766ed54e2  # master
)
