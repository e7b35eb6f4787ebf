#!/usr/bin/env bash
# Manage false: the plugin attaches to today's hand-loaded table (nft/conntrack-counter.nft) and
# dispatches what today's Exec script printed, identifiers and values alike, and never changes
# the table. A missing table is logged once per outage, and values come back with the table.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
start_tcp_server "$SERVER" 5001
RULESET="$(dirname "$0")/../../nft/conntrack-counter.nft"
ID=router/nftables-conntrack_stats

write_conf "$TMP/attach.conf" <<'CONF'
<Plugin conntrack_nft>
  Manage false
</Plugin>
CONF

# Started before the table exists: a warning, no values, no error flood.
start_collectd "$ROUTER" "$TMP/attach.conf"
wait_for 10 grep -q "conntrack_nft plugin" "$TMP/collectd.log"
sleep 3
assert_eq 0 "$(putvals | grep -c " $ID/" || true)" "values before the table exists"
assert_eq 1 "$(log_count 'conntrack_nft plugin: table ip conntrack_stats does not exist')" \
    "log lines about the missing table (init warning, then one per outage)"

in_ns "$ROUTER" nft -f "$RULESET"
in_ns "$ROUTER" nft list table ip conntrack_stats > "$TMP/before.txt"
wait_for 20 sh -c "grep -q '^PUTVAL $ID/packets-tcp_conntrack_fwd_new ' '$TMP/values.log'" &&
    pass "values flow once the table is loaded" || fail "no values after loading the table"

in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 4 > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 6 > /dev/null
settle "$ROUTER" 6
wait_reads "$ID/packets-tcp_conntrack_fwd_new" 2

# Today's script, run once now (no sudo: we are root), and the plugin's latest values.
COLLECTD_HOSTNAME=router COLLECTD_INTERVAL=1 ONCE=1 SUDO= in_ns "$ROUTER" \
    sh "$(dirname "$0")/legacy_exec_script.sh" |
    sed -E 's/^PUTVAL "([^"]+)" interval=[^ ]+ N:([0-9]+)$/\1 \2/' | sort > "$TMP/legacy.txt"
latest_values | grep "^$ID/" > "$TMP/plugin.txt"
assert_eq 18 "$(wc -l < "$TMP/legacy.txt")" "identifiers printed by the Exec script"
if diff -u "$TMP/legacy.txt" "$TMP/plugin.txt"; then pass "plugin dispatches what the Exec script printed"
else fail "plugin and Exec script differ"; fi
assert_eq 4 "$(value_of "$ID/packets-tcp_conntrack_fwd_new")" "tcp_conntrack_fwd_new"
assert_eq 6 "$(value_of "$ID/packets-udp_conntrack_fwd_new")" "udp_conntrack_fwd_new"

# Never modified: the table listing is unchanged but for the counter values; flags stay none.
in_ns "$ROUTER" nft list table ip conntrack_stats | grep -v -E 'packets [0-9]+ bytes' > "$TMP/after.txt"
grep -v -E 'packets [0-9]+ bytes' "$TMP/before.txt" > "$TMP/before-shape.txt"
if diff -u "$TMP/before-shape.txt" "$TMP/after.txt"; then pass "attached table unchanged"; else fail "attached table changed"; fi

# An outage: one ERROR, however many reads fail; then values again.
in_ns "$ROUTER" nft delete table ip conntrack_stats
sleep 4
assert_eq 2 "$(log_count 'conntrack_nft plugin: table ip conntrack_stats does not exist')" \
    "log lines about the missing table after a 4 s outage"
in_ns "$ROUTER" nft -f "$RULESET"
# collectd backs off (the interval doubles while reads fail): allow for it.
wait_for 30 grep -q "conntrack_nft plugin: reading table ip conntrack_stats works again" "$TMP/collectd.log" &&
    pass "recovery logged" || fail "no recovery"
stop_collectd TERM
assert_eq 1 "$(in_ns "$ROUTER" nft list tables | grep -c conntrack_stats)" "table left in place at shutdown (attach mode)"
finish
