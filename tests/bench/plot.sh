#!/usr/bin/env bash
# Makes the read-cost plot of docs/performance.md from run.sh's own output (its SCALE lines).
#   tests/bench/run.sh | tee /tmp/bench.txt; tests/bench/plot.sh /tmp/bench.txt docs/performance.png
set -euo pipefail
in=${1:?usage: plot.sh BENCH_OUTPUT PNG}
out=${2:?usage: plot.sh BENCH_OUTPUT PNG}
command -v gnuplot > /dev/null || { echo "plot.sh needs gnuplot (apt-get install gnuplot-nox)"; exit 1; }
data=$(mktemp)
trap 'rm -f "$data"' EXIT
awk '$1 == "SCALE" { print $2, $3, $4, $5, $6 }' "$in" > "$data"
[ -s "$data" ] || { echo "no SCALE lines in $in"; exit 1; }
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced font ",11"
set output "$out"
set title "conntrack_nft: cost of one read against the number of counters (attach mode)"
set xlabel "named counters in the table"
set ylabel "microseconds per read (wall)"
set logscale xy
set grid
set key top left
set xrange [5:20000]
plot "$data" using 1:2 with linespoints lw 2 pt 7 title "plugin read (dump + dispatch into the stand-in daemon)", \
     "$data" using 1:5 with linespoints lw 2 pt 5 title "nft layer only (CounterReader, no dispatch)", \
     "$data" using 1:4 with linespoints lw 2 pt 9 title "floor: bare netlink dump loop", \
     "$data" using 1:(\$1 * 1.0) with lines dt 2 lc rgb "gray40" title "1 us per counter (target)"
GP
echo "wrote $out"
