#!/usr/bin/env bash
# Manage false on a table of the user's own, named as nft allows (hand-made.v2), holding counters
# whose names collectd cannot carry ("a/b", 130 characters): the plugin reads on at every
# interval while the table is missing (the conntrack statistics ride on the same read: a failing
# read would make collectd wait twice as long each time), and skips those names for the counters
# and for their peak and low rates alike, saying so once.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
TABLE=hand-made.v2
ID=router/nftables-$TABLE
LONG=$(printf 'c%.0s' $(seq 130))

write_conf "$TMP/collectd.conf" <<CONF
<Plugin conntrack_nft>
  Manage false
  Table "$TABLE"
  SampleInterval 0.25
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"

# The table is missing: the conntrack statistics still come at every interval.
health_times() { putvals | awk '$2 == "router/conntrack_nft/conntrack-entries" { split($4, tv, ":"); print tv[1] }'; }
wait_for 40 sh -c "[ \$(grep -c '^PUTVAL router/conntrack_nft/conntrack-entries ' '$TMP/values.log') -ge 6 ]" ||
    fail "fewer than 6 reads of the conntrack statistics in 40 s while the table is missing"
longest=$(health_times | awk 'NR > 1 { g = $1 - last; if (g > max) max = g } { last = $1 } END { printf "%.1f", max }')
echo "longest gap between reads while the table was missing: $longest s (Interval 1)"
awk -v g="$longest" 'BEGIN { exit !(g < 6) }' && pass "reads go on at the interval while the table is missing" ||
    fail "a gap of $longest s: collectd backed off the read"
assert_eq 1 "$(log_count "conntrack_nft plugin: table ip $TABLE does not exist")" "log lines about the missing table"

in_ns "$ROUTER" nft -f - <<NFT
table ip $TABLE {
    counter ok { }
    counter a/b { }
    counter $LONG { }
    chain input {
        type filter hook input priority 0; policy accept;
        counter name ok
        counter name a/b
        counter name $LONG
    }
}
NFT
wait_for 20 sh -c "grep -q '^PUTVAL $ID/packets-ok ' '$TMP/values.log'" &&
    pass "values of $TABLE flow once it is loaded" || fail "no values after loading $TABLE"
wait_reads "$ID/packets_peak-ok" 2 20 && pass "peak rates of the usable counter" || fail "no packets_peak-ok"
wait_reads "$ID/packets-ok" 2
assert_eq 0 "$(grep -c -F '/b ' "$TMP/values.log" || true)" "values whose identifier has the counter 'a/b'"
assert_eq 0 "$(grep -c -F "${LONG:0:100}" "$TMP/values.log" || true)" "values of the 130-character counter"
assert_eq 1 "$(log_count 'conntrack_nft plugin: counter "a/b..." is skipped')" "one warning for 'a/b'"
assert_eq 1 "$(log_count "conntrack_nft plugin: counter \"${LONG:0:64}...\" is skipped")" "one warning for the long name"
stop_collectd TERM
assert_eq 1 "$(in_ns "$ROUTER" nft list tables | grep -c -F "$TABLE")" "the user's table left in place"
finish
