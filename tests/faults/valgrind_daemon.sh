#!/usr/bin/env bash
# valgrind memcheck over a real daemon run: Debian's collectd -f loading the plugin, in a
# namespace, with traffic, sampling, conntrack statistics per CPU, a repair (table deleted behind
# it, OwnerFlag false) and a clean stop. Fails on any invalid access, use of uninitialised
# memory or bad free anywhere, and on any definite or indirect leak whose stack passes through
# the plugin or the libraries it calls (libnftnl, libmnl). Prints valgrind's leak summary.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/lib.sh"
command -v valgrind > /dev/null || skip "needs valgrind"
topology
ID=router/nftables-conntrack_stats
UDP_NEW=$ID/packets-udp_conntrack_fwd_new

INTERVAL=1 write_conf "$TMP/c.conf" <<'CONF'
<Plugin conntrack_nft>
  OwnerFlag false
  SampleInterval 0.1
  PerCPU true
  ReportBytes true
</Plugin>
CONF
# stdbuf execs collectd: valgrind follows it (and only it: stdbuf itself is not checked).
start_collectd "$ROUTER" "$TMP/c.conf" valgrind --tool=memcheck --trace-children=yes \
    --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --keep-debuginfo=yes --num-callers=30 --log-file="$TMP/valgrind.%p.log"
wait_reads "$UDP_NEW" 2 90 || { fail "no reads under valgrind"; exit 1; }
udp_flows 3 21000
expect_value "$UDP_NEW" 3 "udp_conntrack_fwd_new under valgrind" 60
in_ns "$ROUTER" nft delete table ip conntrack_stats
wait_for 60 grep -q 'created it again' "$TMP/collectd.log" && pass "repaired under valgrind" || fail "no repair"
udp_flows 2 21100
expect_value "$UDP_NEW" 2 "udp_conntrack_fwd_new after the repair" 60
alive "under valgrind"
stop_collectd TERM
# The daemon's log: the one whose command line is collectd.
log=$(grep -l -E 'Command: .*collectd' "$TMP"/valgrind.*.log); log=${log%%$'\n'*}
[ -n "$log" ] || { fail "no valgrind log of collectd"; finish; }
cp "$log" "$TMP/valgrind.log"  # shown on failure
sed -n '/LEAK SUMMARY/,/suppressed/p' "$log" | sed 's/^==[0-9]*== //'
sed -n '/ERROR SUMMARY/p' "$log" | sed 's/^==[0-9]*== //'
assert_eq 0 "$(grep -c -E 'Invalid (read|write|free)|Mismatched free|uninitialised|Source and destination overlap' "$log" || true)" \
    "invalid accesses, bad frees, uses of uninitialised values"
# Each leak record runs from "are definitely/indirectly lost" to the next blank line.
ours=$(awk '/are (definitely|indirectly) lost/ { rec = 1; buf = "" } rec { buf = buf "\n" $0 }
            rec && /^==[0-9]+== *$/ { if (buf ~ /conntrack_nft|ctnft|libnftnl|libmnl/) n++; rec = 0 }
            END { print n + 0 }' "$log")
# Every definite/indirect record, shortened, for the record (Debian's collectd has one of its own).
awk '/are (definitely|indirectly) lost/ { rec = 1; k = 0 } rec && k++ < 8 { sub(/^==[0-9]+== /, "  "); print }
     rec && /^==[0-9]+== *$/ { rec = 0 }' "$log"
assert_eq 0 "$ours" "definite or indirect leak records involving the plugin"
definite=$(grep -o 'definitely lost: [0-9,]* bytes' "$log" | grep -o '[0-9,]* bytes' || echo "? bytes")
indirect=$(grep -o 'indirectly lost: [0-9,]* bytes' "$log" | grep -o '[0-9,]* bytes' || echo "? bytes")
echo "valgrind: definitely lost $definite, indirectly lost $indirect (whole daemon)"
finish
