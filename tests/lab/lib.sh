# The lab: each pattern of docs/diagnosis.md reproduced for real through a router namespace with
# the plugin in Debian's collectd (1 s interval). Source after tests/lib/netns.sh and
# tests/lib/collectd.sh. A scenario marks the moments it acts on (`mark`); assertions then
# split the plugin's reads by those marks. With LAB_OUTPUT=DIR the run's values, marks and log
# are kept there: docs/pictures/scenarios.sh renders the pictures of docs/ from exactly these runs.

: > "$TMP/marks"
if [ -n "${LAB_OUTPUT:-}" ]; then
    mkdir -p "$LAB_OUTPUT"
    # Kept on every exit, before netns.sh's cleanup removes $TMP.
    lab_keep() {
        local rc=$?
        cp "$TMP/values.log" "$TMP/marks" "$TMP/collectd.log" "$LAB_OUTPUT/" 2>/dev/null
        (exit "$rc")
        cleanup
    }
    trap lab_keep EXIT
fi

mark() { echo "$1 $(date +%s.%N)" >> "$TMP/marks"; }  # mark LABEL: now, in epoch seconds
mark_time() { awk -v l="$1" '$1 == l { print $2 }' "$TMP/marks" | tail -n 1; }  # mark_time LABEL

# start_lab_collectd [EXTRA_PLUGINS]: the plugin at a 1 s interval in the router namespace,
# conntrack statistics on; the extra plugins' blocks come from stdin.
start_lab_collectd() {
    { cat; printf '<Plugin conntrack_nft>\n  OwnerFlag false\n</Plugin>\n'; } | write_conf "$TMP/lab.conf" "${1:-}"
    start_collectd "$ROUTER" "$TMP/lab.conf"
    wait_reads router/conntrack_nft/conntrack-entries 2 || { fail "collectd did not start reading"; exit 1; }
}

# Per read of a cumulative value: "previous_time time increase" (the read at `time` covers the
# span since the previous one).
deltas() {  # deltas IDENTIFIER
    putvals | awk -v id="$1" '$2 == id { split($4, tv, ":")
        if (t != "" && tv[2] != "nan") print t, tv[1], tv[2] - v; t = tv[1]; v = tv[2] }'
}
# Per read of a gauge: "time value".
gauges() {  # gauges IDENTIFIER
    putvals | awk -v id="$1" '$2 == id { split($4, tv, ":"); print tv[1], tv[2] }'
}

# Sum of the increases of the reads whose span overlaps [FROM, TO], and of those that do not.
increase_during() {  # increase_during IDENTIFIER FROM TO
    deltas "$1" | awk -v a="$2" -v b="$3" '$2 > a && $1 < b { s += $3 } END { print s + 0 }'
}
increase_outside() {  # increase_outside IDENTIFIER FROM TO
    deltas "$1" | awk -v a="$2" -v b="$3" '!($2 > a && $1 < b) { s += $3 } END { print s + 0 }'
}
# Reads whose whole span lies inside [FROM, TO]: "time increase" (cumulative) or "time value" (gauge).
deltas_within() {  # deltas_within IDENTIFIER FROM TO
    deltas "$1" | awk -v a="$2" -v b="$3" '$1 >= a && $2 <= b { print $2, $3 }'
}
gauges_within() {  # gauges_within IDENTIFIER FROM TO: gauge reads that began 0.2 s or more after FROM, up to TO
    gauges "$1" | awk -v a="$2" -v b="$3" '$1 >= a + 1.2 && $1 <= b { print $1, $2 }'
}

# Waits until the plugin has read past the moment of mark LABEL (plus SECONDS).
wait_read_after() {  # wait_read_after LABEL [SECONDS]
    local t
    t=$(awk -v m="$(mark_time "$1")" -v s="${2:-0}" 'BEGIN { printf "%.3f", m + s }')
    wait_for 20 sh -c "grep '^PUTVAL router/conntrack_nft/conntrack-entries ' '$TMP/values.log' | tail -n 1 |
        awk -F'[ :]' -v t=$t '{ exit !(\$(NF - 1) > t) }'"
}

# Sleeps until epoch time T + SECONDS: a scenario's own time span, never a wait for a condition.
sleep_until() {  # sleep_until T [SECONDS]
    python3 -c "import sys, time; time.sleep(min(60, max(0, float(sys.argv[1]) + float(sys.argv[2]) - time.time())))" "$1" "${2:-0}"
}

udp_listening() { [ -n "$(in_ns "$1" ss -Hlun "sport = :$2")" ]; }  # udp_listening NS PORT

kernel_stat() {  # kernel_stat NAME: a conntrack statistic of the router, summed over CPUs
    in_ns "$ROUTER" conntrack -S | tr ' \t' '\n\n' | awk -F= -v k="$1" '$1 == k { s += $2 } END { print s + 0 }'
}

# Every read in a list ("time value" lines) satisfies an awk condition on v, and there is at least one.
all_reads() {  # all_reads CONDITION WHAT < lines
    local out
    out=$(awk "{ v = \$2; n++; if (!($1)) bad = bad \" \" \$2 } END { if (n == 0) print \"no reads\"; else if (bad != \"\") print \"values\" bad }")
    if [ -z "$out" ]; then pass "$2"; else fail "$2: $out"; fi
}

# A slow stretch inside the ISP (after topology_isp): packets towards the server can be sent
# through a userspace delay line of MS milliseconds (one way), switched with isp_slow on|off.
isp_delay_line() {  # isp_delay_line MS
    bg in_ns "$ISP" $TRAFFIC delay-line dl_in dl_out "$1" > "$TMP/delay-line.log"
    wait_for 10 grep -q ready "$TMP/delay-line.log" || { fail "delay line did not start"; exit 1; }
    in_ns "$ISP" sh -c 'ip link set dl_in up && ip link set dl_out up &&
        sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.dl_out.rp_filter=0 &&
        ip rule add iif dl_out lookup 100 && ip route add 198.18.2.0/24 dev i1 table 100'
}
isp_slow() {  # isp_slow on|off
    if [ "$1" = on ]; then in_ns "$ISP" ip route replace 198.18.2.0/24 dev dl_in
    else in_ns "$ISP" ip route replace 198.18.2.0/24 dev i1; fi
}
