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
