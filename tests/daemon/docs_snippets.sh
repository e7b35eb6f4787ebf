#!/usr/bin/env bash
# Every collectd configuration snippet in docs/ works: each block that starts with LoadPlugin,
# <LoadPlugin or <Plugin is given to the real collectd (-T: init, one read, shutdown) with the
# real plugin in a fresh namespace, and every UCI section in docs/ goes through OpenWrt's
# generator rules (tests/openwrt/stat_genconfig.py) first. No config error may come back, and
# where the snippet configures conntrack_nft the plugin must start.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
DOCS=$(cd "$(dirname "$0")/../../docs" && pwd)
OPENWRT=$(cd "$(dirname "$0")/../openwrt" && pwd)
FILES="$(dirname "$0")/../../openwrt-feed/collectd-mod-conntrack-nft/files/usr/share"

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

for f in "$TMP"/snippets/*; do
    name=$(basename "$f")
    first=$(grep -m1 -v '^ *\(#.*\)\?$' "$f" || true)
    case "$first" in
        LoadPlugin*|"<LoadPlugin"*|"<Plugin"*) check_collectd_conf "$name" "$f" ;;
        "config statistics 'collectd_conntrack_nft'")
            python3 "$OPENWRT/stat_genconfig.py" luci "$FILES/luci/statistics/plugins/conntrack_nft.json" "$f" > "$TMP/$name.gen"
            check_collectd_conf "$name (UCI, LuCI)" "$TMP/$name.gen" ;;
        "config plugin 'conntrack_nft'")
            python3 "$OPENWRT/stat_genconfig.py" collectd "$FILES/collectd/plugin/conntrack_nft.json" "$f" > "$TMP/$name.gen"
            check_collectd_conf "$name (UCI, init script)" "$TMP/$name.gen" ;;
    esac
done
assert_ge 8 "$checked" "snippets checked"
finish
