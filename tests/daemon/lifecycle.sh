#!/usr/bin/env bash
# The table's life with the daemon's: KeepTable true keeps it (and its values) across a restart;
# SIGKILL then restart leaves exactly one table with one rule per protocol and state; a table
# flushed behind the plugin's back comes back and counts new traffic.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
ID=router/nftables-conntrack_stats
FWD_NEW="$ID/packets-udp_conntrack_fwd_new"

# Text, not JSON: nft 1.0.6's JSON output breaks on the kernel's persist flag (KeepTable true).
# Counting references to counters ("..._conntrack_fwd_new") works for both rule shapes: 18 map
# elements in 3 rules (map), or 18 rules (classic); a duplicated ruleset shows 36.
rules() { in_ns "$ROUTER" nft list ruleset | grep -o '_conntrack_[a-z]*_[a-z]*"' | wc -l; }
tables() { in_ns "$ROUTER" nft list tables | grep -c . || true; }

# 1. KeepTable true: SIGTERM leaves table and counters; the next collectd adopts them.
write_conf "$TMP/keep.conf" <<'CONF'
<Plugin conntrack_nft>
  KeepTable true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/keep.conf"
wait_reads "$FWD_NEW" 1
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 5 > /dev/null
wait_reads "$FWD_NEW" 2
assert_eq 5 "$(value_of "$FWD_NEW")" "udp_conntrack_fwd_new before stop"
# What the kernel cannot do is said once, and right: kernels from 5.12 to 6.8 (the VM lab's 6.1,
# OpenWrt's 6.6) refuse only the persist flag; 6.9 and later refuse nothing.
kver=$(uname -r | awk -F. '{ print $1 * 100 + $2 }')
if [ "$kver" -lt 609 ]; then
    assert_eq 1 "$(log_count 'conntrack_nft plugin: this kernel refused the table flag persist (owner needs Linux 5.12, persist 6.9)')" \
        "NOTICE naming the refused flag (kernel $(uname -r))"
else
    assert_eq 0 "$(log_count 'refused the table flag')" "no refused flag on kernel $(uname -r)"
fi
stop_collectd TERM
assert_eq "1 18" "$(tables) $(rules)" "tables and rules after SIGTERM with KeepTable true"
start_collectd "$ROUTER" "$TMP/keep.conf"
wait_reads "$FWD_NEW" 1
assert_eq 5 "$(value_of "$FWD_NEW")" "udp_conntrack_fwd_new after restart (kept)"

# 2. SIGKILL and restart, both kinds of table: never a second table or duplicated rules.
stop_collectd KILL
assert_eq "1 18" "$(tables) $(rules)" "after SIGKILL with KeepTable true (persisted)"
start_collectd "$ROUTER" "$TMP/keep.conf"
wait_reads "$FWD_NEW" 1
assert_eq "1 18" "$(tables) $(rules)" "after restart"
stop_collectd KILL

write_conf "$TMP/default.conf" < /dev/null
start_collectd "$ROUTER" "$TMP/default.conf"
wait_reads "$FWD_NEW" 1
assert_eq "1 18" "$(tables) $(rules)" "default config over a kept table"
stop_collectd KILL
assert_eq 0 "$(tables)" "tables after SIGKILL of the owner (the kernel removed it)"
start_collectd "$ROUTER" "$TMP/default.conf"
wait_reads "$FWD_NEW" 1
assert_eq "1 18" "$(tables) $(rules)" "after restart"

# 3. An owned table survives `nft flush ruleset` and keeps counting.
in_ns "$ROUTER" nft flush ruleset
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 21000 3 > /dev/null
wait_reads "$FWD_NEW" 2
assert_eq 3 "$(value_of "$FWD_NEW")" "owned table after nft flush ruleset, new traffic counted"
stop_collectd TERM
assert_eq 0 "$(tables)" "tables after SIGTERM"

# 4. OwnerFlag false: a flushed ruleset is repaired at the next read, with one WARNING.
write_conf "$TMP/unowned.conf" <<'CONF'
<Plugin conntrack_nft>
  OwnerFlag false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/unowned.conf"
wait_reads "$FWD_NEW" 1
in_ns "$ROUTER" nft flush ruleset
wait_for 15 sh -c "[ \$(ip netns exec $ROUTER nft list ruleset | grep -o '_conntrack_[a-z]*_[a-z]*\"' | wc -l) = 18 ]" &&
    pass "flushed table recreated" || fail "flushed table not recreated"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 22000 4 > /dev/null
wait_reads "$FWD_NEW" 2
assert_eq 4 "$(value_of "$FWD_NEW")" "new traffic counted after the repair"
assert_eq 1 "$(log_count 'conntrack_nft plugin: table ip conntrack_stats: the table was removed by someone else; created it again')" \
    "warnings about the repair"
in_ns "$ROUTER" nft flush table ip conntrack_stats
wait_for 15 sh -c "[ \$(ip netns exec $ROUTER nft list ruleset | grep -o '_conntrack_[a-z]*_[a-z]*\"' | wc -l) = 18 ]" &&
    pass "flushed rules recreated" || fail "flushed rules not recreated"
wait_reads "$FWD_NEW" 1
assert_eq 1 "$(log_count "the table's rules were removed by someone else")" "warnings about the rules"
stop_collectd TERM
assert_eq 0 "$(tables)" "tables after SIGTERM (unowned table removed by the plugin)"
finish
