#!/usr/bin/env bash
# (7) What CountOffloaded's probe (nft/offload_probe.h) adds per packet: two netdev ingress chains
# on the router's incoming device, each with `meta l4proto tcp counter` and `meta l4proto udp
# counter`, as the plugin makes them around a flowtable (this kernel has no flowtable; the probe's
# chains and rules are the same without it, and on a router every packet arriving on a flowtable
# device, offloaded or not, passes both). Same path as (3) packet_path.sh: client -> router ->
# a neighbour that is not there, one UDP flow of 64-byte frames from udp_blast; CPU time of the
# sender per delivered packet. Variants interleaved in every round, medians of rounds.
# Asserts (cannot flake): the probe counts every delivered packet, ahead and behind.
#   BUILD_DIR=... offload_probe.sh [--quick]
source "$(dirname "$0")/../lib/netns.sh"
BLAST="$BUILD_DIR/tests/bench/udp_blast"
[ -x "$BLAST" ] || { echo "FAIL: $BLAST not built"; exit 1; }
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then ROUNDS=1 N=20000; else ROUNDS=${ROUNDS:-9} N=${N:-200000}; fi

topology
TARGET=198.18.2.99
ip -n "$ROUTER" neigh add "$TARGET" lladdr 02:00:00:00:00:99 dev r1 nud permanent
PIN=""; command -v taskset > /dev/null && [ "$(nproc)" -gt 1 ] && PIN="taskset -c 1"
# Conntrack on, as on any router with NAT (the baseline of (3)), and an ingress hook on r0 already
# (an empty chain at priority 0, standing in for the flowtable's own hook: a router with a
# flowtable pays for entering the ingress hooks anyway; the probe adds its two chains to it).
in_ns "$ROUTER" nft -f - <<'NFT'
table ip base {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ct state related accept
    }
}
table netdev standin {
    chain flowtable_hook {
        type filter hook ingress devices = { r0 } priority 0; policy accept;
    }
}
NFT

probe() {  # probe J: J probes (0: none), each a table with the plugin's two chains and four rules
    local j
    for j in $(in_ns "$ROUTER" nft list tables netdev | awk '$3 ~ /^probe/ { print $3 }'); do
        in_ns "$ROUTER" nft delete table netdev "$j"
    done
    for ((j = 0; j < $1; j++)); do
        in_ns "$ROUTER" nft -f - <<NFT
table netdev probe$j {
    counter tcp_ahead { }
    counter udp_ahead { }
    counter tcp_behind { }
    counter udp_behind { }
    chain offload_ahead {
        type filter hook ingress devices = { r0 } priority -1; policy accept;
        meta l4proto tcp counter name tcp_ahead
        meta l4proto udp counter name udp_ahead
    }
    chain offload_behind {
        type filter hook ingress devices = { r0 } priority 1; policy accept;
        meta l4proto tcp counter name tcp_behind
        meta l4proto udp counter name udp_behind
    }
}
NFT
    done
}

probe_counter() { in_ns "$ROUTER" nft -j list counter netdev probe0 "$1" | jq '.nftables[] | select(.counter) | .counter.packets'; }
probe_settled() { [ "$(probe_counter udp_ahead)" = "$(probe_counter udp_behind)" ]; }

tx() { in_ns "$ROUTER" cat /sys/class/net/r1/statistics/tx_packets; }

measure() {  # measure J N: prints ns per delivered packet
    probe "$1"
    local before after out sent wall cpu delivered
    in_ns "$CLIENT" $PIN "$BLAST" "$TARGET" 9 2000 > /dev/null  # warm-up
    before=$(tx)
    out=$(in_ns "$CLIENT" $PIN "$BLAST" "$TARGET" 9 "$2")
    after=$(tx)
    read -r sent wall cpu <<< "$out"
    delivered=$((after - before))
    # Without a flowtable every packet passes both chains: ahead = behind, exactly.
    if [ "$1" -gt 0 ] && ! wait_for 5 probe_settled; then
        fail "probe: udp_ahead $(probe_counter udp_ahead) != udp_behind $(probe_counter udp_behind)" >&2
    fi
    awk -v w="$cpu" -v d="$delivered" 'BEGIN { printf "%.1f\n", w / d }'
}

: > "$TMP/results"
AMP=20
for ((r = 0; r < ROUNDS; r++)); do
    for j in 0 1 $AMP; do
        echo "$r $j $(measure $j "$N")" >> "$TMP/results"
    done
done
cp "$TMP/results" "${KEEP_RESULTS:-/dev/null}"
echo
echo "== (7) CountOffloaded's probe on the packet path: forwarded UDP, 64-byte frames; medians of $ROUNDS rounds of $N packets"
awk -v amp=$AMP '
    function median(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { v[$1, $2] = $3; rounds[$1] = 1 }
    END {
        n = 0
        for (r in rounds) { n++; a[n] = v[r, 0]; b[n] = v[r, 1]; c[n] = v[r, amp]; d[n] = (v[r, amp] - v[r, 0]) / amp }
        printf "%-52s %10.1f ns/packet\n", "no probe (conntrack on, an ingress hook already)", median(a, n)
        printf "%-52s %10.1f ns/packet\n", "the probe (two ingress chains, four rules)", median(b, n)
        printf "%-52s %10.1f ns/packet\n", amp " probes", median(c, n)
        printf "%-52s %10.1f ns/packet\n", "added per probe: (" amp " probes - none) / " amp, median(d, n)
        printf "RESULT probe.added_ns_per_packet %.1f\n", median(d, n)
    }' "$TMP/results"
finish
