#!/usr/bin/env bash
# CountOffloaded in Debian's collectd with the real plugin, through fw4's flowtable shape: the
# forward counters plus <proto>_conntrack_fwd_offloaded equal every forwarded packet, counted
# where the traffic starts; the probe follows the flowtables (made when fw4 adds its flowtable,
# removed when it goes, removed at shutdown); the WARNING says what offloading changes in the
# graphs. Needs flowtables: runs in the VM lab (tests/vm: Debian's 6.1), skips elsewhere.
#   BUILD_DIR=build tests/vm/run.sh -- bash tests/lab/offload_plugin.sh
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
command -v conntrack > /dev/null || skip "needs conntrack (package conntrack)"
topology

# The truth: what client and server send to each other, per protocol.
for side in "$CLIENT $SERVER_IP" "$SERVER $CLIENT_IP"; do
    set -- $side
    in_ns "$1" nft -f - <<EOF
table inet truth {
    counter truth_tcp { }
    counter truth_udp { }
    chain out {
        type filter hook output priority 0; policy accept;
        ip daddr $2 meta l4proto tcp counter name truth_tcp
        ip daddr $2 meta l4proto udp counter name truth_udp
    }
}
EOF
done

write_conf "$TMP/collectd.conf" <<'EOF'
<Plugin conntrack_nft>
  ConntrackStats true
  CountOffloaded true
</Plugin>
EOF
start_collectd "$ROUTER" "$TMP/collectd.conf"
ID=router/nftables-conntrack_stats/packets
wait_reads "$ID-tcp_conntrack_fwd_offloaded" 1 30 || { echo "FAIL: no tcp_conntrack_fwd_offloaded value"; exit 1; }
assert_eq 0 "$(value_of "$ID-tcp_conntrack_fwd_offloaded")" "offloaded before any flowtable"
in_ns "$ROUTER" nft list tables > "$TMP/tables-before"
if grep -q "table netdev" "$TMP/tables-before"; then fail "a probe without any flowtable"; else pass "no probe without a flowtable"; fi

# fw4 with flow_offloading '1' (as firewall4 writes it), loaded while collectd runs.
in_ns "$ROUTER" nft -f - <<EOF || skip "this kernel has no flowtables (nf_flow_table); run it in the VM lab"
table inet fw4 {
    flowtable ft {
        hook ingress priority 0
        devices = { r0, r1 }
        counter
    }
    chain forward {
        type filter hook forward priority 0; policy accept;
        meta l4proto { tcp, udp } flow add @ft
    }
}
EOF
wait_for 30 grep -q "counting offloaded forward packets at ingress of r0, r1" "$TMP/collectd.log" ||
    { echo "FAIL: the probe was not made"; cat "$TMP/collectd.log"; exit 1; }
pass "the probe follows fw4's flowtable (r0, r1)"
wait_for 30 grep -q "flow offloading is on (1 flowtable): the forward graphs now miss most packets" "$TMP/collectd.log" &&
    pass "the WARNING says what offloading changes in the graphs" || fail "no WARNING about offloading"

start_tcp_server "$SERVER" 5001
bg in_ns "$SERVER" $TRAFFIC udp-echo 6000
for _ in 1 2; do
    in_ns "$CLIENT" python3 -c "
import socket
s = socket.create_connection(('$SERVER_IP', 5001), timeout=30)
s.sendall(b'x' * (1024 * 1024))
s.close()"
done
in_ns "$CLIENT" $TRAFFIC udp-call "$SERVER_IP" 6000 4 50 2 0 0 > /dev/null
settle "$ROUTER" 4
last=-1
for _ in $(seq 50); do
    now=$(( $(counter_of "$CLIENT" truth_tcp) + $(counter_of "$CLIENT" truth_udp) + $(counter_of "$SERVER" truth_tcp) + $(counter_of "$SERVER" truth_udp) ))
    [ "$now" = "$last" ] && break
    last=$now
    sleep 0.2
done
# Two more reads: the last one saw everything.
wait_reads "$ID-tcp_conntrack_fwd_offloaded" 2 30 || { echo "FAIL: reads stopped"; exit 1; }
for p in tcp udp; do
    truth=$(( $(counter_of "$CLIENT" truth_$p) + $(counter_of "$SERVER" truth_$p) ))
    fwd=0
    for s in new established invalid; do fwd=$((fwd + $(value_of "$ID-${p}_conntrack_fwd_$s"))); done
    off=$(value_of "$ID-${p}_conntrack_fwd_offloaded")
    echo "$p: truth $truth, forward counters $fwd, offloaded $off"
    assert_eq "$truth" "$((fwd + off))" "$p: forward counters + ${p}_conntrack_fwd_offloaded = every forwarded packet"
    assert_ge $((truth / 2)) "$off" "$p: most forwarded packets were offloaded"
done

# Offloading off again (fw4's table deleted): the probe goes.
in_ns "$ROUTER" nft delete table inet fw4
no_probe() { local tables; tables=$(in_ns "$ROUTER" nft list tables); ! grep -q 'table netdev' <<< "$tables"; }
wait_for 30 no_probe &&
    pass "the probe is removed with the last flowtable" || fail "the probe stayed after the flowtable went"
before=$(value_of "$ID-tcp_conntrack_fwd_offloaded")
wait_reads "$ID-tcp_conntrack_fwd_offloaded" 1 30
assert_eq "$before" "$(value_of "$ID-tcp_conntrack_fwd_offloaded")" "the total stays where it was"

# Back on, then collectd stops: nothing of the plugin's is left.
in_ns "$ROUTER" nft -f - <<EOF
table inet fw4 {
    flowtable ft {
        hook ingress priority 0
        devices = { r0 }
        counter
    }
}
EOF
wait_for 30 grep -q "counting offloaded forward packets at ingress of r0 " "$TMP/collectd.log" &&
    pass "the probe is made again on the new device list" || fail "no probe on the new device list"
stop_collectd
in_ns "$ROUTER" nft list tables > "$TMP/tables-after"
if grep -q "table netdev\|conntrack_stats" "$TMP/tables-after"; then fail "tables left after shutdown: $(cat "$TMP/tables-after")"
else pass "no table of the plugin's left after shutdown"; fi
assert_eq 0 "$(log_count 'ERROR')" "errors in the daemon log"
finish
