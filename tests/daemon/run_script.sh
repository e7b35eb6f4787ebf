#!/usr/bin/env bash
# scripts/run.sh, the demo, as a user runs it (with this build tree's plugin: --plugin, so it
# neither installs nor builds): its tables keep the columns new, established, invalid in that
# order; its traffic reaches every row it names (tcp and udp at input, fwd and output: new and
# established; tcp invalid at each hook); and SIGTERM, then in a second run SIGINT, sent to the
# script's own PID (not to its process group) stops it within seconds, with status 0, leaving
# none of its namespaces and none of its processes behind.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v setsid > /dev/null || skip "needs setsid (util-linux)"
env --default-signal=INT true 2> /dev/null || skip "needs env --default-signal (coreutils >= 8.31)"

# What the tables showed: every header, and each cell that was ever above 0, as "row/state".
seen() {  # seen OUTPUT_FILE
    python3 - "$1" <<'PY'
import sys
headers, nonzero, states = set(), set(), []
for line in open(sys.argv[1], errors="replace"):
    cols = line.split()
    if not cols:
        continue
    if cols[0] in ("new", "established", "invalid"):
        states = cols
        headers.add(" ".join(cols))
    elif states and len(cols) == 2 + len(states) and cols[0] in ("tcp", "udp"):
        for s, v in zip(states, cols[2:]):
            try:
                if float(v) > 0:
                    nonzero.add(f"{cols[0]} {cols[1]}/{s}")
            except ValueError:
                pass
for h in sorted(headers):
    print("header", h.replace(" ", ","))
for c in sorted(nonzero):
    print("nonzero", c.replace(" ", "_"))
PY
}
WANT=()
for p in tcp udp; do
    for h in input fwd output; do WANT+=("${p}_$h/new" "${p}_$h/established"); done
done
WANT+=(tcp_input/invalid tcp_fwd/invalid tcp_output/invalid)
missing_cells() {  # missing_cells OUTPUT_FILE: the wanted cells not yet seen above 0
    local have c miss=()
    have=$(seen "$1")
    for c in "${WANT[@]}"; do grep -qx "nonzero $c" <<< "$have" || miss+=("$c"); done
    echo "${miss[*]}"
}
all_seen() { [ -z "$(missing_cells "$1")" ]; }

alive() {  # alive PID: running (a zombie waiting to be reaped is not)
    local s
    s=$(ps -o stat= -p "$1" 2> /dev/null) || return 1
    [[ $s != Z* ]]
}
gone() { ! alive "$1"; }
# Processes of the demo's session (setsid made it: session id = the script's PID).
session_procs() { ps -e -o sid=,pid=,args= | awk -v s="$1" '$1 == s { $1 = ""; print }'; }
no_session_procs() { [ -z "$(session_procs "$1")" ]; }
demo_namespaces() { ip netns list | awk -v p="ctnft$1-" 'index($1, p) == 1 { print $1 }'; }
no_namespaces() { [ -z "$(demo_namespaces "$1")" ]; }

demo() {  # demo SIGNAL
    local sig=$1 out="$TMP/demo-$1.out" pid t0 t1 rc=0
    # Its own session (so its processes can be found), SIGINT not ignored (bash ignores it in
    # the background jobs of a script; a user's shell does not).
    setsid env --default-signal=INT bash "$ROOT/scripts/run.sh" --plugin "$PLUGIN_DIR/conntrack_nft.so" \
        --interval 1 > "$out" 2>&1 &
    pid=$!
    # If this test fails half-way, its cleanup stops the demo and removes its namespaces.
    BACKGROUND+=("$pid")
    NAMESPACES+=("ctnft$pid-client" "ctnft$pid-router" "ctnft$pid-server")
    if wait_for 90 all_seen "$out"; then
        pass "$sig run: the demo's traffic shows at ${WANT[*]}"
    else
        fail "$sig run: never above 0 within 90 s: $(missing_cells "$out")"
        tail -n 40 "$out"
    fi
    assert_eq "header new,established,invalid" "$(grep '^header' <<< "$(seen "$out")")" \
        "$sig run: the columns of every table ($(grep -c packets/s "$out") tables)"
    [ -n "$(demo_namespaces "$pid")" ] && pass "$sig run: the demo's namespaces exist while it runs" ||
        fail "$sig run: no namespace ctnft$pid-* while the demo runs"

    t0=$(date +%s.%N)
    kill -"$sig" "$pid"
    wait_for 10 gone "$pid" || true
    t1=$(date +%s.%N)
    if gone "$pid"; then
        pass "$sig run: run.sh exited $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after SIG$sig"
        wait "$pid" || rc=$?
        assert_eq 0 "$rc" "$sig run: run.sh's exit status"
    else
        fail "$sig run: run.sh still runs 10 s after SIG$sig"
    fi
    # Its cleanup ran before it exited; processes it killed are gone once the kernel reaped them.
    wait_for 10 no_session_procs "$pid" && pass "$sig run: no process of the demo is left" ||
        fail "$sig run: processes of the demo left: $(session_procs "$pid")"
    no_namespaces "$pid" && pass "$sig run: no namespace of the demo is left" ||
        fail "$sig run: namespaces left: $(demo_namespaces "$pid")"
    grep -q "Ctrl-C stops and cleans up" "$out" && pass "$sig run: the demo says how to stop it" ||
        fail "$sig run: no stop hint in its output"
}

demo TERM
demo INT
finish
