#!/usr/bin/env bash
# The minimal-runtime pass: the .so as OpenWrt's SDK builds it by default
# (CONNTRACK_NFT_MINIMAL_RUNTIME=ON: gcc with libstdc++'s headers, -fno-exceptions -fno-rtti, no
# C++ library linked; -Os and OpenWrt's hardening flags), here with Debian's g++ 12 for glibc, in
# a build tree of its own, loaded by Debian's collectd through the daemon and fault tests, after
# packaging.runtime_symbols (no C++ runtime symbol left undefined). The kernel tests drive
# tests/tools/ctnft, which this option does not change: the main suite runs them. Left out: the
# databases' tests (influxdb, prometheus, telegraf_names: what they add lies outside the plugin),
# docs_snippets and run_script (they test the docs and the demo, not the .so), valgrind_daemon
# (the main suite's), eperm_read (the stand-in daemon of tests/soak, not collectd).
#   sudo scripts/test-minimal.sh [ctest arguments]
# Environment: MINIMAL_BUILD_DIR (default ./build-minimal), JOBS (default nproc).
# Cost, measured on the shared 2-core machine: 149 s (the .so 50 s, 16 tests 99 s at -j2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MINIMAL_BUILD_DIR:-$root/build-minimal}
jobs=${JOBS:-$(nproc)}
start=$SECONDS
# openwrt/openwrt include/target.mk, include/hardening.mk, rules.mk (as scripts/cross-musl.sh).
flags="-Os -pipe -fstack-protector -D_FORTIFY_SOURCE=1 -Wformat -Werror=format-security"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=MinSizeRel -DCONNTRACK_NFT_MINIMAL_RUNTIME=ON \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_CXX_FLAGS="$flags -Werror" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_MODULE_LINKER_FLAGS="-Wl,-z,now -Wl,-z,relro" > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
# The tests' own tool (tests/tools/ctnft: the usual build, which this option does not change) is
# the main tree's when there is one: half the compile time.
targets=(conntrack_nft)
main_tool=${BUILD_DIR:-$root/build}/tests/tools/ctnft
if [ -x "$main_tool" ]; then
    mkdir -p "$build/tests/tools" && ln -sf "$main_tool" "$build/tests/tools/ctnft"
else
    targets+=(ctnft_tool)
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}" > "$build/build.log" 2>&1 ||
    { tail -n 60 "$build/build.log"; exit 1; }
echo "test-minimal: build took $((SECONDS - start)) s"
(cd "$build" && ctest --output-on-failure -j "$jobs" \
    -R '^(packaging\.runtime_symbols|daemon\.|faults\.)' \
    -E '^(daemon\.(influxdb|prometheus|telegraf_names|docs_snippets|run_script)|faults\.(valgrind_daemon|eperm_read))$' "$@")
echo "test-minimal: $((SECONDS - start)) s in all"
