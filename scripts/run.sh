#!/usr/bin/env bash
# The main job: conntrack_nft in a real collectd, values shown as they arrive, until Ctrl-C.
#
#   scripts/run.sh                 an isolated client -> router -> server set of network
#                                  namespaces with background traffic through, to and from the
#                                  router (tcp, udp, a few invalid packets); collectd runs in the
#                                  router. Nothing on the host changes but the packages it needs.
#   scripts/run.sh --host          the host's own network namespace: creates the table
#                                  ip conntrack_stats there (removed again on exit) and counts
#                                  the host's real traffic.
#   --interval SECONDS             collectd's interval (default 2)
#   --conf FILE                    your own <Plugin conntrack_nft> block instead of the defaults
#   --plugin FILE                  run this conntrack_nft.so; install and build nothing
#
# First installs what is missing for the demo (scripts/install-deps.sh --demo: compiler, cmake,
# libnftnl/libmnl headers, collectd-core and -dev, nftables, iproute2, python3) and builds the
# plugin in build/. Shows packets per second for each counter: rows are protocol and hook,
# columns the states. Ctrl-C, or SIGINT/SIGTERM to this script, stops it at once and removes
# what it made (namespaces, processes, the table in --host mode).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=netns interval=2 block="" plugin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --host) mode=host ;;
        --interval) interval=$2; shift ;;
        --conf) block=$(cat "$2"); shift ;;
        --plugin) plugin=$(realpath "$2"); shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { echo "conntrack_nft: $*"; }
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (namespaces, nftables)" >&2; exit 1; }
[ -z "$plugin" ] || [ -f "$plugin" ] || { echo "run.sh: --plugin $plugin: no such file" >&2; exit 2; }

if [ -z "$plugin" ]; then
    say "checking the packages the demo needs (scripts/install-deps.sh --demo; apt-get installs what is missing)"
    "$root/scripts/install-deps.sh" --demo
fi
build="$root/build"
export BUILD_DIR=$build

