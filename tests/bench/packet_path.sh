#!/usr/bin/env bash
# (3) Packet path: the added per-packet cost of the counting rules on forwarded traffic.
# client -> router -> (a neighbour that is not there) ; one UDP flow of 64-byte frames sent with
# sendmmsg by one pinned thread (udp_blast). On veth the router's forwarding runs in the sender's
# softirq, so the sender's CPU time per delivered packet is the cost of the whole forward path.
# Router variants, all with connection tracking on (one `ct state related accept` rule, as on any
# router with NAT), a base chain that jumps J times into a chain `count` holding (VARIANTS picks):
#   none       nothing (the baseline)
#   classic    today's six sequential rules (nft/conntrack-counter.nft's forward chain)
#   classiceq  the same with `ct state == X` (one compare instead of mask and compare)
#   map        one rule, `counter name ip protocol . ct state map {...}` (RuleShape map: an
#              8-byte concatenated key, the kernel's generic hash)
#   pipapo     the same map declared with `flags interval` (the kernel's pipapo backend)
#   protomap   one rule per protocol, `ip protocol P counter name ct state map {...}` (4-byte key:
#              the kernel's fast hash)
#   jump/vmap  one chain per protocol (compare-and-jump rules / a verdict map on the protocol),
#              in it `counter name ct state map {...}`
#   statevmap  one chain per state (verdict map on ct state), in it a protocol map
#   counter    one unconditional `counter name "udp_conntrack_fwd_new"`: the counter update alone,
#              which every shape pays once per packet (the floor of any counting ruleset)
#   statemap   `counter name ct state map {...}` with the udp counters only: one 4-byte lookup and
#              the counter, no protocol test (a reference: exact only for this UDP traffic)
# J=1 is the real setting; J=$AMP amplifies the rules' cost above the noise (added cost per pass =
# (variant - none) / J). Variants are interleaved in every round; figures are medians of rounds.
# Asserts (cannot flake): every counting variant counts exactly J x delivered packets.
#   BUILD_DIR=... packet_path.sh [--quick]
source "$(dirname "$0")/../lib/netns.sh"
BLAST="$BUILD_DIR/tests/bench/udp_blast"
[ -x "$BLAST" ] || { echo "FAIL: $BLAST not built"; exit 1; }

QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
AMP=100
if [ "$QUICK" = 1 ]; then ROUNDS=1 N1=20000 NAMP=2000; else ROUNDS=${ROUNDS:-9} N1=${N1:-200000} NAMP=${NAMP:-30000}; fi

topology
# A neighbour on the server's link that nobody answers for: the server's stack drops the frames
# (other host) at once, no reply, no ICMP: the router's forward path is all that is measured.
TARGET=198.18.2.99
ip -n "$ROUTER" neigh add "$TARGET" lladdr 02:00:00:00:00:99 dev r1 nud permanent
PIN=""; command -v taskset > /dev/null && [ "$(nproc)" -gt 1 ] && PIN="taskset -c 1"

counters_of() { local p s; for p in tcp udp; do for s in new established invalid; do echo "$p $s"; done; done; }

