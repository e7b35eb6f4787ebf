#!/usr/bin/env bash
# The main job: conntrack_nft in a real collectd, values shown as they arrive, until Ctrl-C.
#
#   scripts/run.sh                 an isolated client -> router -> server set of network
#                                  namespaces with background traffic (tcp, udp, a few invalid
#                                  packets); collectd runs in the router. Nothing on the host changes.
#   scripts/run.sh --host          the host's own network namespace: creates the table
#                                  ip conntrack_stats there (removed again on exit) and counts
#                                  the host's real traffic.
#   --interval SECONDS             collectd's interval (default 2)
#   --conf FILE                    your own <Plugin conntrack_nft> block instead of the defaults
#
# Shows packets per second for each counter: rows are protocol and hook, columns the states.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=netns interval=2 block=""
while [ $# -gt 0 ]; do
    case "$1" in
        --host) mode=host ;;
        --interval) interval=$2; shift ;;
        --conf) block=$(cat "$2"); shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (namespaces, nftables)" >&2; exit 1; }

"$root/scripts/install-deps.sh"
build="$root/build"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=MinSizeRel > "$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target conntrack_nft > "$build/build.log" 2>&1 ||
    { cat "$build/build.log"; exit 1; }

work=$(mktemp -d /tmp/conntrack_nft-run.XXXXXX)
prefix="ctnft-run$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$mode" = netns ]; then
        for ns in client router server; do ip netns del "$prefix-$ns" 2>/dev/null || true; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

traffic="python3 $root/tests/tools/traffic.py"
run_in=()
if [ "$mode" = netns ]; then
    C=$prefix-client R=$prefix-router S=$prefix-server
    for ns in $C $R $S; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
    ip link add c0 netns "$C" type veth peer name r0 netns "$R"
    ip link add s0 netns "$S" type veth peer name r1 netns "$R"
    ip -n "$C" addr add 198.18.1.2/24 dev c0; ip -n "$R" addr add 198.18.1.1/24 dev r0
    ip -n "$R" addr add 198.18.2.1/24 dev r1; ip -n "$S" addr add 198.18.2.2/24 dev s0
    for l in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $l; ip -n "$1" link set "$2" up; done
    ip -n "$C" route add default via 198.18.1.1
    ip -n "$S" route add default via 198.18.2.1
    ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$S" $traffic tcp-server 5001 & pids+=($!)
    sleep 0.5
    # A steady stream, new connections and UDP flows every second, an invalid packet every 5 s.
    ip netns exec "$C" $traffic tcp-stream 198.18.2.2 5001 100000 20 & pids+=($!)
    (
        i=0
        while :; do
            ip netns exec "$C" $traffic tcp-connect 198.18.2.2 5001 3 > /dev/null || true
            ip netns exec "$C" $traffic udp-send 198.18.2.2 $((20000 + (i % 100) * 10)) 5 > /dev/null || true
            [ $((i % 5)) = 0 ] && ip netns exec "$C" $traffic syn-fin 198.18.1.2 198.18.2.2 5001 > /dev/null
            i=$((i + 1))
            sleep 1
        done
    ) & pids+=($!)
    run_in=(ip netns exec "$R")
    echo "conntrack_nft: namespaces $C -> $R -> $S with background traffic; collectd runs in $R"
else
    echo "conntrack_nft: counting the host's own traffic (table ip conntrack_stats, removed on exit)"
fi

plugin_dir=$(dirname "$(dpkg -L collectd-core | grep '/csv.so$' | head -1)")
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
PluginDir "$build/plugin"
LoadPlugin conntrack_nft
${block}
CONF

echo "Ctrl-C stops and cleans up. The first read shows '...': a rate needs two reads."
# collectd's own log on stderr; its values, through the csv writer on stdout, into a table.
"${run_in[@]}" stdbuf -oL /usr/sbin/collectd -C "$work/collectd.conf" -f |
    python3 -u "$root/scripts/show_rates.py"
