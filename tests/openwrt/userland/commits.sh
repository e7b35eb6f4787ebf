# The upstream commits the OpenWrt tests build (../shared/openwrt-src/MANIFEST.tsv names the
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
)
# LuCI subsets (luci-<version>.tar.gz), in release order.
LUCI_VERSIONS=(23.05 24.10 25.12 master-2026-06)
