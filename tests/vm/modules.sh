#!/usr/bin/env bash
# Modular kernels (VM lab only): what a user sees when a module the plugin needs is not there,
# as on an OpenWrt router whose kmod package is not installed. In the guest the kernel's module
# loader refuses every module named in /run/ctnft-deny-modules (tests/vm/run.sh), so each case
# leaves one out, starts Debian's collectd with the plugin in a fresh namespace, and asserts that
# the plugin's error names the module (and the OpenWrt package):
#   nft_objref, nft_ct     the table cannot be made: "load module <m>, on OpenWrt install kmod-nft-core"
#   nf_conntrack_netlink   conntrack statistics cannot be read; the packet counters still are:
#                          "load module nf_conntrack_netlink, on OpenWrt install kmod-nf-conntrack-netlink"
source "$(dirname "$0")/../lib/netns.sh"
[ -n "${CTNFT_IN_VM:-}" ] || skip "runs only in the VM lab (tests/vm/run.sh): it denies kernel modules"
source "$(dirname "$0")/../lib/collectd.sh"

loaded() { grep -q "^$1 " /proc/modules; }
unload() {  # unload MODULE: gone from the kernel (the tables that used it are destroyed lazily)
    loaded "$1" || return 0
    # The host's root may have no kmod: the initramfs's busybox is in /run (tests/vm/run.sh).
    local rmmod=rmmod
    command -v rmmod > /dev/null || rmmod="/run/busybox rmmod"
    wait_for 30 sh -c "$rmmod $1 2>/dev/null; ! grep -q '^$1 ' /proc/modules"
}

case_n=0
leave_out() {  # leave_out MODULE EXPECTED_REGEX WHAT
    local m=$1 expected=$2 what=$3
    case_n=$((case_n + 1))
    echo "--- left out: $m"
    # The module and its aliases, '-' as '_' (the guest's module loader compares strings:
    # tests/vm/run.sh).
    {
        echo "$m"
        awk -v m="$m" '$1 == "alias" { t = $3; gsub("-", "_", t); if (t == m) { a = $2; gsub("-", "_", a); print a } }' \
            "/lib/modules/$(uname -r)/modules.alias"
    } > /run/ctnft-deny-modules
    unload "$m" || { fail "$m is loaded and cannot be unloaded"; return; }
    ns_add CASE_NS "case$case_n"
    : > "$TMP/collectd.log"
    write_conf "$TMP/$m.conf" <<CONF
<Plugin conntrack_nft>
  OwnerFlag false
</Plugin>
CONF
    start_collectd "$CASE_NS" "$TMP/$m.conf"
    if wait_for 120 grep -q -E "$expected" "$TMP/collectd.log"; then
        pass "$what: $(grep -m 1 -o -E "$expected" "$TMP/collectd.log")"
    else
        fail "$what: no log line matching /$expected/ in 120 s; the plugin said:"
        grep 'conntrack_nft' "$TMP/collectd.log" || true
    fi
    loaded "$m" && fail "$m was loaded although denied (the test did not leave it out)"
    [ "${4:-}" = counters_still ] && {
        wait_for 30 grep -q 'PUTVAL router/nftables-conntrack_stats/packets-' "$TMP/values.log" &&
            pass "without $m the packet counters are still dispatched" ||
            fail "without $m no packet counter was dispatched"
    }
    stop_collectd
    cp "$TMP/collectd.log" "$TMP/collectd-$m.log"
    : > /run/ctnft-deny-modules
}

leave_out nft_objref 'conntrack_nft plugin: .*load module nft_objref, on OpenWrt install kmod-nft-core' \
    "without nft_objref the error names nft_objref"
leave_out nft_ct 'conntrack_nft plugin: .*load module nft_ct, on OpenWrt install kmod-nft-core' \
    "without nft_ct the error names nft_ct"
leave_out nf_conntrack_netlink 'conntrack_nft plugin: .*nf_conntrack_netlink.*kmod-nf-conntrack-netlink' \
    "without nf_conntrack_netlink the error names it and kmod-nf-conntrack-netlink" counters_still
finish
