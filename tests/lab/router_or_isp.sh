#!/usr/bin/env bash
# Router or ISP? collectd's ping plugin on the router pings the ISP's gateway (the first hop) and
# a host beyond it while a UDP call runs through the router, in four phases of a few seconds:
#   clean        nothing wrong: pings fast, nothing lost;
#   isp_network  80 ms more and every 4th packet lost beyond the first hop (inside the ISP);
#   isp_line     every 4th packet lost on the line into the ISP: the first hop loses pings too;
#   router_full  the router's conntrack table filled up.
# The ping plugin sees the ISP's trouble while the plugin's values stay clean (no invalid, no
# drop, no early_drop, no notification), and the opposite for the full table. These runs back the
# table in docs/diagnosis.md.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology_isp
P=router/nftables-conntrack_stats/packets H=router/conntrack_nft
HOP=router/ping/ping-$ISP_IP FAR=router/ping/ping-$SERVER_IP
LOSS_HOP=router/ping/ping_droprate-$ISP_IP LOSS_FAR=router/ping/ping_droprate-$SERVER_IP
PHASE=${LAB_PHASE_SECONDS:-6}
isp_delay_line 80
# Loss, switched on per phase by filling these chains: every 4th ICMP and every 4th UDP packet
# per destination (a counter per rule: exact, not random; one counter for pings to both hops
# would always hit the same one).
in_ns "$ISP" nft -f - <<'NFT'
table ip lab {
  chain prerouting { type filter hook prerouting priority 0; }
  chain forward { type filter hook forward priority 0; }
}
NFT
lose_every_4th() {  # lose_every_4th CHAIN [MATCH...]: packets arriving from the router
    in_ns "$ISP" nft add rule ip lab "$1" iifname i0 "${@:2}" meta l4proto icmp numgen inc mod 4 == 0 drop
    in_ns "$ISP" nft add rule ip lab "$1" iifname i0 "${@:2}" meta l4proto udp numgen inc mod 4 == 0 drop
}
bg in_ns "$SERVER" $TRAFFIC udp-echo 7000
wait_for 5 udp_listening "$SERVER" 7000
start_lab_collectd ping <<CONF
<Plugin ping>
  Host "$ISP_IP"
  Host "$SERVER_IP"
  Interval 0.25
  Timeout 0.2
</Plugin>
CONF
wait_reads "$LOSS_FAR" 2 || { fail "no values from the ping plugin"; exit 1; }
bg ip netns exec "$CLIENT" $TRAFFIC udp-call "$SERVER_IP" 7000 5 20 $((PHASE * 4 + 3)) 0 0

mark clean; sleep_until "$(mark_time clean)" "$PHASE"
mark isp_network; isp_slow on; lose_every_4th forward ip daddr 198.18.2.0/24
sleep_until "$(mark_time isp_network)" "$PHASE"
mark isp_line; isp_slow off; in_ns "$ISP" nft flush chain ip lab forward
lose_every_4th prerouting ip daddr "$ISP_IP"; lose_every_4th prerouting ip daddr 198.18.2.0/24
sleep_until "$(mark_time isp_line)" "$PHASE"
mark router_full; in_ns "$ISP" nft flush chain ip lab prerouting
notifications_before=$(grep -c 'Notification:' "$TMP/collectd.log" || true)
in_ns "$CLIENT" $TRAFFIC udp-flows "$SERVER_IP" $(( $(in_ns "$ROUTER" sysctl -n net.netfilter.nf_conntrack_max) + 5000 )) > /dev/null
mark filled; wait_read_after filled  # the phase holds a read of the full table, however long filling took
sleep_until "$(mark_time router_full)" "$PHASE"
mark end
wait_read_after end
stop_collectd TERM
cat "$TMP/marks"

