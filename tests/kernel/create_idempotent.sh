#!/usr/bin/env bash
# Creating again never duplicates rules, and keeps counter values where the kernel allows.
source "$(dirname "$0")/each_shape.sh"
source "$(dirname "$0")/../lib/netns.sh"
topology

rules_per_chain() {  # "chain rules" lines
    in_ns "$ROUTER" nft -j list table ip conntrack_stats | jq -r '[.nftables[] | select(.rule) | .rule.chain] |
        group_by(.) | map("\(.[0]) \(length)") | .[]'
}
expect_rules() {
    local n
    n=$(shape_rules 6)
    assert_eq "forward_counter $n
input_counter $n
output_counter $n" "$(rules_per_chain)" "rules per chain ($1, $SHAPE)"
    assert_eq 18 "$(in_ns "$ROUTER" nft -j list counters | jq '[.nftables[] | select(.counter)] | length')" "counters ($1)"
    # One anonymous map per chain in the map shape, none left over from earlier creates.
    assert_eq "$( [ "$SHAPE" = map ] && echo 3 || echo 0)" "$(maps)" "anonymous maps ($1)"
}
maps() { in_ns "$ROUTER" nft --debug=netlink list table ip conntrack_stats | grep -c '^ip conntrack_stats @__objmap' || true; }

# 1. An unowned table (kernels before 5.12, or OwnerFlag false) created three times.
for i in 1 2 3; do in_ns "$ROUTER" "$CTNFT" create --shape "$SHAPE" --no-owner > /dev/null; done
expect_rules "unowned, created 3 times"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 4 > /dev/null
assert_eq 4 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new before re-create"
in_ns "$ROUTER" "$CTNFT" create --shape "$SHAPE" --no-owner > /dev/null
expect_rules "unowned, created again"
assert_eq 4 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new kept across re-create"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 21000 2 > /dev/null
assert_eq 6 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new counts on after re-create"

# 2. A narrower spec over the same table: stale chains and counters go, nothing duplicates.
in_ns "$ROUTER" "$CTNFT" create --shape "$SHAPE" --no-owner --hook forward --protocol udp > /dev/null
assert_eq "forward_counter $(shape_rules 3)" "$(rules_per_chain)" "rules after narrowing to forward/udp"
assert_eq 6 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new kept across narrowing"
assert_eq 3 "$(in_ns "$ROUTER" nft -j list counters | jq '[.nftables[] | select(.counter)] | length')" "counters after narrowing"

# 3. Today's hand-loaded table (nft -f), then the plugin takes it over with the owner flag.
in_ns "$ROUTER" nft delete table ip conntrack_stats
in_ns "$ROUTER" nft -f "$(dirname "$0")/../../nft/conntrack-counter.nft"
in_ns "$ROUTER" nft -f "$(dirname "$0")/../../nft/conntrack-counter.nft"
assert_eq 36 "$(in_ns "$ROUTER" nft -j list table ip conntrack_stats | jq '[.nftables[] | select(.rule)] | length')" \
    "rules after loading the hand-written file twice (nft duplicates them)"
in_ns "$ROUTER" "$CTNFT" create --shape "$SHAPE" --keep > /dev/null
expect_rules "hand-loaded table taken over"
# Its creator has exited: the persist flag kept the table, the kernel dropped the owner flag.
assert_eq 4 "$(in_ns "$ROUTER" "$CTNFT" info | cut -d' ' -f2)" "table flags after the keeping owner exited (persist)"

# 4. Persisted table adopted again by a new owner (collectd restarted with KeepTable true).
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 22000 3 > /dev/null
in_ns "$ROUTER" "$CTNFT" create --shape "$SHAPE" --keep > /dev/null
expect_rules "persisted table adopted again"
assert_eq 3 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new kept across adoption"

# 5. Switching shapes over a kept table keeps the values; no map is left behind (anonymous maps
#    go with their rules), and the new shape counts on.
other=classic; [ "$SHAPE" = classic ] && other=map
in_ns "$ROUTER" "$CTNFT" create --shape "$other" --keep > /dev/null
SHAPE=$other expect_rules "switched to $other"
assert_eq 3 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new kept across the switch to $other"
assert_eq "$( [ "$other" = map ] && echo 3 || echo 0)" \
    "$(maps)" \
    "anonymous maps after the switch to $other"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 23000 2 > /dev/null
assert_eq 5 "$(counter_of "$ROUTER" udp_conntrack_fwd_new)" "udp_conntrack_fwd_new counts on in $other"
finish
