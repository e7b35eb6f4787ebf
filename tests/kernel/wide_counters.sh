#!/usr/bin/env bash
# Counter values past 2^31, 2^32 and 2^53 up to 2^63 - 1 (tests/lib/wide_counters.sh: a
# long-running router's byte counters, and what a 32-bit build could truncate) come out of the
# nft layer exactly: dumped, kept when the table is taken over, and counted on by traffic.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/wide_counters.sh"
topology

# The plugin's ruleset with four counters preset.
"$CTNFT" render --shape classic | preset_counters > "$TMP/preset.nft"
in_ns "$ROUTER" nft -f "$TMP/preset.nft"

ours() { awk -v n="$1" '$1 == n { print $2, $3 }' "$TMP/ours.txt"; }

in_ns "$ROUTER" "$CTNFT" dump | sort > "$TMP/ours.txt"
assert_eq "$P_UDP $B_UDP" "$(ours udp_conntrack_fwd_new)" "udp_conntrack_fwd_new dumped"
assert_eq "$P_TCP $B_TCP" "$(ours tcp_conntrack_fwd_new)" "tcp_conntrack_fwd_new dumped"
assert_eq "$P_INV $B_INV" "$(ours tcp_conntrack_input_invalid)" "tcp_conntrack_input_invalid dumped"
assert_eq "$P_OUT $B_OUT" "$(ours udp_conntrack_output_new)" "udp_conntrack_output_new dumped"
nft_text_counters "$ROUTER" > "$TMP/nft.txt"
if diff -u "$TMP/nft.txt" "$TMP/ours.txt"; then pass "dump equals nft's listing"; else fail "dump differs from nft"; fi

# Taken over as the plugin does (same chains: the counters are kept), then real traffic on top.
in_ns "$ROUTER" "$CTNFT" read --no-owner --shape classic --count 1 > /dev/null
M=3
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 "$M" > /dev/null
settle "$ROUTER" "$M"
in_ns "$ROUTER" "$CTNFT" dump | sort > "$TMP/ours.txt"
assert_eq "$((P_UDP + M))" "$(ours udp_conntrack_fwd_new | cut -d' ' -f1)" "udp_conntrack_fwd_new after $M new flows"
assert_eq "$P_TCP $B_TCP" "$(ours tcp_conntrack_fwd_new)" "tcp_conntrack_fwd_new kept across the take-over"
assert_eq "$P_OUT $B_OUT" "$(ours udp_conntrack_output_new)" "udp_conntrack_output_new kept across the take-over"
nft_text_counters "$ROUTER" > "$TMP/nft.txt"
if diff -u "$TMP/nft.txt" "$TMP/ours.txt"; then pass "dump equals nft's listing after traffic"; else fail "dump differs from nft after traffic"; fi
finish
