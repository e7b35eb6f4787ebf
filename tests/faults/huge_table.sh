#!/usr/bin/env bash
# Manage false on a table of 10,000 named counters loaded with nft -f, each with its own start
# value: every read dispatches all 10,000, each with its own value; collectd stays up.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
ns_add NS huge
N=10000
{
    echo "table ip huge {"
    for i in $(seq 0 $((N - 1))); do printf '  counter c%05d { packets %d bytes %d }\n' "$i" "$i" $((2 * i)); done
    echo "}"
} > "$TMP/huge.nft"
in_ns "$NS" nft -f "$TMP/huge.nft"
assert_eq $N "$(in_ns "$NS" nft -j list counters table ip huge | jq '[.nftables[] | select(.counter)] | length')" "counters loaded"

INTERVAL=2 write_conf "$TMP/c.conf" <<'CONF'
<Plugin conntrack_nft>
  Manage false
  Table "huge"
  ReportBytes true
  ConntrackStats false
</Plugin>
CONF
start_collectd "$NS" "$TMP/c.conf"
wait_reads "router/nftables-huge/packets-c09999" 2 30 || fail "no two reads of the last counter"
alive "after reading $N counters"
# The latest value of every identifier: 10,000 packets and 10,000 bytes values, each its own.
latest_values | grep '^router/nftables-huge/' > "$TMP/latest.txt"
assert_eq $((2 * N)) "$(wc -l < "$TMP/latest.txt")" "identifiers dispatched"
wrong=$(awk '{ split($1, p, "/"); split(p[3], t, "-c"); i = t[2] + 0;
               want = (t[1] == "packets") ? i : 2 * i; if ($2 != want) n++ } END { print n + 0 }' "$TMP/latest.txt")
assert_eq 0 "$wrong" "values that differ from the counter's own"
# One read is one timestamp: all 10,000 packets values of a read share it.
assert_eq $N "$(values_per_read router/nftables-huge/packets- | tail -n 1)" "packets values in the last complete read"
no_plugin_errors
stop_collectd TERM
assert_eq 1 "$(in_ns "$NS" nft list tables | grep -c huge)" "attached table untouched"
finish
