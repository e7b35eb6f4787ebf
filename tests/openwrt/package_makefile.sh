#!/usr/bin/env bash
# The feed's package Makefiles have what openwrt/packages requires and what this package needs:
# the fields, the dependencies (collectd's headers from collectd's own tarball, the kernel modules
# the rules use), the version of CMakeLists.txt, and every file they install exists and is valid
# JSON where JSON. (scripts/openwrt-build.sh runs them in OpenWrt's real build system.)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PKG="$ROOT/openwrt-feed/collectd-mod-conntrack-nft"
MK="$PKG/Makefile"
LPKG="$ROOT/openwrt-feed/luci-app-statistics-conntrack-nft"
LMK="$LPKG/Makefile"
FAILED=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }
command -v jq > /dev/null || { echo "FAIL: needs jq"; exit 1; }
[ -f "$MK" ] || { echo "FAIL: $MK missing"; exit 1; }

field() { sed -n "/^$1:=/{s/^$1:=//p;q}" "$MK"; }  # field NAME: value of the first NAME:=...

# Fields openwrt/packages' CONTRIBUTING asks for, each non-empty.
for f in PKG_NAME PKG_VERSION PKG_RELEASE PKG_MAINTAINER PKG_LICENSE; do
    if [ -n "$(field "$f")" ]; then pass "$f:=$(field "$f")"; else fail "$f missing or empty"; fi
done
[ "$(field PKG_NAME)" = collectd-mod-conntrack-nft ] && pass "PKG_NAME follows collectd-mod-<name>" ||
    fail "PKG_NAME must be collectd-mod-conntrack-nft"
# apk (OpenWrt 25.12) builds the version as PKG_VERSION-rPKG_RELEASE and refuses what its rules do
# not parse: numbers and dots for this package's version, a bare number for the release.
[[ "$(field PKG_VERSION)" =~ ^[0-9]+(\.[0-9]+)*$ ]] && pass "PKG_VERSION is numbers and dots (apk)" ||
    fail "PKG_VERSION '$(field PKG_VERSION)' must be numbers and dots, as apk's version rules take it"
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

# Build: cmake.mk against collectd's headers unpacked from collectd's own tarball into the
# package's build directory: never collectd's build directory, which CONFIG_AUTOREMOVE empties.
grep -qx 'include $(INCLUDE_DIR)/package.mk' "$MK" && pass "includes package.mk" || fail "no include of package.mk"
grep -qx 'include $(INCLUDE_DIR)/cmake.mk' "$MK" && pass "includes cmake.mk" || fail "no include of cmake.mk"
grep -qF '$(BUILD_DIR)/collectd' "$MK" && fail "the Makefile still reads collectd's build directory" ||
    pass "no use of collectd's build directory"
[ -z "$(field PKG_BUILD_DEPENDS)" ] && pass "no PKG_BUILD_DEPENDS on collectd (headers from its tarball)" ||
    fail "PKG_BUILD_DEPENDS:=$(field PKG_BUILD_DEPENDS) (collectd's build dir does not survive CONFIG_AUTOREMOVE)"
grep -q -- '-DCOLLECTD_SOURCE_DIR=$(COLLECTD_HEADERS)' "$MK" && pass "COLLECTD_SOURCE_DIR is the package's own copy of collectd's headers" ||
    fail "no -DCOLLECTD_SOURCE_DIR=\$(COLLECTD_HEADERS)"
grep -q -- '-DCONNTRACK_NFT_TESTS=OFF' "$MK" && pass "tests off in the package build" || fail "CONNTRACK_NFT_TESTS not OFF"
[ "$(field PKG_BUILD_FLAGS)" = no-mips16 ] && pass "PKG_BUILD_FLAGS:=no-mips16 (never run as MIPS16)" || fail "PKG_BUILD_FLAGS must be no-mips16"
[ "$(field PKG_BUILD_PARALLEL)" = 1 ] && pass "PKG_BUILD_PARALLEL:=1" || fail "no PKG_BUILD_PARALLEL:=1"
[[ " $(field PKG_CONFIG_DEPENDS) " == *" CONFIG_COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP "* ]] &&
    pass "PKG_CONFIG_DEPENDS has the libstdcpp option (toggling it rebuilds)" || fail "PKG_CONFIG_DEPENDS lacks CONFIG_COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP"
