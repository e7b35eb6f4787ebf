#!/usr/bin/env bash
# CountOffloaded on any kernel, also one without flowtables (this machine's): off by default (no
# offloaded identifiers, no probe); on, without a flowtable, 0 for tcp and udp every read and no
# netdev table, the forward counters untouched. A probe an earlier unowned run left behind is
# removed at start; a netdev table of the same name that is not the probe is never touched. The
# counting itself through a real flowtable is vm.lab.offload_plugin (Debian's 6.1 in the VM lab).
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
start_tcp_server "$SERVER" 5001
ID=router/nftables-conntrack_stats/packets

# The default: nothing of it.
write_conf "$TMP/default.conf" < /dev/null
start_collectd "$ROUTER" "$TMP/default.conf"
wait_reads "$ID-tcp_conntrack_fwd_new" 2 || { fail "no values from the plugin"; cat "$TMP/collectd.log"; exit 1; }
assert_eq 0 "$(latest_values | grep -c "_offloaded " || true)" "offloaded identifiers by default"
stop_collectd

write_conf "$TMP/on.conf" <<'CONF'
<Plugin conntrack_nft>
  CountOffloaded true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/on.conf"
wait_reads "$ID-udp_conntrack_fwd_offloaded" 1 || { fail "no offloaded values"; cat "$TMP/collectd.log"; exit 1; }
K=4
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 "$K" > /dev/null
settle "$ROUTER"
wait_reads "$ID-tcp_conntrack_fwd_offloaded" 2
assert_eq "$K" "$(value_of "$ID-tcp_conntrack_fwd_new")" "tcp_conntrack_fwd_new with CountOffloaded"
assert_eq 0 "$(value_of "$ID-tcp_conntrack_fwd_offloaded")" "tcp_conntrack_fwd_offloaded without a flowtable"
assert_eq 0 "$(value_of "$ID-udp_conntrack_fwd_offloaded")" "udp_conntrack_fwd_offloaded without a flowtable"
tables=$(in_ns "$ROUTER" nft list tables)
if grep -q "table netdev" <<< "$tables"; then fail "a probe without a flowtable: $tables"; else pass "no probe without a flowtable"; fi
# One value list per protocol per read, beside the 18 counters.
assert_eq 20 "$(values_per_read "$ID-" | sort -u)" "packets values per read (18 counters + 2 offloaded)"
assert_eq 0 "$(log_count 'ERROR')" "errors in the daemon log"
stop_collectd

# A probe left by an earlier run whose table was unowned (OwnerFlag false, or a kernel before
# 5.12: the kernel does not remove it with collectd) is removed at start, flowtable or not.
probe_shape() {  # probe_shape TABLE: the probe's two ingress chains and four counters, as the plugin makes them
    cat <<NFT
table netdev $1 {
    counter tcp_ahead { }
    counter tcp_behind { }
    counter udp_ahead { }
    counter udp_behind { }
    chain offload_ahead { type filter hook ingress device r0 priority -1; policy accept; meta l4proto tcp counter name tcp_ahead; }
    chain offload_behind { type filter hook ingress device r0 priority 1; policy accept; meta l4proto tcp counter name tcp_behind; }
}
NFT
}
write_conf "$TMP/unowned.conf" <<'CONF'
<Plugin conntrack_nft>
  CountOffloaded true
  OwnerFlag false
</Plugin>
CONF
in_ns "$ROUTER" nft -f - <<< "$(probe_shape conntrack_stats)"
: > "$TMP/collectd.log"
start_collectd "$ROUTER" "$TMP/unowned.conf"
wait_reads "$ID-udp_conntrack_fwd_offloaded" 2 || { fail "no offloaded values"; cat "$TMP/collectd.log"; exit 1; }
tables=$(in_ns "$ROUTER" nft list tables)
if grep -q "table netdev conntrack_stats" <<< "$tables"; then fail "the leftover probe is still there"; else pass "a leftover probe removed at start"; fi
assert_eq 0 "$(log_count 'conntrack_nft plugin: .*offload')" "log lines about the probe (a leftover goes quietly)"
stop_collectd

# The user's own netdev table of that name: left alone, said once, no offloaded values counted.
in_ns "$ROUTER" nft -f - <<'NFT'
table netdev conntrack_stats {
    counter mine { }
    chain ingress_mine { type filter hook ingress device r0 priority 0; policy accept; counter name mine; }
}
NFT
: > "$TMP/collectd.log"
start_collectd "$ROUTER" "$TMP/on.conf"
wait_reads "$ID-tcp_conntrack_fwd_new" 3 || { fail "no values from the plugin"; cat "$TMP/collectd.log"; exit 1; }
assert_eq 1 "$(log_count 'conntrack_nft plugin: table netdev conntrack_stats exists and is not the plugin'"'"'s offload probe: it is left alone')" \
    "one WARNING about the user's netdev table"
stop_collectd
listing=$(in_ns "$ROUTER" nft list table netdev conntrack_stats)
grep -q "counter mine" <<< "$listing" && grep -q "chain ingress_mine" <<< "$listing" &&
    pass "the user's netdev table is untouched, also after shutdown" || fail "the user's netdev table changed: $listing"
in_ns "$ROUTER" nft delete table netdev conntrack_stats
finish
