#!/usr/bin/env bash
# Installs what is missing (scripts/install-deps.sh: the demo's packages and the whole test
# toolchain), builds, and runs every test with CTest; then the 32-bit pass (the
# nft layer, plugin, unit, kernel and core daemon tests built for i386, with i386 collectd:
# scripts/test-i386.sh, about 2 minutes; CTNFT_SKIP_I386=1 leaves it out); the VM pass (the kernel
# and core daemon tests in Debian's own amd64 6.1 and big-endian s390x kernels under qemu:
# scripts/test-vm.sh; CTNFT_SKIP_VM=1 leaves it out); then the whole suite
# again under ASan+UBSan and the threaded parts under TSan (scripts/sanitize.sh, about 8 minutes;
# CTNFT_SKIP_SANITIZE=1 leaves that out); then the ath79 pass (the plugin built for OpenWrt's
# mips_24kc with zig's musl and OpenWrt's flags, its unit, harness and fuzz-replay tests under
# qemu-mips-static -cpu 24Kc: scripts/cross-musl.sh ath79; its installs, libraries and zig's
# libc++ are prepared before the first ctest; only with CTNFT_MUSL=1: it needs
# Debian's libmnl and libnftnl source tarballs, which the CI mirror does not serve). Arguments go to
# the first ctest (e.g. -R kernel).
# Kernel and daemon tests need root; with CTNFT_REQUIRE_KERNEL_TESTS=1 (set by CI) a test that
# cannot run fails instead of being skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
# The long part of the ath79 pass (first time: zig's musl and libc++ for mips, collectd's tree
# configured for it; then cached in /var/cache/conntrack-nft), before any timed test.
[ "${CTNFT_MUSL:-0}" != 1 ] || "$root/scripts/cross-musl.sh" ath79 prepare
mkdir -p "$build"
# (Tests on explicitly: scripts/run.sh configures the same build/ without them.)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONNTRACK_NFT_TESTS=ON > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
# openwrt.sdk_build (label openwrt_sdk, OpenWrt's own build: docs/openwrt.md) runs in this ctest;
# CTNFT_SKIP_OPENWRT_SDK=1 leaves it out.
exclude=vm
[ "${CTNFT_SKIP_OPENWRT_SDK:-0}" != 1 ] || exclude='vm|openwrt_sdk'
(cd "$build" && ctest --output-on-failure -j "$(nproc)" -LE "$exclude" "$@")
[ "${CTNFT_SKIP_VM:-0}" = 1 ] || "$root/scripts/test-vm.sh"
[ "${CTNFT_SKIP_I386:-0}" = 1 ] || "$root/scripts/test-i386.sh"
[ "${CTNFT_SKIP_SANITIZE:-0}" = 1 ] || "$root/scripts/sanitize.sh"
[ "${CTNFT_MUSL:-0}" != 1 ] || "$root/scripts/cross-musl.sh" ath79 test
