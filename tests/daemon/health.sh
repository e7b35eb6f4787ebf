#!/usr/bin/env bash
# Conntrack health next to the packet counters, from the real daemon: entries and maximum equal
# `conntrack -C` and nf_conntrack_max, the summed statistics equal `conntrack -S`, per-CPU values
# add up, and invalid packets provoked for real show up.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
command -v conntrack >/dev/null || skip "needs conntrack (package conntrack)"
topology
start_tcp_server "$SERVER" 5001

write_conf "$TMP/collectd.conf" <<'CONF'
<Plugin conntrack_nft>
  PerCPU true
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/collectd.conf"
H=router/conntrack_nft
wait_reads "$H/conntrack-entries" 1 || { fail "no conntrack values"; exit 1; }

in_ns "$CLIENT" $TRAFFIC tcp-connect "$SERVER_IP" 5001 4 > /dev/null
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 20000 6 > /dev/null
for _ in 1 2; do in_ns "$CLIENT" $TRAFFIC syn-fin "$CLIENT_IP" "$SERVER_IP" 5001 > /dev/null; done
settle "$ROUTER" 6
wait_reads "$H/conntrack-entries" 2

# Traffic has stopped: the kernel's figures are still, and the last read saw them.
gauge() { awk -v v="$(value_of "$1")" 'BEGIN { printf "%d", v }'; }  # gauges print as 10.000000
assert_eq "$(in_ns "$ROUTER" conntrack -C)" "$(gauge "$H/conntrack-entries")" "conntrack-entries = conntrack -C"
assert_eq "$(in_ns "$ROUTER" sysctl -n net.netfilter.nf_conntrack_max)" "$(gauge "$H/conntrack-max")" "conntrack-max"
entries=$(value_of "$H/conntrack-entries") max=$(value_of "$H/conntrack-max")
assert_eq "$(awk -v e="$entries" -v m="$max" 'BEGIN { printf "%.6f", 100 * e / m }')" \
    "$(awk -v v="$(value_of "$H/percent-used")" 'BEGIN { printf "%.6f", v }')" "percent-used"
in_ns "$ROUTER" conntrack -S | tr ' \t' '\n\n' | awk -F= 'NF == 2 && $1 != "cpu" { s[$1] += $2 }
    END { for (k in s) print "'"$H"'/operations-" k, s[k] }' | sort > "$TMP/expected.txt"
latest_values | grep "^$H/operations-" > "$TMP/dispatched.txt"
if diff -u "$TMP/expected.txt" "$TMP/dispatched.txt"; then pass "operations-* equal the sums of conntrack -S ($(wc -l < "$TMP/expected.txt"))"
else fail "operations differ from conntrack -S"; fi
assert_ge 2 "$(value_of "$H/operations-invalid")" "operations-invalid after 2 SYN+FIN segments"
per_cpu=$(latest_values | awk -F'[ /]' '$2 ~ /^conntrack_nft-cpu/ && $3 == "operations-invalid" { t += $4 } END { print t + 0 }')
assert_eq "$(value_of "$H/operations-invalid")" "$per_cpu" "per-CPU operations-invalid add up"
assert_eq 0 "$(gauge "$H/count-flowtables")" "count-flowtables"
assert_eq 6 "$(value_of router/nftables-conntrack_stats/packets-udp_conntrack_fwd_new)" "packet counters alongside"
# collectd splits plugin and type at the first '-': every identifier must split into ours.
assert_eq "conntrack_nft conntrack
conntrack_nft count
conntrack_nft operations
conntrack_nft percent
nftables packets" "$(putvals | awk '{ split($2, p, "/"); split(p[2], a, "-"); split(p[3], b, "-"); print a[1], b[1] }' | sort -u)" \
    "plugin and type names of every identifier"
stop_collectd TERM
finish
