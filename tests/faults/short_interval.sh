#!/usr/bin/env bash
# Intervals far shorter than a netlink round trip under load: Interval 0.01 with traffic through
# the router and sampling every 0.05 s, then the fastest sampling (0.05 s) at Interval 1. Reads
# pile up or are skipped as collectd decides; collectd stays up, nothing errs, and the counts are
# exact once the load stops.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology
start_tcp_server "$SERVER" 5001
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new

port=23000
for interval in 0.01 1; do
    INTERVAL=$interval write_conf "$TMP/c.conf" <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 0.05
  ConntrackStats true
</Plugin>
CONF
    : > "$TMP/collectd.log"
    start_collectd "$ROUTER" "$TMP/c.conf"
    wait_reads "$UDP_NEW" 1 || { fail "no first read (Interval $interval)"; continue; }
    # Load: a TCP stream, a UDP flood and bursts of new flows, for 8 s.
    bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 8 200
    bg ip netns exec "$CLIENT" $TRAFFIC udp-flood "$SERVER_IP" 40000 8 2000
    for _ in 1 2 3 4; do in_ns "$CLIENT" $TRAFFIC udp-burst "$SERVER_IP" 41000 100 1 > /dev/null; done
    sleep 5
    alive "under load (Interval $interval)"
    before=$(putvals | awk -v id="$UDP_NEW" '$2 == id { split($4, tv, ":"); v = tv[2] } END { print v }')
    # The load is over once the flood's flow and the bursts stop adding: then exactly 5 more.
    wait_for 20 sh -c "a=\$(ip netns exec '$ROUTER' nft -j list counter ip conntrack_stats udp_conntrack_fwd_new | jq '.nftables[1].counter.packets'); sleep 1.5; b=\$(ip netns exec '$ROUTER' nft -j list counter ip conntrack_stats udp_conntrack_fwd_new | jq '.nftables[1].counter.packets'); [ \"\$a\" = \"\$b\" ]"
    base=$(in_ns "$ROUTER" nft -j list counter ip conntrack_stats udp_conntrack_fwd_new | jq '.nftables[1].counter.packets')
    udp_flows 5 $port
    port=$((port + 100))
    expect_value "$UDP_NEW" $((base + 5)) "udp_conntrack_fwd_new after the load and 5 flows (Interval $interval)"
    reads=$(putvals | grep -c "^PUTVAL $UDP_NEW " || true)
    peaks=$(putvals | grep -c "^PUTVAL $ID/packets_peak-udp_conntrack_fwd_new " || true)
    echo "Interval $interval: $reads reads, $peaks peak values, $(log_count 'took too long') 'took too long' lines"
    assert_ge 2 "$reads" "reads (Interval $interval)"
    no_plugin_errors
    alive "at the end (Interval $interval)"
    stop_collectd TERM
    assert_eq 0 "$(in_ns "$ROUTER" nft list tables | grep -c conntrack_stats || true)" "table removed at stop (Interval $interval)"
done
finish
