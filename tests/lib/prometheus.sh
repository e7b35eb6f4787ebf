# A real Prometheus server (Debian's prometheus) in a namespace the test made, with its storage in
# $TMP, scraping collectd's write_prometheus plugin. Source after netns.sh and collectd.sh.
command -v prometheus >/dev/null || skip "needs prometheus (Debian package prometheus)"
command -v curl >/dev/null || skip "needs curl"
[ -f "$SYSTEM_PLUGIN_DIR/write_prometheus.so" ] || skip "needs collectd's write_prometheus plugin (collectd-core)"

# write_prometheus_block PORT: collectd's write_prometheus plugin serving /metrics on PORT.
write_prometheus_block() {
    printf 'PluginDir "%s"\nLoadPlugin write_prometheus\n<Plugin write_prometheus>\n  Port "%s"\n</Plugin>\n' \
        "$SYSTEM_PLUGIN_DIR" "$1"
}

# start_prometheus NS TARGET: Prometheus on 127.0.0.1:9090 in NS, scraping TARGET (host:port)
# every second, honouring the exported labels (instance = collectd's host name).
start_prometheus() {
    local ns=$1 target=$2 root="$TMP/prometheus"
    mkdir -p "$root/data"
    cat > "$root/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: collectd
    honor_labels: true
    static_configs:
      - targets: ['$target']
CONF
    bg sh -c "exec ip netns exec $ns prometheus --config.file=$root/prometheus.yml \
        --storage.tsdb.path=$root/data --web.listen-address=127.0.0.1:9090 > $TMP/prometheus.log 2>&1"
    PROM_NS=$ns
    wait_for 30 sh -c "ip netns exec $ns curl -sf http://127.0.0.1:9090/-/ready > /dev/null" ||
        { echo "FAIL: prometheus did not start"; exit 1; }
}

# promql QUERY [TIME]: the JSON answer of an instant query (at TIME, epoch seconds, or now).
promql() {
    in_ns "$PROM_NS" curl -sfG http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1" \
        ${2:+--data-urlencode "time=$2"}
}

# promql_range QUERY START END STEP: the JSON answer of a range query.
promql_range() {
    in_ns "$PROM_NS" curl -sfG http://127.0.0.1:9090/api/v1/query_range --data-urlencode "query=$1" \
        --data-urlencode "start=$2" --data-urlencode "end=$3" --data-urlencode "step=$4"
}

# The ```promql blocks of a Markdown file, one per line (newlines folded).
promql_blocks() {
    awk '/^```promql$/ { on = 1; q = ""; next } /^```$/ && on { on = 0; print q; next }
         on { sub(/^ +/, ""); q = q (q == "" ? "" : " ") $0 }' "$1"
}