# Each phase's start and end.
CLEAN=("$(mark_time clean)" "$(mark_time isp_network)") NET=("$(mark_time isp_network)" "$(mark_time isp_line)")
LINE=("$(mark_time isp_line)" "$(mark_time router_full)") FULL=("$(mark_time router_full)" "$(mark_time end)")
sum_within() { gauges_within "$@" | awk '$2 != "nan" { s += $2 } END { print s + 0 }'; }
for ph in CLEAN NET LINE FULL; do
    declare -n span=$ph
    echo "--- $ph: time, first hop ms, loss; beyond ms, loss"
    paste <(gauges_within "$HOP" "${span[@]}") <(gauges_within "$LOSS_HOP" "${span[@]}" | cut -d' ' -f2) \
          <(gauges_within "$FAR" "${span[@]}" | cut -d' ' -f2) <(gauges_within "$LOSS_FAR" "${span[@]}" | cut -d' ' -f2)
    unset -n span
done

# The ping plugin's view.
gauges_within "$HOP" "${CLEAN[@]}" | all_reads 'v < 40' "clean: first hop under 40 ms"
gauges_within "$FAR" "${CLEAN[@]}" | all_reads 'v < 40' "clean: beyond under 40 ms"
assert_eq 0 "$(sum_within "$LOSS_FAR" "${CLEAN[@]}")" "clean: loss beyond"
gauges_within "$HOP" "${NET[@]}" | all_reads 'v < 40' "ISP network: first hop under 40 ms"
assert_eq 0 "$(sum_within "$LOSS_HOP" "${NET[@]}")" "ISP network: loss to the first hop"
gauges_within "$FAR" "${NET[@]}" | all_reads 'v >= 80' "ISP network: beyond at 80 ms or more"
awk -v s="$(sum_within "$LOSS_FAR" "${NET[@]}")" 'BEGIN { exit !(s > 0) }' &&
    pass "ISP network: pings beyond lost" || fail "ISP network: no ping beyond lost"
for id in "$LOSS_HOP:first hop" "$LOSS_FAR:host beyond"; do
    awk -v s="$(sum_within "${id%%:*}" "${LINE[@]}")" 'BEGIN { exit !(s > 0) }' &&
        pass "ISP line: pings to the ${id#*:} lost" || fail "ISP line: no ping to the ${id#*:} lost"
done
gauges_within "$FAR" "${LINE[@]}" | all_reads 'v < 40' "ISP line: beyond under 40 ms (loss, no delay)"
gauges_within "$HOP" "${FULL[@]}" | all_reads 'v < 40' "router full: first hop under 40 ms"
gauges_within "$FAR" "${FULL[@]}" | all_reads 'v < 40' "router full: beyond under 40 ms"
assert_eq 0 "$(sum_within "$LOSS_HOP" "${FULL[@]}")" "router full: loss to the first hop"
assert_eq 0 "$(sum_within "$LOSS_FAR" "${FULL[@]}")" "router full: loss beyond"

# The plugin's view: clean while the ISP is in trouble, loud when the router is.
isp=$(mark_time isp_network) full=$(mark_time router_full)
for c in tcp_conntrack_fwd_invalid udp_conntrack_fwd_invalid; do
    assert_eq 0 "$(increase_during "$P-$c" "$(mark_time clean)" "$full")" "$c before the table fills"
done
for s in drop early_drop insert_failed; do
    assert_eq 0 "$(increase_during "$H/operations-$s" "$(mark_time clean)" "$full")" "operations-$s before the table fills"
done
deltas_within "$P-udp_conntrack_fwd_established" "$isp" "$full" | all_reads 'v > 0' "the call's packets flow through the ISP's trouble"
assert_eq 0 "$notifications_before" "notifications before the table fills"
gauges_within "$H/percent-used" "${FULL[@]}" | all_reads 'v >= 0' "percent-used read while full"
awk -v m="$(gauges_within "$H/percent-used" "${FULL[@]}" | awk '$2 > m { m = $2 } END { print m + 0 }')" \
    'BEGIN { exit !(m >= 99) }' && pass "router full: percent-used reached 99 or more" || fail "router full: percent-used stayed under 99"
assert_ge 5000 "$(increase_during "$H/operations-early_drop" "$full" "$(mark_time end)")" "router full: early_drop"
assert_eq 1 "$(notice_count WARNING percent-used)" "router full: fill WARNING"
assert_eq 1 "$(notice_count WARNING operations-early_drop)" "router full: early_drop WARNING"
finish
