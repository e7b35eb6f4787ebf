#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the sampling and
# threading parts under ThreadSanitizer, each in a build tree of its own (never ./build).
#   sudo bash scripts/sanitize.sh            # both
#   sudo bash scripts/sanitize.sh asan|tsan  # one
# Environment: ASAN_BUILD_DIR (default ./build-asan), TSAN_BUILD_DIR (./build-tsan),
# JOBS (default 2). Extra arguments after the mode go to ctest (e.g. -R daemon).
#
# Daemon tests load the ASan-built plugin into Debian's collectd, which is not instrumented: a
# `collectd` wrapper first in PATH preloads libasan/libubsan into it, and every sanitizer report
# of any process goes to $ASAN_BUILD_DIR/sanitizer-logs; the run fails if one of them is an
# error, or a leak whose stack passes through the plugin or the nft layer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-all}
[ $# -gt 0 ] && shift
jobs=${JOBS:-2}
"$root/scripts/install-deps.sh"

configure_build() {  # configure_build DIR FLAGS [TARGET...] (default: all)
    local dir=$1 flags=$2
    shift 2
    mkdir -p "$dir"
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer -g" \
        -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="$flags" \
        > "$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
    local targets=()
    [ $# -eq 0 ] || targets=(--target "$@")
    cmake --build "$dir" -j "$jobs" "${targets[@]}" > "$dir/build.log" 2>&1 || { tail -n 60 "$dir/build.log"; exit 1; }
}

run_asan() {
    local dir=${ASAN_BUILD_DIR:-$root/build-asan}
    # valgrind cannot run an ASan process; the fuzz smoke builds its own clang tree (the main
    # suite runs both). Tests labelled no_sanitize do not run our C++ code in a way a sanitizer
    # checks (packaging, docs) or only run what other tests run under it (bench.smoke, the
    # databases' tests).
    local asan_exclude='^(faults\.valgrind_daemon|fuzz\.smoke)$'
    local start=$SECONDS
    configure_build "$dir" "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    local logs="$dir/sanitizer-logs" wrap="$dir/sanitizer-wrap"
    rm -rf "$logs" && mkdir -p "$logs" "$wrap"
    local libs
    libs="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
    cat > "$wrap/collectd" <<WRAP
#!/bin/sh
# collectd with the sanitizer runtimes the ASan-built plugin needs (first), keeping what was
# preloaded already (stdbuf's line buffering); reports go to files.
LD_PRELOAD="$libs\${LD_PRELOAD:+:\$LD_PRELOAD}" ASAN_OPTIONS="log_path=$logs/collectd:detect_leaks=1:abort_on_error=0" \\
UBSAN_OPTIONS="log_path=$logs/collectd-ubsan:print_stacktrace=1" exec /usr/sbin/collectd "\$@"
WRAP
    chmod +x "$wrap/collectd"
    echo "sanitize: ASan+UBSan build took $((SECONDS - start)) s; running the suite"
    local rc=0
    # The OpenWrt userland (OpenWrt's programs, not ours) is built once, in the main build tree.
    export OWRT_USERLAND_DIR=${OWRT_USERLAND_DIR:-${BUILD_DIR:-$root/build}/openwrt/userland}
    (cd "$dir" && PATH="$wrap:$PATH" ASAN_OPTIONS="detect_leaks=1:log_path=$logs/test" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/test-ubsan" \
        ctest --output-on-failure -j "$jobs" -E "$asan_exclude" -LE no_sanitize "$@") || rc=1
    # Reports of any process: errors always fail; leaks only when they involve our code (Debian's
    # collectd has a few allocations of its own it never frees at exit).
    local bad=0 f
    for f in "$logs"/*; do
        [ -f "$f" ] || continue
        if grep -q -E 'ERROR: AddressSanitizer|runtime error' "$f"; then
            echo "sanitize: error report $f:"; head -n 60 "$f"; bad=1
        elif grep -q 'ERROR: LeakSanitizer' "$f" && grep -q -E 'conntrack_nft|ctnft|nft/|plugin/' "$f"; then
            echo "sanitize: leak in our code, $f:"; head -n 80 "$f"; bad=1
        fi
    done
    [ "$bad" = 0 ] || rc=1
    echo "sanitize: ASan+UBSan: $(ls "$logs" | wc -l) report files, rc $rc, $((SECONDS - start)) s in all"
    return $rc
}

run_tsan() {
    local dir=${TSAN_BUILD_DIR:-$root/build-tsan}
    local start=$SECONDS
    # Only what runs threads in-process: the plugin glue with the sampler, in the stand-in daemon
    # (and only their binaries are built).
    configure_build "$dir" "-fsanitize=thread" plugin_harness_tests soak_harness
    echo "sanitize: TSan build took $((SECONDS - start)) s; running the threading tests"
    local rc=0
    # TSan's shadow memory needs the classic address space layout on kernels with high mmap entropy.
    (cd "$dir" && TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
        setarch "$(uname -m)" -R ctest --output-on-failure -j 1 -R '^(soak\.sampler_race|harness: )' "$@") || rc=1
    echo "sanitize: TSan: rc $rc, $((SECONDS - start)) s in all"
    return $rc
}

rc=0
case $mode in
    asan) run_asan "$@" || rc=1 ;;
    tsan) run_tsan "$@" || rc=1 ;;
    all) run_asan "$@" || rc=1; run_tsan || rc=1 ;;
    *) echo "usage: $0 [all|asan|tsan] [ctest arguments]"; exit 2 ;;
esac
exit $rc