# collectd's tarball: the version and hash of the packages feed's utils/collectd.
[ "$(field COLLECTD_VERSION)" = 5.12.0 ] && [ "$(field COLLECTD_SOURCE)" = 'collectd-$(COLLECTD_VERSION).tar.bz2' ] &&
    [[ "$(field COLLECTD_HASH)" =~ ^[0-9a-f]{64}$ ]] && pass "collectd's tarball named as utils/collectd names it" ||
    fail "COLLECTD_VERSION/SOURCE/HASH"

# Packages and their dependencies: one package per Makefile (a source's packages share their
# dependencies, and LuCI's would be built with the plugin).
pkg_mk() { case "$1" in luci-*) echo "$LMK" ;; *) echo "$MK" ;; esac; }
for p in collectd-mod-conntrack-nft luci-app-statistics-conntrack-nft; do
    m=$(pkg_mk "$p")
    [ "$(grep -c '^\$(eval \$(call BuildPackage,' "$m")" = 1 ] && grep -q "^\$(eval \$(call BuildPackage,$p))$" "$m" &&
        pass "BuildPackage $p, alone in its Makefile" || fail "no BuildPackage for $p alone in $m"
    for f in SECTION CATEGORY TITLE DEPENDS; do
        grep -q "^  $f:=." <<< "$(sed -n "/^define Package\/$p$/,/^endef/p" "$m")" && pass "$p: $f" || fail "$p: no $f"
    done
    grep -q . <<< "$(sed -n "/^define Package\/$p\/description$/,/^endef/p" "$m" | sed '1d;$d')" && pass "$p: description" ||
        fail "$p: no description"
done
[ "$(sed -n 's/^PKG_VERSION:=//p' "$LMK")" = "$(field PKG_VERSION)" ] && pass "the LuCI package has the plugin's version" ||
    fail "the LuCI package's PKG_VERSION differs from the plugin's"
deps=$(sed -n '/^define Package\/collectd-mod-conntrack-nft$/,/^endef/p' "$MK" | sed -n 's/^  DEPENDS:=//p')
# +collectd: selecting the plugin alone selects collectd (without + a fresh .config loses the
# plugin at defconfig: "depends on PACKAGE_collectd"). nft_ct and
# nft_objref are in kmod-nft-core; ctnetlink (ConntrackStats) in kmod-nf-conntrack-netlink.
# libstdcpp only with the option that links it (the default build needs no C++ runtime library).
for d in +collectd +libnftnl +libmnl +COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP:libstdcpp +kmod-nft-core +kmod-nf-conntrack-netlink; do
    [[ " $deps " == *" $d "* ]] && pass "DEPENDS has $d" || fail "DEPENDS lacks $d (have: $deps)"
done
# One name for the plugin in the package manager and in LuCI: both packages' TITLE and the LuCI
# package's description carry the title of the LuCI plugin entry (Statistics > Setup's row and dialog).
ltitle=$(jq -r .title "$LPKG/files/usr/share/luci/statistics/plugins/conntrack_nft.json")
[ -n "$ltitle" ] && [ "$ltitle" != null ] || fail "no title in the LuCI plugin JSON"
for p in collectd-mod-conntrack-nft luci-app-statistics-conntrack-nft; do
    t=$(sed -n "/^define Package\/$p$/,/^endef/p" "$(pkg_mk "$p")" | sed -n 's/^  TITLE:=//p')
    [[ "$t" == *"$ltitle"* ]] && pass "$p: TITLE names the plugin as LuCI does ($ltitle): $t" ||
        fail "$p: TITLE \"$t\" does not contain LuCI's title \"$ltitle\""
done
grep -qF "Network plugins > $ltitle)" <<< "$(sed -n '/^define Package\/luci-app-statistics-conntrack-nft\/description$/,/^endef/p' "$LMK")" &&
    pass "the LuCI package's description names the menu entry as LuCI shows it" ||
    fail "the LuCI package's description does not say 'Network plugins > $ltitle'"
grep -q 'PKGARCH:=all' "$LMK" && pass "LuCI package is architecture-independent" || fail "LuCI package needs PKGARCH:=all"

# Installed files: collectd's init script needs both the .so and the JSON.
grep -q 'usr/lib/collectd/conntrack_nft.so' "$MK" && pass "installs /usr/lib/collectd/conntrack_nft.so" ||
    fail "does not install /usr/lib/collectd/conntrack_nft.so"
for m in "$MK" "$LMK"; do
    for f in $(grep -o '\./files/[^ ]*' "$m" | sort -u); do
        [ -f "$(dirname "$m")/$f" ] && pass "exists: $f" || fail "installed file missing: $f"
        case "$f" in *.json) jq -e . "$(dirname "$m")/$f" > /dev/null && pass "valid JSON: $f" || fail "invalid JSON: $f" ;; esac
    done
