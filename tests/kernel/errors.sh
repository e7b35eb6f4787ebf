#!/usr/bin/env bash
# Kernel refusals reach the user as messages that say what to do.
source "$(dirname "$0")/../lib/netns.sh"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
ns_add NS errors

drop_cap() { in_ns "$NS" setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$@"; }
if drop_cap "$CTNFT" create > "$TMP/create.log" 2>&1; then
    fail "create without CAP_NET_ADMIN succeeded"
else
    grep -q "needs CAP_NET_ADMIN" "$TMP/create.log" && pass "create without CAP_NET_ADMIN: $(cat "$TMP/create.log")" ||
        fail "unclear message: $(cat "$TMP/create.log")"
fi
if drop_cap "$CTNFT" dump > "$TMP/dump.log" 2>&1; then
    fail "dump without CAP_NET_ADMIN succeeded"
else
    grep -q "needs CAP_NET_ADMIN" "$TMP/dump.log" && pass "dump without CAP_NET_ADMIN: $(cat "$TMP/dump.log")" ||
        fail "unclear message: $(cat "$TMP/dump.log")"
fi
# A refused message inside a batch is named: a chain priority the kernel takes, on a hook the
# family lacks, is impossible through our types, so use a name collision instead: a table whose
# chain has the same name as ours but another type is replaced, not failed.
in_ns "$NS" nft add table ip conntrack_stats
in_ns "$NS" nft add chain ip conntrack_stats input_counter '{ type filter hook input priority 5; }'
in_ns "$NS" "$CTNFT" create --no-owner > /dev/null && pass "a table with a conflicting chain is replaced" ||
    fail "conflicting chain not replaced"
assert_eq "type filter hook input priority filter; policy accept;" \
    "$(in_ns "$NS" nft list chain ip conntrack_stats input_counter | grep -o 'type.*')" "chain priority now ours (0)"
# A kernel without an expression the rules use (modules nft_ct, nft_objref left out): the error
# names the expression and its module, found through the kernel's extended ack. Here the "ct"
# expressions are renamed to one no kernel has; tests/vm leaves the real modules out.
for shape in map classic; do
    if in_ns "$NS" "$CTNFT" broken-rule --table broken_$shape --shape $shape > "$TMP/broken.log" 2>&1; then
        fail "a rule with an unknown expression was committed ($shape)"
    else
        grep -q 'the kernel has no nf_tables expression "zz": load module nft_zz, on OpenWrt install kmod-nft-core' \
            "$TMP/broken.log" && pass "missing expression named ($shape): $(cat "$TMP/broken.log")" ||
            fail "unclear message ($shape): $(cat "$TMP/broken.log")"
    fi
done
finish
