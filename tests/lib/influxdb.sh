# InfluxDB 1.x (Debian's influxdb) with its collectd input, on loopback inside a namespace the
# test made. Source after netns.sh and collectd.sh.
command -v influxd >/dev/null || skip "needs influxdb (Debian package influxdb)"
command -v curl >/dev/null || skip "needs curl"

# start_influxdb NS: HTTP on 127.0.0.1:8086, collectd input on 127.0.0.1:25826 into database
# "collectd", types from collectd's types.db and the plugin's conntrack_nft.types.db; lines in
# $INFLUX_COLLECTD_EXTRA go into its [[collectd]] section.
start_influxdb() {
    local ns=$1 root="$TMP/influxdb"
    mkdir -p "$root/types" "$root/meta" "$root/data" "$root/wal"
    cp /usr/share/collectd/types.db "$root/types/types.db"
    cp "$(dirname "${BASH_SOURCE[0]}")/../../plugin/conntrack_nft.types.db" "$root/types/conntrack_nft.types.db"
    cat > "$root/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:8088"
[monitor]
  store-enabled = false
[meta]
  dir = "$root/meta"
[data]
  dir = "$root/data"
  wal-dir = "$root/wal"
  query-log-enabled = false
  # Write TSM files early, so that the storage measured is what stays on disk.
  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "4s"
[http]
  enabled = true
  bind-address = "127.0.0.1:8086"
  log-enabled = false
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:25826"
  database = "collectd"
  typesdb = "$root/types"
  batch-size = 100
  batch-timeout = "1s"
${INFLUX_COLLECTD_EXTRA:-}
CONF
    bg sh -c "exec ip netns exec $ns influxd -config $root/influxdb.conf > $TMP/influxd.log 2>&1"
    INFLUX_NS=$ns
    wait_for 20 sh -c "ip netns exec $ns curl -sf http://127.0.0.1:8086/ping" ||
        { echo "FAIL: influxd did not start"; exit 1; }
    influxql "CREATE DATABASE collectd" > /dev/null
}

# influxql QUERY: the JSON answer of the HTTP API (database $INFLUX_DB, default collectd).
influxql() {
    in_ns "$INFLUX_NS" curl -sfG http://127.0.0.1:8086/query --data-urlencode "db=${INFLUX_DB:-collectd}" \
        --data-urlencode "epoch=s" --data-urlencode "q=$1"
}

# The ```sql blocks of a Markdown file, one per line (newlines folded).
sql_blocks() {
    awk '/^```sql$/ { on = 1; q = ""; next } /^```$/ && on { on = 0; print q; next }
         on { sub(/^ +/, ""); q = q (q == "" ? "" : " ") $0 }' "$1"
}
