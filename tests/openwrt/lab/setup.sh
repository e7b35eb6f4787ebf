#!/usr/bin/env bash
# Statistics > Setup in the real LuCI of one OpenWrt release (23.05, 24.10, 25.12,
# master-2026-06), served by the lab's real uhttpd, rpcd and ubusd, walked through in Debian's
# chromium (setup.mjs): our plugin listed, its dialog with every option at the plugin's default,
# bad input rejected, choices saved and applied into the lab's /etc/config/luci_statistics, and
# no console error, page error or failed request.
#   setup.sh VERSION [SCREENSHOT.png]
set -euo pipefail
VERSION=${1:?usage: setup.sh VERSION [SCREENSHOT.png]}
source "$(dirname "$0")/../../lib/netns.sh"
source "$(dirname "$0")/lab.sh"
[ -f "$BUILD_DIR/plugin/conntrack_nft.so" ] || { echo "FAIL: $BUILD_DIR/plugin/conntrack_nft.so not built"; exit 1; }


lab_start "$VERSION"
lab_node "$LAB_HERE/setup.mjs" "$OWRT_REPO" "$LAB_ROOT/etc/config/luci_statistics" ${2:+"$2"} || FAILED=1
echo "lab time for LuCI $VERSION (build excluded): $(awk -v a="$LAB_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
finish
