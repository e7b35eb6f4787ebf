#!/usr/bin/env bash
# The benchmarks of docs/performance.md, in one run: (1) read path, (2) scale, (3) packet path,
# (4) footprint, (5) the whole daemon against a do-nothing plugin. Needs root (network namespaces; nothing on the host changes).
#
#   tests/bench/run.sh [--quick]        # full: a few minutes; --quick: the CI smoke mode (< 60 s)
#
# Uses BUILD_DIR when set (as ctest does); otherwise builds a MinSizeRel tree in the checkout's
# build-bench/ (docs/testing.md: build trees never go in shared /tmp paths). Prints the figures; lines starting with RESULT and SCALE are for
# tools (tests/bench/plot.sh makes the PNG from SCALE lines). The smoke mode asserts only what
# cannot flake: exact counts, no fd growth; never a timing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
QUICK=""; [ "${1:-}" = --quick ] && QUICK=--quick

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the benchmarks need root (network namespaces)"
    [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ] && exit 1
    exit 77
fi
if [ -z "${BUILD_DIR:-}" ]; then
    BUILD_DIR="$root/build-bench"
    mkdir -p "$BUILD_DIR"
    cmake -S "$root" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=MinSizeRel > "$BUILD_DIR/configure.log"
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench_read udp_blast ctnft_tool conntrack_nft bench_noop > "$BUILD_DIR/build.log"
fi
export BUILD_DIR
rc=0

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)," \
     "nft $(nft --version | awk '{ print $2 }'), build $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD_DIR/CMakeCache.txt")"
echo "== date: $(date -u +%Y-%m-%dT%H:%MZ)${QUICK:+ (quick smoke mode: figures are not meaningful)}"

"$BUILD_DIR/tests/bench/bench_read" $QUICK || rc=1
bash "$here/packet_path.sh" $QUICK || rc=1
bash "$here/footprint.sh" || rc=1
bash "$here/daemon.sh" $QUICK || rc=1
exit $rc
