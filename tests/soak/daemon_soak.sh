#!/usr/bin/env bash
# A shorter soak in the real daemon: Debian's collectd with the plugin at Interval 0.01 (about
# 100 reads a second, sampling every 0.05 s, conntrack statistics), traffic, and the table
# deleted behind it (OwnerFlag false) every 10 s. Fails if collectd's open fds changed or its
# RSS grew by more than 512 KiB between the end of a warm-up and the end, or a count is wrong.
#   SOAK_SECONDS (default 30; 200 is about 20,000 reads, a week of 30 s reads)
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../faults/lib.sh"
topology
SECONDS_TOTAL=${SOAK_SECONDS:-30}
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new

# What the daemon holds apart from the plugin must not depend on how busy the machine is: glibc
# opens another malloc arena whenever two threads contend for one (so RSS grew with the load:
# 556 KiB once on a busy CI machine, with no leak), and a write thread that falls behind lets
# collectd's write queue grow. One arena, and a bounded queue (values past it are dropped, not
# counted here: the counts below are read from the kernel and from the last dispatched value).
INTERVAL=0.01 write_conf "$TMP/c.conf" <<'CONF'
WriteQueueLimitHigh 2000
WriteQueueLimitLow 1000
<Plugin conntrack_nft>
  OwnerFlag false
  SampleInterval 0.05
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/c.conf" env MALLOC_ARENA_MAX=1
wait_reads "$UDP_NEW" 1 || { fail "no first read"; exit 1; }
# The daemon's own pid (ip netns exec and stdbuf exec into it).
pid=$COLLECTD_PID
[ "$(cat /proc/$pid/comm)" = collectd ] || { fail "pid $pid is $(cat /proc/$pid/comm), not collectd"; exit 1; }
rss() { awk '/^VmRSS/ { print $2 }' /proc/$pid/status; }
fds() { ls /proc/$pid/fd | wc -l; }

port=30000
step() {  # one second of traffic, and the table deleted behind the plugin every 10 s
    in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" $port 10 > /dev/null
    port=$(( port >= 60000 ? 30000 : port + 10 ))
    sleep 1
}
for s in $(seq 1 10); do step; done
rss0=$(rss) fds0=$(fds) reads0=$(grep -c "^PUTVAL $UDP_NEW " "$TMP/values.log")
for s in $(seq 1 $((SECONDS_TOTAL - 10))); do
    step
    if [ $((s % 10)) = 0 ]; then in_ns "$ROUTER" nft delete table ip conntrack_stats; fi
done
sleep 1
rss1=$(rss) fds1=$(fds)
reads=$(( $(grep -c "^PUTVAL $UDP_NEW " "$TMP/values.log") - reads0 ))
echo "daemon soak: ${SECONDS_TOTAL} s at Interval 0.01, $reads reads after warm-up; collectd RSS ${rss0} KiB after warm-up, ${rss1} KiB at the end; fds $fds0 -> $fds1; $(log_count 'created it again') repairs"
assert_eq "$fds0" "$fds1" "collectd's open fds"
if grep -q libasan <<< "$(ldd "$PLUGIN_DIR/conntrack_nft.so")"; then
    echo "sanitizer build: RSS not asserted (AddressSanitizer's quarantine keeps freed memory)"
else
    [ $((rss1 - rss0)) -le 512 ] && pass "RSS growth $((rss1 - rss0)) KiB (<= 512)" || fail "RSS grew by $((rss1 - rss0)) KiB"
fi
alive "after the soak"
# Counts still exact: wait until the counter is quiet, then 5 more flows.
sleep 2
base=$(in_ns "$ROUTER" nft -j list counter ip conntrack_stats udp_conntrack_fwd_new | jq '.nftables[1].counter.packets')
udp_flows 5 61000
expect_value "$UDP_NEW" $((base + 5)) "udp_conntrack_fwd_new after the soak and 5 flows"
no_plugin_errors
stop_collectd TERM
finish
