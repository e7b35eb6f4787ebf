#!/usr/bin/env bash
# The feed's package Makefile has what openwrt/packages requires and what this package needs:
# the fields, the dependencies (collectd's build tree, the kernel modules the rules use), the
# version of CMakeLists.txt, and every file it installs exists and is valid JSON where JSON.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PKG="$ROOT/openwrt-feed/collectd-mod-conntrack-nft"
MK="$PKG/Makefile"
FAILED=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }
command -v jq > /dev/null || { echo "FAIL: needs jq"; exit 1; }
[ -f "$MK" ] || { echo "FAIL: $MK missing"; exit 1; }

field() { sed -n "/^$1:=/{s/^$1:=//p;q}" "$MK"; }  # field NAME: value of the first NAME:=...

# Fields openwrt/packages' CONTRIBUTING asks for, each non-empty.
for f in PKG_NAME PKG_VERSION PKG_RELEASE PKG_MAINTAINER PKG_LICENSE PKG_BUILD_DEPENDS; do
    if [ -n "$(field "$f")" ]; then pass "$f:=$(field "$f")"; else fail "$f missing or empty"; fi
done
[ "$(field PKG_NAME)" = collectd-mod-conntrack-nft ] && pass "PKG_NAME follows collectd-mod-<name>" ||
    fail "PKG_NAME must be collectd-mod-conntrack-nft"
[[ "$(field PKG_RELEASE)" =~ ^[0-9]+$ ]] && pass "PKG_RELEASE is a number" || fail "PKG_RELEASE must be a number"
[[ "$(field PKG_MAINTAINER)" =~ ^[^\<]+\ \<[^@\>]+@[^\>]+\>$ ]] && pass "PKG_MAINTAINER is Name <email>" ||
    fail "PKG_MAINTAINER must be 'Name <email>'"
# SPDX identifiers only (GPL-2.0-only, MIT, ...), no free text.
[[ "$(field PKG_LICENSE)" =~ ^[A-Za-z0-9.+-]+( [A-Za-z0-9.+-]+)*$ ]] && pass "PKG_LICENSE is SPDX" ||
    fail "PKG_LICENSE must be SPDX identifiers"
grep -q '^# SPDX-License-Identifier: ' "$MK" && pass "SPDX header" || fail "no SPDX-License-Identifier header"

