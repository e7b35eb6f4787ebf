#!/usr/bin/env bash
# (4) Footprint: the stripped plugin's size, and the resident memory of Debian's collectd with and
# without the plugin (same configuration otherwise), each in its own network namespace.
#   BUILD_DIR=... footprint.sh
source "$(dirname "$0")/../lib/netns.sh"
SO="$BUILD_DIR/plugin/conntrack_nft.so"
[ -f "$SO" ] || { echo "FAIL: $SO not built"; exit 1; }
strip --strip-unneeded -o "$TMP/conntrack_nft.so" "$SO"
size=$(stat -c %s "$TMP/conntrack_nft.so")
echo
echo "== (4) footprint"
echo "stripped conntrack_nft.so: $size bytes ($(((size + 512) / 1024)) KiB, rounded), $(uname -m), build $(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD_DIR/CMakeCache.txt")"
echo "RESULT footprint.so_bytes $size"

if ! command -v collectd > /dev/null; then echo "collectd RSS: skipped (collectd not installed)"; finish; exit 0; fi
SYSTEM_PLUGIN_DIR=$(dirname "$(grep -m1 '/csv\.so$' <<< "$(dpkg -L collectd-core 2>/dev/null)")")
[ -f "$SYSTEM_PLUGIN_DIR/csv.so" ] || SYSTEM_PLUGIN_DIR=/usr/lib/collectd

rss_of() {  # rss_of with|without: collectd's VmRSS in KiB after 4 reads at Interval 1, into $TMP/rss-$1
    # (not called in $(...): its namespace and process must be known to the cleanup)
    local conf=$TMP/collectd-$1.conf pid
    ns_add RSS_NS "rss$1"
    {
        echo "Hostname \"router\""; echo "FQDNLookup false"; echo "Interval 1"
        echo "BaseDir \"$TMP\""; echo "PIDFile \"$TMP/collectd-$1.pid\""
        echo "TypesDB \"/usr/share/collectd/types.db\""
        echo "PluginDir \"$SYSTEM_PLUGIN_DIR\""
        echo "LoadPlugin logfile"
        echo "<Plugin logfile>"; echo "  File \"$TMP/collectd-$1.log\""; echo "</Plugin>"
        echo "LoadPlugin csv"
        echo "<Plugin csv>"; echo "  DataDir \"$TMP/csv-$1\""; echo "</Plugin>"
        if [ "$1" = with ]; then echo "PluginDir \"$BUILD_DIR/plugin\""; echo "LoadPlugin conntrack_nft"; fi
    } > "$conf"
    bg ip netns exec "$RSS_NS" collectd -C "$conf" -f > "$TMP/collectd-$1.out" 2>&1
    pid=$BG_PID
    sleep 4.5
    awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" > "$TMP/rss-$1"
    kill "$pid"; wait "$pid" 2> /dev/null || true
}
rss_of without
rss_of with
without=$(cat "$TMP/rss-without") with=$(cat "$TMP/rss-with")
if [ -d "$TMP/csv-with" ] && grep -rqs . "$TMP/csv-with"/*/nftables-conntrack_stats 2>/dev/null; then
    pass "collectd with the plugin wrote counter values"
else
    fail "collectd with the plugin wrote no counter values"; cat "$TMP/collectd-with.log"
fi
echo "collectd VmRSS after 4 reads: without the plugin $without KiB, with it $with KiB (+$((with - without)) KiB)"
echo "RESULT footprint.collectd_rss_without_kib $without"
echo "RESULT footprint.collectd_rss_with_kib $with"
finish
