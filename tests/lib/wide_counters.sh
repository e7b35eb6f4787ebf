# Counter values past 2^31, 2^32, 2^53 and up to 2^63 - 1, for the tests that prove the 32-bit
# build (long and size_t of 32 bits; a double holds integers exactly only up to 2^53) carries a
# long-running router's counters exactly. Source after netns.sh.
P_UDP=9007199254740993 B_UDP=4611686018427387907   # 2^53 + 1, 2^62 + 3
P_TCP=4294967301 B_TCP=1099511627781               # 2^32 + 5, 2^40 + 5
P_INV=2147483648 B_INV=4294967296                  # 2^31, 2^32
P_OUT=18446744073709551 B_OUT=9223372036854775807  # 2^64 / 1000, 2^63 - 1 (collectd's DERIVE maximum)

# preset_counters < RULESET.nft > OUT.nft: the same ruleset with four counters preset (nft takes
# initial values): udp_conntrack_fwd_new, tcp_conntrack_fwd_new, tcp_conntrack_input_invalid,
# udp_conntrack_output_new.
preset_counters() {
    awk -v u="$P_UDP $B_UDP" -v t="$P_TCP $B_TCP" -v i="$P_INV $B_INV" -v o="$P_OUT $B_OUT" '
        { print }
        $1 == "counter" && $3 == "{" {
            split("", v)
            if ($2 == "udp_conntrack_fwd_new") split(u, v)
            if ($2 == "tcp_conntrack_fwd_new") split(t, v)
            if ($2 == "tcp_conntrack_input_invalid") split(i, v)
            if ($2 == "udp_conntrack_output_new") split(o, v)
            if (1 in v) print "\t\tpackets " v[1] " bytes " v[2]
        }'
}

# "name packets bytes" per counter of table ip conntrack_stats in NS, from nft's text listing
# (jq would round numbers past 2^53).
nft_text_counters() {  # nft_text_counters NS
    in_ns "$1" nft list counters table ip conntrack_stats |
        awk '$1 == "counter" { n = $2 } $1 == "packets" { print n, $2, $4 }' | sort
}
