#!/usr/bin/env bash
# One CTest test of the VM lab: boots Debian's ARCH kernel (tests/vm/run.sh) and runs a GROUP of
# the repository's own kernel and daemon tests inside it (tests/vm/suite.sh).
#   vm_test.sh ARCH GROUP        ARCH amd64|trixie|s390x|armhf|mipsel;
#                                GROUP kernel|daemon|modules|flowtable|flowtable_count_offloaded|fw4|
#                                      offload|unit|kernel32|daemon32
# amd64 and trixie (amd64, kernel 6.12) run the main build tree (BUILD_DIR); s390x, armhf and
# mipsel the cross-built trees BUILD_DIR_<ARCH> (default <sources>/build-<arch>, made by
# scripts/test-vm.sh). Skips (77) when the lab is not prepared; CTNFT_REQUIRE_KERNEL_TESTS=1
# makes that a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
arch=${1:?arch} group=${2:?group}
skip() {
    echo "SKIP: $*"
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then echo "FAIL: CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping"; exit 1; fi
    exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (qemu shares the root file system)"
cache=${CTNFT_VM_CACHE:-/var/cache/conntrack-nft/vm}
[ -d "$cache/$arch/kernel/lib/modules" ] || skip "the VM lab is not prepared: sudo tests/vm/prepare.sh $arch"
case $arch in
    s390x) elf='MSB.*S/390' ;;
    armhf) elf='32-bit LSB.*ARM, EABI5' ;;
    mipsel) elf='32-bit LSB.*MIPS' ;;
    *) elf= ;;
esac
if [ -n "$elf" ]; then
    v=BUILD_DIR_${arch^^}
    export BUILD_DIR=${!v:-$root/build-$arch}
    [ -x "$BUILD_DIR/tests/tools/ctnft" ] && [ -f "$BUILD_DIR/plugin/conntrack_nft.so" ] ||
        skip "no $arch build in $BUILD_DIR (scripts/test-vm.sh cross-builds it)"
    grep -q "$elf" <<< "$(file -L "$BUILD_DIR/tests/tools/ctnft")" || { echo "FAIL: $BUILD_DIR is not an $arch build"; exit 1; }
fi
: "${BUILD_DIR:?BUILD_DIR must point at the build tree}"

case $group in
    # Exact counts for both rule shapes (ip and inet), IPv6, the owner flag, repair after flush
    # and delete, conntrack statistics equal to conntrack -S of the same kernel.
    kernel) scripts=(kernel/traffic_counts.sh kernel/inet_ipv6.sh kernel/owner_flag.sh kernel/repair.sh kernel/keep_table.sh
                     kernel/conntrack_stats.sh) ;;
    # Debian's collectd with the plugin: values and identifiers, KeepTable across restarts
    # (values kept), health with PerCPU, SampleInterval peaks, a full table and its notification.
    daemon) scripts=(daemon/values.sh daemon/lifecycle.sh daemon/health.sh daemon/sampling.sh
                     daemon/notifications.sh) ;;
    # The 32-bit guests under TCG (several times slower than amd64's): what a 32-bit ABI can get
    # wrong. kernel32: exact counts for both rule shapes and IPv6 (every counter message parsed),
    # conntrack statistics (per-CPU attributes), counters past 2^32 (64-bit fields in 32-bit
    # structs), KeepTable and the owner flag. daemon32: collectd loading the plugin: values and
    # identifiers (doubles and u64 through collectd's value_t), the lifecycle (owned table,
    # restarts). daemon/health.sh (222 s on mipsel) is left out: conntrack_stats parses the same
    # per-CPU statistics, and values.sh dispatches them.
    kernel32) scripts=(kernel/traffic_counts.sh kernel/inet_ipv6.sh kernel/conntrack_stats.sh
                       kernel/wide_counters.sh kernel/keep_table.sh) ;;
    daemon32) scripts=(daemon/values.sh daemon/lifecycle.sh) ;;
    modules) scripts=(vm/modules.sh) ;;
    # fw4's flowtable, without and with the offload probe (CountOffloaded).
    flowtable) scripts=(vm/flowtable.sh vm/flowtable_count_offloaded.sh) ;;
    # The probe on a big-endian CPU: the report of a doubled WARNING came from s390x too.
    flowtable_count_offloaded) scripts=(vm/flowtable_count_offloaded.sh) ;;
    # The real firewall4 switching flow_offloading on and off (tests/openwrt/fw4_boot.sh offload).
    fw4) scripts=(vm/fw4.sh) ;;
    # Flow offloading as fw4 writes it, and CountOffloaded counting through it (the lab's test).
    offload) scripts=(vm/flowtable.sh lab/offload_plugin.sh) ;;
    unit) scripts=(unit) ;;
    *) echo "vm_test: unknown group '$group' (kernel, daemon, kernel32, daemon32, modules, flowtable, flowtable_count_offloaded, fw4, offload, unit)"; exit 2 ;;
esac
# The kernel is modular: the test scripts ask the guest for what they need (modules load on
# demand). PER_TEST_TIMEOUT bounds each script in the guest.
# Malta: the 4kc-malta kernel (no HIGHMEM) uses 256 MiB.
mem=1024; [ "$arch" = mipsel ] && mem=256
# The OpenWrt sources (the fw4 group) by their real path: ../shared may be a symlink into a folder
# the guest has of its own (a clone in /tmp: the guest's /tmp is a fresh tmpfs).
if [ -z "${OWRT_SRC:-}" ] && [ -d "$root/../shared/openwrt-src" ]; then
    OWRT_SRC=$(cd "$root/../shared/openwrt-src" && pwd -P)
    export OWRT_SRC
fi
exec "$here/run.sh" --arch "$arch" --smp "${CTNFT_VM_SMP:-1}" --mem "$mem" --timeout "$(( ${CTNFT_VM_TIMEOUT:-1530} - 30 ))" \
    --env PER_TEST_TIMEOUT --env OWRT_SRC -- bash "$here/suite.sh" "${scripts[@]}"
