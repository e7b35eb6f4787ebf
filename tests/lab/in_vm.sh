#!/usr/bin/env bash
# Runs one lab script in the VM lab's amd64 guest (tests/vm/run.sh: Debian's 6.1 under qemu,
# which has flowtables; this machine's kernel has none). Skips (77) when the VM lab's kernel is
# not prepared (tests/vm/prepare.sh), which CTNFT_REQUIRE_KERNEL_TESTS=1 (CI) makes a failure.
#   BUILD_DIR=build bash tests/lab/in_vm.sh tests/lab/offload.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../vm/run.sh
skip() {
    echo "SKIP: $*"
    [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ] && { echo "FAIL: CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping"; exit 1; }
    exit 77
}
[ "$(id -u)" = 0 ] || skip "the VM lab needs root"
[ -f "$run" ] || skip "no VM lab in this tree (tests/vm/run.sh)"
rc=0
bash "$run" --timeout "${CTNFT_VM_TIMEOUT:-600}" -- bash "$1" || rc=$?
# run.sh: 3 when the guest's kernel is not prepared; otherwise the script's own exit code.
[ "$rc" = 3 ] && skip "the VM lab's kernel is not prepared: run tests/vm/prepare.sh amd64 (as root)"
exit "$rc"
