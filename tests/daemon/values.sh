#!/usr/bin/env bash
# The real collectd with the real plugin in a router namespace: identifiers exactly as the Exec
# script's, values equal to nft's own listing and to the traffic sent; SIGTERM removes the table.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
start_tcp_server "$SERVER" 5001

write_conf "$TMP/collectd.conf" <<'CONF'
<Plugin conntrack_nft>
  ReportBytes true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"
ID=router/nftables-conntrack_stats
wait_reads "$ID/packets-tcp_conntrack_fwd_new" 1 || { fail "no values from the plugin"; cat "$TMP/collectd.log"; exit 1; }

K=6 M=9
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 "$K" > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 "$M" > /dev/null
in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null
settle "$ROUTER" "$M"
wait_reads "$ID/packets-tcp_conntrack_fwd_new" 2

assert_eq "$K" "$(value_of "$ID/packets-tcp_conntrack_fwd_new")" "dispatched tcp_conntrack_fwd_new"
assert_eq "$M" "$(value_of "$ID/packets-udp_conntrack_fwd_new")" "dispatched udp_conntrack_fwd_new"
assert_eq 1 "$(value_of "$ID/packets-tcp_conntrack_fwd_invalid")" "dispatched tcp_conntrack_fwd_invalid"

# Every identifier, exactly; values equal nft -j list counters (no traffic now).
nft_counters "$ROUTER" | awk -v id="$ID" '{ print id "/packets-" $1, $2; print id "/total_bytes-" $1, $3 }' |
    sort > "$TMP/expected.txt"
latest_values | grep "^$ID/" > "$TMP/dispatched.txt"
assert_eq 36 "$(wc -l < "$TMP/dispatched.txt")" "identifiers dispatched (18 packets + 18 total_bytes)"
if diff -u "$TMP/expected.txt" "$TMP/dispatched.txt"; then pass "dispatched values equal nft -j list counters"
else fail "dispatched values differ from nft"; fi

# One timestamp per read: every complete read dispatched its 36 values with the same time.
assert_eq 36 "$(values_per_read "$ID/" | sort -u)" "values sharing each read's timestamp"
assert_eq "interval=1.000" "$(putvals | grep " $ID/" | awk '{ print $3 }' | sort -u)" "interval on every value"

assert_eq 1 "$(in_ns "$ROUTER" nft list tables | grep -c 'table ip conntrack_stats')" "table while collectd runs"
stop_collectd TERM
assert_eq 0 "$(in_ns "$ROUTER" nft list tables | grep -c conntrack_stats || true)" "tables after SIGTERM"
assert_eq 0 "$(log_count 'conntrack_nft plugin:.*rror')" "error lines in the log"
finish
