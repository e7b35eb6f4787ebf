#!/usr/bin/env bash
# Exact counts with real traffic through client -> router -> server: the table our netlink batch
# creates in the router counts what conntrack sees, and our dump agrees with nft's listing.
source "$(dirname "$0")/each_shape.sh"
source "$(dirname "$0")/../lib/netns.sh"
topology

# The plugin's lifetime: the owning socket stays open while the test runs.
mkfifo "$TMP/hold"
bg sh -c "exec ip netns exec $ROUTER $CTNFT create --hold --shape $SHAPE < $TMP/hold > $TMP/create.log 2>&1"
exec 9>"$TMP/hold"
wait_for 15 grep -q created "$TMP/create.log" || { cat "$TMP/create.log"; exit 1; }

start_tcp_server "$SERVER" 5001
start_tcp_server "$ROUTER" 5002

K=7 M=11 K_IN=3 M_OUT=5
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 "$K"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 "$M"
in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001
in_ns "$CLIENT" $TRAFFIC tcp-connect "$ROUTER_IP" 5002 "$K_IN"
in_ns "$ROUTER" $TRAFFIC udp-send "$SERVER_IP" 30000 "$M_OUT"
settle "$ROUTER" $((M + M_OUT))

in_ns "$ROUTER" "$CTNFT" dump | sort > "$TMP/ours.txt"
nft_counters "$ROUTER" > "$TMP/nft.txt"
assert_eq 18 "$(wc -l < "$TMP/ours.txt")" "counters in our dump"
if diff -u "$TMP/nft.txt" "$TMP/ours.txt"; then pass "our dump equals nft -j list counters"; else fail "dump differs from nft"; fi

val() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/ours.txt"; }
assert_eq "$K" "$(val tcp_conntrack_fwd_new)" "tcp_conntrack_fwd_new"
assert_eq "$M" "$(val udp_conntrack_fwd_new)" "udp_conntrack_fwd_new"
assert_eq 1 "$(val tcp_conntrack_fwd_invalid)" "tcp_conntrack_fwd_invalid"
assert_eq "$K_IN" "$(val tcp_conntrack_input_new)" "tcp_conntrack_input_new"
assert_eq "$M_OUT" "$(val udp_conntrack_output_new)" "udp_conntrack_output_new"
assert_eq 0 "$(val udp_conntrack_fwd_invalid)" "udp_conntrack_fwd_invalid"
# Each forwarded connection carries at least SYN-ACK, data, FIN and ACKs once established.
assert_ge $((K * 4)) "$(val tcp_conntrack_fwd_established)" "tcp_conntrack_fwd_established"
# The router answers its own connections (SYN-ACK and more): established output.
assert_ge "$K_IN" "$(val tcp_conntrack_output_established)" "tcp_conntrack_output_established"
finish
