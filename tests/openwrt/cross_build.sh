#!/usr/bin/env bash
# The plugin cross-builds for a router (aarch64, cmake/toolchain-aarch64-linux-gnu.cmake) against
# collectd's headers in the layout OpenWrt has: collectd's configured source tree (src/,
# src/daemon/, generated src/config.h), found through COLLECTD_SOURCE_DIR while includes and
# libraries are re-rooted as OpenWrt's cmake.mk does. The tree is collectd 5.12.0 (OpenWrt's
# version), from Debian's source package's upstream tarball, configured for the target like
# OpenWrt's collectd Makefile does; it is kept between runs and clones (see TREE below).
#   cross_build.sh              the tree (if not ready yet), then the cross build and its checks
#   cross_build.sh --prepare    only the tree: the CTest fixture openwrt.collectd_tree, with a
#                               time limit of its own (autoreconf and configure take about 90 s
#                               on 2 idle cores, minutes on a busy machine; then kept in
#                               /var/cache/conntrack-nft/cross-aarch64-linux-gnu)
set -euo pipefail
PREPARE=0
[ "${1:-}" = --prepare ] && PREPARE=1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at the build tree}
TRIPLE=aarch64-linux-gnu
# Where install-deps.sh keeps collectd's upstream tarball (apt-get source --download-only --tar-only collectd).
SOURCE_CACHE=${CTNFT_COLLECTD_SOURCE_CACHE:-/var/cache/conntrack-nft}
FAILED=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }
skip() {
    echo "SKIP: $*"
    [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" != 1 ] || { echo "FAIL: CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping"; exit 1; }
    exit 77
}
for tool in $TRIPLE-g++ $TRIPLE-gcc $TRIPLE-readelf file autoreconf libtoolize flex bison make; do
    command -v "$tool" > /dev/null || skip "needs $tool (g++-$TRIPLE, file, autoconf, automake, libtool, flex, bison)"
done
for pc in libnftnl libmnl; do
    [ -f "/usr/lib/$TRIPLE/pkgconfig/$pc.pc" ] || skip "needs $pc-dev:arm64 (dpkg --add-architecture arm64)"
done
tarball=$(ls "$SOURCE_CACHE"/collectd_*.orig.tar.* 2>/dev/null | sort | tail -n 1 || true)
[ -n "$tarball" ] || skip "no collectd source in $SOURCE_CACHE: (cd $SOURCE_CACHE && apt-get source --download-only --tar-only collectd), needs a deb-src line"

WORK="$BUILD_DIR/openwrt/cross-$TRIPLE"
mkdir -p "$WORK"
# collectd's tree, configured for the target with OpenWrt's collectd arguments (little endian:
# --with-fp-layout=nothing); only its config.h and headers are used. It depends only on the
# tarball, these arguments and the cross compiler, so it is kept once per machine beside the
# tarball (as the i386 root and the musl trees are), not per build tree: a fresh clone reuses it
# (configuring took 90 s idle and over 15 minutes on a machine loaded 12 on 2 CPUs). One
# configure at a time (lock); a configure cut short leaves no stamp and is done again.
CROSS_CACHE="$SOURCE_CACHE/cross-$TRIPLE"
mkdir -p "$CROSS_CACHE" 2> /dev/null && [ -w "$CROSS_CACHE" ] || CROSS_CACHE=$WORK
TREE="$CROSS_CACHE/collectd"
exec 9> "$CROSS_CACHE/.lock"
flock 9
if [ ! -f "$TREE/src/config.h" ] || [ "$(cat "$TREE/.from" 2>/dev/null)" != "$tarball" ]; then
    rm -rf "$TREE" && mkdir -p "$TREE"
    tar -xf "$tarball" -C "$TREE" --strip-components=1
    echo "collectd: autoreconf and configure for $TRIPLE (log: $TREE/configure.log)"
    (cd "$TREE" && ./build.sh && ./configure --host=$TRIPLE --disable-all-plugins --disable-werror --disable-debug \
        --enable-daemon --with-nan-emulation --with-libyajl=no --without-perl-bindings --without-libudev \
        --without-libgcrypt --with-fp-layout=nothing) > "$TREE/configure.log" 2>&1 ||
        { tail -n 30 "$TREE/configure.log"; echo "FAIL: configuring collectd's tree"; exit 1; }
    echo "$tarball" > "$TREE/.from"
fi
exec 9>&-
if [ "$PREPARE" = 1 ]; then
    [ -f "$TREE/src/config.h" ] || { echo "FAIL: no $TREE/src/config.h"; exit 1; }
    echo "collectd_tree: ready in $TREE"
    exit 0
fi
for f in src/config.h src/daemon/plugin.h src/daemon/collectd.h src/liboconfig/oconfig.h; do
    [ -f "$TREE/$f" ] && pass "collectd tree has $f" || fail "collectd tree lacks $f"
done
grep -q '^#define PACKAGE_VERSION "5\.12\.0' "$TREE/src/config.h" && pass "collectd 5.12.0, as OpenWrt's" ||
    fail "config.h is not collectd 5.12.0's"

# OpenWrt's cmake.mk re-roots includes and libraries under its staging dir.
OUT="$WORK/build"
rm -rf "$OUT"
mkdir -p "$WORK/staging"
cmake -S "$ROOT" -B "$OUT" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-$TRIPLE.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DCONNTRACK_NFT_TESTS=OFF -DCOLLECTD_SOURCE_DIR="$TREE" \
    -DCMAKE_FIND_ROOT_PATH="$WORK/staging" -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
    -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY > "$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log"; echo "FAIL: cmake configure for $TRIPLE"; exit 1; }
cmake --build "$OUT" -j "$(nproc)" > "$WORK/build.log" 2>&1 ||
    { tail -n 40 "$WORK/build.log"; echo "FAIL: cross build for $TRIPLE"; exit 1; }
SO="$OUT/plugin/conntrack_nft.so"

desc=$(file -b "$SO")
echo "file: $desc"
[[ "$desc" == *"ELF 64-bit LSB shared object, ARM aarch64"* ]] && pass "conntrack_nft.so is an aarch64 shared object" ||
    fail "conntrack_nft.so is not aarch64: $desc"
flags=$(cat "$OUT"/plugin/CMakeFiles/conntrack_nft_glue.dir/flags.make)
[[ "$flags" == *CONNTRACK_NFT_COLLECTD_TREE* && "$flags" == *"$TREE/src/daemon"* ]] &&
    pass "compiled against collectd's source tree (src/daemon, config.h)" || fail "not compiled against $TREE"
needed=$($TRIPLE-readelf -d "$SO" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in libnftnl.so.11 libmnl.so.0 libstdc++.so.6; do
    [[ " $needed" == *" $lib "* ]] && pass "needs $lib" || fail "does not link $lib (needs: $needed)"
done
exported=$($TRIPLE-readelf --dyn-syms -W "$SO" | awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' | sort | tr '\n' ' ')
[ "$exported" = "module_register " ] && pass "exports only module_register" || fail "exports: $exported"

if [ "$FAILED" != 0 ]; then echo "cross_build: FAILED"; exit 1; fi
echo "cross_build: passed"
