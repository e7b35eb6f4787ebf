#!/usr/bin/env bash
# The table our netlink batch creates is the table `nft -f` makes of our rendered text: compare
# `nft list table` of two namespaces, for several specs. Also: today's hand-written ruleset file
# (nft/conntrack-counter.nft) is what we render for the default spec in the classic shape.
# Every spec is checked in both rule shapes: map (the default) and classic.
source "$(dirname "$0")/../lib/netns.sh"
ns_add BATCH batch
ns_add TEXT text

# nft prints who owns a table ("# progname ctnft", "flags owner"): ours is owned, nft's is not.
listing() { in_ns "$1" nft list table "$2" "$3" | sed -e 's/ # progname .*//' -e '/^\tflags owner$/d'; }

check_spec() {
    local family=$1; shift
    local table=t_$RANDOM
    in_ns "$BATCH" "$CTNFT" create --keep --no-owner --family "$family" --table "$table" "$@" > /dev/null
    "$CTNFT" render --family "$family" --table "$table" "$@" > "$TMP/rendered.nft"
    in_ns "$TEXT" nft -f "$TMP/rendered.nft"
    listing "$BATCH" "$family" "$table" > "$TMP/batch.txt"
    listing "$TEXT" "$family" "$table" > "$TMP/text.txt"
    if diff -u "$TMP/text.txt" "$TMP/batch.txt"; then
        pass "family $family $* : batch and nft -f give the same table ($(grep -c 'counter name' "$TMP/batch.txt") rules)"
    else
        fail "family $family $* : tables differ"
    fi
}

for shape in map classic; do
    check_spec ip --shape $shape
    check_spec ip6 --shape $shape --protocol icmpv6 --protocol tcp --state related --state untracked
    check_spec inet --shape $shape --protocol tcp --protocol udp --protocol icmp --protocol icmpv6 \
        --hook prerouting --hook input --hook forward --hook output --hook postrouting \
        --state new --state established --state related --state invalid --state untracked --priority 10
    check_spec ip --shape $shape --hook forward --protocol udp --state invalid --priority -150
done
# The map shape: one rule per chain, each with its own anonymous map.
in_ns "$BATCH" "$CTNFT" create --keep --no-owner --table t_maps > /dev/null
assert_eq 3 "$(in_ns "$BATCH" nft -j list table ip t_maps | jq '[.nftables[] | select(.rule)] | length')" \
    "rules of the default (map) ruleset"
assert_eq 18 "$(in_ns "$BATCH" nft list table ip t_maps | grep -o ' : "[a-z]*_conntrack_[a-z]*_[a-z]*"' | wc -l)" \
    "map elements of the default (map) ruleset"

if diff -u "$(dirname "$0")/../../nft/conntrack-counter.nft" <("$CTNFT" render --shape classic); then
    pass "nft/conntrack-counter.nft is the default rendered ruleset in the classic shape"
else
    fail "nft/conntrack-counter.nft differs from the default rendered classic ruleset"
fi
finish
