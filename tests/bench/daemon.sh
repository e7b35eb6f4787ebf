#!/usr/bin/env bash
# (5) Whole daemon: Debian's collectd with conntrack_nft against the same collectd with bench_noop,
# a plugin that reads nothing and dispatches the very value lists conntrack_nft dispatched
# (taken from a first run through the csv writer). Both send their values with collectd's network
# plugin (as to Telegraf; nobody listens, the datagrams are dropped), with conntrack_nft's
# ruleset loaded in both. CPU time of the whole daemon
# (all threads, /proc/PID/task/*/schedstat) over a window, per read; the difference is what
# conntrack_nft itself costs: its netlink round trips, parsing, and nothing else.
# Settings: ConntrackStats false (18 value lists) and true (the default), each with WriteThreads 1
# and collectd's default (5). Interleaved in every round; medians of rounds.
#   BUILD_DIR=... daemon.sh [--quick]        (THREADS=1: each thread's CPU time in the window, on stderr)
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
NOOP="$BUILD_DIR/tests/bench/bench_noop.so"
[ -f "$NOOP" ] || { echo "FAIL: $NOOP not built"; exit 1; }

QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
IV=${DAEMON_INTERVAL:-0.02}       # 50 reads a second: enough reads per window to rise above the idle daemon
if [ "$QUICK" = 1 ]; then ROUNDS=1 WINDOW=1; else ROUNDS=${ROUNDS:-5} WINDOW=${WINDOW:-5}; fi
ns_add NS daemon

# 1. The value lists conntrack_nft dispatches in one read, per ConntrackStats setting.
for ct in false true; do
    INTERVAL=0.5 write_conf "$TMP/ids-$ct.conf" <<CONF
<Plugin conntrack_nft>
  ConntrackStats $ct
</Plugin>
CONF
    start_collectd "$NS" "$TMP/ids-$ct.conf"
    wait_reads router/nftables-conntrack_stats/packets-tcp_conntrack_fwd_new 2 ||
        { fail "no values from conntrack_nft"; cat "$TMP/collectd.log"; exit 1; }
    stop_collectd TERM
    # "router/plugin[-instance]/type[-instance]" -> Value "plugin" "instance" "type" "instance"
    latest_values | awk '{ split($1, p, "/")
        i = index(p[2], "-"); plugin = i ? substr(p[2], 1, i - 1) : p[2]; pinst = i ? substr(p[2], i + 1) : ""
        i = index(p[3], "-"); type = i ? substr(p[3], 1, i - 1) : p[3]; tinst = i ? substr(p[3], i + 1) : ""
        printf "  Value \"%s\" \"%s\" \"%s\" \"%s\"\n", plugin, pinst, type, tinst }' > "$TMP/values-$ct"
    echo "ConntrackStats $ct: $(wc -l < "$TMP/values-$ct") value lists per read"
    in_ns "$NS" nft delete table ip conntrack_stats 2> /dev/null || true
done
[ "$(wc -l < "$TMP/values-false")" = 18 ] || fail "ConntrackStats false: $(wc -l < "$TMP/values-false") value lists, expected 18"

conf() {  # conf PLUGIN(ours|noop) CT WRITETHREADS(1|default)
    echo "Hostname \"router\""; echo "FQDNLookup false"; echo "Interval $IV"
    echo "BaseDir \"$TMP\""; echo "PIDFile \"$TMP/collectd-bench.pid\""
    echo "TypesDB \"/usr/share/collectd/types.db\""
    [ "$3" = 1 ] && echo "WriteThreads 1"
    echo "PluginDir \"$SYSTEM_PLUGIN_DIR\""
    echo "LoadPlugin logfile"
    printf '<Plugin logfile>\n  LogLevel info\n  File "%s"\n</Plugin>\n' "$TMP/bench.log"
    network_block 127.0.0.1 25826
    if [ "$1" = ours ]; then
        printf 'PluginDir "%s"\nLoadPlugin conntrack_nft\n<Plugin conntrack_nft>\n  ConntrackStats %s\n</Plugin>\n' \
            "$PLUGIN_DIR" "$2"
    else
        printf 'PluginDir "%s"\nLoadPlugin bench_noop\n<Plugin bench_noop>\n' "$(dirname "$NOOP")"
        cat "$TMP/values-$2"
        echo "</Plugin>"
    fi
}

