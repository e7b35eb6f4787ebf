#!/usr/bin/env bash
# Renders the pictures of docs/diagnosis.md from real runs of the plugin in Debian's collectd
# (router namespace; per-second rates):
#   steady.png:        a TCP stream, 3 TCP connections and 5 UDP flows a second, an invalid packet every 5 s
#   full-table.png:    new UDP flows in three waves until the conntrack table is full
# and, from the lab's test runs themselves (tests/lab/*.sh, kept with LAB_OUTPUT; their
# assertions must pass):
#   invalid-burst.png  segments outside the TCP window on the forward path (lab.invalid_burst)
#   udp-quiet.png      a call's UDP flows forgotten after a quiet spell (lab.udp_quiet)
#   insert-clash.png   twin first packets of new UDP flows on two CPUs (lab.insert_clash)
#   router-or-isp.png  ping and the plugin side by side: ISP trouble, then a full table (lab.router_or_isp)
# (sampling.png, the forward stall, comes from docs/pictures/sampling.sh.)
# Needs root; about 3 minutes.   BUILD_DIR=build bash docs/pictures/scenarios.sh
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

# 3. The lab's runs, each a test that must pass.
LAB="$TMP/lab"
for t in invalid_burst udp_quiet insert_clash router_or_isp; do
    LAB_OUTPUT="$LAB/$t" bash "$HERE/../../tests/lab/$t.sh" > "$TMP/$t.out" 2>&1 ||
        { cat "$TMP/$t.out"; echo "lab run $t failed: no pictures"; exit 1; }
    grep -E '^insert races' "$TMP/$t.out" || true
done
S="python3 $HERE/series.py"
P=router/nftables-conntrack_stats/packets C=router/conntrack_nft
$S "$LAB/invalid_burst" $P-tcp_conntrack_fwd_established:rate $P-tcp_conntrack_fwd_invalid:rate > "$TMP/invalid.dat"
$S "$LAB/udp_quiet" $P-udp_conntrack_fwd_established:rate $P-udp_conntrack_fwd_new:rate > "$TMP/quiet.dat"
$S "$LAB/insert_clash" $P-udp_conntrack_fwd_new:rate $C/operations-clash_resolve:rate $C/operations-insert_failed:rate > "$TMP/clash.dat"
$S "$LAB/router_or_isp" router/ping/ping-198.18.3.2:value router/ping/ping-198.18.2.2:value \
    router/ping/ping_droprate-198.18.3.2:value router/ping/ping_droprate-198.18.2.2:value \
    $C/percent-used:value $C/operations-early_drop:rate $P-tcp_conntrack_fwd_invalid:rate \
    $P-udp_conntrack_fwd_invalid:rate > "$TMP/isp.dat"
for t in invalid_burst udp_quiet insert_clash router_or_isp; do $S "$LAB/$t" --marks > "$TMP/$t.marks"; done
m() { awk -v l="$2" '$1 == l { print $2 }' "$TMP/$1.marks"; }  # m RUN LABEL: seconds of a mark
# shade RUN FROM TO TEXT [COLOUR]: a band between two marks, labelled at its top
shade() { echo "set object rect from $(m "$1" "$2"), graph 0 to $(m "$1" "$3"), graph 1 fc rgb '${5:-#e8e8e8}' fs solid noborder behind"
          echo "set label \"$4\" at $(m "$1" "$2") + 0.1, graph 0.93 font 'sans,8' front"; }
# note RUN MARK TEXT: a label at a mark, low in the graph
note() { echo "set label \"$3\" at $(m "$1" "$2") + 0.7, graph 0.5 font 'sans,8' tc rgb 'red' front"; }

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
unset y2label; unset y2tics; set ytics mirror; set yrange [*:*]; set y2range [*:*]
# The lab's pictures: rates are boxes over the span between two reads; values of plugins read
# at other moments leave gaps that lines skip.
set datafile missing "NaN"
set style fill solid 0.8 noborder
set boxwidth 0.95 absolute
set key below
set xrange [0:*]