project_version=$(sed -n 's/^project(conntrack_nft VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[ "$(field PKG_VERSION)" = "$project_version" ] && pass "PKG_VERSION = CMakeLists.txt's $project_version" ||
    fail "PKG_VERSION $(field PKG_VERSION) differs from CMakeLists.txt's project VERSION $project_version"

# Build: cmake.mk against collectd's build tree, which OpenWrt's collectd does not install.
grep -qx 'include $(INCLUDE_DIR)/package.mk' "$MK" && pass "includes package.mk" || fail "no include of package.mk"
grep -qx 'include $(INCLUDE_DIR)/cmake.mk' "$MK" && pass "includes cmake.mk" || fail "no include of cmake.mk"
[ "$(field PKG_BUILD_DEPENDS)" = collectd ] && pass "PKG_BUILD_DEPENDS:=collectd" || fail "PKG_BUILD_DEPENDS must be collectd"
grep -q -- '-DCOLLECTD_SOURCE_DIR=$(COLLECTD_BUILD_DIR)' "$MK" && grep -q '$(BUILD_DIR)/collectd-\*' "$MK" &&
    pass "COLLECTD_SOURCE_DIR points at \$(BUILD_DIR)/collectd-*" || fail "no -DCOLLECTD_SOURCE_DIR at collectd's build dir"
grep -q -- '-DCONNTRACK_NFT_TESTS=OFF' "$MK" && pass "tests off in the package build" || fail "CONNTRACK_NFT_TESTS not OFF"

# Packages and their dependencies.
for p in collectd-mod-conntrack-nft luci-app-statistics-conntrack-nft; do
    grep -q "^\$(eval \$(call BuildPackage,$p))$" "$MK" && pass "BuildPackage $p" || fail "no BuildPackage for $p"
    for f in SECTION CATEGORY TITLE DEPENDS; do
        grep -q "^  $f:=." <<< "$(sed -n "/^define Package\/$p$/,/^endef/p" "$MK")" && pass "$p: $f" || fail "$p: no $f"
    done
    grep -q . <<< "$(sed -n "/^define Package\/$p\/description$/,/^endef/p" "$MK" | sed '1d;$d')" && pass "$p: description" ||
        fail "$p: no description"
done
deps=$(sed -n '/^define Package\/collectd-mod-conntrack-nft$/,/^endef/p' "$MK" | sed -n 's/^  DEPENDS:=//p')
# collectd without +: like the collectd-mod-* packages, shown in collectd's menu. nft_ct and
# nft_objref are in kmod-nft-core; ctnetlink (ConntrackStats) in kmod-nf-conntrack-netlink.
for d in collectd +libnftnl +libmnl +libstdcpp +kmod-nft-core +kmod-nf-conntrack-netlink; do
    [[ " $deps " == *" $d "* ]] && pass "DEPENDS has $d" || fail "DEPENDS lacks $d (have: $deps)"
done
# One name for the plugin in the package manager and in LuCI: both packages' TITLE and the LuCI
# package's description carry the title of the LuCI plugin entry (Statistics > Setup's row and dialog).
ltitle=$(jq -r .title "$PKG/files/usr/share/luci/statistics/plugins/conntrack_nft.json")
[ -n "$ltitle" ] && [ "$ltitle" != null ] || fail "no title in the LuCI plugin JSON"
for p in collectd-mod-conntrack-nft luci-app-statistics-conntrack-nft; do
    t=$(sed -n "/^define Package\/$p$/,/^endef/p" "$MK" | sed -n 's/^  TITLE:=//p')
    [[ "$t" == *"$ltitle"* ]] && pass "$p: TITLE names the plugin as LuCI does ($ltitle): $t" ||
        fail "$p: TITLE \"$t\" does not contain LuCI's title \"$ltitle\""
done
grep -qF "Network plugins > $ltitle)" <<< "$(sed -n '/^define Package\/luci-app-statistics-conntrack-nft\/description$/,/^endef/p' "$MK")" &&
    pass "the LuCI package's description names the menu entry as LuCI shows it" ||
    fail "the LuCI package's description does not say 'Network plugins > $ltitle'"
grep -q 'PKGARCH:=all' "$MK" && pass "LuCI package is architecture-independent" || fail "LuCI package needs PKGARCH:=all"

# Installed files: collectd's init script needs both the .so and the JSON.
grep -q 'usr/lib/collectd/conntrack_nft.so' "$MK" && pass "installs /usr/lib/collectd/conntrack_nft.so" ||
    fail "does not install /usr/lib/collectd/conntrack_nft.so"
for f in $(grep -o '\./files/[^ ]*' "$MK" | sort -u); do
    [ -f "$PKG/$f" ] && pass "exists: $f" || fail "installed file missing: $f"
    case "$f" in *.json) jq -e . "$PKG/$f" > /dev/null && pass "valid JSON: $f" || fail "invalid JSON: $f" ;; esac
done
for f in usr/share/collectd/plugin/conntrack_nft.json usr/share/luci/statistics/plugins/conntrack_nft.json \
         www/luci-static/resources/view/statistics/plugins/conntrack_nft.js \
         www/luci-static/resources/statistics/rrdtool/definitions/conntrack_nft.js; do
    grep -q "files/$f" "$MK" && pass "installs /$f" || fail "does not install /$f"
done

# collectd's init script reads "string", "bool", "list" only; every key one the plugin accepts.
cjson="$PKG/files/usr/share/collectd/plugin/conntrack_nft.json"
extra=$(jq -r 'keys - ["string", "bool", "list"] | .[]' "$cjson")
[ -z "$extra" ] && pass "collectd JSON has only string/bool/list" || fail "collectd JSON has other keys: $extra"
# The keys the plugin accepts: the list its "unknown option" error prints (kKeys).
accepted=$(sed -n '/kKeys =/,/;/p' "$ROOT/plugin/plugin_config.cpp" | grep -o '"[^"]*"' | tr -d '"\n ' |
    tr ',' '\n' | grep -v '^$' | sort)
[ -n "$accepted" ] || fail "could not read the accepted keys (kKeys) from plugin/plugin_config.cpp"
for k in $(jq -r '.string + .bool + .list | .[]' "$cjson"); do
    grep -qx "$k" <<< "$accepted" && pass "collectd JSON key $k is accepted by the plugin" ||
        fail "collectd JSON key $k is not a key the plugin accepts ($(echo $accepted))"
done
for k in $accepted; do
    jq -e --arg k "$k" '.string + .bool + .list | index($k)' "$cjson" > /dev/null &&
        pass "plugin key $k is in the collectd JSON" || fail "plugin key $k is missing from $cjson"
done

if [ "$FAILED" != 0 ]; then echo "package_makefile: FAILED"; exit 1; fi
echo "package_makefile: passed"
