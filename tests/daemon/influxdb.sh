#!/usr/bin/env bash
# From the plugin to a real time-series database: Debian's InfluxDB 1.x with its collectd input,
# on loopback inside the router namespace, fed by collectd's network plugin. Checks measurement
# and tag names, runs every InfluxQL query of docs/queries.md and every panel query of the
# Grafana dashboard, checks the rate for known traffic, and measures storage per point.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../lib/influxdb.sh"
DOCS="$(dirname "$0")/../../docs"
topology
start_tcp_server "$SERVER" 5001
start_influxdb "$ROUTER"

{ cat <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 0.5
</Plugin>
CONF
network_block 127.0.0.1 25826; } | write_conf "$TMP/collectd.conf"
start_collectd "$ROUTER" "$TMP/collectd.conf"
bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 60 20

# Known traffic: 300 new UDP flows over 20 s = 15 new flows per second; a few invalid packets.
# A few reads before it, so that the rate query has a baseline.
wait_reads router/nftables-conntrack_stats/packets-udp_conntrack_fwd_new 3 || { fail "no values from the plugin"; exit 1; }
burst_start=$(date +%s)
in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 30000 300 20 > /dev/null
burst_end=$(date +%s)
for _ in 1 2 3; do in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null; done
stored_invalid() {
    influxql "SELECT last(\"value\") - first(\"value\") FROM \"nftables_value\" WHERE \"type\" = 'packets' AND \"type_instance\" = 'tcp_conntrack_fwd_invalid' AND time > now() - 1h" |
        jq -r '.results[0].series[0].values[0][1]'
}
# Read, sent and written: the last invalid packet is in the database.
all_invalid_stored() { [ "$(stored_invalid)" = 3 ]; }
wait_for 30 all_invalid_stored || true  # asserted below, with the value

# Names: measurements and tags as docs/queries.md says.
measurements=$(influxql 'SHOW MEASUREMENTS' | jq -r '.results[0].series[0].values[][0]' | sort | tr '\n' ' ')
assert_eq "conntrack_nft_value nftables_value " "$measurements" "measurements"
assert_eq "host instance type type_instance " \
    "$(influxql 'SHOW TAG KEYS FROM "nftables_value"' | jq -r '.results[0].series[0].values[][0]' | sort | tr '\n' ' ')" "tag keys"
assert_eq 18 "$(influxql "SHOW TAG VALUES FROM \"nftables_value\" WITH KEY = \"type_instance\" WHERE \"type\" = 'packets'" |
    jq '.results[0].series[0].values | length')" "counters stored as type=packets"
assert_eq "router conntrack_stats" "$(influxql "SELECT last(\"value\"), \"host\", \"instance\" FROM \"nftables_value\" WHERE \"type_instance\" = 'udp_conntrack_fwd_new'" |
    jq -r '.results[0].series[0].values[0][2:] | join(" ")')" "host and instance tags"

# Every InfluxQL query of the docs runs and returns data.
n=0
while IFS= read -r q; do
    n=$((n + 1))
    answer=$(influxql "$q")
    if jq -e '.results[0].series | length > 0' <<< "$answer" > /dev/null; then pass "docs query $n returns data"
    else fail "docs query $n: $q -> $answer"; fi
done < <(sql_blocks "$DOCS/queries.md")
assert_eq 6 "$n" "InfluxQL queries in docs/queries.md"

# The first one is the rate query: during the burst it says 15 new flows per second.
q=$(sql_blocks "$DOCS/queries.md"); q=${q%%$'\n'*}
rates=$(influxql "$q" | jq -r --argjson a "$((burst_start + 2))" --argjson b "$((burst_end - 2))" \
    '.results[0].series[0].values[] | select(.[0] >= $a and .[0] <= $b) | .[1]' | sort -n)
median=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' <<< "$rates")
echo "rates during the burst: $(tr '\n' ' ' <<< "$rates")"
awk -v m="$median" 'BEGIN { exit !(m >= 13.5 && m <= 16.5) }' && pass "median rate during the burst $median/s (15/s sent)" ||
    fail "median rate during the burst $median/s, expected about 15/s"
assert_eq 3 "$(stored_invalid)" "invalid packets stored"

# Every panel query of the Grafana dashboard, with Grafana's macros filled in.
dash="$DOCS/grafana/conntrack-nft.json"
jq -e '.panels | length > 0 and all(.[]; .targets | length > 0)' "$dash" > /dev/null && pass "dashboard JSON has panels with targets" ||
    fail "dashboard JSON malformed"
n=0
while IFS= read -r q; do
    n=$((n + 1))
    q=${q//'$timeFilter'/time > now() - 1h}
    q=${q//'$__interval'/5s}
    q=${q//'$host'/router}
    answer=$(influxql "$q")
    if jq -e '.results[0].series | length > 0' <<< "$answer" > /dev/null; then pass "dashboard query $n returns data"
    elif grep -q count-flowtables <<< "x$q" || jq -e '.results[0].error == null' <<< "$answer" > /dev/null && grep -q flowtables <<< "$q"; then
        pass "dashboard query $n runs (flowtables)"
    else fail "dashboard query $n: $q -> $answer"; fi
done < <(jq -r '.panels[].targets[].query' "$dash")
assert_eq 9 "$n" "dashboard queries"

# Storage: let InfluxDB write its TSM files, then bytes on disk per stored point.
stop_collectd TERM
# InfluxDB snapshots its cache into TSM files after 2 s without writes (cache-snapshot-write-cold-duration).
wal_flushed() {
    [ -n "$(find "$TMP/influxdb/data/collectd" -name '*.tsm' -size +0)" ] &&
        [ -z "$(find "$TMP/influxdb/wal" -name '*.wal' -size +0)" ]
}
wait_for 60 wal_flushed || fail "InfluxDB did not write its TSM files within 60 s"
points=$(influxql 'SELECT count("value") FROM /.*/' | jq '[.results[0].series[].values[0][1]] | add')
series=$(influxql 'SHOW SERIES' | jq '.results[0].series[0].values | length')
find "$TMP/influxdb" -type f -printf '%s %p\n' | sort -n | tail -8
# The TSM files are what stays on disk: the WAL is emptied into them.
bytes=$(find "$TMP/influxdb/data/collectd" -name '*.tsm' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
per_point=$(awk -v b="$bytes" -v p="$points" 'BEGIN { printf "%.1f", b / p }')
echo "storage: $bytes bytes for $points points in $series series: $per_point bytes/point;" \
     "at a 30 s interval $(awk -v x="$per_point" 'BEGIN { printf "%.0f", x * 2880 }') bytes per series per day"
awk -v x="$per_point" 'BEGIN { exit !(x > 0 && x < 200) }' && pass "bytes per point measured ($per_point)" || fail "bytes per point: $per_point"
finish
