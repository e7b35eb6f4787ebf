#!/usr/bin/env bash
# Family inet counts IPv4 and IPv6 alike; family ip6 counts IPv6 only.
source "$(dirname "$0")/each_shape.sh"
source "$(dirname "$0")/../lib/netns.sh"
topology
start_tcp_server "$SERVER" 5001

for family in inet ip6; do
    mkfifo "$TMP/hold-$family"
    bg sh -c "exec ip netns exec $ROUTER $CTNFT create --hold --shape $SHAPE --family $family --table t_$family \
        --protocol tcp --protocol udp --protocol icmpv6 < $TMP/hold-$family > $TMP/create-$family.log 2>&1"
    exec {fd}>"$TMP/hold-$family"
    wait_for 15 grep -q created "$TMP/create-$family.log" || { cat "$TMP/create-$family.log"; exit 1; }
done

K6=5 K4=2 M6=4
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP6" 5001 "$K6" > /dev/null
in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 "$K4" > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP6" 20000 "$M6" > /dev/null
settle "$ROUTER" "$M6"

val() { in_ns "$ROUTER" "$CTNFT" dump --family "$1" --table "t_$1" | awk -v n="$2" '$1 == n { print $2 }'; }
assert_eq $((K6 + K4)) "$(val inet tcp_conntrack_fwd_new)" "inet tcp_conntrack_fwd_new (IPv6 + IPv4)"
assert_eq "$M6" "$(val inet udp_conntrack_fwd_new)" "inet udp_conntrack_fwd_new"
assert_eq "$K6" "$(val ip6 tcp_conntrack_fwd_new)" "ip6 tcp_conntrack_fwd_new (IPv6 only)"
assert_eq "$M6" "$(val ip6 udp_conntrack_fwd_new)" "ip6 udp_conntrack_fwd_new"
finish
