#!/usr/bin/env bash
# The table our netlink batch creates is the table `nft -f` makes of our rendered text: compare
# `nft list table` of two namespaces, for several specs. Also: today's hand-written ruleset file
# (nft/conntrack-counter.nft) is what we render for the default spec.
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

check_spec ip
check_spec ip6 --protocol icmpv6 --protocol tcp --state related --state untracked
check_spec inet --protocol tcp --protocol udp --protocol icmp --protocol icmpv6 \
    --hook prerouting --hook input --hook forward --hook output --hook postrouting \
    --state new --state established --state related --state invalid --state untracked --priority 10
check_spec ip --hook forward --protocol udp --state invalid --priority -150

if diff -u "$(dirname "$0")/../../nft/conntrack-counter.nft" <("$CTNFT" render); then
    pass "nft/conntrack-counter.nft is the default rendered ruleset"
else
    fail "nft/conntrack-counter.nft differs from the default rendered ruleset"
fi
finish
