#!/usr/bin/env bash
# Statistics > Setup in the real LuCI of one OpenWrt release (23.05, 24.10, 25.12,
# master-2026-06), served by the lab's real uhttpd, rpcd and ubusd, walked through in Debian's
# chromium (setup.mjs): our plugin listed, its dialog with every option at the plugin's default,
# bad input rejected as the plugin rejects it (every nft keyword as a table name, a sample
# interval outside 0.05..3600), choices saved and applied into the lab's /etc/config/luci_statistics, and
# no console error, page error or failed request.
#   setup.sh VERSION [SCREENSHOT.png]
# VERSION "master-2026-06+pluginUtil": the master-2026-06 tree with statistics/pluginUtil.js,
# which LuCI master has since mid-2026, and LuCI's own cpu view using it as newer master's views
# do. The module is a stand-in written to newer master's interface (pluginUtil-standin.js): no
# LuCI tree that has it is in ../shared/openwrt-src.
set -euo pipefail
VERSION=${1:?usage: setup.sh VERSION [SCREENSHOT.png]}
source "$(dirname "$0")/../../lib/netns.sh"
source "$(dirname "$0")/../../lib/collectd.sh"
source "$(dirname "$0")/lab.sh"
source "$(dirname "$0")/../userland/generators.sh"
[ -f "$BUILD_DIR/plugin/conntrack_nft.so" ] || { echo "FAIL: $BUILD_DIR/plugin/conntrack_nft.so not built"; exit 1; }


if [ "$VERSION" = master-2026-06+pluginUtil ]; then
    VERSION=master-2026-06
    export CHECK_PLUGINUTIL=1
    lab_prepare() {
        local views="$1/www/luci-static/resources/view/statistics/plugins"
        install -m 0644 "$LAB_HERE/pluginUtil-standin.js" "$1/www/luci-static/resources/statistics/pluginUtil.js"
        sed -i -e "s|^'require form';|'require form';\n'require statistics.pluginUtil as pluginUtil';|" \
            -e "s|o = s.option(form.Flag, 'enable', _('Enable this plugin'));|pluginUtil.addCommonOptions(s);|" "$views/cpu.js"
        grep -q 'pluginUtil.addCommonOptions(s)' "$views/cpu.js" || { echo "FAIL: cpu.js not converted"; exit 1; }
    }
fi
lab_start "$VERSION"
lab_node "$LAB_HERE/setup.mjs" "$OWRT_REPO" "$LAB_ROOT/etc/config/luci_statistics" ${2:+"$2"} || FAILED=1

# What LuCI saved, through LuCI's real generator (stat-genconfig, as its init script runs it on
# the router), into Debian's collectd with the plugin: the block holds the choices made in the
# browser, and collectd accepts it.
owrt_stat_genconfig "$LAB_ROOT" > "$TMP/genconfig.conf"
owrt_plugin_block "$TMP/genconfig.conf" > "$TMP/block.conf"
for line in 'Table "lab_stats"' 'Family "inet"' 'Priority "-150"' 'RuleShape "classic"' 'Protocol "icmp"' \
            'Hook "prerouting"' 'SampleInterval "0.25"' 'ReportBytes true' 'OwnerFlag false' 'SampleCounter "\*_fwd_\*"'; do
    grep -q "^[[:space:]]*$line\$" "$TMP/block.conf" && pass "stat-genconfig wrote $line" ||
        { fail "stat-genconfig did not write $line"; cat "$TMP/block.conf"; }
done
# collectd -t does not run the plugin's checks (a bad block stops only the plugin, at init):
# run the daemon with it in a namespace and find the table the browser asked for.
grep -v '^LoadPlugin conntrack_nft$' "$TMP/block.conf" | write_conf "$TMP/collectd.conf"
ns_add RUNNER collectd
start_collectd "$RUNNER" "$TMP/collectd.conf"
chosen_table() { grep -q icmp_conntrack_prerouting_new <<< "$(in_ns "$RUNNER" nft list counters table inet lab_stats 2>/dev/null)"; }
if wait_for 15 chosen_table; then
    pass "collectd with the generated block counts in table inet lab_stats (icmp, prerouting: as chosen)"
else
    fail "no table inet lab_stats with icmp at prerouting"; cat "$TMP/collectd.log"
fi
assert_eq 0 "$(log_count 'conntrack_nft plugin:.*rror')" "error lines in collectd's log"
stop_collectd TERM
echo "lab time for LuCI $VERSION (build excluded): $(awk -v a="$LAB_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
finish
