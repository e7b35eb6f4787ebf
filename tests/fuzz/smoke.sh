#!/usr/bin/env bash
# Builds the libFuzzer targets with clang++ in a build tree of their own and fuzzes each one for
# $FUZZ_SECONDS seconds (default 10), starting from its seed corpus; fails on any finding.
# The ctest test `fuzz.smoke` of a g++ build runs this. Long runs, by hand:
#   CXX=clang++ FUZZ_SECONDS=600 bash tests/fuzz/smoke.sh      (build tree: ./build-fuzz)
#   FUZZ_TARGETS="netlink_replies" ... to fuzz only some; crashes are kept in /tmp/fuzz-crashes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-10}
targets=${FUZZ_TARGETS:-"counter_message conntrack_stats netlink_replies flowtable_message plugin_config"}
export CXX=${CXX:-clang++}
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
grep -q 'CTNFT_HAVE_LIBFUZZER:INTERNAL=1' "$build/CMakeCache.txt" || { echo "FAIL: $CXX has no libFuzzer"; exit 1; }
cmake --build "$build" --target fuzz_all -j "${FUZZ_BUILD_JOBS:-2}" > "$build/build.log" 2>&1 ||
    { tail -n 50 "$build/build.log"; exit 1; }
rc=0
for t in $targets; do
    bash "$root/tests/fuzz/run.sh" "$build/tests/fuzz/fuzz_$t" "$t" "$seconds" || rc=1
done
exit $rc
