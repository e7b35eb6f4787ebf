#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, kernel, daemon) with CTest.
# Kernel and daemon tests need root; with CTNFT_REQUIRE_KERNEL_TESTS=1 (set by CI) a test that
# cannot run fails instead of being skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
