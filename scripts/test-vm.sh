#!/usr/bin/env bash
# The VM pass: the kernel and core daemon tests inside Debian's own kernels under qemu (TCG),
# tests/vm: amd64 6.1 (modular, with flowtables: also the left-out-module and flowtable tests),
# trixie's amd64 6.12 (OpenWrt 25.12's line: the persist flag, offload counting), s390x
# (big-endian: every netlink parser and the map's key layout), and 32-bit armhf (Cortex-A15) and
# mipsel (24Kc), a subset each. Run by scripts/test.sh after the main suite (CTNFT_SKIP_VM=1
# leaves it out). Alone, as root:
#   sudo scripts/test-vm.sh [ctest arguments, e.g. -R amd64]
# 1. tests/vm/prepare.sh: qemu, busybox-static, the cross compilers and libraries; Debian's
#    kernels and the foreign userlands, cached in /var/cache/conntrack-nft/vm (once per machine).
# 2. The cross builds (BUILD_DIR_S390X, _ARMHF, _MIPSEL, default ./build-<arch>; MinSizeRel).
# 3. ctest -L vm in the main build tree (BUILD_DIR, default ./build), two VMs at a time.
# CTNFT_REQUIRE_KERNEL_TESTS=1 (CI): what cannot run fails instead of being skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
export BUILD_DIR_S390X=${BUILD_DIR_S390X:-$root/build-s390x}
export BUILD_DIR_ARMHF=${BUILD_DIR_ARMHF:-$root/build-armhf}
export BUILD_DIR_MIPSEL=${BUILD_DIR_MIPSEL:-$root/build-mipsel}
jobs=${JOBS:-2}
start=$SECONDS
fail_or_skip() {
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then echo "test-vm: FAIL: $*"; exit 1; fi
    echo "test-vm: SKIP: $*"; exit 0
}
[ "$(id -u)" = 0 ] || fail_or_skip "needs root (apt, qemu sharing the root file system)"
"$root/tests/vm/prepare.sh" amd64 s390x trixie armhf mipsel || fail_or_skip "tests/vm/prepare.sh failed"
echo "test-vm: prepared in $((SECONDS - start)) s"

# The cross-built trees: s390x the tool, the plugin and the unit tests; armhf and mipsel the tool
# and the plugin (their unit tests' 32-bit ABI runs in the i386 and musl passes).
cross_build() {  # cross_build ARCH TOOLCHAIN TARGET...
    local a=$1 tc=$2 t=$SECONDS v=BUILD_DIR_${1^^}
    shift 2
    local dir=${!v}
    mkdir -p "$dir"
    cmake -S "$root" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-$tc.cmake" \
        -DCMAKE_BUILD_TYPE=MinSizeRel > "$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
    cmake --build "$dir" -j "$jobs" --target "$@" > "$dir/build.log" 2>&1 || { tail -n 60 "$dir/build.log"; exit 1; }
    echo "test-vm: $a build took $((SECONDS - t)) s"
}
cross_build s390x s390x-linux-gnu ctnft_tool conntrack_nft unit_tests
cross_build armhf arm-linux-gnueabihf ctnft_tool conntrack_nft
cross_build mipsel mipsel-linux-gnu ctnft_tool conntrack_nft

[ -f "$build/CTestTestfile.cmake" ] || { echo "test-vm: no build tree in $build (scripts/test.sh makes it)"; exit 1; }
rc=0
(cd "$build" && ctest --output-on-failure -j "$jobs" -L vm "$@") || rc=1
echo "test-vm: rc $rc, $((SECONDS - start)) s in all"
exit $rc
