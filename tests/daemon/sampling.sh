#!/usr/bin/env bash
# Sub-interval sampling in the real daemon, 10 s interval, 1 s samples: a 2 s burst of N new UDP
# flows shows a peak of at least N/2 per second while the interval's average is about N/10; a
# 3 s stall of a steady TCP stream shows a low of 0 while its average stays high; with sampling
# off the plugin dispatches exactly what it did before.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
topology
start_tcp_server "$SERVER" 5001
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new
TCP_EST=$ID/packets-tcp_conntrack_fwd_established

# Value and time of the Nth dispatch (1-based) of an identifier: "time value".
nth() { putvals | awk -v id="$1" -v n="$2" '$2 == id && ++k == n { split($4, tv, ":"); print tv[1], tv[2] }'; }
# Sleeps until an epoch time given with its fraction (never more than 30 s: a bad value must not hang).
sleep_until() { python3 -c "import time,sys; time.sleep(min(30, max(0, float(sys.argv[1]) - time.time())))" "$1"; }

# A steady stream through the router for the whole test: 20 writes a second.
# ip netns exec execs: $STREAM is the traffic tool itself, which takes SIGUSR1 as "stall 3 s".
bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 120 20
STREAM=$BG_PID

INTERVAL=10 write_conf "$TMP/sampling.conf" <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 1
  ConntrackStats false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/sampling.conf"
wait_for 15 sh -c "[ \$(grep -c '^PUTVAL $UDP_NEW ' '$TMP/values.log') -ge 1 ]" || { fail "no first read"; exit 1; }
read -r t0 v0 <<< "$(nth "$UDP_NEW" 1)"

# Window 2 (t0, t0+10]: a burst of N new flows within 2 s (1.9 s of sending, so that a 1 s
# sample fully inside it holds at least N/2 flows whatever the sampler's phase), 3 s in.
N=200
sleep_until "$(awk -v t="$t0" 'BEGIN { printf "%.3f", t + 3 }')"
in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 30000 "$N" 1.9 > "$TMP/burst.log"
wait_for 15 sh -c "[ \$(grep -c '^PUTVAL $UDP_NEW ' '$TMP/values.log') -ge 2 ]"
read -r t1 v1 <<< "$(nth "$UDP_NEW" 2)"
peak=$(nth "$ID/packets_peak-udp_conntrack_fwd_new" 1 | cut -d' ' -f2)
avg=$(awk -v a="$v0" -v b="$v1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
echo "burst: $N flows in $(cut -d' ' -f5 "$TMP/burst.log") s; interval average $avg/s, peak $peak/s"
assert_eq "$N" $((v1 - v0)) "new UDP flows counted in the interval"
assert_ge $((N / 2)) "$(printf '%.0f' "$peak")" "peak rate of udp_conntrack_fwd_new (>= N/2)"
awk -v a="$avg" -v n="$N" 'BEGIN { exit !(a > n / 10 * 0.8 && a < n / 10 * 1.25) }' &&
    pass "interval average $avg/s is about N/10 = $((N / 10))" || fail "interval average $avg/s is not about $((N / 10))"

# Window 3 (t1, t1+10]: the stream stalls for 3 s, starting 3 s in.
sleep_until "$(awk -v t="$t1" 'BEGIN { printf "%.3f", t + 3 }')"
kill -USR1 "$STREAM"
wait_for 15 sh -c "[ \$(grep -c '^PUTVAL $TCP_EST ' '$TMP/values.log') -ge 3 ]"
read -r a_t a_v <<< "$(nth "$TCP_EST" 1)"
read -r b_t b_v <<< "$(nth "$TCP_EST" 2)"
read -r c_t c_v <<< "$(nth "$TCP_EST" 3)"
low=$(nth "$ID/packets_low-tcp_conntrack_fwd_established" 2 | cut -d' ' -f2)
normal=$(awk -v a="$a_v" -v b="$b_v" -v s="$a_t" -v e="$b_t" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
stalled=$(awk -v a="$b_v" -v b="$c_v" -v s="$b_t" -v e="$c_t" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
echo "stream: $normal/s in a normal interval, $stalled/s in the interval with the stall, low $low/s"
assert_eq 0 "$(printf '%.0f' "$low")" "lowest rate of tcp_conntrack_fwd_established in the stalled interval"
awk -v s="$stalled" -v n="$normal" 'BEGIN { exit !(s >= 0.5 * n && n > 10) }' &&
    pass "the stalled interval's average ($stalled/s) stays high (normal $normal/s)" || fail "average dropped: $stalled/s vs $normal/s"

# Every counter got a peak and a low; nothing else changed.
putvals | awk '{ print $2 }' | sort -u > "$TMP/with.txt"
stop_collectd TERM
assert_eq 18 "$(grep -c "^$ID/packets_peak-" "$TMP/with.txt")" "counters with a peak"
assert_eq 18 "$(grep -c "^$ID/packets_low-" "$TMP/with.txt")" "counters with a low"

# Sampling off: exactly the identifiers of the plain plugin, the same kind of values.
INTERVAL=1 write_conf "$TMP/plain.conf" <<'CONF'
<Plugin conntrack_nft>
  ConntrackStats false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/plain.conf"
wait_reads "$UDP_NEW" 2
putvals | awk '{ print $2 }' | sort -u > "$TMP/without.txt"
stop_collectd TERM
if diff -u "$TMP/without.txt" <(grep -v -E '/packets_(peak|low)-' "$TMP/with.txt"); then
    pass "sampling off: the same 18 identifiers, no peak or low"
else fail "identifiers differ with sampling off"; fi
assert_eq 18 "$(wc -l < "$TMP/without.txt")" "identifiers without sampling"

# SampleCounter narrows what gets peak and low.
INTERVAL=1 write_conf "$TMP/narrow.conf" <<'CONF'
<Plugin conntrack_nft>
  ConntrackStats false
  SampleInterval 0.2
  SampleCounter "*_fwd_new" "tcp_conntrack_fwd_invalid"
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/narrow.conf"
wait_reads "$ID/packets_peak-udp_conntrack_fwd_new" 2
stop_collectd TERM
assert_eq "packets_low-tcp_conntrack_fwd_invalid
packets_low-tcp_conntrack_fwd_new
packets_low-udp_conntrack_fwd_new
packets_peak-tcp_conntrack_fwd_invalid
packets_peak-tcp_conntrack_fwd_new
packets_peak-udp_conntrack_fwd_new" "$(putvals | awk '{ print $2 }' | grep -E '/packets_(peak|low)-' | sed 's|.*/||' | sort -u)" \
    "identifiers with SampleCounter \"*_fwd_new\" \"tcp_conntrack_fwd_invalid\""
assert_eq 0 "$(log_count 'conntrack_nft plugin:.*rror')" "errors in the log"
finish
