#!/usr/bin/env bash
# Statistics > Graphs in the real LuCI of one release: Debian's collectd with our plugin counts
# known traffic through a router namespace and writes real RRD files with its rrdtool plugin
# into the lab's /tmp/rrd; Debian's rrdtool, run by LuCI through cgi-exec, draws our two graph
# definitions in chromium (graphs.mjs), with no console error, page error or failed request.
# The known traffic shows in the RRD files the graphs are drawn from.
#   graphs.sh VERSION [PICTURES_DIR]   (PICTURES_DIR: keep the graphs and a screenshot there)
set -euo pipefail
VERSION=${1:?usage: graphs.sh VERSION [PICTURES_DIR]}
OUT=${2:-}
source "$(dirname "$0")/../../lib/netns.sh"
source "$(dirname "$0")/../../lib/collectd.sh"
source "$(dirname "$0")/lab.sh"

topology
start_tcp_server "$SERVER" 5001
start_tcp_server "$ROUTER" 5002
# The graphs show the last minute (LuCI's time span choice, set as a user does in
# Statistics > Setup > RRDTool), of a host named "router" (the collectd below).
lab_prepare() {
    local f="$1/etc/config/luci_statistics"
    sed -i -e "s/option default_timespan .*/option default_timespan '1min'/" \
           -e "s/option RRATimespans .*/option RRATimespans '1min 2hour 1day'/" "$f"
    grep -q "default_timespan '1min'" "$f" || { echo "FAIL: could not set the time span in $f"; exit 1; }
}
lab_start "$VERSION"
RRD="$LAB_RUN/tmp/rrd"

# collectd as on the router, rrdtool writing where LuCI reads (OpenWrt's RRASingle is an OpenWrt
# patch: Debian's collectd has only the default RRAs).
INTERVAL=1 write_conf "$TMP/collectd.conf" rrdtool <<CONF
<Plugin rrdtool>
  DataDir "$RRD"
  # A read late by more than 2 intervals (the default heartbeat) on a busy machine would leave
  # a gap, and packets missing from the totals below.
  HeartBeat 10
</Plugin>
<Plugin conntrack_nft>
  ReportBytes true
  SampleInterval 0.25
  PerCPU true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"
ID=router/nftables-conntrack_stats
wait_reads "$ID/packets-udp_conntrack_fwd_new" 1 || { fail "no values from the plugin"; cat "$TMP/collectd.log"; exit 1; }

# The known pattern through the router: quiet, a steady TCP stream of 40 writes a second for
# 8 s, then M new UDP flows spread over 4 s, K TCP connections and one invalid segment, quiet;
# to the router itself, KI TCP connections and MI UDP datagrams (input).
K=30 M=160 KI=12 MI=20
sleep 2
in_ns "$CLIENT" $TRAFFIC tcp-connect "$ROUTER_IP" 5002 "$KI" > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-send "$ROUTER_IP" 30000 "$MI" > /dev/null
in_ns "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 8 40 > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 20000 "$M" 4 > /dev/null
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 "$K" > /dev/null
in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null
# LuCI draws up to 15 s before now (rrdtool -e NOW-15): wait until the graphs' right edge is 3 s
# of quiet past the pattern.
DRAWABLE=$(( $(date +%s) + 18 ))
wait_reads "$ID/packets-udp_conntrack_fwd_new" 2
wait_for 30 sh -c "[ \$(date +%s) -ge $DRAWABLE ]"
# collectd stops writing before anything reads the RRD files. rrdtool's reader takes a lock that
# fails at once ("ERROR: could not lock RRD", measured with Debian's rrdtool 1.7.2) while
# collectd's rrdtool plugin holds the file's write lock for an update; LuCI runs rrdtool through
# cgi-exec, which drops rrdtool's stderr and answers 200 with no body, and the browser shows an
# empty image (0x0). With collectd writing 18+ files a second that hit one graph in one CI run.
# On a router the same race leaves a graph empty now and then until the page is drawn again.
stop_collectd TERM

# What the RRD files hold over the last 3 minutes (the graphs' span): the packets of the pattern.
total() {  # total RRD_FILE: packets over the span, from the RRD's own rates
    rrdtool graph /dev/null -s NOW-3min -e NOW-15 "DEF:r=$1:value:AVERAGE" 'VDEF:t=r,TOTAL' 'PRINT:t:%.0lf' |
        tail -n 1
}
D="$RRD/router/nftables-conntrack_stats"
assert_eq "$M" "$(total "$D/packets-udp_conntrack_fwd_new.rrd")" "udp new packets in the RRD (flows sent)"
assert_eq "$((K + 1))" "$(total "$D/packets-tcp_conntrack_fwd_new.rrd")" "tcp new packets in the RRD (connections + the stream's SYN)"
assert_eq 1 "$(total "$D/packets-tcp_conntrack_fwd_invalid.rrd")" "tcp invalid packets in the RRD"
assert_eq "$KI" "$(total "$D/packets-tcp_conntrack_input_new.rrd")" "tcp new packets at input in the RRD (connections to the router)"
assert_eq "$MI" "$(total "$D/packets-udp_conntrack_input_new.rrd")" "udp new packets at input in the RRD (datagrams to the router)"
assert_ge 300 "$(total "$D/packets-tcp_conntrack_fwd_established.rrd")" "tcp established packets in the RRD (stream)"
[ -f "$RRD/router/conntrack_nft/percent-used.rrd" ] && pass "conntrack health RRD files" || fail "no conntrack_nft RRD files"

CPUS=$(find "$RRD/router" -maxdepth 1 -name 'conntrack_nft-cpu*' | wc -l)
assert_ge 1 "$CPUS" "per-CPU RRD directories (PerCPU true)"
EXPECT_CPUS=$CPUS lab_node "$LAB_HERE/graphs.mjs" ${OUT:+"$OUT"} || FAILED=1
echo "lab time for LuCI $VERSION graphs (build excluded): $(awk -v a="$LAB_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
finish
