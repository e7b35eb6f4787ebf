#!/usr/bin/env bash
# OwnerFlag false: the table deleted, the ruleset flushed and the table's rules flushed behind the
# plugin. Each time the next read repairs it with one WARNING, collectd stays up and the counters
# count exactly again from zero.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new

write_conf "$TMP/c.conf" <<'CONF'
<Plugin conntrack_nft>
  OwnerFlag false
  ConntrackStats false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/c.conf"
wait_reads "$UDP_NEW" 1 || { fail "no first read"; exit 1; }
udp_flows 3 21000
expect_value "$UDP_NEW" 3 "udp_conntrack_fwd_new before any fault"

# A deleted table comes back from zero; after `flush table` the counters themselves stayed, and
# the repair keeps their values (4 from the round before).
port=22000 n=0
for fault in "nft delete table ip conntrack_stats:0" "nft flush ruleset:0" "nft flush table ip conntrack_stats:4"; do
    base=${fault##*:} fault=${fault%:*}
    n=$((n + 1))
    in_ns "$ROUTER" $fault
    wait_for 20 sh -c "[ \$(grep -c -E 'created it again|restored its rules' '$TMP/collectd.log') -ge $n ]" &&
        pass "repaired after '$fault'" || fail "no repair after '$fault'"
    wait_reads "$UDP_NEW" 2
    expect_value "$UDP_NEW" "$base" "udp_conntrack_fwd_new right after '$fault'"
    udp_flows 4 $port
    port=$((port + 100))
    expect_value "$UDP_NEW" $((base + 4)) "udp_conntrack_fwd_new after '$fault' and 4 new flows"
    alive "after '$fault'"
done
assert_eq 3 "$(grep -c -E 'created it again|restored its rules' "$TMP/collectd.log")" "WARNING lines, one per repair"
# The words say what happened: counters from zero after a delete or flush ruleset, kept after flush table.
assert_eq 2 "$(log_count 'created it again (its counters restart from zero)')" "repairs that restart the counters"
assert_eq 1 "$(log_count "the table's rules were removed by someone else; restored its rules (the counters keep their values)")" \
    "repairs that keep the counters"
assert_eq 18 "$(in_ns "$ROUTER" nft -j list counters table ip conntrack_stats | jq '[.nftables[] | select(.counter)] | length')" \
    "counters in the repaired table"
no_plugin_errors
stop_collectd TERM
assert_eq 0 "$(in_ns "$ROUTER" nft list tables | grep -c conntrack_stats || true)" "table removed at shutdown"
finish
