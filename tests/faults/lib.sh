# Helpers of the fault tests; source after tests/lib/netns.sh and tests/lib/collectd.sh.

alive() {  # alive WHAT: collectd still running
    if kill -0 "$COLLECTD_PID" 2>/dev/null; then pass "collectd alive $1"; else fail "collectd died $1"; fi
}

# Waits until the latest dispatched value of IDENTIFIER is EXPECTED, then asserts it.
expect_value() {  # expect_value IDENTIFIER EXPECTED WHAT [SECONDS]
    wait_for "${4:-20}" sh -c "[ \"\$(grep '^PUTVAL $1 ' '$TMP/values.log' | grep -E ' [0-9.]+:[-0-9.e+]+$' | tail -n 1 | sed 's/.*://')\" = '$2' ]" || true
    assert_eq "$2" "$(putvals | awk -v id="$1" '$2 == id { split($4, tv, ":"); v = tv[2] } END { print v }')" "$3"
}

# Counts new flows through the router: N new UDP flows from client to server (fresh ports).
udp_flows() {  # udp_flows N PORTBASE
    in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" "$2" "$1" > /dev/null
}

no_plugin_errors() {  # no_plugin_errors: no ERROR line of the plugin in the daemon log
    assert_eq 0 "$(grep -c -E '\[error\] conntrack_nft' "$TMP/collectd.log" || true)" "plugin ERROR lines in the log"
}
