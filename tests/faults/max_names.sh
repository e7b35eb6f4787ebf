#!/usr/bin/env bash
# Attach mode, counter names at nft's maximum (255 characters) and around collectd's (127): a
# name of 127 is dispatched; 128 and 255 cannot be collectd identifiers and are skipped with one
# WARNING each, however many reads; the others are read right. Then many long names make the
# dump span several datagrams of the largest size the kernel sends (32 KiB): all read right.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
ns_add NS names
name() { printf "%s%0$(($2 - 1))d" "$1" 0; }  # name LETTER LENGTH
N127=$(name a 127) N128=$(name b 128) N255=$(name c 255)
{
    echo "table ip names {"
    echo "  counter $N127 { packets 127 bytes 1 }"
    echo "  counter $N128 { packets 128 bytes 1 }"
    echo "  counter $N255 { packets 255 bytes 1 }"
    echo "  counter short { packets 7 bytes 1 }"
    echo "}"
} > "$TMP/names.nft"
in_ns "$NS" nft -f "$TMP/names.nft"
assert_eq 255 "$(in_ns "$NS" nft -j list counters table ip names | jq -r '.nftables[] | select(.counter) | .counter.name' | awk '{ print length }' | sort -n | tail -1)" \
    "longest counter name nft accepted"

write_conf "$TMP/c.conf" <<'CONF'
<Plugin conntrack_nft>
  Manage false
  Table "names"
  ConntrackStats false
</Plugin>
CONF
start_collectd "$NS" "$TMP/c.conf"
wait_reads "router/nftables-names/packets-short" 4 || fail "no reads"
expect_value "router/nftables-names/packets-$N127" 127 "a 127-character name"
expect_value "router/nftables-names/packets-short" 7 "the short name"
assert_eq 0 "$(putvals | grep -c -E "packets-(b0|c0)" || true)" "values of the 128 and 255 character names"
assert_eq 2 "$(log_count 'is skipped: collectd identifiers take at most 127 characters')" "WARNING lines (one per name)"
alive "with names at maximum length"
stop_collectd TERM

# 600 counters with 127-character names: about 150 KiB of replies per read, in 32 KiB datagrams.
{
    echo "table ip names {"
    for i in $(seq 1 600); do printf '  counter %s%05d { packets %d bytes 1 }\n' "$(name x 122)" "$i" "$i"; done
    echo "}"
} > "$TMP/many.nft"
in_ns "$NS" nft -f "$TMP/many.nft"
: > "$TMP/collectd.log"
start_collectd "$NS" "$TMP/c.conf"
wait_reads "router/nftables-names/packets-short" 2 || fail "no reads"
latest_values | grep "^router/nftables-names/packets-x" > "$TMP/x.txt"
assert_eq 600 "$(wc -l < "$TMP/x.txt")" "long-named counters dispatched"
assert_eq 0 "$(awk '{ i = substr($1, length($1) - 4) + 0; if ($2 != i) n++ } END { print n + 0 }' "$TMP/x.txt")" \
    "long-named counters with a wrong value"
alive "after reading 600 long names"
no_plugin_errors
stop_collectd TERM
finish
