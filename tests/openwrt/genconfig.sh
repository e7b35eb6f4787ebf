#!/usr/bin/env bash
# What OpenWrt writes from UCI reaches the real collectd and the real plugin intact: the
# generator rules (stat_genconfig.py: LuCI's stat-genconfig or collectd's own init script) turn
# a sample UCI section and the JSON the package ships into a <Plugin conntrack_nft> block;
# collectd -T accepts it, and collectd, running it in a namespace, dispatches the counters the
# section asks for.
#   genconfig.sh luci|collectd|luci_negative_priority|collectd_priority
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
FILES="$HERE/../../openwrt-feed/collectd-mod-conntrack-nft/files/usr/share"

CASE=${1:?usage: genconfig.sh luci|collectd|luci_negative_priority|collectd_priority}
case "$CASE" in
    # MODE, plugin JSON, table, counters (protocols x hooks x states), bytes too?, health too?
    luci) set -- luci luci/statistics/plugins/conntrack_nft.json ctnft_owrt 32 yes yes
        EXPECT_LINES=("Table ctnft_owrt" "Family inet" "Priority 10" "OwnerFlag false" "PerCPU true"
                      "Protocol icmpv6" "Hook input" "Hook forward" "State related"
                      'FillThreshold "75.5"' "Notifications false") ;;
    collectd) set -- collectd collectd/plugin/conntrack_nft.json ctnft_init 4 no no
        EXPECT_LINES=('Table "ctnft_init"' 'Family "ip"' 'Protocol "udp"' 'Hook "forward"' 'State "invalid"'
                      "ReportBytes false" "ConntrackStats false" 'FillThreshold "80"' "Notifications true") ;;
    luci_negative_priority) set -- luci luci/statistics/plugins/conntrack_nft.json ctnft_prio 18 no yes
        EXPECT_LINES=('Priority "-150"') ;;
    collectd_priority) set -- collectd collectd/plugin/conntrack_nft.json ctnft_prio 18 no yes
        EXPECT_LINES=('Priority "10"') ;;
    *) echo "genconfig.sh: unknown case '$CASE'; use luci, collectd, luci_negative_priority or collectd_priority"
       exit 2 ;;
esac
MODE=$1 JSON="$FILES/$2" TABLE=$3 COUNTERS=$4 BYTES=$5 HEALTH=$6

python3 "$HERE/stat_genconfig.py" "$MODE" "$JSON" "$HERE/uci/$CASE.uci" > "$TMP/generated.conf"
echo "--- generated from uci/$CASE.uci ($MODE):"
cat "$TMP/generated.conf"
assert_eq "LoadPlugin conntrack_nft" "$(head -n 1 "$TMP/generated.conf")" "first generated line"
for line in "${EXPECT_LINES[@]}"; do
    if grep -qxF "	$line" "$TMP/generated.conf"; then pass "generated: $line"; else fail "not generated: $line"; fi
done

ns_add ROUTER router
# write_conf loads the plugin itself; it takes the <Plugin> block.
sed -n '/^<Plugin conntrack_nft>$/,/^<\/Plugin>$/p' "$TMP/generated.conf" | write_conf "$TMP/collectd.conf"
# Severities in the log, to tell the plugin's errors from its other lines.
sed -i 's/^<Plugin logfile>$/&\n  PrintSeverity true/' "$TMP/collectd.conf"
plugin_errors() { cat "$@" 2>/dev/null | grep -c '\[error\] conntrack_nft plugin:' || true; }

# collectd -T: reads the configuration, hands the block to the plugin, runs its init and one
# read, and exits.
if in_ns "$ROUTER" "$COLLECTD" -T -C "$TMP/collectd.conf" > "$TMP/collectd-T.log" 2>&1; then
    pass "collectd -T exits 0"
else
    fail "collectd -T failed"; cat "$TMP/collectd-T.log" "$TMP/collectd.log" 2>/dev/null || true
fi
assert_eq 0 "$(plugin_errors "$TMP/collectd-T.log" "$TMP/collectd.log")" "conntrack_nft plugin ERROR lines from collectd -T"
assert_eq 0 "$(grep -c "Initialization of plugin \`conntrack_nft' failed" "$TMP/collectd.log" || true)" "failed initialisations"
[ "$FAILED" = 0 ] || finish

# The same configuration in the running daemon: the counters the section asked for.
: > "$TMP/collectd.log"
start_collectd "$ROUTER" "$TMP/collectd.conf"
ID="router/nftables-$TABLE"
wait_for 15 sh -c "[ \$(grep -c '^PUTVAL $ID/packets-' '$TMP/values.log') -ge $((COUNTERS * 2)) ]" ||
    fail "fewer than two reads of $COUNTERS counters from $ID within 15 s"
stop_collectd TERM
assert_eq "$COUNTERS" "$(latest_values | grep -c "^$ID/packets-" || true)" "packets identifiers under $ID"
if [ "$BYTES" = yes ]; then want=$COUNTERS; else want=0; fi
assert_eq "$want" "$(latest_values | grep -c "^$ID/total_bytes-" || true)" "total_bytes identifiers under $ID"
if [ "$HEALTH" = yes ]; then want=1; else want=0; fi
assert_eq "$want" "$(latest_values | grep -c '^router/conntrack_nft/percent-used ' || true)" "conntrack_nft/percent-used"
if [ "$CASE" = luci ]; then
    assert_ge 1 "$(latest_values | grep -c '^router/conntrack_nft-cpu0/operations-' || true)" "per-CPU statistics (PerCPU true)"
    assert_eq 1 "$(latest_values | grep -c "^$ID/packets-icmpv6_conntrack_fwd_related " || true)" "icmpv6 forward related counter"
    assert_eq 0 "$(latest_values | grep -c "^$ID/packets-.*_output_" || true)" "output counters (not asked for)"
fi
assert_eq 0 "$(plugin_errors "$TMP/collectd.log")" "conntrack_nft plugin ERROR lines from the daemon"
finish
