#!/usr/bin/env bash
# UDP flows forgotten after a quiet spell. A "call" of F two-way UDP flows (answered by the
# server) talks, falls quiet for longer than the router's UDP timeouts (shortened in the lab to
# 2 s unanswered, 4 s for a stream; defaults 30 s and 120 s), and talks again: conntrack has
# forgotten the flows, so udp_conntrack_fwd_new rises by exactly F in the reads spanning the
# resumption, as at the start, and by nothing in between, while udp_conntrack_fwd_established
# falls to 0 in the quiet reads before it. A pause shorter than the timeout resumes without a
# single new packet.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
topology
P=router/nftables-conntrack_stats/packets
F=10
in_ns "$ROUTER" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 net.netfilter.nf_conntrack_udp_timeout_stream=4
bg in_ns "$SERVER" $TRAFFIC udp-echo 7000
wait_for 5 udp_listening "$SERVER" 7000
start_lab_collectd < /dev/null

# A short pause (1.5 s, under the 4 s stream timeout), then a long one (7 s).
in_ns "$CLIENT" $TRAFFIC udp-call "$SERVER_IP" 7000 "$F" 10 3 1.5 2 | sed 's/^/short_/' >> "$TMP/marks"
wait_read_after short_end  # the second call starts in a read of its own
in_ns "$CLIENT" $TRAFFIC udp-call "$SERVER_IP" 7000 "$F" 10 3 7 3 >> "$TMP/marks"
mark finished
wait_read_after finished 1.5
stop_collectd TERM
cat "$TMP/marks"

NEW=$P-udp_conntrack_fwd_new EST=$P-udp_conntrack_fwd_established
# The first datagram of each flow leaves right after a phase's mark: the reads that overlap the
# next 0.3 s hold it, wherever a read boundary falls.
first() { FIRST=("$(mark_time "$1")" "$(awk -v t="$(mark_time "$1")" 'BEGIN { printf "%.3f", t + 0.3 }')"); }
first short_talk; assert_eq "$F" "$(increase_during "$NEW" "${FIRST[@]}")" "new packets as the first call starts"
assert_eq 0 "$(increase_during "$NEW" "$(mark_time short_resume)" "$(mark_time short_end)")" "new packets after the short pause (flows remembered)"
first talk; assert_eq "$F" "$(increase_during "$NEW" "${FIRST[@]}")" "new packets as the second call starts"
first resume; assert_eq "$F" "$(increase_during "$NEW" "${FIRST[@]}")" "new packets in the reads spanning the resumption after 7 s of quiet"
assert_eq $((3 * F)) "$(deltas "$NEW" | awk '{ s += $3 } END { print s + 0 }')" "new packets in all (2 starts, 1 forgetting, none after the short pause)"
deltas_within "$EST" "$(mark_time quiet)" "$(mark_time resume)" | all_reads 'v == 0' "established packets in the quiet reads before the resumption"
deltas_within "$EST" "$(mark_time talk)" "$(mark_time quiet)" | all_reads 'v > 0' "established packets while the call talks"
finish
