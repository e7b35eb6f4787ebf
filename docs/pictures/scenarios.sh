#!/usr/bin/env bash
# Renders docs/pictures/steady.png and docs/pictures/full-table.png from real runs of the plugin
# in Debian's collectd (router namespace, csv writer with StoreRates true: per-second rates).
#   steady:     a TCP stream, 3 TCP connections and 5 UDP flows a second, an invalid packet every 5 s
#   full table: new UDP flows in three waves until the conntrack table is full
# Needs root; about 80 s.   BUILD_DIR=build bash docs/pictures/scenarios.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BUILD_DIR=${BUILD_DIR:-$HERE/../../build}
source "$HERE/../../tests/lib/netns.sh"
source "$HERE/../../tests/lib/collectd.sh"
command -v gnuplot >/dev/null || { echo "needs gnuplot (gnuplot-nox)"; exit 1; }
topology
start_tcp_server "$SERVER" 5001

run_collectd() {  # run_collectd NAME: collectd at a 2 s interval, rates on stdout
    INTERVAL=2 write_conf "$TMP/$1.conf" < /dev/null
    sed -i 's/StoreRates false/StoreRates true/' "$TMP/$1.conf"
    start_collectd "$ROUTER" "$TMP/$1.conf"
}
# extract ID...: "seconds value value ..." per read, for the given identifiers
extract() {
    putvals | awk -v ids="$*" 'BEGIN { n = split(ids, id, " "); for (i = 1; i <= n; i++) col[id[i]] = i }
        ($2 in col) { split($4, tv, ":"); if (t0 == "") t0 = tv[1]; v[tv[1], col[$2]] = tv[2]; seen[tv[1]] = 1 }
        END { for (t in seen) { line = sprintf("%.1f", t - t0); ok = 1
                for (i = 1; i <= n; i++) { if (!((t, i) in v) || v[t, i] == "nan") ok = 0; line = line " " v[t, i] }
                if (ok) print line } }' | sort -n
}

# 1. Steady traffic.
run_collectd steady
bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 40 20
start=$(date +%s)
for i in $(seq 36); do
    in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 3 > /dev/null
    in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" $((20000 + i * 10)) 5 > /dev/null
    [ $((i % 5)) = 0 ] && in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null
    # Paced by the clock: one round a second, however long the round took.
    python3 -c "import time; time.sleep(max(0, $start + $i - time.time()))"
done
stop_collectd TERM
P=router/nftables-conntrack_stats/packets
extract $P-tcp_conntrack_fwd_new $P-tcp_conntrack_fwd_established $P-tcp_conntrack_fwd_invalid \
        $P-udp_conntrack_fwd_new $P-udp_conntrack_fwd_established > "$TMP/steady.dat"

# 2. The conntrack table fills up.
run_collectd full
sleep 6
max=$(in_ns "$ROUTER" sysctl -n net.netfilter.nf_conntrack_max)
for wave in 1 2 3; do
    in_ns "$CLIENT" $TRAFFIC udp-flows "$SERVER_IP" $((max * 45 / 100)) > /dev/null
    sleep 8
done
sleep 4
stop_collectd TERM
C=router/conntrack_nft
extract $C/percent-used $C/operations-early_drop $C/operations-drop $P-udp_conntrack_fwd_new > "$TMP/full.dat"

gnuplot <<GP
set terminal pngcairo size 900,420 font "sans,10"
set grid
set key top left
set xlabel "seconds"
set output "$HERE/steady.png"
set title "Steady traffic through the router, forward hook (2 s interval, real run)"
set ylabel "packets / s"
set logscale y
set yrange [0.1:*]
plot "$TMP/steady.dat" using 1:3 with lines lw 2 title "tcp established", \
     "$TMP/steady.dat" using 1:2 with lines lw 2 title "tcp new (3 connections/s)", \
     "$TMP/steady.dat" using 1:5 with lines lw 2 title "udp new (5 flows/s)", \
     "$TMP/steady.dat" using 1:4 with impulses lw 3 lc rgb "red" title "tcp invalid (1 every 5 s)"
unset logscale y
set output "$HERE/full-table.png"
set title "The conntrack table fills up: three waves of new UDP flows (real run)"
set ylabel "table used, %"
set y2label "per second"
set y2tics
set ytics nomirror
set yrange [0:110]
set y2range [0:*]
plot "$TMP/full.dat" using 1:2 with lines lw 2 title "percent-used", \
     "$TMP/full.dat" using 1:3 axes x1y2 with impulses lw 3 lc rgb "red" title "early\\\\_drop / s", \
     "$TMP/full.dat" using 1:4 axes x1y2 with impulses lw 3 lc rgb "black" title "drop / s"
GP
echo "wrote $HERE/steady.png $HERE/full-table.png"
finish
