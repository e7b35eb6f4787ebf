#!/usr/bin/env bash
# KeepTable: the table and its counter values outlive the process that made them, and the next
# one adopts them, on every kernel. With the persist flag (Linux 6.9) the kept table is owned
# while its process runs; an older kernel refuses the flag, the table is kept unowned, and the
# values must survive all the same (the kernel tests run on this machine's kernel and, in the
# VM lab, on Debian's 6.1, which has the owner flag but not persist).
source "$(dirname "$0")/../lib/netns.sh"
ns_add NS keep

# Kernel version as a number (6.9 -> 609) to pick what the kernel can do.
IFS=. read -r major minor _ <<< "$(uname -r)"
kernel=$((major * 100 + ${minor%%[!0-9]*}))
if [ "$kernel" -ge 609 ]; then persist=1; else persist=0; fi
echo "kernel $(uname -r): persist flag $( [ $persist = 1 ] && echo known || echo unknown)"

field() { sed -nE "s/.*\\b$1=([0-9]+).*/\\1/p" "$2"; }
# Datagrams through the output and input hooks on loopback: counters that are not zero.
traffic() { in_ns "$NS" $TRAFFIC udp-send 127.0.0.1 "$1" 3 > /dev/null; }
dump() { in_ns "$NS" "$CTNFT" dump | sort; }

# 1. A new table with KeepTable.
in_ns "$NS" "$CTNFT" create --keep > "$TMP/first.log" 2>&1 || { cat "$TMP/first.log"; exit 1; }
if [ $persist = 1 ]; then
    assert_eq "6 0" "$(field flags "$TMP/first.log") $(field refused "$TMP/first.log")" "flags owner+persist, none refused"
else
    # Every kernel of the lab knows the owner flag (5.12): only persist (6.9) is refused.
    assert_eq "0 4" "$(field flags "$TMP/first.log") $(field refused "$TMP/first.log")" \
        "kernel refused persist, not owner: the kept table is unowned"
fi
assert_eq 1 "$(in_ns "$NS" "$CTNFT" info | cut -d' ' -f1)" "table kept after its process exited"
traffic 20000
dump > "$TMP/before.txt"
udp_out=$(awk '$1 == "udp_conntrack_output_new" { print $2 }' "$TMP/before.txt")
assert_eq 3 "$udp_out" "udp_conntrack_output_new after 3 datagrams"

# 2. The next process adopts it: same values, nothing refused again on this table's account.
in_ns "$NS" "$CTNFT" create --keep > "$TMP/second.log" 2>&1 || { cat "$TMP/second.log"; exit 1; }
assert_eq 1 "$(field adopted "$TMP/second.log")" "second process adopted the kept table"
assert_eq "$(cat "$TMP/before.txt")" "$(dump)" "every counter value kept across the restart"
traffic 20100
assert_eq 6 "$(dump | awk '$1 == "udp_conntrack_output_new" { print $2 }')" "counting goes on from 3 to 6"

# 3. A table someone left unowned (an older plugin, a hand-loaded ruleset of our shape): kept
#    with its values where the kernel cannot own it; where it can, replaced once and owned.
in_ns "$NS" "$CTNFT" delete
in_ns "$NS" "$CTNFT" create --no-owner > /dev/null
traffic 20200
dump > "$TMP/unowned.txt"
in_ns "$NS" "$CTNFT" create --keep > "$TMP/third.log" 2>&1 || { cat "$TMP/third.log"; exit 1; }
if [ $persist = 1 ]; then
    assert_eq "6 0 0" "$(field flags "$TMP/third.log") $(field refused "$TMP/third.log") $(field adopted "$TMP/third.log")" \
        "unowned table replaced once by an owned, persistent one"
    assert_eq 0 "$(dump | awk '$1 == "udp_conntrack_output_new" { print $2 }')" "values restart with the replaced table"
else
    assert_eq "0 4 1" "$(field flags "$TMP/third.log") $(field refused "$TMP/third.log") $(field adopted "$TMP/third.log")" \
        "unowned table adopted with its values"
    assert_eq "$(cat "$TMP/unowned.txt")" "$(dump)" "values of the unowned table kept"
fi

# 4. Without KeepTable an unowned table is replaced by an owned one (owner flag: Linux 5.12),
#    which the kernel removes with its process.
in_ns "$NS" "$CTNFT" delete
in_ns "$NS" "$CTNFT" create --no-owner > /dev/null
in_ns "$NS" "$CTNFT" create > "$TMP/fourth.log" 2>&1 || { cat "$TMP/fourth.log"; exit 1; }
assert_eq "2 0" "$(field flags "$TMP/fourth.log") $(field refused "$TMP/fourth.log")" "owned without KeepTable"
table_gone() { grep -q '^0 ' <<< "$(in_ns "$NS" "$CTNFT" info)"; }
wait_for 15 table_gone && pass "owned table gone with its process" || fail "owned table outlived its process"
finish
