#!/usr/bin/env bash
# From the plugin to Prometheus: collectd's write_prometheus plugin in the router namespace,
# scraped by a real Prometheus server (Debian's) there on loopback. Checks metric names and
# labels, runs every PromQL query of docs/queries.md and every panel query of the Prometheus
# Grafana dashboard through Prometheus' HTTP API, and checks them against known traffic.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../lib/prometheus.sh"
DOCS="$(dirname "$0")/../../docs"
# Not the default table: the docs say where a user with another Table puts its name
# (nftables="conntrack_stats" in their queries), the dashboard finds it with its table variable.
TABLE=home_stats
# The docs' range windows are for a 30 s collectd interval; this test reads every second. The
# docs' table name is replaced as they tell the user to; the dashboard's variables are filled in.
scale_windows() { sed -E 's/\[2m\]/[5s]/g; s/\$__rate_interval/5s/g; s/\$__interval/1s/g; s/\$host/router/g;
    s/nftables="conntrack_stats"/nftables="'"$TABLE"'"/g; s/\$table/'"${DASH_TABLE:-}"'/g' <<< "$1"; }

topology
start_tcp_server "$SERVER" 5001
{ cat <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 0.5
CONF
echo "  Table \"$TABLE\""
echo "</Plugin>"
write_prometheus_block 9103; } | write_conf "$TMP/collectd.conf"
start_collectd "$ROUTER" "$TMP/collectd.conf"
wait_for 20 sh -c "ip netns exec $ROUTER curl -sf http://127.0.0.1:9103/metrics > $TMP/metrics.txt && grep -q '^collectd_nftables_packets_total' $TMP/metrics.txt" ||
    { fail "write_prometheus serves no conntrack_nft metrics"; finish; }
start_prometheus "$ROUTER" 127.0.0.1:9103
# Unreplied UDP flows stay 120 s instead of 30 s: all 300 of the burst are still tracked when the
# fill is checked, however slow this machine is.
in_ns "$ROUTER" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=120 || fail "cannot set the UDP timeout"
bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 60 20

# Known traffic: 300 new UDP flows over 20 s = 15 new flows per second; 3 invalid packets.
sleep 3
burst_start=$(date +%s)
in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 30000 300 20 > /dev/null
burst_end=$(date +%s)
for _ in 1 2 3; do in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null; done
wait_for 20 sh -c "[ \"\$(ip netns exec $ROUTER curl -sfG http://127.0.0.1:9090/api/v1/query \
    --data-urlencode 'query=collectd_nftables_packets_total{type=\"tcp_conntrack_fwd_invalid\"}' | jq -r '.data.result[0].value[1]')\" = 3 ]" ||
    fail "3 invalid packets did not reach Prometheus"

# Names: what docs/queries.md says write_prometheus makes of our identifiers.
in_ns "$ROUTER" curl -sf http://127.0.0.1:9103/metrics > "$TMP/metrics.txt"
for line in 'collectd_nftables_packets_total{nftables="conntrack_stats",type="udp_conntrack_fwd_new",instance="router"}' \
            'collectd_nftables_packets_peak{nftables="conntrack_stats",type="udp_conntrack_fwd_new",instance="router"}' \
            'collectd_nftables_packets_low{nftables="conntrack_stats",type="udp_conntrack_fwd_new",instance="router"}' \
            'collectd_conntrack_nft_percent{conntrack_nft="used",instance="router"}' \
            'collectd_conntrack_nft_conntrack{conntrack_nft="entries",instance="router"}' \
            'collectd_conntrack_nft_operations_total{conntrack_nft="early_drop",instance="router"}' \
            'collectd_conntrack_nft_count{conntrack_nft="flowtables",instance="router"}'; do
    line=${line//conntrack_stats/$TABLE}
    grep -qF "$line " "$TMP/metrics.txt" && pass "exported: $line" || fail "not exported: $line"
done
assert_eq 18 "$(promql "count(collectd_nftables_packets_total{instance=\"router\",nftables=\"$TABLE\"})" | jq -r '.data.result[0].value[1]')" \
    "counters in Prometheus"
assert_eq "collectd router $TABLE" "$(promql 'collectd_nftables_packets_total{type="udp_conntrack_fwd_new"}' |
    jq -r '.data.result[0].metric | "\(.job) \(.instance) \(.nftables)"')" "job, instance and nftables labels"

# Runs each query on stdin (windows scaled to the lab's interval); each must return series.
# Sets n to how many there were.
queries_return_data() {  # queries_return_data WHAT < QUERIES
    local q answer
    n=0
    while IFS= read -r q; do
        n=$((n + 1))
        answer=$(promql "$(scale_windows "$q")")
        if jq -e '.status == "success" and (.data.result | length > 0)' <<< "$answer" > /dev/null; then pass "$1 query $n returns data"
        else fail "$1 query $n: $q -> $answer"; fi
    done
}

# Every PromQL query of the docs runs and returns series, and each one on the plugin's counters
# names the table where the docs say to put another one.
queries_return_data docs < <(promql_blocks "$DOCS/queries.md")
assert_eq 7 "$n" "PromQL queries in docs/queries.md"
assert_eq "$(promql_blocks "$DOCS/queries.md" | grep -c 'collectd_nftables_')" \
    "$(promql_blocks "$DOCS/queries.md" | grep 'collectd_nftables_' | grep -c 'nftables="conntrack_stats"')" \
    "docs' queries on the counters that say nftables=\"conntrack_stats\""
mapfile -t queries < <(promql_blocks "$DOCS/queries.md")

# Rate: the first query, every second of the burst (its first and last 5 s left out: the window).
rates=$(promql_range "$(scale_windows "${queries[0]}")" "$((burst_start + 6))" "$((burst_end - 1))" 1 |
    jq -r ".data.result[0].values[][1]" | tee "$TMP/rates.txt" | sort -n)
median=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' <<< "$rates")
echo "rates during the burst, in time order: $(tr "\n" " " < "$TMP/rates.txt")"
awk -v m="$median" 'BEGIN { exit !(m >= 13.5 && m <= 16.5) }' && pass "median rate during the burst $median/s (15/s sent)" ||
    fail "median rate during the burst $median/s, expected about 15/s"

# Fill: the query's value is entries / max x 100, and the entries hold the 300 UDP flows. The
# newest sample can be from before the last flows were sent: wait for the one after.
wait_for 10 sh -c "[ \"\$(ip netns exec $ROUTER curl -sfG http://127.0.0.1:9090/api/v1/query \
    --data-urlencode 'query=collectd_conntrack_nft_conntrack{conntrack_nft=\"entries\"}' | jq -r '.data.result[0].value[1] | tonumber | floor')\" -ge 300 ]" || true
at=$(date +%s.%N)  # with its fraction: the sample the wait saw is older than now, maybe not than a whole second
fill=$(promql "${queries[3]}" "$at" | jq -r '.data.result[0].value[1]')
computed=$(promql '100 * collectd_conntrack_nft_conntrack{conntrack_nft="entries"} / ignoring(conntrack_nft) collectd_conntrack_nft_conntrack{conntrack_nft="max"}' "$at" |
    jq -r '.data.result[0].value[1]')
entries=$(promql 'collectd_conntrack_nft_conntrack{conntrack_nft="entries"}' "$at" | jq -r '.data.result[0].value[1]')
echo "burst $burst_start..$burst_end, at $at; fill $fill %, entries/max $computed %, entries $entries; entries since the burst began: $(promql_range 'collectd_conntrack_nft_conntrack{conntrack_nft="entries"}' "$burst_start" "$at" 1 | jq -r '[.data.result[0].values[] | "\(.[0] - '$burst_start' | floor):\(.[1])"] | join(" ")')"
awk -v a="$fill" -v b="$computed" 'BEGIN { d = a - b; exit !(a > 0 && d < 0.01 && d > -0.01) }' &&
    pass "fill query = entries / max x 100" || fail "fill $fill, entries/max $computed"
assert_ge 300 "${entries%.*}" "conntrack entries after the burst"

# Drops: the three series exist, and nothing was dropped by this traffic.
assert_eq "drop:0 early_drop:0 insert_failed:0" "$(promql "$(scale_windows "${queries[4]}")" |
    jq -r '[.data.result[] | "\(.metric.conntrack_nft):\(.value[1])"] | sort | join(" ")')" "drop rates"
# Invalid: 3 packets in, the counter says 3.
assert_eq 3 "$(promql 'collectd_nftables_packets_total{type="tcp_conntrack_fwd_invalid"}' | jq -r '.data.result[0].value[1]')" \
    "tcp_conntrack_fwd_invalid"

# Every panel query of the Prometheus dashboard, with Grafana's variables filled in.
dash="$DOCS/grafana/conntrack-nft-prometheus.json"
jq -e '.panels | length > 0 and all(.[]; .targets | length > 0)' "$dash" > /dev/null && pass "dashboard JSON has panels with targets" ||
    fail "dashboard JSON malformed"
hostq=$(jq -r '.templating.list[] | select(.name == "host") | .query.query // .query' "$dash")
assert_eq "label_values(collectd_nftables_packets_total, instance)" "$hostq" "host variable"
# The table variable, asked as Grafana asks Prometheus for label_values(SELECTOR, LABEL): the
# label's values among the series SELECTOR matches (with $host filled in). It must find the
# table this collectd counts in, and no hard-coded table name may be left in the panels.
tableq=$(jq -r '.templating.list[] | select(.name == "table") | .query.query // .query' "$dash")
assert_eq 'label_values(collectd_nftables_packets_total{instance=~"$host"}, nftables)' "$tableq" "table variable"
selector=$(sed -E 's/^label_values\((.*), *nftables\)$/\1/; s/\$host/router/g' <<< "$tableq")
DASH_TABLE=$(in_ns "$PROM_NS" curl -sfG http://127.0.0.1:9090/api/v1/label/nftables/values --data-urlencode "match[]=$selector" |
    jq -r '.data | join(",")')
assert_eq "$TABLE" "$DASH_TABLE" "the table variable's values"
assert_eq 0 "$(grep -c conntrack_stats "$dash")" "hard-coded table names in the dashboard"
assert_eq "$(jq -r '.panels[].targets[].expr' "$dash" | grep -c 'collectd_nftables_')" \
    "$(jq -r '.panels[].targets[].expr' "$dash" | grep 'collectd_nftables_' | grep -c 'nftables=~"\$table"')" \
    "dashboard queries on the counters that select nftables=~\"\$table\""
queries_return_data dashboard < <(jq -r '.panels[].targets[].expr' "$dash")
assert_eq 9 "$n" "dashboard queries"
stop_collectd TERM
finish