# The body of chain `count` (and any chains it jumps to) for each variant.
ruleset() {  # ruleset VARIANT J
    local body="" extra="" i p s
    case $1 in
        none) ;;
        classic) while read -r p s; do
                     body+="		ip protocol $p ct state $s counter name \"${p}_conntrack_fwd_$s\""$'\n'
                 done < <(counters_of) ;;
        counter) body="		counter name \"udp_conntrack_fwd_new\""$'\n' ;;
        map) body="		counter name ip protocol . ct state map { $(counters_of | while read -r p s; do
                 printf '%s . %s : "%s_conntrack_fwd_%s", ' "$p" "$s" "$p" "$s"; done | sed 's/, $//') }"$'\n' ;;
        vmap|jump)
            # One chain per protocol, picked by a verdict map (vmap) or one compare-and-jump rule per
            # protocol (jump); in it the state picks the counter in a map with a 4-byte key.
            if [ "$1" = vmap ]; then body="		ip protocol vmap { tcp : jump count_tcp, udp : jump count_udp }"$'\n'
            else for p in tcp udp; do body+="		ip protocol $p jump count_$p"$'\n'; done; fi
            for p in tcp udp; do
                extra+="	chain count_$p {"$'\n'
                extra+="		counter name ct state map { new : \"${p}_conntrack_fwd_new\", established : \"${p}_conntrack_fwd_established\", invalid : \"${p}_conntrack_fwd_invalid\" }"$'\n'
                extra+="	}"$'\n'
            done ;;
        classiceq) while read -r p s; do
                     body+="		ip protocol $p ct state == $s counter name \"${p}_conntrack_fwd_$s\""$'\n'
                 done < <(counters_of) ;;
        protomap)
            # One rule per protocol, no jump: a protocol compare, then the state picks the counter
            # in a map with a 4-byte key.
            for p in tcp udp; do
                body+="		ip protocol $p counter name ct state map { new : \"${p}_conntrack_fwd_new\", established : \"${p}_conntrack_fwd_established\", invalid : \"${p}_conntrack_fwd_invalid\" }"$'\n'
            done ;;
        statemap) body="		counter name ct state map { new : \"udp_conntrack_fwd_new\", established : \"udp_conntrack_fwd_established\", invalid : \"udp_conntrack_fwd_invalid\" }"$'\n' ;;
        pipapo)
            # The map of the map shape with the interval flag: the kernel picks its pipapo backend.
            extra="	map pm {"$'\n'"		type inet_proto . ct_state : counter; flags interval;"$'\n'"		elements = { $(counters_of | while read -r p s; do
                 printf '%s . %s : "%s_conntrack_fwd_%s", ' "$p" "$s" "$p" "$s"; done | sed 's/, $//') }"$'\n'"	}"$'\n'
            body="		counter name ip protocol . ct state map @pm"$'\n' ;;
        statevmap)
            # One chain per state (a verdict map on ct state, 4-byte key), the protocol picks the counter.
            body="		ct state vmap { new : jump count_new, established : jump count_established, invalid : jump count_invalid }"$'\n'
            for s in new established invalid; do
                extra+="	chain count_$s {"$'\n'"		counter name ip protocol map { tcp : \"tcp_conntrack_fwd_$s\", udp : \"udp_conntrack_fwd_$s\" }"$'\n'"	}"$'\n'
            done ;;
        *) fail "unknown variant $1"; return 1 ;;
    esac
    echo "table ip bench {"
    while read -r p s; do echo "	counter ${p}_conntrack_fwd_$s { }"; done < <(counters_of)
    printf '%s' "$extra"
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
read -r -a variants <<< "${VARIANTS:-none classic classiceq map pipapo protomap jump vmap statevmap counter statemap}"
nv=${#variants[@]}
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < nv; k++)); do
        v=${variants[$(( (r + k) % nv ))]}  # rotate the order from round to round
        read -r ns1 d1 <<< "$(measure "$v" 1 "$N1")"
        read -r nsa da <<< "$(measure "$v" "$AMP" "$NAMP")"
        echo "$r $v $ns1 $nsa $d1 $da" >> "$TMP/results"
    done
done

[ -n "${KEEP_RESULTS:-}" ] && cp "$TMP/results" "$KEEP_RESULTS"  # per-round figures, for a closer look
echo
echo "== (3) packet path: forwarded UDP, 64-byte frames, one flow; medians of $ROUNDS rounds ($N1 packets at J=1, $NAMP at J=$AMP)"
awk -v amp="$AMP" -v order="${variants[*]}" '
    function median(a, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { one[$1, $2] = $3; many[$1, $2] = $4; rounds[$1] = 1 }
    END {
        nv = split(order, names, " ")
        label["none"] = "none (conntrack on, no counting)"; label["classic"] = "classic: 6 sequential rules"
        label["map"] = "map: protocol . state map (8 B key)"; label["counter"] = "counter update alone (reference)"
        label["vmap"] = "vmap: protocol vmap + state map"; label["jump"] = "jump: protocol jumps + state map"
        label["statevmap"] = "statevmap: state vmap + proto map"
        label["classiceq"] = "classiceq: 6 rules, ct state =="; label["protomap"] = "protomap: per protocol, state map"
        label["statemap"] = "state map alone (reference)"; label["pipapo"] = "pipapo: map with interval flag"
        printf "%-38s %14s %14s %14s %12s\n", "ruleset in the forward chain", "ns/pkt J=1", "ns/pkt J=" amp, \
            "added ns/pass", "vs classic"
        for (v = 1; v <= nv; v++) {
            name = names[v]; n = 0; nr = 0
            for (r in rounds) {
                n++; a[n] = one[r, name]; b[n] = many[r, name]
                d[n] = (many[r, name] - many[r, "none"]) / amp
                if (name != "none" && many[r, "classic"] != many[r, "none"]) {
                    nr++; q[nr] = (many[r, name] - many[r, "none"]) / (many[r, "classic"] - many[r, "none"])
                }
            }
            added = median(d, n)
            ratio = nr ? sprintf("%.2f", median(q, nr)) : "-"
            if (name == "none") printf "%-38s %14.1f %14.1f %14s %12s\n", label[name], median(a, n), median(b, n), "-", "-"
            else printf "%-38s %14.1f %14.1f %14.1f %12s\n", label[name], median(a, n), median(b, n), added, ratio
            if (name != "none") {
                printf "RESULT packet.%s_ns_per_pass %.1f\n", name, added
                if (ratio != "-") printf "RESULT packet.%s_vs_classic_added_cost %s\n", name, ratio
            }
        }
        print "added ns/pass: (J=" amp " - none) / " amp ", median of per-round differences; vs classic: median of per-round ratios"
    }' "$TMP/results"
finish
