#!/usr/bin/env bash
# Installs what is missing (scripts/install-deps.sh: the demo's packages and the whole test
# toolchain), builds, and runs every test with CTest; then the minimal-runtime pass (the .so as
# OpenWrt's SDK builds it by default, with g++ 12: no exceptions, no C++ library, through the
# daemon and fault tests: scripts/test-minimal.sh; CTNFT_SKIP_MINIMAL=1 leaves it out); the 32-bit pass (the
# nft layer, plugin, unit, kernel and core daemon tests built for i386, with i386 collectd:
# scripts/test-i386.sh, about 2 minutes; CTNFT_SKIP_I386=1 leaves it out); the VM pass (the kernel
# and core daemon tests in Debian's own kernels under qemu: amd64 6.1, trixie's amd64 6.12,
# big-endian s390x, 32-bit armhf (Cortex-A15) and mipsel (24Kc):
# scripts/test-vm.sh; CTNFT_SKIP_VM=1 leaves it out); then the whole suite
# again under ASan+UBSan and the threaded parts under TSan (scripts/sanitize.sh, about 8 minutes;
# CTNFT_SKIP_SANITIZE=1 leaves that out); then the ath79 pass (the
# plugin built for OpenWrt's mips_24kc with zig's musl and OpenWrt's flags against upstream's
# libmnl 1.0.4 and libnftnl 1.2.8 from ../shared/netfilter-src, its .so checked, its unit,
# harness and fuzz-replay tests under qemu-mips-static -cpu 24Kc: scripts/cross-musl.sh ath79;
# its installs, libraries and zig's libc++ are prepared before the first ctest;
# CTNFT_SKIP_MUSL=1 leaves it out; without ../shared it skips, under CI it fails). Arguments go to
# the first ctest (e.g. -R kernel).
# Kernel and daemon tests need root; with CTNFT_REQUIRE_KERNEL_TESTS=1 (set by CI) a test that
# cannot run fails instead of being skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
# The long part of the ath79 pass (first time: zig's musl and libc++ for mips, collectd's tree
# configured for it; then cached in /var/cache/conntrack-nft), before any timed test.
musl=0
if [ "${CTNFT_SKIP_MUSL:-0}" != 1 ]; then
    "$root/scripts/cross-musl.sh" ath79 prepare || musl=$?
    [ "$musl" = 0 ] || [ "$musl" = 77 ] || exit "$musl"   # 77: skipped, saying why
fi
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
[ "${CTNFT_SKIP_MINIMAL:-0}" = 1 ] || "$root/scripts/test-minimal.sh"
[ "${CTNFT_SKIP_VM:-0}" = 1 ] || "$root/scripts/test-vm.sh"
[ "${CTNFT_SKIP_I386:-0}" = 1 ] || "$root/scripts/test-i386.sh"
[ "${CTNFT_SKIP_SANITIZE:-0}" = 1 ] || "$root/scripts/sanitize.sh"
[ "${CTNFT_SKIP_MUSL:-0}" = 1 ] || [ "$musl" = 77 ] || "$root/scripts/cross-musl.sh" ath79 test
