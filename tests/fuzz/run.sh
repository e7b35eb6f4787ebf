#!/usr/bin/env bash
# Fuzzes one libFuzzer target for a while, starting from its seed corpus, and fails on any crash,
# leak, sanitizer report or timeout. New inputs go to a scratch directory, never into the repo.
#   run.sh FUZZ_BINARY TARGET_NAME SECONDS [libFuzzer options...]
# Prints libFuzzer's final figures (executions, exec/s, coverage) on one line.
set -euo pipefail
bin=$1 name=$2 seconds=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "/tmp/fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
# -jobs/-workers stay 1: the machine is shared. Timeouts are generous (a noisy CI machine).
set +e
"$bin" "$work/corpus" "$here/corpus/$name" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" > "$work/log" 2>&1
rc=$?
set -e
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo 0)
speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo 0)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*' || echo 0)
echo "fuzz $name: $runs executions in ${seconds} s ($speed/s), coverage $cov, new inputs $(ls "$work/corpus" | wc -l), rc $rc"
if [ "$rc" != 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
    tail -n 60 "$work/log"
    for a in "$work/artifacts"/*; do
        [ -f "$a" ] || continue
        mkdir -p /tmp/fuzz-crashes && cp "$a" /tmp/fuzz-crashes/ && echo "kept /tmp/fuzz-crashes/$(basename "$a")"
    done
    exit 1
fi
