#!/usr/bin/env bash
# (3) Packet path: the added per-packet cost of the counting rules on forwarded traffic.
# client -> router -> (a neighbour that is not there) ; one UDP flow of 64-byte frames sent with
# sendmmsg by one pinned thread (udp_blast). On veth the router's forwarding runs in the sender's
# softirq, so the sender's CPU time per delivered packet is the cost of the whole forward path.
# Router variants, all with connection tracking on (one `ct state related accept` rule, as on any
# router with NAT), a base chain that jumps J times into a chain `count` holding:
#   none     nothing (the baseline)
#   classic  today's six sequential rules (nft/conntrack-counter.nft's forward chain)
#   map      the single-lookup rule (the map shape, the plugin's default)
#   counter  one unconditional `counter name "udp_conntrack_fwd_new"`: the counter update alone,
#            which every shape pays once per packet (the floor of any counting ruleset)
# J=1 is the real setting; J=$AMP amplifies the rules' cost above the noise (added cost per pass =
# (variant - none) / J). Variants are interleaved in every round; figures are medians of rounds.
# Asserts (cannot flake): every counting variant counts exactly J x delivered packets.
#   BUILD_DIR=... packet_path.sh [--quick]
source "$(dirname "$0")/../lib/netns.sh"
BLAST="$BUILD_DIR/tests/bench/udp_blast"
[ -x "$BLAST" ] || { echo "FAIL: $BLAST not built"; exit 1; }

QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
AMP=100
if [ "$QUICK" = 1 ]; then ROUNDS=1 N1=20000 NAMP=2000; else ROUNDS=${ROUNDS:-9} N1=${N1:-300000} NAMP=${NAMP:-30000}; fi

topology
# A neighbour on the server's link that nobody answers for: the server's stack drops the frames
# (other host) at once, no reply, no ICMP: the router's forward path is all that is measured.
TARGET=198.18.2.99
ip -n "$ROUTER" neigh add "$TARGET" lladdr 02:00:00:00:00:99 dev r1 nud permanent
PIN=""; command -v taskset > /dev/null && [ "$(nproc)" -gt 1 ] && PIN="taskset -c 1"

ruleset() {  # ruleset VARIANT J
    local body="" i
    case $1 in
        classic) for p in tcp udp; do for s in new established invalid; do
                     body+="		ip protocol $p ct state $s counter name \"${p}_conntrack_fwd_$s\""$'\n'
                 done; done ;;
        counter) body="		counter name \"udp_conntrack_fwd_new\""$'\n' ;;
        map) body="		counter name ip protocol . ct state map { tcp . new : \"tcp_conntrack_fwd_new\", tcp . established : \"tcp_conntrack_fwd_established\", tcp . invalid : \"tcp_conntrack_fwd_invalid\", udp . new : \"udp_conntrack_fwd_new\", udp . established : \"udp_conntrack_fwd_established\", udp . invalid : \"udp_conntrack_fwd_invalid\" }"$'\n' ;;
    esac
    echo "table ip bench {"
    for p in tcp udp; do for s in new established invalid; do echo "	counter ${p}_conntrack_fwd_$s { }"; done; done
    echo "	chain count {"
    printf '%s' "$body"
    echo "	}"
    echo "	chain forward {"
    echo "		type filter hook forward priority 0; policy accept;"
    echo "		ct state related accept"
    for ((i = 0; i < $2; i++)); do echo "		jump count"; done
    echo "	}"
    echo "}"
}

load() {  # load VARIANT J
    in_ns "$ROUTER" nft delete table ip bench 2> /dev/null || true
    ruleset "$1" "$2" > "$TMP/ruleset.nft"
    in_ns "$ROUTER" nft -f "$TMP/ruleset.nft"
}

tx() { in_ns "$ROUTER" cat /sys/class/net/r1/statistics/tx_packets; }