done
grep -q "files/usr/share/collectd/plugin/conntrack_nft.json" "$MK" && pass "the plugin installs its collectd JSON" ||
    fail "the plugin does not install /usr/share/collectd/plugin/conntrack_nft.json"
for f in usr/share/luci/statistics/plugins/conntrack_nft.json \
         www/luci-static/resources/view/statistics/plugins/conntrack_nft.js \
         www/luci-static/resources/statistics/rrdtool/definitions/conntrack_nft.js; do
    grep -q "files/$f" "$LMK" && pass "the LuCI package installs /$f" || fail "the LuCI package does not install /$f"
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

[[ " $deps " != *" +libstdcpp "* ]] && pass "libstdcpp is not an unconditional dependency" ||
    fail "DEPENDS pulls libstdcpp (2 MB) unconditionally"
grep -q '^config COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP$' "$MK" && pass "the libstdcpp build is a config option" ||
    fail "no config COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP"

# PKG_LICENSE_FILES names files of the build directory: each must be a file the package copies there.
parts=$(field CONNTRACK_NFT_SOURCE_PARTS)
for f in $(field PKG_LICENSE_FILES); do
    [ -f "$ROOT/$f" ] && [[ " $parts " == *" $f "* ]] && pass "PKG_LICENSE_FILES $f is copied into the build directory" ||
        fail "PKG_LICENSE_FILES $f is not among CONNTRACK_NFT_SOURCE_PARTS ($parts) or missing"
done

# The Makefile's own logic, run by make against stand-ins for OpenWrt's rules.mk, package.mk and
# cmake.mk: expanded as package.mk expands a package's Build/Configure (call, then eval, then the
# recipe), so the $$$$ escapes are what the build sees. (The real build: scripts/openwrt-build.sh.)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/top/include" "$T/build"
cat > "$T/top/rules.mk" <<'RULES'
BUILD_DIR ?= /nonexistent
INCLUDE_DIR := $(TOPDIR)/include
RULES
cat > "$T/top/include/package.mk" <<'PKGMK'
BuildPackage =
Download =
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
define Build/Configure/Default
	@echo "cmake $(CMAKE_OPTIONS)"
endef
define Build/Configure
	$(call Build/Configure/Default)
endef
PKGMK
: > "$T/top/include/cmake.mk"
cat > "$T/harness.mk" <<HARNESS
TOPDIR := $T/top
include $MK
define Harness
configure:
	\$(Build/Configure)
print-file-depends:
	@echo "\$(PKG_FILE_DEPENDS)"
endef
\$(eval \$(call Harness))
HARNESS
run_make() { (cd "$PKG" && make -s --no-print-directory -f "$T/harness.mk" "$@" 2>&1); }

out=$(run_make configure BUILD_DIR="$T/build") || fail "configure failed: $out"
[[ "$out" == *"-DCOLLECTD_SOURCE_DIR=$T/build/collectd-mod-conntrack-nft-$(field PKG_VERSION)/collectd-headers "* ]] &&
    pass "collectd's headers in the package's own build directory" || fail "COLLECTD_SOURCE_DIR: $out"
[[ "$out" == *"-DCONNTRACK_NFT_MINIMAL_RUNTIME=ON"* ]] && pass "default: built without the C++ runtime library" ||
    fail "default build is not CONNTRACK_NFT_MINIMAL_RUNTIME=ON: $out"
out=$(run_make configure BUILD_DIR="$T/build" CONFIG_COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP=y) || fail "$out"
[[ "$out" == *"-DCONNTRACK_NFT_MINIMAL_RUNTIME=OFF"* ]] && pass "the libstdcpp option builds with the C++ runtime" ||
    fail "CONFIG_COLLECTD_MOD_CONNTRACK_NFT_LIBSTDCPP=y does not turn the minimal runtime off: $out"
out=$(run_make print-file-depends)
for part in nft plugin cmake CMakeLists.txt; do
    [[ " $out " == *" $ROOT/$part "* ]] && [ -e "$ROOT/$part" ] && pass "PKG_FILE_DEPENDS watches $part/ (an edit rebuilds)" ||
        fail "PKG_FILE_DEPENDS lacks $ROOT/$part: $out"
done

if [ "$FAILED" != 0 ]; then echo "package_makefile: FAILED"; exit 1; fi
echo "package_makefile: passed"
