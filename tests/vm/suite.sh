#!/usr/bin/env bash
# Runs inside a VM guest (tests/vm/run.sh): the given test scripts one after another against
# BUILD_DIR, each bounded by PER_TEST_TIMEOUT seconds (default 600), printing each one's output
# and time; exits 1 if any failed, 77 if any was skipped and none failed.
#   suite.sh SCRIPT...        (paths relative to tests/, e.g. kernel/traffic_counts.sh,
#                              or "unit" for the Catch2 unit tests of BUILD_DIR)
set -uo pipefail
tests=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD_DIR:?}"
echo "vm-suite: $(uname -r) $(uname -m), $(nproc) CPU, BUILD_DIR=$BUILD_DIR"
failed=() skipped=() passed=()
for t in "$@"; do
    start=$SECONDS
    echo "=== vm-suite: $t"
    # A test that left modules out (tests/vm/modules.sh) and failed half-way leaves them out no more.
    : > /run/ctnft-deny-modules 2>/dev/null || true
    if [ "$t" = unit ]; then
        timeout "${PER_TEST_TIMEOUT:-600}" "$BUILD_DIR/tests/unit/unit_tests"
    else
        timeout "${PER_TEST_TIMEOUT:-600}" bash "$tests/$t"
    fi
    rc=$?
    case $rc in
        0) passed+=("$t") ;;
        77) skipped+=("$t") ;;
        *) failed+=("$t") ;;
    esac
    echo "=== vm-suite: $t rc $rc, $((SECONDS - start)) s"
done
echo "vm-suite: passed ${#passed[@]}: ${passed[*]}"
[ ${#skipped[@]} = 0 ] || echo "vm-suite: SKIPPED: ${skipped[*]}"
[ ${#failed[@]} = 0 ] || { echo "vm-suite: FAILED: ${failed[*]}"; exit 1; }
[ ${#skipped[@]} = 0 ] || exit 77
exit 0
