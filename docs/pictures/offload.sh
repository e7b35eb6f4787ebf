#!/usr/bin/env bash
# Renders docs/pictures/offload.png for docs/diagnosis.md ("Counting through flow offloading")
# from a run of tests/lab/offload.sh in the VM lab (Debian's 6.1 under qemu: this machine's
# kernel has no flowtables): the same known traffic without and with fw4's flowtable, what each
# counter shows, and how close each way of counting the hidden packets comes to the truth.
#   BUILD_DIR=build bash docs/pictures/offload.sh             # runs the lab in the VM (about 2 min)
#   bash docs/pictures/offload.sh docs/offload-lab.txt       # draws a kept run's output
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
command -v gnuplot >/dev/null || { echo "needs gnuplot (gnuplot-nox)"; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if [ $# -ge 1 ]; then
    cp "$1" "$OUT/run.txt"
else
    export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
    (cd "$ROOT" && bash tests/vm/run.sh -- bash tests/lab/offload.sh) > "$OUT/run.txt" ||
        { tail -n 40 "$OUT/run.txt"; exit 1; }
fi
m() { awk -v mode="$1" -v n="$2" '$1 == "MEASURE" && $2 == mode && $3 == n { print $4 }' "$OUT/run.txt"; }
# Panel 1: what the counters show, without and with offloading (log scale: 0 drawn as 0.5).
{
    for row in "tcp_conntrack_fwd_new:tcp forward new" "tcp_conntrack_fwd_established:tcp forward established" \
               "tcp_conntrack_fwd_invalid:tcp forward invalid" "udp_conntrack_fwd_new:udp forward new" \
               "udp_conntrack_fwd_established:udp forward established" "tcp_conntrack_input_new:tcp input new" \
               "tcp_conntrack_input_established:tcp input established" "tcp_conntrack_output_established:tcp output established" \
               "udp_conntrack_output_new:udp output new" "stat_invalid:conntrack invalid (statistic)"; do
        n=${row%%:*} label=${row#*:}
        echo "\"$label\" $(m off "$n") $(m on "$n")"
    done
} > "$OUT/counters.dat"
# Panel 2: forwarded packets per protocol with offloading: the truth and each way of counting.
{
    for p in tcp udp; do
        fwd=$(( $(m on ${p}_conntrack_fwd_new) + $(m on ${p}_conntrack_fwd_established) + $(m on ${p}_conntrack_fwd_invalid) ))
        probe=$(( fwd + $(m on before_$p) - $(m on after_$p) ))
        echo "$p $(m on truth_$p) $fwd $(m on acct_$p) $(m on before_$p) $probe"
    done
} > "$OUT/ways.dat"
gnuplot <<GNUPLOT
set terminal pngcairo size 1100,760 font "DejaVu Sans,10"
set output "$HERE/offload.png"
set multiplot layout 2,1 title "The same traffic through a router namespace, Debian 6.1 (qemu), without and with fw4's flowtable (packets)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set logscale y
set yrange [0.5:*]
set xtics rotate by -20 scale 0
set title "What each counter shows: without offloading, and with the flowtable (counter flag on)"
plot "$OUT/counters.dat" using (\$2 > 0 ? \$2 : 0.5):xtic(1) title "no flowtable" lc rgb "#1f4e9e", \
     "" using (\$3 > 0 ? \$3 : 0.5) title "flowtable" lc rgb "#e07000", \
     "" using 0:(\$2 > 0 ? \$2 : 0.5):(sprintf("%d", \$2)) with labels offset -2.5,0.7 font ",8" notitle, \
     "" using 0:(\$3 > 0 ? \$3 : 0.5):(sprintf("%d", \$3)) with labels offset 2.5,0.7 font ",8" notitle
unset logscale y
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xtics norotate
set key outside right top vertical font ",9"
set title "Forwarded packets with the flowtable: the truth and each way of counting them"
plot "$OUT/ways.dat" using 2:xtic(1) title "truth (sent by client and server)" lc rgb "#333333", \
     "" using 3 title "forward counters (new + established + invalid)" lc rgb "#e07000", \
     "" using 4 title "(a) conntrack accounting (ctnetlink dump)" lc rgb "#7a4fa0", \
     "" using 5 title "(b) ingress ahead of the flowtable (+ input)" lc rgb "#888888", \
     "" using 6 title "(c) forward + ahead - behind (CountOffloaded)" lc rgb "#1c7c2c", \
     "" using (\$0 - 0.30):2:(sprintf("%d", \$2)) with labels offset 0,0.7 font ",8" notitle, \
     "" using (\$0 - 0.15):3:(sprintf("%d", \$3)) with labels offset 0,0.7 font ",8" notitle, \
     "" using (\$0):4:(sprintf("%d", \$4)) with labels offset 0,0.7 font ",8" notitle, \
     "" using (\$0 + 0.15):5:(sprintf("%d", \$5)) with labels offset 0,0.7 font ",8" notitle, \
     "" using (\$0 + 0.30):6:(sprintf("%d", \$6)) with labels offset 0,0.7 font ",8" notitle
unset multiplot
GNUPLOT
echo "offload.sh: $HERE/offload.png"