set output "$HERE/invalid-burst.png"
set title "Invalid burst on the forward path: 25 segments outside the TCP window (real run, 1 s reads)"
set ylabel "tcp established, packets / s"
set y2label "tcp invalid, packets / s"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
$(shade invalid_burst burst burst_end "burst")
plot "$TMP/invalid.dat" using 1:2 with lines lw 2 title "tcp\\\\_conntrack\\\\_fwd\\\\_established", \
     "$TMP/invalid.dat" using 1:3 axes x1y2 with boxes lc rgb "red" title "tcp\\\\_conntrack\\\\_fwd\\\\_invalid"
unset object; unset label

set output "$HERE/udp-quiet.png"
set title "A call's UDP flows forgotten after a quiet spell longer than the UDP timeout (real run; lab timeouts 2 s / 4 s)"
set ylabel "udp established, packets / s"
set y2label "udp new, packets / s"
$(shade udp_quiet short_quiet short_resume "1.5 s pause")
$(shade udp_quiet quiet resume "7 s quiet: forgotten")
$(note udp_quiet short_talk "a call starts")
$(note udp_quiet talk "another call starts")
$(note udp_quiet resume "it resumes: 10 new")
plot "$TMP/quiet.dat" using 1:2 with lines lw 2 title "udp\\\\_conntrack\\\\_fwd\\\\_established", \
     "$TMP/quiet.dat" using 1:3 axes x1y2 with boxes lc rgb "red" title "udp\\\\_conntrack\\\\_fwd\\\\_new"
unset object; unset label

set output "$HERE/insert-clash.png"
set title "Insert races: first two packets of new UDP flows sent from two CPUs at once, 400 flows/s (real run)"
set ylabel "udp new, packets / s"
set y2label "races / s"
$(shade insert_clash tries tries_end "2000 tries")
plot "$TMP/clash.dat" using 1:2 with lines lw 2 title "udp\\\\_conntrack\\\\_fwd\\\\_new", \
     "$TMP/clash.dat" using 1:3 axes x1y2 with boxes lc rgb "#2ca02c" title "clash\\\\_resolve (harmless)", \
     "$TMP/clash.dat" using 1:4 axes x1y2 with boxes lc rgb "red" title "insert\\\\_failed (a packet lost)"
unset object; unset label

set terminal pngcairo size 900,760 font "sans,10"
set output "$HERE/router-or-isp.png"
set multiplot layout 3,1 title "Router or ISP? ping from the router next to the plugin's values (real run, 1 s reads)"
unset title
unset y2label; unset y2tics; set ytics mirror
set key inside center left
set xrange [0:$(m router_or_isp end) + 1]
set xlabel ""
set ylabel "ping, ms"
set logscale y
set yrange [0.005:500]
$(shade router_or_isp isp_network isp_line "ISP: +80 ms, 1/4 lost" "#fde0c5")
$(shade router_or_isp isp_line router_full "line: 1/4 lost" "#f6d0e0")
$(shade router_or_isp router_full end "router: table full" "#d5e5f5")
plot "$TMP/isp.dat" using 1:2 with linespoints lw 2 pt 7 ps 0.5 title "first hop (ISP gateway)", \
     "$TMP/isp.dat" using 1:3 with linespoints lw 2 pt 7 ps 0.5 title "beyond (a host behind the ISP)"
unset logscale y
unset label
set yrange [0:100]
set key inside top left
set ylabel "ping loss, %"
plot "$TMP/isp.dat" using 1:(100*\$4) with steps lw 2 title "first hop", \
     "$TMP/isp.dat" using 1:(100*\$5) with steps lw 2 title "beyond"
set xlabel "seconds"
set ylabel "table used, %"
set y2label "per second"
set y2tics
set ytics nomirror
set yrange [0:110]
set y2range [0:*]
plot "$TMP/isp.dat" using 1:6 with lines lw 2 title "percent-used", \
     "$TMP/isp.dat" using 1:7 axes x1y2 with boxes lc rgb "red" title "early\\\\_drop / s", \
     "$TMP/isp.dat" using 1:(\$8+\$9) axes x1y2 with boxes lc rgb "black" title "fwd invalid / s"
unset multiplot
GP
echo "wrote $HERE/steady.png $HERE/full-table.png $HERE/invalid-burst.png $HERE/udp-quiet.png $HERE/insert-clash.png $HERE/router-or-isp.png"
finish
