#!/usr/bin/env bash
# The kernel's owner flag: the table lives as long as the owning socket; nobody else can change
# or delete it; `nft flush ruleset` leaves it alone.
source "$(dirname "$0")/../lib/netns.sh"
ns_add NS owner

mkfifo "$TMP/hold"
bg sh -c "exec ip netns exec $NS $CTNFT create --hold < $TMP/hold > $TMP/create.log 2>&1"
HOLDER=$BG_PID
exec 9>"$TMP/hold"
wait_for 15 grep -q created "$TMP/create.log" || { cat "$TMP/create.log"; exit 1; }
assert_eq 1 "$(in_ns "$NS" "$CTNFT" info | cut -d' ' -f1)" "table exists while its owner runs"
assert_eq 2 "$(in_ns "$NS" "$CTNFT" info | cut -d' ' -f2)" "table flags (owner)"

if in_ns "$NS" nft delete table ip conntrack_stats 2> "$TMP/delete.err"; then
    fail "another process deleted the owned table"
else
    grep -q "Operation not permitted" "$TMP/delete.err" && pass "nft delete table: Operation not permitted" ||
        fail "unexpected error: $(cat "$TMP/delete.err")"
fi
if in_ns "$NS" "$CTNFT" create > "$TMP/second.log" 2>&1; then
    fail "a second owner took the table"
else
    grep -q "owned by another process" "$TMP/second.log" && pass "second creator is told the table is owned" ||
        fail "unexpected message: $(cat "$TMP/second.log")"
fi
in_ns "$NS" nft flush ruleset
assert_eq 18 "$(in_ns "$NS" "$CTNFT" dump | wc -l)" "counters after nft flush ruleset"

# A crash (SIGKILL) of the owner: the kernel removes the table with the socket.
# `sh -c exec ip netns exec` execs all the way down: $HOLDER is ctnft itself.
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
table_gone() { grep -q '^0 ' <<< "$(in_ns "$NS" "$CTNFT" info)"; }
wait_for 15 table_gone &&
    pass "table removed by the kernel when its owner died" || fail "table outlived its owner"
set +e
in_ns "$NS" "$CTNFT" dump > "$TMP/dump.txt"
rc=$?
set -e
assert_eq 3 "$rc" "dump of the removed table exits 3 (missing)"
assert_eq missing "$(cat "$TMP/dump.txt")" "dump of the removed table says missing, not zeros"
finish
