#!/usr/bin/env bash
# Counter values past 2^31, 2^32 and 2^53 up to 2^63 - 1 (tests/lib/wide_counters.sh) reach
# collectd exactly, packets and bytes, and traffic counts on top of them. In the 32-bit pass
# (scripts/test-i386.sh) this is i386 collectd with the i386 plugin.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../lib/wide_counters.sh"
topology
ID=router/nftables-conntrack_stats

# Today's hand-loaded table with four counters preset; the plugin attaches to it.
preset_counters < "$(dirname "$0")/../../nft/conntrack-counter.nft" > "$TMP/preset.nft"
in_ns "$ROUTER" nft -f "$TMP/preset.nft"
write_conf "$TMP/collectd.conf" <<'CONF'
<Plugin conntrack_nft>
  Manage false
  ReportBytes true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"
wait_reads "$ID/packets-udp_conntrack_fwd_new" 1 || { fail "no values from the plugin"; exit 1; }

assert_eq "$P_UDP" "$(value_of "$ID/packets-udp_conntrack_fwd_new")" "packets-udp_conntrack_fwd_new"
assert_eq "$B_UDP" "$(value_of "$ID/total_bytes-udp_conntrack_fwd_new")" "total_bytes-udp_conntrack_fwd_new"
assert_eq "$P_TCP" "$(value_of "$ID/packets-tcp_conntrack_fwd_new")" "packets-tcp_conntrack_fwd_new"
assert_eq "$B_TCP" "$(value_of "$ID/total_bytes-tcp_conntrack_fwd_new")" "total_bytes-tcp_conntrack_fwd_new"
assert_eq "$P_INV" "$(value_of "$ID/packets-tcp_conntrack_input_invalid")" "packets-tcp_conntrack_input_invalid"
assert_eq "$B_INV" "$(value_of "$ID/total_bytes-tcp_conntrack_input_invalid")" "total_bytes-tcp_conntrack_input_invalid"
assert_eq "$P_OUT" "$(value_of "$ID/packets-udp_conntrack_output_new")" "packets-udp_conntrack_output_new"
assert_eq "$B_OUT" "$(value_of "$ID/total_bytes-udp_conntrack_output_new")" "total_bytes-udp_conntrack_output_new"

M=4
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 "$M" > /dev/null
settle "$ROUTER" "$M"
wait_reads "$ID/packets-udp_conntrack_fwd_new" 2
assert_eq "$((P_UDP + M))" "$(value_of "$ID/packets-udp_conntrack_fwd_new")" "packets-udp_conntrack_fwd_new after $M new flows"

# Every identifier's latest value equals nft's listing (no traffic now).
nft_text_counters "$ROUTER" | awk -v id="$ID" '{ print id "/packets-" $1, $2; print id "/total_bytes-" $1, $3 }' |
    sort > "$TMP/expected.txt"
latest_values | grep "^$ID/" > "$TMP/dispatched.txt"
assert_eq 36 "$(wc -l < "$TMP/dispatched.txt")" "identifiers dispatched (18 packets + 18 total_bytes)"
if diff -u "$TMP/expected.txt" "$TMP/dispatched.txt"; then pass "dispatched values equal nft's listing"
else fail "dispatched values differ from nft"; fi
stop_collectd TERM
assert_eq 0 "$(log_count 'conntrack_nft plugin:.*rror')" "error lines in the log"
finish