# One measurement: prints "ns_per_delivered_packet delivered".
measure() {  # measure VARIANT J N
    load "$1" "$2"
    local before after out sent wall delivered counted
    in_ns "$CLIENT" $PIN "$BLAST" "$TARGET" 9 2000 > /dev/null  # warm-up
    before=$(tx)
    out=$(in_ns "$CLIENT" $PIN "$BLAST" "$TARGET" 9 "$3")
    after=$(tx)
    read -r sent wall cpu <<< "$out"
    [ -n "${DEBUG_BLAST:-}" ] && echo "$1 J=$2 sent=$sent wall=$wall cpu=$cpu" >&2
    delivered=$((after - before))
    if [ "$1" != none ]; then
        counted=$(in_ns "$ROUTER" "$CTNFT" dump --table bench | awk '$1 == "udp_conntrack_fwd_new" { print $2 }')
        # the warm-up packets were counted too
        [ "$counted" = $(( $2 * (delivered + 2000) )) ] ||
            fail "$1 J=$2: udp_conntrack_fwd_new = $counted, expected $2 x $((delivered + 2000)) delivered"
    fi
    [ "$delivered" -gt 0 ] || { fail "$1 J=$2: nothing forwarded"; echo "0 0"; return; }
    # CPU time of the sender, which carries the forwarding (softirq) on veth: unlike wall time it
    # leaves out time the sender waited for the CPU on this shared machine.
    echo "$(awk -v w="$cpu" -v d="$delivered" 'BEGIN { printf "%.1f", w / d }') $delivered"
}

: > "$TMP/results"
variants=(none classic map counter)
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < 4; k++)); do
        v=${variants[$(( (r + k) % 4 ))]}  # rotate the order from round to round
        read -r ns1 d1 <<< "$(measure "$v" 1 "$N1")"
        read -r nsa da <<< "$(measure "$v" "$AMP" "$NAMP")"
        echo "$r $v $ns1 $nsa $d1 $da" >> "$TMP/results"
    done
done

echo
echo "== (3) packet path: forwarded UDP, 64-byte frames, one flow; medians of $ROUNDS rounds ($N1 packets at J=1, $NAMP at J=$AMP)"
awk -v amp="$AMP" '
    function median(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { one[$1, $2] = $3; many[$1, $2] = $4; rounds[$1] = 1 }
    END {
        n = 0
        for (r in rounds) {
            n++
            for (v = 1; v <= 4; v++) {
                name = v == 1 ? "none" : v == 2 ? "classic" : v == 3 ? "map" : "counter"
                o[name, n] = one[r, name]; m[name, n] = many[r, name]
            }
            dka[n] = (many[r, "counter"] - many[r, "none"]) / amp
            dc1[n] = one[r, "classic"] - one[r, "none"]; dm1[n] = one[r, "map"] - one[r, "none"]
            dca[n] = (many[r, "classic"] - many[r, "none"]) / amp; dma[n] = (many[r, "map"] - many[r, "none"]) / amp
            rt[n] = dma[n] / dca[n]
        }
        printf "%-34s %16s %16s\n", "ruleset in the forward chain", "cpu ns/pkt J=1", "cpu ns/pkt J=" amp
        split("none classic map counter", names, " ")
        label["none"] = "none (conntrack on, no counting)"; label["classic"] = "today: 6 sequential rules"
        label["map"] = "ours: one map lookup"; label["counter"] = "counter update alone (reference)"
        for (v = 1; v <= 4; v++) {
            name = names[v]
            for (i = 1; i <= n; i++) { a[i] = o[name, i]; b[i] = m[name, i] }
            printf "%-34s %16.1f %16.1f\n", label[name], median(a, n), median(b, n)
        }
        printf "added ns per packet at J=1 (median of per-round differences): classic %.1f, map %.1f\n", median(dc1, n), median(dm1, n)
        printf "added ns per pass (amplified, (J=%d - none) / %d): classic %.1f, map %.1f\n", amp, amp, median(dca, n), median(dma, n)
        printf "of which the counter update alone (one unconditional counter): %.1f; without it: classic %.1f, map %.1f\n", \
            median(dka, n), median(dca, n) - median(dka, n), median(dma, n) - median(dka, n)
        printf "RESULT packet.counter_ns_per_pass %.1f\n", median(dka, n)
        printf "RESULT packet.classic_ns_per_pass %.1f\nRESULT packet.map_ns_per_pass %.1f\n", median(dca, n), median(dma, n)
        printf "RESULT packet.map_vs_classic_added_cost %.2f\n", median(rt, n)
    }' "$TMP/results"
finish
