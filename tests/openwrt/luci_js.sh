#!/usr/bin/env bash
# The LuCI files of openwrt-feed/: ESLint with LuCI's globals. ESLint comes from npm, pinned by
# luci/package-lock.json and installed with npm ci into the build tree. What the files do is
# tested in the real LuCI of each release (tests/openwrt/lab: the settings page against the
# plugin's keys and documented defaults, the graphs from real RRD files).
#   luci_js.sh --prepare   only installs the npm packages (ESLint, puppeteer-core for the lab)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at the build tree}
skip() {
    echo "SKIP: $*"
    [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" != 1 ] || { echo "FAIL: CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping"; exit 1; }
    exit 77
}
command -v node > /dev/null || skip "needs Node.js (node)"
command -v npm > /dev/null || skip "needs npm"

NPM_DIR="$BUILD_DIR/openwrt/luci-npm"
mkdir -p "$NPM_DIR"
# Reinstall only when the lock file changed; one install at a time (the lab tests share it).
exec 8> "$NPM_DIR/.lock"
flock 8
if ! cmp -s "$HERE/luci/package-lock.json" "$NPM_DIR/package-lock.json" || [ ! -x "$NPM_DIR/node_modules/.bin/eslint" ]; then
    cp "$HERE/luci/package.json" "$HERE/luci/package-lock.json" "$NPM_DIR/"
    (cd "$NPM_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
        { echo "FAIL: npm ci in $NPM_DIR (is the npm registry reachable?)"; exit 1; }
fi
exec 8>&-
# --prepare: only the npm packages (the CTest fixture openwrt.npm, timed apart from the tests).
[ "${1:-}" != --prepare ] || { echo "npm: packages ready in $NPM_DIR"; exit 0; }

cd "$ROOT"
js=$(find openwrt-feed -path '*/luci-static/*' -name '*.js' | sort)
[ -n "$js" ] || { echo "FAIL: no LuCI .js files under openwrt-feed/"; exit 1; }
echo "eslint: $(echo $js)"
"$NPM_DIR/node_modules/.bin/eslint" --max-warnings 0 -c tests/openwrt/luci/eslint.config.mjs $js
echo "ok: eslint"

# One rule for table names in the plugin and in the dialog: the dialog's NFT_KEYWORDS is
# nft/model.cpp's kReservedWords, the same words, both ways (the lab types each one into the
# real dialog; tests/openwrt/luci/dialog_cases.txt runs the other rules on both sides).
node - nft/model.cpp openwrt-feed/luci-app-statistics-conntrack-nft/files/www/luci-static/resources/view/statistics/plugins/conntrack_nft.js <<'JS'
const fs = require('fs');
const [cpp, js] = process.argv.slice(2).map((f) => fs.readFileSync(f, 'utf8'));
const words = (re, text, quote) => {
	const m = re.exec(text);
	if (!m) { console.log(`FAIL: ${re} not found`); process.exit(1); }
	return [...m[1].matchAll(quote)].map((w) => w[1]);
};
const plugin = words(/kReservedWords\{([^}]*)\}/, cpp, /"([^"]*)"/g);
const dialog = words(/var NFT_KEYWORDS = \[([^\]]*)\]/, js, /'([^']*)'/g);
const declared = /std::array<std::string_view, (\d+)> kReservedWords/.exec(cpp);
const missing = plugin.filter((w) => !dialog.includes(w)), extra = dialog.filter((w) => !plugin.includes(w));
if (plugin.length < 100 || !declared || Number(declared[1]) !== plugin.length) {
	console.log(`FAIL: read ${plugin.length} keywords from nft/model.cpp (declared ${declared && declared[1]})`);
	process.exit(1);
}
if (missing.length || extra.length || dialog.length !== plugin.length) {
	console.log(`FAIL: the dialog's NFT_KEYWORDS differ from nft/model.cpp's kReservedWords: missing ${missing.join(' ')}; extra ${extra.join(' ')}`);
	process.exit(1);
}
console.log(`ok: the dialog refuses the same ${plugin.length} nft keywords as the plugin`);
JS
