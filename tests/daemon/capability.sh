#!/usr/bin/env bash
# Without CAP_NET_ADMIN the plugin says so in one ERROR line and does not start; collectd and
# its other plugins keep running. A bad configuration is handled the same way.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
ns_add NS cap

write_conf "$TMP/collectd.conf" load < /dev/null
start_collectd "$NS" "$TMP/collectd.conf" setpriv --inh-caps=-net_admin --bounding-set=-net_admin
wait_reads "router/load/load" 2 || fail "load plugin dispatched nothing"
assert_eq 1 "$(log_count 'conntrack_nft plugin: .*needs CAP_NET_ADMIN')" "ERROR lines naming CAP_NET_ADMIN"
assert_eq 1 "$(grep -c 'conntrack_nft plugin' "$TMP/collectd.log" | tr -d ' ')" "conntrack_nft lines in the log"
wait_reads "router/load/load" 2 && pass "load plugin keeps dispatching" || fail "load plugin stopped"
assert_eq 0 "$(putvals | grep -c nftables || true)" "nftables values dispatched"
assert_eq 0 "$(in_ns "$NS" nft list tables | grep -c . || true)" "tables created"
stop_collectd TERM

# A bad key: one ERROR line naming it and the accepted keys; collectd runs on.
: > "$TMP/collectd.log"
write_conf "$TMP/bad.conf" load <<'CONF'
<Plugin conntrack_nft>
  Protocol "tcp" "sctp"
</Plugin>
CONF
start_collectd "$NS" "$TMP/bad.conf"
wait_reads "router/load/load" 2 || fail "load plugin dispatched nothing"
assert_eq 1 "$(log_count 'conntrack_nft plugin: Protocol: "sctp" is not accepted; use one of tcp, udp, icmp, icmpv6')" \
    "ERROR line naming the key, value and accepted values"
assert_eq 1 "$(grep -c 'conntrack_nft plugin' "$TMP/collectd.log" | tr -d ' ')" "conntrack_nft lines in the log"
assert_eq 0 "$(putvals | grep -c nftables || true)" "nftables values dispatched"
assert_eq 0 "$(in_ns "$NS" nft list tables | grep -c . || true)" "tables created"
stop_collectd TERM
finish
