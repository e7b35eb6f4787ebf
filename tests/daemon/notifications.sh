#!/usr/bin/env bash
# Notifications in the real daemon, received by collectd's logfile plugin and by a program that
# exec's NotificationExec runs (as docs/configuration.md shows them): a conntrack table
# filled for real past FillThreshold (one WARNING, one OKAY when it is flushed), the flows that did
# not fit evicted as early_drop (one WARNING with how many, one OKAY whose total equals
# `conntrack -S` exactly), a repaired table (one WARNING). Nothing is repeated while a condition
# lasts, and with Notifications false nothing is sent at all.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
command -v conntrack >/dev/null || skip "needs conntrack (package conntrack)"
topology
H=router/conntrack_nft

early_drops() { in_ns "$ROUTER" conntrack -S | tr ' \t' '\n\n' | awk -F= '$1 == "early_drop" { s += $2 } END { print s + 0 }'; }
max=$(in_ns "$ROUTER" sysctl -n net.netfilter.nf_conntrack_max)
[ "$max" -le 1000000 ] || skip "nf_conntrack_max is $max here: filling the table would take too long"

# NotificationExec runs its program as another user (never root) once per notification: each
# one lands in a file of its own.
mkdir -m 777 "$TMP/exec"
chmod 711 "$TMP"
printf '#!/bin/sh\ncat > "$(mktemp %s/n.XXXXXX)"\n' "$TMP/exec" > "$TMP/notify.sh"
chmod 755 "$TMP/notify.sh"
write_conf "$TMP/on.conf" exec <<CONF
<Plugin exec>
  NotificationExec "nobody" "$TMP/notify.sh"
</Plugin>
<Plugin conntrack_nft>
  OwnerFlag false
  FillThreshold 50
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/on.conf"
wait_reads "$H/conntrack-entries" 1 || { fail "no first read"; exit 1; }

# More new UDP flows than the table holds: the ones that do not fit evict others (early_drop).
early0=$(early_drops)
in_ns "$CLIENT" $TRAFFIC udp-flows "$SERVER_IP" $((max + 5000)) > /dev/null
wait_for 20 has_notice OKAY operations-early_drop || fail "no OKAY after the early_drop episode"
lost=$(( $(early_drops) - early0 ))
echo "early_drop during the fill: $lost (conntrack -S); notices so far:"
notices | sed 's/^/  /'
assert_ge 1 "$lost" "early_drop provoked"
assert_eq 1 "$(notice_count WARNING operations-early_drop)" "early_drop WARNINGs"
first=$(notices | awk '$1 == "WARNING" && $2 == "operations-early_drop" { print $3 }')
[ "$first" -ge 1 ] && [ "$first" -le "$lost" ] && pass "the WARNING says how many ($first of $lost)" ||
    fail "the WARNING's count '$first' is not within 1..$lost"
assert_eq "$lost" "$(notices | sed -nE 's/^OKAY operations-early_drop no more early_drop since the last read; ([0-9]+) in all.*/\1/p')" \
    "the OKAY's total equals conntrack -S"
assert_eq 1 "$(notice_count WARNING percent-used)" "fill WARNINGs"
grep -q "at or above the 50% threshold" <<< "$(notices)" && pass "the fill WARNING names FillThreshold 50" ||
    fail "the fill WARNING does not name the 50% threshold"

# The table stays full (unanswered UDP entries live 30 s): more reads, no more notices.
before=$(notices | wc -l)
wait_reads "$H/conntrack-entries" 3
assert_ge 50 "$(printf '%.0f' "$(value_of "$H/percent-used")")" "percent-used while the table stays full"
assert_eq "$before" "$(notices | wc -l)" "notices during 3 more reads of a full table"

# Emptied: the fill is back below the threshold's margin.
in_ns "$ROUTER" conntrack -F > /dev/null 2>&1
wait_for 20 has_notice OKAY percent-used && pass "fill OKAY after the table was flushed" || fail "no fill OKAY"
grep -q "below 45%" <<< "$(notices)" && pass "the fill OKAY names 45% (5 points of margin)" || fail "no 45% in the fill OKAY"

# Repaired (OwnerFlag false: others can delete the table): one WARNING per repair.
in_ns "$ROUTER" nft delete table ip conntrack_stats
wait_for 20 has_notice WARNING table-conntrack_stats && pass "repair notified" || fail "no repair notice"
wait_reads "$H/conntrack-entries" 2
assert_eq 1 "$(notice_count WARNING table-conntrack_stats)" "repair WARNINGs"
assert_eq 1 "$(log_count 'created it again')" "repair log lines (the notice does not repeat the log's words)"
assert_eq 0 "$(notices | awk '$2 ~ /operations-(drop|insert_failed)$/' | wc -l)" "drop or insert_failed notices"
assert_eq 5 "$(notices | wc -l)" "notices in all (2 fill, 2 early_drop, 1 repair)"
stop_collectd TERM
# What the program got: header lines, an empty line, the message.
wait_for 10 sh -c "[ \$(ls '$TMP/exec' | wc -l) -ge 5 ]"
assert_eq 5 "$(ls "$TMP/exec" | wc -l)" "notifications the NotificationExec program received"
f=$(grep -l '^TypeInstance: early_drop$' "$TMP"/exec/* | xargs grep -l '^Severity: WARNING$' || true)
if [ -n "$f" ] && grep -qx 'Plugin: conntrack_nft' "$f" && grep -qx 'Host: router' "$f" && grep -qx 'Type: operations' "$f" &&
    grep -qE '^[0-9]+ early_drop since the last read: ' "$f" && grep -qx '' "$f"; then
    pass "NotificationExec: the early_drop WARNING with Host, Plugin, Type, TypeInstance and the message"
else
    fail "NotificationExec: no complete early_drop WARNING"; cat "$TMP"/exec/* || true
fi

# Notifications false: the same events, no notification; the repair is still logged.
in_ns "$ROUTER" conntrack -F > /dev/null 2>&1
: > "$TMP/collectd.log"
write_conf "$TMP/off.conf" <<'CONF'
<Plugin conntrack_nft>
  OwnerFlag false
  FillThreshold 50
  Notifications false
</Plugin>
CONF
start_collectd "$ROUTER" "$TMP/off.conf"
wait_reads "$H/conntrack-entries" 1
early0=$(early_drops)
in_ns "$CLIENT" $TRAFFIC udp-flows "$SERVER_IP" $((max + 5000)) > /dev/null
in_ns "$ROUTER" nft delete table ip conntrack_stats
wait_for 20 grep -q 'created it again' "$TMP/collectd.log" && pass "repair logged" || fail "no repair log line"
wait_reads "$H/conntrack-entries" 2
assert_ge 1 $(( $(early_drops) - early0 )) "early_drop provoked again"
assert_eq 0 "$(grep -c 'Notification:' "$TMP/collectd.log" || true)" "notifications with Notifications false"
assert_eq 0 "$(log_count 'conntrack_nft plugin:.*rror')" "errors in the log"
stop_collectd TERM
finish
