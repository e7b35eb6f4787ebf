#!/usr/bin/env bash
# Builds OpenWrt's userland from upstream sources for the OpenWrt tests: libubox (+jshn), ubus,
# uci, ucode, rpcd, uhttpd, lucihttp, cgi-io, firewall4 (OUT_DIR/firewall4), and per LuCI version luci-base's ucode module
# (luci.core) and ucode-mod-html. Installed as OpenWrt installs them (prefix /usr) into
# OUT_DIR/staging; OUT_DIR/luci/<version>/ holds each LuCI tree and its native parts.
#   build.sh SRC_DIR OUT_DIR      SRC_DIR: ../shared/openwrt-src (git bundles, LuCI tarballs)
# Cached: a second call with the same commits returns at once. Concurrent calls wait on a lock.
# Sources are cloned into OUT_DIR only (test inputs: never into the repository).
set -euo pipefail

SRC=${1:?usage: build.sh SRC_DIR OUT_DIR}
OUT=${2:?usage: build.sh SRC_DIR OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=commits.sh
source "$HERE/commits.sh"
JOBS=${JOBS:-2}

[ -d "$SRC" ] || { echo "build.sh: no OpenWrt sources at $SRC" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SRC=$(cd "$SRC" && pwd)
STAGE="$OUT/staging"

# One build at a time: tests in parallel share the tree.
exec 9> "$OUT/.lock"
flock 9

# What the tree was built from: commits, LuCI tarballs, this script and its commit list.
fingerprint() {
    cat "$HERE/commits.sh" "$0"
    # Names without their folder: the VM lab's guest reaches the same files by another path.
    for v in "${LUCI_VERSIONS[@]}"; do echo "luci-$v.tar.gz $(stat -c '%s %Y' "$SRC/luci-$v.tar.gz")"; done
}
WANT=$(fingerprint | sha256sum | cut -d' ' -f1)
if [ "$(cat "$OUT/.done" 2>/dev/null)" = "$WANT" ]; then
    exit 0
fi
START=$(date +%s)
rm -rf "$OUT/src" "$OUT/build" "$STAGE" "$OUT/luci" "$OUT/firewall4" "$OUT/.done"
mkdir -p "$OUT/src" "$OUT/build" "$STAGE"

checkout() {  # checkout NAME COMMIT: a clone of NAME.bundle at COMMIT in $OUT/src/NAME
    git clone -q --no-checkout "$SRC/$1.bundle" "$OUT/src/$1" 2> /dev/null ||
        { echo "build.sh: cannot clone $SRC/$1.bundle" >&2; return 1; }
    git -C "$OUT/src/$1" -c advice.detachedHead=false checkout -q "$2" 2> /dev/null ||
        { echo "build.sh: $1.bundle has no commit $2 (commits.sh)" >&2; return 1; }
}

# OpenWrt's paths (/usr, /usr/lib) and the staged headers and libraries of what came before.
# -D_GNU_SOURCE= : ucode's headers use vasprintf (glibc hides it without _GNU_SOURCE); the empty
# value does not clash with the sources that define it themselves.
BASE_CFLAGS="-O2 -g -I$STAGE/usr/include"
BASE_LDFLAGS="-L$STAGE/usr/lib -Wl,-rpath-link,$STAGE/usr/lib"
cmake_build() {  # cmake_build NAME EXTRA_CFLAGS CMAKE_ARGS...
    local name=$1 cflags=$2
    shift 2
    cmake -S "$OUT/src/$name" -B "$OUT/build/$name" -Wno-dev --no-warn-unused-cli > "$OUT/build/$name.log" \
        -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_PREFIX_PATH="$STAGE/usr" -DCMAKE_FIND_ROOT_PATH="$STAGE" \
        -DCMAKE_C_FLAGS="$BASE_CFLAGS $cflags" \
        -DCMAKE_EXE_LINKER_FLAGS="$BASE_LDFLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$BASE_LDFLAGS" \
        -DCMAKE_MODULE_LINKER_FLAGS="$BASE_LDFLAGS" "$@" ||
        { cat "$OUT/build/$name.log"; return 1; }
    make -C "$OUT/build/$name" -j"$JOBS" >> "$OUT/build/$name.log" 2>&1 &&
        make -C "$OUT/build/$name" install DESTDIR="$STAGE" >> "$OUT/build/$name.log" 2>&1 ||
        { tail -n 40 "$OUT/build/$name.log"; echo "build.sh: $name failed, log: $OUT/build/$name.log" >&2; return 1; }
}

for name in "${!COMMITS[@]}"; do checkout "$name" "${COMMITS[$name]}"; done

cmake_build libubox "" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF
cmake_build ubus "" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF
cmake_build uci "" -DBUILD_LUA=OFF
# No nl80211/rtnl (libnl-tiny is OpenWrt's), no digest (libmd): LuCI's statistics pages need none.
cmake_build ucode "" -DUBUS_SUPPORT=ON -DUCI_SUPPORT=ON -DULOOP_SUPPORT=ON \
    -DNL80211_SUPPORT=OFF -DRTNL_SUPPORT=OFF -DDIGEST_SUPPORT=OFF -DDIGEST_SUPPORT_EXTENDED=OFF
# rpc-sys needs strlcpy (not in glibc 2.36) and serves no statistics page; iwinfo is OpenWrt's.
cmake_build rpcd "-D_GNU_SOURCE=" -DIWINFO_SUPPORT=OFF -DRPCSYS_SUPPORT=OFF -DFILE_SUPPORT=ON -DUCODE_SUPPORT=ON
# uhttpd builds with -Werror; GCC 12 misreports a strcmp as reading past its bound.
cmake_build uhttpd "-D_GNU_SOURCE= -Wno-stringop-overread" \
    -DTLS_SUPPORT=OFF -DLUA_SUPPORT=OFF -DUBUS_SUPPORT=ON -DUCODE_SUPPORT=ON
cmake_build lucihttp "-D_GNU_SOURCE=" -DBUILD_LUA=OFF -DBUILD_UCODE=ON -DBUILD_TESTS=OFF
cmake_build cgi-io ""

# libubox's jshn.sh, as OpenWrt installs it. (uci's sh/uci.sh is an old accessor layer that
# OpenWrt does not install; its /lib/config/uci.sh comes from openwrt/openwrt: see root.sh.)
install -D -m 0644 "$OUT/src/libubox/sh/jshn.sh" "$STAGE/usr/share/libubox/jshn.sh"
# OpenWrt's paths for the daemons (the packages' Makefiles move them there).
mkdir -p "$STAGE/sbin" "$STAGE/bin"
for f in ubusd rpcd uci; do [ ! -e "$STAGE/usr/sbin/$f" ] || mv "$STAGE/usr/sbin/$f" "$STAGE/sbin/$f"; done
[ ! -e "$STAGE/usr/bin/ubus" ] || mv "$STAGE/usr/bin/ubus" "$STAGE/bin/ubus"
[ ! -e "$STAGE/usr/bin/uci" ] || mv "$STAGE/usr/bin/uci" "$STAGE/sbin/uci"
mkdir -p "$STAGE/usr/sbin"
[ ! -e "$STAGE/usr/bin/uhttpd" ] || mv "$STAGE/usr/bin/uhttpd" "$STAGE/usr/sbin/uhttpd"
# cgi-io is one binary under several names (www/cgi-bin/cgi-{upload,download,backup,exec}).
mkdir -p "$STAGE/www/cgi-bin"
for f in upload download backup exec; do ln -sf ../../usr/libexec/cgi-io "$STAGE/www/cgi-bin/cgi-$f"; done
if [ -e "$STAGE/usr/sbin/cgi-io" ]; then mkdir -p "$STAGE/usr/libexec"; mv "$STAGE/usr/sbin/cgi-io" "$STAGE/usr/libexec/cgi-io"; fi

# firewall4 (fw4) as its package installs it (root/ -> /), kept apart from the staging tree that
# every LuCI root copies: only the fw4 tests lay it out (root.sh, owrt_fw4).
mkdir -p "$OUT/firewall4"
cp -a "$OUT/src/firewall4/root/." "$OUT/firewall4/"

# Per LuCI version: the tree, luci-base's ucode module and ucode-mod-html, built against the
# one userland above.
for v in "${LUCI_VERSIONS[@]}"; do
    dir="$OUT/luci/$v"
    mkdir -p "$dir"
    tar xzf "$SRC/luci-$v.tar.gz" -C "$dir" --strip-components=1
    base="$dir/modules/luci-base/src"
    make -C "$base" compile FPIC=-fPIC CPPFLAGS="-I$STAGE/usr/include -D_GNU_SOURCE=" \
        CFLAGS="-O2 -g" LDFLAGS="$BASE_LDFLAGS" LUCI_VERSION="$v" LUCI_GITBRANCH="$v" \
        > "$OUT/build/luci-base-$v.log" 2>&1 ||
        { tail -n 40 "$OUT/build/luci-base-$v.log"; echo "build.sh: luci-base $v failed" >&2; exit 1; }
    make -C "$base" install DESTDIR="$dir/staging" >> "$OUT/build/luci-base-$v.log" 2>&1
    html="$dir/contrib/package/ucode-mod-html/src"
    mkdir -p "$dir/staging/usr/lib/ucode"
    cc -O2 -g -fPIC -D_GNU_SOURCE= -I"$STAGE/usr/include" -Wall -shared -o "$dir/staging/usr/lib/ucode/html.so" \
        "$html/html.c" $BASE_LDFLAGS
done

echo "$WANT" > "$OUT/.done"
echo "build.sh: OpenWrt userland built in $(( $(date +%s) - START )) s into $OUT"
