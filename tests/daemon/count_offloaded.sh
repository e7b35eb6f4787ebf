#!/usr/bin/env bash
# CountOffloaded on any kernel, also one without flowtables (this machine's): off by default (no
# offloaded identifiers, no probe); on, without a flowtable, 0 for tcp and udp every read and no
# netdev table, the forward counters untouched. The counting itself through a real flowtable is
# vm.lab.offload_plugin (Debian's 6.1 in the VM lab).
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
finish
