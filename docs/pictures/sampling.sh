#!/usr/bin/env bash
# Renders docs/pictures/sampling.png from a real run: the plugin in Debian's collectd at a 10 s
# interval with SampleInterval 1, in a router namespace, while a client opens bursts of UDP flows
# and a TCP stream stalls once. Plots, per interval, the average rate (what the interval alone
# shows) against the peak and low rates the plugin dispatches. Needs root; about 90 s.
#   BUILD_DIR=build bash docs/pictures/sampling.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BUILD_DIR=${BUILD_DIR:-$HERE/../../build}
source "$HERE/../../tests/lib/netns.sh"
source "$HERE/../../tests/lib/collectd.sh"
command -v gnuplot >/dev/null || { echo "needs gnuplot (gnuplot-nox)"; exit 1; }
topology
start_tcp_server "$SERVER" 5001
bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 200 20
STREAM=$BG_PID
INTERVAL=10 write_conf "$TMP/collectd.conf" <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 1
  ConntrackStats false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"
sleep 12
# A background of 5 new flows a second; bursts of 150 flows in 3 s at 25 s and 55 s; the stream
# stalls for 3 s at 40 s.
bg ip netns exec "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 10000 450 90
for t in 13 15 28 30; do
    sleep "$t"
    case "$t" in
        13|28) in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" $((40000 + t * 100)) 150 3 > /dev/null ;;
        15) kill -USR1 "$STREAM" ;;
    esac
done
sleep 12
stop_collectd TERM

ID=router/nftables-conntrack_stats
# series COUNTER: "start average peak low" per interval (t-10, t], and a last row that closes
# the last step.
series() {
    putvals | awk -v p="$ID/packets-$1" -v pk="$ID/packets_peak-$1" -v lo="$ID/packets_low-$1" '
        { split($4, tv, ":") }
        $2 == p { if (t0 == "") t0 = tv[1]; if (last != "") avg[tv[1]] = (tv[2] - lastv) / (tv[1] - last); last = tv[1]; lastv = tv[2] }
        $2 == pk { peak[tv[1]] = tv[2] }
        $2 == lo { low[tv[1]] = tv[2] }
        END { for (t in avg) if (t in peak) printf "%.1f %.2f %.2f %.2f\n", t - t0 - 10, avg[t], peak[t], low[t] }' |
        sort -n | awk '{ print } END { $1 += 10; print }'
}
series udp_conntrack_fwd_new > "$TMP/udp.dat"
series tcp_conntrack_fwd_established > "$TMP/tcp.dat"
cat "$TMP/udp.dat" "$TMP/tcp.dat"
gnuplot <<GP
set terminal pngcairo size 900,620 font "sans,10"
set output "$HERE/sampling.png"
set multiplot layout 2,1 title "One 10 s interval, three values: average, peak and low of 1 s samples (real run)"
set key top right
set grid
set ylabel "new UDP flows / s"
set xlabel ""
set style data steps
plot "$TMP/udp.dat" using 1:3 title "peak (packets\\\\_peak)" lw 2 lc rgb "#d62728", \
     "$TMP/udp.dat" using 1:2 title "interval average (packets)" lw 2 lc rgb "#1f77b4", \
     "$TMP/udp.dat" using 1:4 title "low (packets\\\\_low)" lw 2 lc rgb "#2ca02c"
set key bottom right
set yrange [0:*]
set ylabel "established TCP packets / s"
set xlabel "seconds"
plot "$TMP/tcp.dat" using 1:3 title "peak" lw 2 lc rgb "#d62728", \
     "$TMP/tcp.dat" using 1:2 title "interval average" lw 2 lc rgb "#1f77b4", \
     "$TMP/tcp.dat" using 1:4 title "low: the 3 s stall" lw 2 lc rgb "#2ca02c"
unset multiplot
GP
echo "wrote $HERE/sampling.png"
finish
