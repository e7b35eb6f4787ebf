# The real collectd daemon (Debian's /usr/sbin/collectd) with the real plugin, for the daemon
# tests. Source after netns.sh. Values arrive through the csv writer on stdout.
command -v collectd >/dev/null || skip "needs collectd (collectd-core)"
COLLECTD=$(command -v collectd)
PLUGIN_DIR="$BUILD_DIR/plugin"
[ -f "$PLUGIN_DIR/conntrack_nft.so" ] || { echo "FAIL: $PLUGIN_DIR/conntrack_nft.so not built"; exit 1; }
SYSTEM_PLUGIN_DIR=$(dirname "$(grep -m1 '/csv\.so$' <<< "$(dpkg -L collectd-core 2>/dev/null)")")
[ -f "$SYSTEM_PLUGIN_DIR/csv.so" ] || SYSTEM_PLUGIN_DIR=/usr/lib/collectd

# write_conf FILE [EXTRA_PLUGINS]: the plugin block comes from stdin.
write_conf() {
    local file=$1 extra=${2:-}
    {
        echo "Hostname \"router\""
        echo "FQDNLookup false"
        echo "Interval ${INTERVAL:-1}"
        echo "BaseDir \"$TMP\""
        echo "PIDFile \"$TMP/collectd-$RANDOM.pid\""
        echo "TypesDB \"/usr/share/collectd/types.db\""
        echo "PluginDir \"$SYSTEM_PLUGIN_DIR\""
        echo "LoadPlugin logfile"
        echo "<Plugin logfile>"
        echo "  LogLevel info"
        echo "  File \"$TMP/collectd.log\""
        echo "  Timestamp true"
        echo "</Plugin>"
        echo "LoadPlugin csv"
        echo "<Plugin csv>"
        echo "  DataDir stdout"
        echo "  StoreRates false"
        echo "</Plugin>"
        for p in $extra; do echo "LoadPlugin $p"; done
        echo "PluginDir \"$PLUGIN_DIR\""
        echo "LoadPlugin conntrack_nft"
        cat
    } > "$file"
}

# start_collectd NS CONF [WRAPPER...]: runs collectd -f in NS; values go to $TMP/values.log.
start_collectd() {
    local ns=$1 conf=$2; shift 2
    : > "$TMP/values.log"
    # Line-buffered stdout: the csv writer's lines arrive as they are written.
    bg ip netns exec "$ns" "$@" stdbuf -oL "$COLLECTD" -C "$conf" -f > "$TMP/values.log" 2>> "$TMP/collectd.stderr.log"
    COLLECTD_PID=$BG_PID
}

stop_collectd() {  # stop_collectd [SIGNAL]: waits for the daemon to exit
    kill -"${1:-TERM}" "$COLLECTD_PID" 2>/dev/null || true
    wait "$COLLECTD_PID" 2>/dev/null || true
}

# Complete PUTVAL lines only: the daemon may be writing the last one while we read.
putvals() { grep -E '^PUTVAL [^ ]+ interval=[0-9.]+ [0-9.]+(:[-0-9.e+naN]+)+$' "$TMP/values.log" || true; }

# Latest value of each identifier: "identifier value" lines, sorted.
latest_values() {
    putvals | awk '{ split($4, tv, ":"); last[$2] = tv[2] } END { for (k in last) print k, last[k] }' | sort
}

# How many values were dispatched with each timestamp, for identifiers under PREFIX: one line
# "count" per timestamp, oldest first, the newest (possibly incomplete) read left out.
values_per_read() {  # values_per_read PREFIX
    putvals | awk -v p="$1" 'index($2, p) == 1 { split($4, tv, ":"); n[tv[1]]++ }
        END { for (t in n) print t, n[t] }' | sort -n | head -n -1 | awk '{ print $2 }'
}

value_of() {  # value_of IDENTIFIER: latest dispatched value
    latest_values | awk -v id="$1" '$1 == id { print $2 }'
}

# Waits until the daemon has dispatched at least N more reads of IDENTIFIER than now.
wait_reads() {  # wait_reads IDENTIFIER N [SECONDS]
    local before
    before=$(grep -c "^PUTVAL $1 " "$TMP/values.log" || true)
    wait_for "${3:-15}" sh -c "[ \$(grep -c '^PUTVAL $1 ' '$TMP/values.log') -ge $((before + $2)) ]"
}

log_count() {  # log_count PATTERN: lines of the daemon log matching PATTERN
    grep -c -- "$1" "$TMP/collectd.log" 2>/dev/null || true
}

# network_block HOST PORT: collectd's network plugin sending to HOST:PORT.
network_block() {
    printf 'PluginDir "%s"\nLoadPlugin network\n<Plugin network>\n  Server "%s" "%s"\n</Plugin>\n' \
        "$SYSTEM_PLUGIN_DIR" "$1" "$2"
}