cpu_ns() {  # cpu_ns PID: CPU time of all the process's threads so far
    cat /proc/"$1"/task/*/schedstat 2> /dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# One measurement: prints the daemon's CPU microseconds per read.
measure() {  # measure PLUGIN CT WRITETHREADS
    conf "$@" > "$TMP/bench.conf"
    : > "$TMP/bench.log"
    # The same ruleset in both daemons (conntrack_nft creates it; for bench_noop it is loaded as
    # text): collectd's own datagrams then cross the same hooks, and conntrack is on in both.
    [ "$1" = noop ] && in_ns "$NS" nft -f "$TMP/ruleset.nft"
    bg ip netns exec "$NS" "$COLLECTD" -C "$TMP/bench.conf" -f > /dev/null 2>&1
    local pid=$BG_PID c0 c1 t0 t1
    wait_for 15 grep -q "Initialization complete" "$TMP/bench.log" || { fail "$*: collectd did not start"; cat "$TMP/bench.log" >&2; }
    sleep 0.5  # the first reads (table creation, caches) stay out of the window
    [ -n "${THREADS:-}" ] && for t in /proc/"$pid"/task/*; do echo "$(cat "$t/comm") $(awk '{print $1}' "$t/schedstat")"; done > "$TMP/threads0"
    t0=$(date +%s%N); c0=$(cpu_ns "$pid")
    sleep "$WINDOW"
    t1=$(date +%s%N); c1=$(cpu_ns "$pid")
    if [ -n "${THREADS:-}" ]; then
        for t in /proc/"$pid"/task/*; do echo "$(cat "$t/comm") $(awk '{print $1}' "$t/schedstat")"; done |
            awk -v what="$*" 'NR == FNR { c0[$1] = $2; next } { printf "%s %s %.0f us in the window\n", what, $1, ($2 - c0[$1]) / 1e3 }' \
                "$TMP/threads0" - >&2
    fi
    kill "$pid"; wait "$pid" 2> /dev/null || true
    in_ns "$NS" nft delete table ip conntrack_stats 2> /dev/null || true
    grep -q "ERROR" "$TMP/bench.log" && { fail "$*: errors in the log"; grep ERROR "$TMP/bench.log" >&2; }
    awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v iv="$IV" 'BEGIN { printf "%.1f", c / 1e3 / (t / 1e9 / iv) }'
}

"$CTNFT" render > "$TMP/ruleset.nft"
: > "$TMP/results"
combos=("ours false 1" "noop false 1" "ours false default" "noop false default"
        "ours true 1" "noop true 1" "ours true default" "noop true default")
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < ${#combos[@]}; k++)); do
        c=${combos[$(( (r + k) % ${#combos[@]} ))]}
        echo "$r $c $(measure $c)" >> "$TMP/results"
    done
done

echo
echo "== (5) whole daemon: collectd CPU per read (all threads), Interval $IV s, network writer; medians of $ROUNDS rounds of $WINDOW s"
awk '
    function median(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { us[$1, $2, $3, $4] = $5; rounds[$1] = 1 }
    END {
        printf "%-16s %-14s %14s %14s %10s\n", "ConntrackStats", "WriteThreads", "ours us/read", "noop us/read", "ours/noop"
        split("false true", cts, " "); split("1 default", wts, " ")
        for (a = 1; a <= 2; a++) for (b = 1; b <= 2; b++) {
            ct = cts[a]; wt = wts[b]; n = 0
            for (r in rounds) { n++; o[n] = us[r, "ours", ct, wt]; p[n] = us[r, "noop", ct, wt]; q[n] = o[n] / p[n] }
            printf "%-16s %-14s %14.1f %14.1f %10.2f\n", ct, wt, median(o, n), median(p, n), median(q, n)
            printf "RESULT daemon.ct_%s_wt_%s_ours_us %.1f\nRESULT daemon.ct_%s_wt_%s_noop_us %.1f\nRESULT daemon.ct_%s_wt_%s_ratio %.2f\n", \
                ct, wt, median(o, n), ct, wt, median(p, n), ct, wt, median(q, n)
        }
        print "ours/noop: median of per-round ratios"
    }' "$TMP/results"
finish
