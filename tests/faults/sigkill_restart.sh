#!/usr/bin/env bash
# SIGKILL of collectd, then a restart. Owned table (default): the kernel removes it with its
# owner, the new collectd creates it again and counts exactly. OwnerFlag false: the table stays,
# the new collectd takes it over without duplicates and its counts go on from the old values.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new
tables() { in_ns "$ROUTER" nft list tables | grep -c conntrack_stats || true; }

write_conf "$TMP/owned.conf" <<'CONF'
<Plugin conntrack_nft>
  ConntrackStats false
  SampleInterval 0.2
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/owned.conf"
wait_reads "$UDP_NEW" 1 || { fail "no first read"; exit 1; }
udp_flows 2 21000
expect_value "$UDP_NEW" 2 "owned table: udp_conntrack_fwd_new before the kill"
stop_collectd KILL
wait_for 10 sh -c "[ \$(ip netns exec '$ROUTER' nft list tables | grep -c conntrack_stats) = 0 ]" &&
    pass "the kernel removed the owned table with its killed owner" || fail "owned table left after SIGKILL"

start_collectd "$ROUTER" "$TMP/owned.conf"
wait_reads "$UDP_NEW" 1 || fail "no read after restart"
expect_value "$UDP_NEW" 0 "owned table: udp_conntrack_fwd_new after restart"
udp_flows 5 21100
expect_value "$UDP_NEW" 5 "owned table: udp_conntrack_fwd_new after restart and 5 flows"
alive "after restart"
stop_collectd KILL

write_conf "$TMP/unowned.conf" <<'CONF'
<Plugin conntrack_nft>
  ConntrackStats false
  OwnerFlag false
</Plugin>
CONF
wait_for 10 sh -c "[ \$(ip netns exec '$ROUTER' nft list tables | grep -c conntrack_stats) = 0 ]"
start_collectd "$ROUTER" "$TMP/unowned.conf"
wait_reads "$UDP_NEW" 1 || fail "no read (unowned)"
udp_flows 3 21200
expect_value "$UDP_NEW" 3 "unowned table: udp_conntrack_fwd_new before the kill"
stop_collectd KILL
assert_eq 1 "$(tables)" "unowned table left in place by the killed collectd"
start_collectd "$ROUTER" "$TMP/unowned.conf"
wait_reads "$UDP_NEW" 1 || fail "no read after restart (unowned)"
udp_flows 4 21300
expect_value "$UDP_NEW" 7 "unowned table: counts go on after restart (3 + 4)"
assert_eq 1 "$(tables)" "tables after restart (taken over, not duplicated)"
assert_eq 18 "$(in_ns "$ROUTER" nft -j list counters table ip conntrack_stats | jq '[.nftables[] | select(.counter)] | length')" \
    "counters after restart"
alive "after the second restart"
no_plugin_errors
stop_collectd TERM
assert_eq 0 "$(tables)" "table removed at a clean stop"
finish
