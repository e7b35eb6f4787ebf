#!/usr/bin/env bash
# Invalid bursts on the forward path: while a TCP stream runs through the router, K segments of
# another connection arrive far outside the receiver's window (what loss, reordering or a broken
# middlebox produce; sent here from a raw socket, so the count is exact). tcp_conntrack_fwd_invalid
# rises by exactly K in the reads that span the burst and by nothing in any other read, while
# the stream's established packets flow on and no notification is sent (invalid packets are not
# lost connections).
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology
start_tcp_server "$SERVER" 5001
P=router/nftables-conntrack_stats/packets
K=25

bg ip netns exec "$CLIENT" $TRAFFIC tcp-stream "$SERVER_IP" 5001 30 20
start_lab_collectd < /dev/null
wait_reads "$P-tcp_conntrack_fwd_invalid" 3
invalid0=$(kernel_stat invalid)
mark burst
in_ns "$CLIENT" $TRAFFIC tcp-out-of-window "$SERVER_IP" 5001 "$K" > /dev/null
mark burst_end
wait_read_after burst_end 3
stop_collectd TERM

from=$(mark_time burst) to=$(mark_time burst_end)
assert_eq "$K" "$(increase_during "$P-tcp_conntrack_fwd_invalid" "$from" "$to")" "tcp_conntrack_fwd_invalid in the reads spanning the burst"
assert_eq 0 "$(increase_outside "$P-tcp_conntrack_fwd_invalid" "$from" "$to")" "tcp_conntrack_fwd_invalid in every other read"
assert_eq "$K" $(( $(kernel_stat invalid) - invalid0 )) "conntrack's own invalid count (conntrack -S)"
assert_eq 0 "$(deltas "$P-udp_conntrack_fwd_invalid" | awk '{ s += $3 } END { print s + 0 }')" "udp_conntrack_fwd_invalid"
deltas "$P-tcp_conntrack_fwd_established" | awk '{ print $2, $3 }' | all_reads 'v > 0' "the stream's established packets in every read"
assert_eq 0 "$(notices | wc -l)" "notifications"
finish
