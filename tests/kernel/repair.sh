#!/usr/bin/env bash
# A table changed behind our back: a deleted table is reported missing (not as zeros), and the
# managed table comes back with exactly its rules, whether the whole table or only its rules went.
source "$(dirname "$0")/each_shape.sh"
source "$(dirname "$0")/../lib/netns.sh"
RULES=$((3 * $(shape_rules 6)))
ns_add NS repair

in_ns "$NS" "$CTNFT" create --shape "$SHAPE" --no-owner > /dev/null
in_ns "$NS" nft delete table ip conntrack_stats
set +e
in_ns "$NS" "$CTNFT" dump > "$TMP/dump.txt"
rc=$?
set -e
assert_eq "3 missing" "$rc $(cat "$TMP/dump.txt")" "dump of a table deleted behind our back"
in_ns "$NS" nft add table ip conntrack_stats
set +e
in_ns "$NS" "$CTNFT" dump > "$TMP/dump.txt"
rc=$?
set -e
assert_eq "0 " "$rc $(cat "$TMP/dump.txt")" "dump of an existing empty table: no counters, not missing"
in_ns "$NS" nft delete table ip conntrack_stats

rules() { in_ns "$NS" nft -j list table ip conntrack_stats 2>/dev/null | jq '[.nftables[] | select(.rule)] | length'; }

# A reader that reads every 100 ms until the test ends, as the plugin would, with an unowned table.
bg sh -c "exec ip netns exec $NS $CTNFT read --shape $SHAPE --no-owner --count 100000 --every 100 > $TMP/read.log 2>&1"
wait_for 15 sh -c "ip netns exec $NS nft list table ip conntrack_stats >/dev/null 2>&1"
in_ns "$NS" nft delete table ip conntrack_stats
wait_for 15 grep -q "repaired: the table was removed" "$TMP/read.log" &&
    pass "deleted table noticed" || fail "deleted table not noticed: $(cat "$TMP/read.log")"
wait_for 15 sh -c "[ \"\$(ip netns exec $NS nft -j list table ip conntrack_stats 2>/dev/null | jq '[.nftables[] | select(.rule)] | length')\" = $RULES ]" &&
    pass "table back with $RULES rules" || fail "table not restored: $(rules) rules"

in_ns "$NS" nft flush table ip conntrack_stats
wait_for 15 grep -q "repaired: the table's rules were removed" "$TMP/read.log" &&
    pass "flushed rules noticed" || fail "flushed rules not noticed: $(cat "$TMP/read.log")"
wait_for 15 sh -c "[ \"\$(ip netns exec $NS nft -j list table ip conntrack_stats 2>/dev/null | jq '[.nftables[] | select(.rule)] | length')\" = $RULES ]" &&
    pass "rules back, $RULES" || fail "rules not restored: $(rules) rules"

in_ns "$NS" nft flush ruleset
wait_for 15 sh -c "[ \$(grep -c repaired $TMP/read.log) -ge 3 ]" &&
    pass "nft flush ruleset noticed" || fail "flush ruleset not noticed: $(cat "$TMP/read.log")"
wait_for 15 sh -c "[ \"\$(ip netns exec $NS nft -j list table ip conntrack_stats 2>/dev/null | jq '[.nftables[] | select(.rule)] | length')\" = $RULES ]" &&
    pass "table back after flush ruleset" || fail "table not restored after flush ruleset"
assert_eq 3 "$(grep -c repaired "$TMP/read.log")" "one repair per event"
finish
