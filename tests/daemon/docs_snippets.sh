#!/usr/bin/env bash
# Every collectd configuration snippet in docs/ works: each block that starts with LoadPlugin,
# <LoadPlugin or <Plugin is given to the real collectd (-T: init, one read, shutdown) with the
# real plugin in a fresh namespace, and every UCI section in docs/ goes through OpenWrt's real
# generator first (LuCI's stat-genconfig, collectd's init script: tests/openwrt/userland), when
# the OpenWrt sources are there. No config error may come back, and where the snippet
# configures conntrack_nft the plugin must start.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
source "$(dirname "$0")/../openwrt/userland/root.sh"
source "$(dirname "$0")/../openwrt/userland/generators.sh"
DOCS=$(cd "$(dirname "$0")/../../docs" && pwd)
# The newest release's LuCI and collectd package (their generic rules are those of every
# release: tests/openwrt/genconfig.sh).
OWRT_RELEASE=25.12

# Writes each plain ``` block of the docs to $TMP/snippets/<file>-<n>.
mkdir -p "$TMP/snippets"
for md in "$DOCS"/*.md; do
    awk -v out="$TMP/snippets/$(basename "$md" .md)" '
        /^ *```$/ && !on { on = 1; n++; file = out "-" n; printf "" > file; next }
        /^ *```/ && !on { skip = 1; on = 1; next }
        /^ *```$/ && on { on = 0; skip = 0; close(file); next }
        on && !skip { sub(/^   /, ""); print >> file }' "$md"
done

checked=0
check_collectd_conf() {  # check_collectd_conf NAME FILE
    local name=$1 snippet=$2 where file
    file=$(tr -c 'A-Za-z0-9_.\n-' '_' <<< "$name")  # collectd globs the -C path
    ns_add where "s$checked"
    local plugins="" p
    for p in $(awk 'tolower($1) == "loadplugin" { print $2 } tolower($1) == "<loadplugin" { sub(/>$/, "", $2); print $2 }' "$snippet" | tr -d '"'); do
        [ "$p" = conntrack_nft ] || plugins="$plugins $p"
    done
    # The snippet's own LoadPlugin lines for other plugins need the system's plugin directory,
    # its conntrack_nft loading (plain or a <LoadPlugin> block) takes the place of write_conf's.
    python3 - "$snippet" "$SYSTEM_PLUGIN_DIR" "$TMP/$file" <<'PY'
import re, sys
text, plugin_dir, out = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
block = re.compile(r'^ *<LoadPlugin +"?conntrack_nft"?>.*?^ *</LoadPlugin> *$\n?', re.M | re.S | re.I)
plain = re.compile(r'^ *LoadPlugin +"?conntrack_nft"? *$\n?', re.M | re.I)
open(out + ".ours", "w").write("".join(m.group(0) for m in block.finditer(text)) or "LoadPlugin conntrack_nft\n")
open(out + ".rest", "w").write('PluginDir "%s"\n' % plugin_dir + plain.sub("", block.sub("", text)))
PY
    write_conf "$TMP/$file.conf" < "$TMP/$file.rest"
    python3 -c 'import sys; c, o = sys.argv[1], open(sys.argv[2]).read(); t = open(c).read()
open(c, "w").write(t.replace("LoadPlugin conntrack_nft\n", o, 1))' "$TMP/$file.conf" "$TMP/$file.ours"
    : > "$TMP/collectd.log"
    in_ns "$where" "$COLLECTD" -C "$TMP/$file.conf" -T > /dev/null 2>> "$TMP/collectd.log" || true
    if grep -E "Parsing the config file failed|isn't loaded|Could not find plugin|plugin_load: Load plugin .* failed|conntrack_nft plugin: .*(not accepted|unknown option|expects|does not start)" "$TMP/collectd.log"; then
        fail "$name: collectd refused it"; sed "s/^/    conf: /" "$TMP/$file.conf" | tail -12
    elif grep -q -i "conntrack_nft" "$snippet" && grep -q -i "Manage false" "$snippet"; then
        grep -q "conntrack_nft plugin: table .* does not exist" "$TMP/collectd.log" && pass "$name: accepted (attach mode, no table here)" ||
            fail "$name: attach mode did not start: $(grep conntrack_nft "$TMP/collectd.log")"
    elif grep -q -i "conntrack_nft" "$snippet"; then
        grep -q "conntrack_nft plugin: created table" "$TMP/collectd.log" && pass "$name: accepted, table created" ||
            fail "$name: plugin did not start: $(grep conntrack_nft "$TMP/collectd.log")"
    else
        pass "$name: accepted (plugins:$plugins)"
    fi
    checked=$((checked + 1))
}

# An OpenWrt root for the UCI sections, made at the first one; without the sources they are
# not checked (CI's strict mode makes that a failure).
uci_checked=0 uci_unchecked=0 uci_shown=0
openwrt_root() {
    [ ! -d "$TMP/openwrt" ] || return 0
    [ -f "$OWRT_SRC/MANIFEST.tsv" ] || return 1
    owrt_userland
    owrt_layout "$OWRT_RELEASE" "$TMP/openwrt" "$PLUGIN_DIR/conntrack_nft.so"
    owrt_first_boot "$TMP/openwrt"
}
check_uci() {  # check_uci NAME FILE luci|collectd
    if ! openwrt_root; then
        uci_unchecked=$((uci_unchecked + 1))
        return 0
    fi
    if [ "$3" = luci ]; then
        owrt_stat_genconfig "$TMP/openwrt" "$2" > "$TMP/$1.all" || { fail "$1: stat-genconfig failed"; return 0; }
    else
        owrt_collectd_init "$TMP/openwrt" "$OWRT_RELEASE" "$2" > "$TMP/$1.all" || { fail "$1: collectd.init failed"; return 0; }
    fi
    owrt_plugin_block "$TMP/$1.all" > "$TMP/$1.gen"
    uci_checked=$((uci_checked + 1))
    # Where the docs show what the generator writes, it must be exactly that.
    local g
    for g in "$TMP/snippets/${1%-*}"-*; do
        if cmp -s "$g" "$TMP/$1.gen"; then
            pass "$1: the generated block is $(basename "$g")"
            uci_shown=$((uci_shown + 1))
        fi
    done
    check_collectd_conf "$1 (UCI, $3 $OWRT_RELEASE)" "$TMP/$1.gen"
}

for f in "$TMP"/snippets/*; do
    name=$(basename "$f")
    first=$(grep -m1 -v '^ *\(#.*\)\?$' "$f" || true)
    case "$first" in
        LoadPlugin*|"<LoadPlugin"*|"<Plugin"*) check_collectd_conf "$name" "$f" ;;
        "config statistics 'collectd_conntrack_nft'") check_uci "$name" "$f" luci ;;
        "config plugin 'conntrack_nft'") check_uci "$name" "$f" collectd ;;
    esac
done
# docs/openwrt.md shows what both generators write from its two UCI sections.
[ "$uci_checked" = 0 ] || assert_ge 2 "$uci_shown" "generated blocks shown in the docs as generated"
if [ "$uci_unchecked" != 0 ]; then
    msg="$uci_unchecked UCI sections of docs/ not checked: no OpenWrt sources at $OWRT_SRC (docs/openwrt.md)"
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then fail "$msg"; else echo "SKIP (part): $msg"; fi
fi
assert_ge 8 "$checked" "snippets checked"

# Telegraf and InfluxDB 2 (docs/queries.md; neither runs here): the TOML parses, Telegraf's
# outputs.influxdb_v2 writes to the bucket that every Flux query reads, and the influx commands
# create that bucket and map it to the database the InfluxQL dashboard uses.
if python3 - "$DOCS/queries.md" <<'PY'
import re, sys, tomllib
text = open(sys.argv[1]).read()
bad = []
blocks = lambda lang: re.findall(r'^```' + lang + r'\n(.*?)^```$', text, re.M | re.S)
tomls = [tomllib.loads(b) for b in blocks('toml')]
outputs = [o for t in tomls for o in t.get('outputs', {}).get('influxdb_v2', [])]
inputs = [i for t in tomls for i in t.get('inputs', {}).get('socket_listener', [])]
if len(outputs) != 1 or len(inputs) != 1:
    bad.append(f'{len(inputs)} inputs.socket_listener and {len(outputs)} outputs.influxdb_v2 blocks (want 1 each)')
else:
    out = outputs[0]
    for key in ('urls', 'token', 'organization', 'bucket'):
        if not out.get(key):
            bad.append(f'outputs.influxdb_v2 has no {key}')
    if inputs[0].get('data_format') != 'collectd':
        bad.append('socket_listener without data_format = "collectd"')
    bucket, org = out.get('bucket'), out.get('organization')
    flux = blocks('flux')
    used = {b for q in flux for b in re.findall(r'from\(bucket: "([^"]*)"\)', q)}
    if len(flux) < 5 or used != {bucket}:
        bad.append(f'{len(flux)} Flux queries read buckets {sorted(used)}; Telegraf writes to {bucket!r}')
    shell = '\n'.join(blocks('sh'))
    if not re.search(rf'^influx bucket create --name {bucket} --org {org}\b', shell, re.M):
        bad.append(f'no "influx bucket create --name {bucket} --org {org}"')
    dbrp = re.search(r'^influx v1 dbrp create (.*)$', shell, re.M)
    if not dbrp or f'--org {org}' not in dbrp.group(1) or '--bucket-id' not in dbrp.group(1):
        bad.append('no "influx v1 dbrp create" for the org with --bucket-id')
    else:
        db = re.search(r'--db (\S+)', dbrp.group(1))
        if not db or not re.search(rf'database `{db.group(1)}`', text):
            bad.append('the DBRP database is not the one the Grafana data source is told to use')
        bad or print(f'ok: Telegraf writes bucket {bucket!r} (org {org!r}), which {len(flux)} Flux queries read; '
              f'influx v1 dbrp create maps it to database {db.group(1) if db else None!r}')
for b in bad:
    print('FAIL: queries.md:', b)
sys.exit(1 if bad else 0)
PY
then pass "docs/queries.md: the Telegraf and InfluxDB 2 setup agrees with its Flux queries"
else fail "docs/queries.md: the Telegraf and InfluxDB 2 setup"
fi
finish
