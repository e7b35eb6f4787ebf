#!/usr/bin/env bash
# What Telegraf receives and how it names it. Telegraf and InfluxDB 2 are not in Debian, so
# neither runs here; what can be tested is: the network packets the real collectd sends with the
# real plugin (captured on the port Telegraf's socket_listener would listen on and decoded:
# identifiers, value types, exact values for known traffic; the decoding cross-checked against
# the collectd.org Go library in InfluxDB 1.x's collectd input), the names Telegraf's collectd parser
# gives them in its "split" and "join" modes (its rules applied to those packets,
# tests/tools/collectd_packets.py), docs/queries.md's Telegraf table and every name its Flux
# queries use, and the InfluxQL Grafana dashboard on Telegraf's join names (metrics written into
# a real InfluxDB 1.x).
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../lib/influxdb.sh"
DOCS="$(dirname "$0")/../../docs"
PACKETS="python3 $(dirname "$0")/../tools/collectd_packets.py"
DEBIAN_TYPES=/usr/share/collectd/types.db
OUR_TYPES="$(dirname "$0")/../../plugin/conntrack_nft.types.db"

topology
# Signed packets, as with collectd_security_level = "sign": both receivers verify every one.
printf 'router: s3cret\n' > "$TMP/auth_file"
INFLUX_COLLECTD_EXTRA="  security-level = \"sign\"
  auth-file = \"$TMP/auth_file\""
start_influxdb "$ROUTER"
: > "$TMP/packets.hex"
bg ip netns exec "$ROUTER" $PACKETS listen 25827 "$TMP/packets.hex"
{ cat <<'CONF'
<Plugin conntrack_nft>
  SampleInterval 0.5
  ReportBytes true
  PerCPU true
</Plugin>
CONF
# The same packets to the capture (where Telegraf would listen) and to InfluxDB 1.x's collectd
# input, which decodes them with the collectd.org Go library Telegraf uses.
for port in 25827 25826; do
    printf '  <Server "127.0.0.1" "%s">\n    SecurityLevel Sign\n    Username "router"\n    Password "s3cret"\n  </Server>\n' $port
done > "$TMP/servers"
printf 'PluginDir "%s"\nLoadPlugin network\n<Plugin network>\n%s\n</Plugin>\n' "$SYSTEM_PLUGIN_DIR" "$(cat "$TMP/servers")"; } |
    write_conf "$TMP/collectd.conf"
start_collectd "$ROUTER" "$TMP/collectd.conf"
wait_reads router/nftables-conntrack_stats/packets-udp_conntrack_fwd_new 1 || fail "no reads"

# Known traffic: 25 new UDP flows; the packets must carry the counter's new value, 25.
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 40000 25 > /dev/null
found() { $PACKETS decode "$TMP/packets.hex" "$TMP/auth_file" > "$TMP/vl.json" 2>/dev/null &&
    jq -e -s 'any(.[]; .plugin == "nftables" and .type == "packets" and .type_instance == "udp_conntrack_fwd_new" and .values[0][1] == 25)' "$TMP/vl.json" > /dev/null; }
wait_for 20 found && pass "the network packets carry udp_conntrack_fwd_new = 25 (25 flows sent)" || fail "no packet with udp_conntrack_fwd_new = 25"
# And one more interval, so the last packets are complete.
wait_reads router/conntrack_nft/percent-used 2 || true
stop_collectd TERM
$PACKETS decode "$TMP/packets.hex" "$TMP/auth_file" > "$TMP/vl.json" || fail "a signature did not verify"
echo "captured $(wc -l < "$TMP/packets.hex") packets, $(wc -l < "$TMP/vl.json") value lists"
assert_eq sign "$(jq -r -s '[.[].security] | unique | join(" ")' "$TMP/vl.json")" "every value list signed and verified"
printf 'router: wrong\n' > "$TMP/wrong_auth"
$PACKETS decode "$TMP/packets.hex" "$TMP/wrong_auth" > /dev/null 2> "$TMP/wrong.err" && fail "a wrong password verified" ||
    pass "a wrong password does not verify: $(tail -n 1 "$TMP/wrong.err")"

