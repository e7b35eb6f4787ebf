#!/usr/bin/env bash
# Insert clashes: N times (400 a second), the first two datagrams of a new UDP flow leave one socket from two
# threads on two CPUs at once (as a resolver sends its A and AAAA queries), so two CPUs of the
# router may create the same conntrack entry at the same moment. Whether they do is up to the
# scheduler: the rate of clash_resolve (and insert_failed) is measured and printed, not asserted.
# What is asserted holds for every outcome: both datagrams of every try count as new, each flow
# leaves one entry (plus at most one per resolved race), and the server receives every datagram except those the kernel
# counted as insert_failed (a clash it could not resolve drops the packet).
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
topology
P=router/nftables-conntrack_stats/packets H=router/conntrack_nft
N=${CLASH_TRIES:-2000}
# What reaches the server, counted there.
in_ns "$SERVER" nft -f - <<'NFT'
table ip lab {
  chain input { type filter hook input priority 0; udp dport 10000-59999 counter; }
}
NFT
start_lab_collectd < /dev/null
resolved0=$(kernel_stat clash_resolve) failed0=$(kernel_stat insert_failed)
# The flows' entries only (the namespace's own IPv6 chatter makes entries too).
flow_entries() { in_ns "$ROUTER" conntrack -L -p udp -d "$SERVER_IP" 2>/dev/null | grep -c 'dport=[1-5][0-9]\{4\} ' || true; }
mark tries
in_ns "$CLIENT" $TRAFFIC udp-twins "$SERVER_IP" 10000 "$N" 400  # over 5 s: a rate to see in the reads
mark tries_end
wait_read_after tries_end 1
stop_collectd TERM
resolved=$(( $(kernel_stat clash_resolve) - resolved0 )) failed=$(( $(kernel_stat insert_failed) - failed0 ))
received=$(in_ns "$SERVER" nft -j list chain ip lab input | jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add')
awk -v r="$resolved" -v f="$failed" -v n="$N" 'BEGIN { printf "insert races: clash_resolve %d, insert_failed %d in %d tries (%.2f%% of tries raced)\n", r, f, n, 100 * (r + f) / n }'

assert_eq $((2 * N)) "$(increase_during "$P-udp_conntrack_fwd_new" "$(mark_time tries)" "$(mark_time tries_end)")" "new packets (both datagrams of every try)"
# One entry per flow; a race the kernel resolves may also keep the loser as an entry of its own
# (a short-lived twin, counted in clash_resolve): never more entries than that.
entries=$(flow_entries)
[ "$entries" -ge "$N" ] && [ "$entries" -le $((N + resolved)) ] &&
    pass "conntrack entries of the flows: $entries (N = $N, at most N + clash_resolve)" ||
    fail "conntrack entries of the flows: $entries, expected $N to $((N + resolved))"
assert_eq "$resolved" "$(increase_during "$H/operations-clash_resolve" "$(mark_time tries)" "$(mark_time tries_end)")" "operations-clash_resolve dispatched = conntrack -S"
assert_eq "$failed" "$(increase_during "$H/operations-insert_failed" "$(mark_time tries)" "$(mark_time tries_end)")" "operations-insert_failed dispatched = conntrack -S"
assert_eq $((2 * N - failed)) "$received" "datagrams received by the server (all but insert_failed)"
if [ "$failed" -gt 0 ]; then
    assert_ge 1 "$(notice_count WARNING operations-insert_failed)" "insert_failed WARNINGs"
else
    assert_eq 0 "$(notice_count WARNING operations-insert_failed)" "insert_failed WARNINGs (none failed)"
fi
finish