# Stopping. Bash runs a trap only once the command in the foreground has ended, so every long
# step (the build, collectd and its table) runs in the background while the script waits for
# it: a signal ends the wait at once, and on_exit stops what runs and removes what was made.
STEP_PID="" DAEMON_PID="" READER_PID=""
stop() {  # stop PID [PROCESS_GROUP]: TERM, up to 5 s to exit, then KILL
    local pid=$1 target=$1
    [ -n "$pid" ] || return 0
    [ "${2:-}" = group ] && target=-$pid
    kill -TERM -- "$target" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "$target" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
on_exit() {
    local rc=$?
    set +e
    stop "$STEP_PID" group
    stop "$DAEMON_PID"  # collectd removes its table on a clean exit (--host)
    stop "$READER_PID"
    if [ "$mode" = netns ]; then
        # netns.sh's cleanup: background processes, everything in the namespaces, the namespaces
        # (its TMP, the demo's own files, removed first: nothing there for it to show).
        rm -rf "$TMP"
        (exit "$rc")
        cleanup
    fi
    rm -rf "${work:-}"
    exit "$rc"
}
if [ "$mode" = netns ]; then
    # The test suite's namespace helpers: the same client -> router -> server topology, and
    # every namespace and process removed again on exit.
    source "$root/tests/lib/netns.sh"
fi
trap on_exit EXIT
trap 'exit 0' INT TERM HUP

# step LOG CMD...: CMD in a process group of its own (stopped whole on exit), in the background,
# its output in LOG; with SHOW=1 also on the terminal, indented. Returns CMD's status.
step() {
    local log=$1; shift
    # shellcheck disable=SC2016  # the inner script's own variables
    setsid bash -c 'set -o pipefail; log=$1 show=$2; shift 2
        if [ "$show" = 1 ]; then "$@" 2>&1 | tee "$log" | sed -u "s/^/    /"; else "$@" > "$log" 2>&1; fi' \
        step "$log" "${SHOW:-0}" "$@" &
    STEP_PID=$!
    local rc=0
    wait "$STEP_PID" || rc=$?
    STEP_PID=""
    return "$rc"
}

if [ -z "$plugin" ]; then
    mkdir -p "$build"
    say "configuring the build in $build (cmake, MinSizeRel)"
    step "$build/configure.log" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=MinSizeRel -DCONNTRACK_NFT_TESTS=OFF ||
        { cat "$build/configure.log"; say "configuring failed (log: $build/configure.log)"; exit 1; }
    say "building conntrack_nft.so (about a minute the first time on 2 cores; log: $build/build.log)"
    SHOW=1 step "$build/build.log" cmake --build "$build" -j "$(nproc)" --target conntrack_nft ||
        { say "the build failed: its errors are above (log: $build/build.log)"; exit 1; }
    plugin="$build/plugin/conntrack_nft.so"
fi

if [ "$mode" = netns ]; then
    say "making the network namespaces client -> router -> server and starting the traffic"
    topology
    work=$TMP
    # Servers: TCP and a UDP echo in the server and in the router (traffic to the router: input).
    start_tcp_server "$SERVER" 5001
    start_tcp_server "$ROUTER" 5002
    bg in_ns "$SERVER" $TRAFFIC udp-echo 5353
    bg in_ns "$ROUTER" $TRAFFIC udp-echo 5354
    # Forward (client -> server): a steady TCP stream, a two-way UDP call (established both
    # ways); every second 3 new TCP connections and 5 new UDP flows, a SYN+FIN (invalid) every
    # 5 s. Input (client -> router) and output (router -> server): a UDP call each; every
    # second one TCP connection, a SYN+FIN every 5 s. Each loop is one process (a loop that
    # starts a program per packet falls behind on a busy machine) inside its namespace.
    bg in_ns "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 1000000 20
    bg in_ns "$CLIENT" $TRAFFIC udp-call "$SERVER_IP" 5353 2 10 1000000 0 0 > /dev/null
    bg in_ns "$CLIENT" $TRAFFIC udp-call "$ROUTER_IP" 5354 1 10 1000000 0 0 > /dev/null
    bg in_ns "$ROUTER" $TRAFFIC udp-call "$SERVER_IP" 5353 1 10 1000000 0 0 > /dev/null
    bg in_ns "$CLIENT" $TRAFFIC repeat 1 tcp-connect "$SERVER_IP" 5001 3 + tcp-connect "$ROUTER_IP" 5002 1 \
        + udp-send "$SERVER_IP" 20000 5 > /dev/null
    bg in_ns "$CLIENT" $TRAFFIC repeat 5 syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 + syn-fin "$CLIENT_IP" "$ROUTER_IP" 5002 > /dev/null
    bg in_ns "$ROUTER" $TRAFFIC repeat 1 tcp-connect "$SERVER_IP" 5001 1 > /dev/null
    bg in_ns "$ROUTER" $TRAFFIC repeat 5 syn-fin "$ROUTER_IP_S" "$SERVER_IP" 5001 > /dev/null
    run_in=(ip netns exec "$ROUTER")
    say "namespaces $CLIENT -> $ROUTER -> $SERVER; collectd runs in $ROUTER and counts:"
    say "  fwd     client -> server: a TCP stream, a two-way UDP call, per second 3 new TCP"
    say "          connections and 5 new UDP flows, a TCP SYN+FIN (invalid) every 5 s"
    say "  input   client -> router, output  router -> server: a two-way UDP call, one TCP"
    say "          connection a second, a TCP SYN+FIN every 5 s (input also sees the replies"
    say "          to the router's own traffic, output the router's answers)"
    say "  udp invalid stays 0: conntrack marks a UDP packet invalid only for a broken header or"
    say "  checksum, which this traffic never has"
else
    work=$(mktemp -d /tmp/conntrack_nft-run.XXXXXX)
    run_in=()
    say "counting the host's own traffic (table ip conntrack_stats, removed on exit)"
fi

plugin_dir=$(dirname "$(grep -m1 '/csv\.so$' <<< "$(dpkg -L collectd-core)")")
cat > "$work/collectd.conf" <<CONF
Hostname "$( [ "$mode" = netns ] && echo router || hostname )"
FQDNLookup false
Interval $interval
BaseDir "$work"
PIDFile "$work/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
PluginDir "$plugin_dir"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File stderr
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir stdout
  StoreRates true
</Plugin>
PluginDir "$(dirname "$plugin")"
LoadPlugin conntrack_nft
${block}
CONF

say "Ctrl-C stops and cleans up. The first read shows '...': a rate needs two reads."
# collectd's own log on stderr; its values, through the csv writer on stdout, into a table.
mkfifo "$work/values"
python3 -u "$root/scripts/show_rates.py" < "$work/values" &
READER_PID=$!
# The collectd first in PATH: the sanitizer pass puts one there that preloads the ASan runtime
# its plugin needs.
"${run_in[@]}" stdbuf -oL "$(command -v collectd || echo /usr/sbin/collectd)" -C "$work/collectd.conf" -f > "$work/values" &
DAEMON_PID=$!
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
wait "$READER_PID" || true
READER_PID=""
say "collectd exited (status $rc)"
exit "$rc"