# Our decoder against collectd.org's: InfluxDB 1.x stores what that library decoded under the
# names of Telegraf's split mode, so both must list the same series with the same value.
influx_has_25() {
    [ "$(influxql "SELECT last(\"value\") FROM \"nftables_value\" WHERE \"type\" = 'packets' AND \"type_instance\" = 'udp_conntrack_fwd_new'" |
        jq -r '.results[0].series[0].values[0][1]')" = 25 ]
}
wait_for 20 influx_has_25 && pass "InfluxDB (collectd.org's decoder) has udp_conntrack_fwd_new = 25 too" ||
    fail "InfluxDB did not get udp_conntrack_fwd_new = 25"

# What collectd sends: the identifiers and value types the docs name.
ids() { jq -r -s "[.[] | select($1) | \"\(.plugin)/\(.plugin_instance)/\(.type)/\(.values | map(.[0]) | join(\",\"))\"] | unique | join(\" \")" "$TMP/vl.json"; }
assert_eq "nftables/conntrack_stats/packets/DERIVE nftables/conntrack_stats/packets_low/GAUGE nftables/conntrack_stats/packets_peak/GAUGE nftables/conntrack_stats/total_bytes/DERIVE" \
    "$(ids '.plugin == "nftables"')" "counter identifiers (plugin/instance/type/value types)"
assert_eq 18 "$(jq -r -s '[.[] | select(.type == "packets") | .type_instance] | unique | length' "$TMP/vl.json")" "counters sent"
assert_eq "conntrack_nft//conntrack/GAUGE conntrack_nft//count/GAUGE conntrack_nft//operations/DERIVE conntrack_nft//percent/GAUGE conntrack_nft/cpu0/operations/DERIVE" \
    "$(ids '.plugin == "conntrack_nft" and (.plugin_instance == "" or .plugin_instance == "cpu0")')" "health identifiers"
assert_eq router "$(jq -r -s '[.[].host] | unique | join(" ")' "$TMP/vl.json")" "host part"

# Telegraf's names for each mode, with both types.db files as docs/queries.md configures them.
for mode in split join; do
    $PACKETS telegraf $mode "$DEBIAN_TYPES" "$OUR_TYPES" < "$TMP/vl.json" > "$TMP/$mode.json"
done
jq -r -s '[.[] | .measurement + ([.tags | to_entries[] | ",\(.key)=\(.value)"] | join(""))] | unique[]' "$TMP/split.json" > "$TMP/ours.series"
influxql 'SHOW SERIES' | jq -r '.results[0].series[0].values[][0]' | sort -u > "$TMP/influx.series"
if diff "$TMP/ours.series" "$TMP/influx.series" > "$TMP/series.diff"; then
    pass "the same $(wc -l < "$TMP/ours.series") series as InfluxDB's collectd input (collectd.org's decoder)"
else
    cat "$TMP/series.diff"; fail "series differ from InfluxDB's collectd input"
fi
assert_eq "conntrack_nft_value nftables_value" "$(jq -r -s '[.[].measurement] | unique | join(" ")' "$TMP/split.json")" "split: measurements"
assert_eq "conntrack_nft nftables" "$(jq -r -s '[.[].measurement] | unique | join(" ")' "$TMP/join.json")" "join: measurements"
for mode in split join; do
    assert_eq value "$(jq -r -s '[.[].fields | keys[]] | unique | join(" ")' "$TMP/$mode.json")" "$mode: fields"
    assert_eq "host instance type type_instance" "$(jq -r -s '[.[] | select(.measurement | startswith("nftables")) | .tags | keys | join(" ")] | unique | join("|")' "$TMP/$mode.json")" \
        "$mode: tags of the counters"
    assert_eq "host type type_instance|host instance type type_instance" \
        "$(jq -r -s '[.[] | select(.measurement | startswith("conntrack_nft")) | .tags | keys | join(" ")] | unique | sort_by(length) | join("|")' "$TMP/$mode.json")" \
        "$mode: tags of the health values (instance only per CPU)"
done
assert_eq "$(jq -s 'length' "$TMP/vl.json")" "$(jq -s 'length' "$TMP/join.json")" "join: one metric per value list, none dropped"
# Without conntrack_nft.types.db Telegraf drops peak and low, and only them.
$PACKETS telegraf join "$DEBIAN_TYPES" < "$TMP/vl.json" > "$TMP/debian-only.json"
assert_eq "$(jq -s '[.[] | select(.type | test("^packets_(peak|low)$") | not)] | length' "$TMP/vl.json") 0" \
    "$(jq -s 'length' "$TMP/debian-only.json") $(jq -s '[.[] | select(.tags.type | test("^packets_(peak|low)$"))] | length' "$TMP/debian-only.json")" \
    "with Debian's types.db only: all but peak/low kept, peak/low dropped"

# docs/queries.md: the Telegraf table and the names every Flux query uses.
python3 - "$DOCS/queries.md" "$TMP/split.json" "$TMP/join.json" > "$TMP/docs-check.txt" <<'PY' || fail "docs check did not run"
import json, re, sys
doc = open(sys.argv[1]).read()
metrics = {m: [json.loads(l) for l in open(p)] for m, p in (("split", sys.argv[2]), ("join", sys.argv[3]))}
def rows(mode, meas):
    return [m for m in metrics[mode] if m["measurement"] == meas]
# The table under "How Telegraf names the values": identifier, split, join, field, tags.
table = doc[doc.index("### How Telegraf names the values"):doc.index("### Flux queries")]
n = 0
for line in table.splitlines():
    if not line.startswith("| `router/"):
        continue
    cells = [c.strip() for c in line.strip("|").split("|")]
    ident = re.match(r"`([^`]+)`", cells[0]).group(1)
    host, pi, ti = re.match(r"([^/]+)/([^/]+)/(.+)", ident).groups()
    plugin, _, pinst = pi.partition("-")
    typ, _, tinst = ti.partition("-")
    for mode, col in (("split", 1), ("join", 2)):
        meas = cells[col].strip("`")
        got = [m for m in rows(mode, meas) if m["tags"].get("type") == typ and m["tags"].get("type_instance") == tinst
               and m["tags"].get("instance", "") == pinst]
        ok = bool(got) and all(f"`{cells[3].strip('`')}`" == cells[3] and cells[3].strip("`") in m["fields"] for m in got)
        want = dict(re.findall(r"`(\w+)=([^`]+)`", cells[4]))
        ok = ok and all(all(m["tags"].get(k) == v for k, v in want.items()) for m in got)
        if not pinst and "instance=" not in cells[4] and "..." not in cells[4]:
            ok = ok and all("instance" not in m["tags"] for m in got)
        print(("ok" if ok else "FAIL") + f": table row {ident} ({mode}: {meas})")
        n += 1
print(f"rows {n}")
# Every Flux block: its mode comment, and each name it filters on exists for that mode.
blocks = re.findall(r"```flux\n(.*?)```", doc, re.S)
for i, b in enumerate(blocks, 1):
    mode = re.search(r"// telegraf: (split|join)", b)
    if not mode:
        print(f"FAIL: flux query {i} has no '// telegraf: split|join' line"); continue
    mode = mode.group(1)
    meas = re.findall(r'r\._measurement == "([^"]+)"', b)
    ok = len(meas) == 1 and rows(mode, meas[0])
    cand = rows(mode, meas[0]) if ok else []
    for f in re.findall(r'r\._field == "([^"]+)"', b):
        ok = ok and any(f in m["fields"] for m in cand)
    for tag, op, val in re.findall(r'r\.(\w+) (==|=~) ("[^"]*"|/[^/]*/)', b):
        if tag.startswith("_"):
            continue
        if op == "==":
            cand = [m for m in cand if m["tags"].get(tag) == val.strip('"')]
        else:
            cand = [m for m in cand if re.search(val.strip("/"), m["tags"].get(tag, ""))]
        ok = ok and bool(cand)
    print(("ok" if ok else "FAIL") + f": flux query {i} ({mode}, {meas}) matches {len(cand)} metrics")
print(f"flux {len(blocks)}")
PY
cat "$TMP/docs-check.txt"
grep -q "^FAIL" "$TMP/docs-check.txt" && fail "docs/queries.md names do not match Telegraf's rules" || pass "docs/queries.md Telegraf names"
assert_eq "rows 16" "$(grep '^rows' "$TMP/docs-check.txt")" "table rows checked (8 identifiers x 2 modes)"
assert_eq "flux 7" "$(grep '^flux' "$TMP/docs-check.txt")" "Flux queries checked"

# The InfluxQL dashboard on Telegraf's join names: the join metrics into a real InfluxDB, every
# panel query with packets=nftables, health=conntrack_nft.
$PACKETS lines < "$TMP/join.json" > "$TMP/join.lp"
influxql "CREATE DATABASE telegraf_join" > /dev/null
export INFLUX_DB=telegraf_join
in_ns "$ROUTER" curl -sf -XPOST "http://127.0.0.1:8086/write?db=telegraf_join&precision=ns" --data-binary "@$TMP/join.lp" ||
    fail "InfluxDB refused the join metrics"
dash="$DOCS/grafana/conntrack-nft.json"
n=0
while IFS= read -r q; do
    n=$((n + 1))
    q=${q//'$timeFilter'/time > now() - 1h}
    q=${q//'$__interval'/1s}
    q=${q//'$host'/router}
    q=${q//'$packets'/nftables}
    q=${q//'$health'/conntrack_nft}
    grep -q -E '\$[A-Za-z_{]' <<< "$q" && fail "dashboard query $n: unreplaced variable: $q"
    answer=$(influxql "$q")
    if jq -e '.results[0].series | length > 0' <<< "$answer" > /dev/null; then pass "dashboard query $n, join names: returns data"
    else fail "dashboard query $n, join names: $q -> $answer"; fi
done < <(jq -r '.panels[].targets[].query' "$dash")
assert_eq 9 "$n" "dashboard queries"
host_query=$(jq -r '.templating.list[] | select(.name == "host") | .query' "$dash")
assert_eq router "$(influxql "${host_query//'$packets'/nftables}" | jq -r '.results[0].series[0].values[0][1]')" "host variable, join names"
finish
