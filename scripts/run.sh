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

export BUILD_DIR=$build
if [ "$mode" = netns ]; then
    # The test suite's namespace helpers: the same client -> router -> server topology, and
    # every namespace and process removed again on exit.
    source "$root/tests/lib/netns.sh"
    set +e
    topology
    work=$TMP
    bg ip netns exec "$SERVER" $TRAFFIC tcp-server 5001
    sleep 0.5
    # A steady stream, new connections and UDP flows every second, an invalid packet every 5 s.
    bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 100000 20
    bg bash -c "
        i=0
        while :; do
            ip netns exec $CLIENT $TRAFFIC tcp-connect $SERVER_IP 5001 3 > /dev/null
            ip netns exec $CLIENT $TRAFFIC udp-send $SERVER_IP \$((20000 + (i % 100) * 10)) 5 > /dev/null
            [ \$((i % 5)) = 0 ] && ip netns exec $CLIENT $TRAFFIC syn-fin $CLIENT_IP $SERVER_IP 5001 > /dev/null
            i=\$((i + 1))
            sleep 1
        done"
    run_in=(ip netns exec "$ROUTER")
    echo "conntrack_nft: namespaces $CLIENT -> $ROUTER -> $SERVER with background traffic; collectd runs in $ROUTER"
else
    work=$(mktemp -d /tmp/conntrack_nft-run.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    run_in=()
    echo "conntrack_nft: counting the host's own traffic (table ip conntrack_stats, removed on exit)"
fi
trap 'exit 0' INT TERM

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
PluginDir "$build/plugin"
LoadPlugin conntrack_nft
${block}
CONF

echo "Ctrl-C stops and cleans up. The first read shows '...': a rate needs two reads."
# collectd's own log on stderr; its values, through the csv writer on stdout, into a table.
"${run_in[@]}" stdbuf -oL /usr/sbin/collectd -C "$work/collectd.conf" -f |
    python3 -u "$root/scripts/show_rates.py"
