#!/usr/bin/env bash
# The feed built by OpenWrt's own build system, for ath79/generic (mips_24kc):
#
#   scripts/openwrt-build.sh 24.10.3        # .ipk, installed with opkg into a router root, checked
#   scripts/openwrt-build.sh 25.12.0-rc5    # .apk (not done yet: the build has not been run
#                                           # for 25.12, and the apk install is missing)
#
# It assembles OpenWrt's build system from ../shared/openwrt-src (the release's tarball, the
# packages feed's collectd at the commit the release pins) with Debian's host tools and zig 0.11
# wrappers as an external toolchain, then runs OpenWrt's own `make package/<name>/compile` for
# libmnl, libnftnl, collectd (fewest plugins) and this feed's two packages, with CONFIG_AUTOREMOVE=y
# as the SDK sets it. Nothing is downloaded but Debian's and npm's packages: the sources OpenWrt
# would fetch come from ../shared and Debian; each substitute is a visible local change to that
# package's Makefile (see substitute() below and docs/openwrt.md). Then: the packages installed
# into an empty mips_24kc root by the real opkg (24.10) or apk (25.12), built from ../shared's
# bundles, and checked (tests/openwrt/sdk_install.sh), including collectd from this build loading
# the plugin under qemu-mips-static -cpu 24Kc.
#
# A second argument stops early: `prepare` (tree and toolchain only), `build` (packages only).
# Caches: /var/cache/conntrack-nft/openwrt (CTNFT_CACHE_DIR), under a lock; the prepared tree is
# made in a temporary folder and renamed when complete. The build itself runs in that tree.
# CTNFT_REQUIRE_KERNEL_TESTS=1 (CI): what is missing fails instead of skipping (exit 77).
set -euo pipefail
# The first existing file of a glob, or nothing (no `ls | head`: an early-exit pipe).
first_file() { [ -e "$1" ] && printf '%s\n' "$1"; return 0; }
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${CTNFT_SHARED_DIR:-$root/../shared}
cache=${CTNFT_CACHE_DIR:-/var/cache/conntrack-nft}
source "$root/scripts/zig.sh"
jobs=${JOBS:-$(nproc)}
[ "$jobs" -le 2 ] || jobs=2
start=$SECONDS

usage() { sed -n '2,5p' "$0" >&2; exit 2; }
say() { echo "openwrt-build ${version:-}: $*"; }
die() { echo "openwrt-build ${version:-}: FAIL: $*" >&2; exit 1; }
skip_or_fail() {
    [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" != 1 ] || die "$* (CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping)"
    echo "openwrt-build ${version:-}: SKIP: $*"
    exit 77
}

[ $# -ge 1 ] || usage
version=$1
case "$version" in
    24.10.3) pm=opkg ;;
    25.12.0-rc5) pm=apk ;;
    *) usage ;;
esac
step=${2:-all}
case "$step" in prepare|build|all) ;; *) usage ;; esac
[ -f "$shared/openwrt-src/openwrt-$version.tar.gz" ] ||
    skip_or_fail "needs $shared/openwrt-src/openwrt-$version.tar.gz (the OpenWrt sources of ../shared)"
[ "$(id -u)" = 0 ] || skip_or_fail "needs root (apt-get, /var/cache)"

ow=$cache/openwrt
mkdir -p "$ow"
exec 9> "$ow/.lock"
flock 9

# --- Host tools (Debian's) ----------------------------------------------------------------------
install_tools() {
    local missing=() t
    for t in gawk rsync meson ninja cmake flex bison fakeroot pkgconf zstd autoreconf libtoolize llvm-ar ld.lld file qemu-mips-static npm unzip; do
        command -v "$t" > /dev/null || missing+=("$t")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages for ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
        gawk rsync meson ninja-build cmake flex bison fakeroot pkgconf zstd autoconf automake libtool \
        llvm lld file qemu-user-static npm unzip libssl-dev zlib1g-dev libjson-c-dev > "$ow/apt.log" 2>&1 ||
        { tail -n 20 "$ow/apt.log"; die "apt-get install failed"; }
}

# --- zig 0.11 and the external toolchain ----------------------------------------------------------

# The toolchain folder OpenWrt's CONFIG_TOOLCHAIN_ROOT points at: gcc-named wrappers around zig
# (mips32r2, soft float, musl), llvm's binutils, and musl's libc.so built from Debian's musl
# source (zig has musl's headers and static sources but no dynamic loader). Shared by both
# releases.
tc=$ow/toolchain-mips_24kc
tc_recipe="zig $zig_version; musl from Debian source, soname libc.so"
prepare_toolchain() {
    [ "$(cat "$tc/.recipe" 2>/dev/null)" = "$tc_recipe" ] || build_musl
    # Replaced only when they change: OpenWrt rebuilds every package when the toolchain does.
    write_wrappers "$tc/bin.new"
    if diff -r "$tc/bin" "$tc/bin.new" > /dev/null 2>&1; then rm -rf "$tc/bin.new"; else rm -rf "$tc/bin" && mv "$tc/bin.new" "$tc/bin"; fi
}

write_wrappers() {
    local tmp=$1
    rm -rf "$tmp" && mkdir -p "$tmp"
    cat > "$tmp/zig-wrapper" <<EOF
#!/bin/bash
# OpenWrt's gcc for mips_24kc, played by zig $zig_version (clang 16, musl). gcc-only flags are
# dropped (-mips16 too: the result has no MIPS16 code, unlike OpenWrt's gcc where a package does
# not opt out); executables get OpenWrt's soft-float loader name and dynamic linking.
export ZIG_GLOBAL_CACHE_DIR=$ZIG_GLOBAL_CACHE_DIR
EOF
    cat >> "$tmp/zig-wrapper" <<'EOF'
case "${0##*-}" in g++|c++) mode=c++ ;; cpp) mode=cpp ;; *) mode=cc ;; esac
link=1 shared=0 out=() z=0
for a in "$@"; do
    # gcc passes -z to the linker (hardening.mk: -znow -zrelro); zig wants -Wl,-z,...
    if [ "$z" = 1 ]; then out+=("-Wl,-z,$a"); z=0; continue; fi
    case "$a" in
        -z) z=1; continue ;;
        -z?*) out+=("-Wl,-z,${a#-z}"); continue ;;
        -mips32r2|-mtune=*|-fno-caller-saves|-mno-branch-likely|-fhonour-copts|-mips16|-minterlink-mips16|\
        -fuse-ld=*|-specs=*|-msoft-float|-fno-plt|-mmusl|-flto*|-ffat-lto-objects|-fno-fat-lto-objects|-fuse-linker-plugin) continue ;;
        # zig 0.11 refuses it (a binding optimisation cmake.mk adds for shared objects).
        -Wl,-Bsymbolic-functions) continue ;;
        -c|-S|-E|-M|-MM|-print-*|-dump*|-v|--version) link=0 ;;
        -shared) shared=1 ;;
    esac
    out+=("$a")
done
[ "$mode" = cpp ] && exec "ZIG" cc -target mips-linux-musl -mcpu=mips32r2+soft_float -E "${out[@]}"
# Links name musl's real libc.so (soname libc.so): zig then links dynamically, as gcc does, where
# it would otherwise link executables statically. (No input file, e.g. -dumpversion: nothing.)
if [ "$link" = 1 ] && [ ${#out[@]} -gt 0 ]; then
    [ "$shared" = 1 ] || out=(-Wl,-dynamic-linker=/lib/ld-musl-mips-sf.so.1 "${out[@]}")
    out+=(-x none "TC/lib/libc.so")
fi
exec "ZIG" "$mode" -target mips-linux-musl -mcpu=mips32r2+soft_float -fno-lto "${out[@]}"
EOF
    sed -i "s|\"ZIG\"|\"$zig\"|; s|TC/lib|$tc/lib|" "$tmp/zig-wrapper"
    chmod +x "$tmp/zig-wrapper"
    local p=mips-openwrt-linux-musl- n
    # Files, not links: ext-toolchain.sh takes the first regular *-*cc* file for the compiler.
    for n in gcc g++ cc c++ cpp; do cp -p "$tmp/zig-wrapper" "$tmp/$p$n"; done
    rm "$tmp/zig-wrapper"
    for n in ar nm ranlib strip objcopy objdump readelf; do ln -s "$(command -v llvm-$n)" "$tmp/$p$n"; done
    for n in ar nm ranlib; do ln -s "$(command -v llvm-$n)" "$tmp/${p}gcc-$n"; done
    # gcc's -fuse-ld=bfd (OpenWrt's default) names ld.bfd; libtool wants "GNU" in its -v, which
    # lld says ("compatible with GNU linkers").
    # (A script, not a link: lld picks its flavour from its own name.)
    printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v ld.lld)" > "$tmp/${p}ld"
    chmod +x "$tmp/${p}ld"
    cp -p "$tmp/${p}ld" "$tmp/${p}ld.bfd"
}

build_musl() {
    local t=$SECONDS tmp=$ow/toolchain.tmp musl_tar
    rm -rf "$tmp" && mkdir -p "$tmp/lib"
    # musl's libc.so and loader from Debian's musl source package (1.2.3; zig's headers are 1.2.4).
    mkdir -p "$cache/src"
    musl_tar=$(ls "$cache"/src/musl_*.orig.tar.gz 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$musl_tar" ]; then
        (cd "$cache/src" && apt-get source -qq --download-only musl) > "$ow/musl-source.log" 2>&1 ||
            skip_or_fail "apt-get source musl failed ($(tail -n 1 "$ow/musl-source.log")); needs a deb-src line (scripts/install-deps.sh adds one)"
        musl_tar=$(ls "$cache"/src/musl_*.orig.tar.gz | sort -V | tail -n 1)
    fi
    mkdir -p "$tmp/musl-src" && tar -xzf "$musl_tar" -C "$tmp/musl-src" --strip-components=1
    musl_version=$(cat "$tmp/musl-src/VERSION")
    (cd "$tmp/musl-src" && ./configure --target=mips-linux-musl --prefix=/ --syslibdir=/lib \
        CC="$zig cc -target mips-linux-musl -mcpu=mips32r2+soft_float" CFLAGS="-Os -pipe" LDFLAGS="-Wl,-soname,libc.so" AR=llvm-ar RANLIB=llvm-ranlib &&
        nice -n 10 make -j"$jobs" lib/libc.so) > "$tmp/musl.log" 2>&1 ||
        { tail -n 30 "$tmp/musl.log"; die "building musl $musl_version for mips soft-float"; }
    cp "$tmp/musl-src/lib/libc.so" "$tmp/lib/libc.so"
    ln -s libc.so "$tmp/lib/ld-musl-mips-sf.so.1"
    rm -rf "$tmp/musl-src"
    # What OpenWrt's own toolchain build writes (toolchain/info.mk): the libc package's version.
    printf 'TARGET_CROSS=mips-openwrt-linux-musl-\nGCC_VERSION=zig-%s\nLIBC_TYPE=musl\nLIBC_URL=http://www.musl-libc.org/\nLIBC_VERSION=%s\nLIBC_SO_VERSION=%s\n' \
        "$zig_version" "$musl_version" "$musl_version" > "$tmp/info.mk"
    echo "$tc_recipe" > "$tmp/.recipe"
    rm -rf "$tc" && mv "$tmp" "$tc"
    say "musl $musl_version for mips soft-float built in $((SECONDS - t)) s"
}

# zig builds musl's and libc++'s static parts for mips the first time it links (3-5 minutes);
# scripts/cross-musl.sh warms the same cache.
warm_zig() {
    local d=$ow/zig-warm
    [ "$(cat "$d/.done" 2>/dev/null)" = "$tc_recipe" ] && [ "$d/.done" -nt "$tc/bin/mips-openwrt-linux-musl-gcc" ] && return 0
    mkdir -p "$d"
    printf '#include <stdio.h>\nint main(void) { puts("ok"); return 0; }\n' > "$d/warm.c"
    "$tc/bin/mips-openwrt-linux-musl-gcc" -Os "$d/warm.c" -o "$d/warm" > "$d/warm.log" 2>&1 ||
        { cat "$d/warm.log"; die "zig cannot link a C program for mips"; }
    [ "$(QEMU_LD_PREFIX=$tc qemu-mips-static -cpu 24Kc "$d/warm")" = ok ] ||
        die "a dynamic mips program with $tc/lib/ld-musl-mips-sf.so.1 does not run under qemu-mips-static -cpu 24Kc"
    [[ "$(file -b "$d/warm")" == *"interpreter /lib/ld-musl-mips-sf.so.1"* ]] || die "$d/warm is not linked dynamically with OpenWrt's loader: $(file -b "$d/warm")"
    echo "$tc_recipe" > "$d/.done"
}

# --- OpenWrt's tree ------------------------------------------------------------------------------
tree=$ow/$version
owsrc=$shared/openwrt-src

# A local change to a package's Makefile: sed expressions, applied and then checked (the change
# must show in the file, or the release's Makefile moved and the change needs a look).
local_change() {  # file comment check-regex sed-args...
    local f=$1 comment=$2 check=$3; shift 3
    sed -i "$@" "$f"
    grep -q -E "$check" "$f" || die "local change to $f did not apply ($comment)"
    sed -i "1i # conntrack-nft local change (scripts/openwrt-build.sh): $comment" "$f"
}

# The sources OpenWrt would download, from ../shared and Debian, into dl/; each one whose file
# or hash differs is a visible local change to its Makefile (listed in docs/openwrt.md).
substitute_sources() {
    local t=$1 nf=$shared/netfilter-src collectd_tar
    mkdir -p "$t/dl"
    cp "$nf/libmnl-1.0.4.tar.gz" "$nf/libnftnl-1.2.8.tar.gz" "$t/dl/"
    local_change "$t/package/libs/libmnl/Makefile" \
        "libmnl 1.0.4 (upstream's git archive of the release, ../shared/netfilter-src) for $(sed -n 's/^PKG_VERSION:=//p' "$t/package/libs/libmnl/Makefile"), which is not to be had here: PKG_HASH:=skip; patches/001-fix_build.patch removed (1.0.5's doxygen/Makefile.am, which 1.0.4 does not have)" \
        '^PKG_HASH:=skip$' \
        -e 's/^PKG_VERSION:=.*/PKG_VERSION:=1.0.4/' -e 's/^PKG_SOURCE:=.*/PKG_SOURCE:=$(PKG_NAME)-$(PKG_VERSION).tar.gz/' \
        -e 's/^PKG_HASH:=.*/PKG_HASH:=skip/'
    rm "$t/package/libs/libmnl/patches/001-fix_build.patch"
    local nftnl_mk=$t/package/libs/libnftnl/Makefile
    local_change "$nftnl_mk" \
        "libnftnl 1.2.8 (upstream's git archive of the release, no configure: PKG_FIXUP:=autoreconf) for $(sed -n 's/^PKG_VERSION:=//p' "$nftnl_mk"): PKG_HASH:=skip" \
        '^PKG_FIXUP:=autoreconf$' \
        -e 's/^PKG_VERSION:=.*/PKG_VERSION:=1.2.8/' -e 's/^PKG_SOURCE:=.*/PKG_SOURCE:=$(PKG_NAME)-$(PKG_VERSION).tar.gz/' \
        -e 's/^PKG_HASH:=.*/PKG_HASH:=skip\nPKG_FIXUP:=autoreconf/'
    # collectd 5.12.0: Debian's orig tarball (a GitHub tag archive: no configure, top folder
    # collectd-collectd-5.12.0), which scripts/install-deps.sh puts in the cache.
    collectd_tar=$(first_file "$cache"/collectd_5.12.0.orig.tar.*)
    [ -n "$collectd_tar" ] || skip_or_fail "no collectd_5.12.0.orig.tar.* in $cache (scripts/install-deps.sh fetches it with apt-get source)"
    cp "$collectd_tar" "$t/dl/"
    local cmk=$t/feeds/packages/utils/collectd/Makefile
    local_change "$cmk" \
        "Debian's collectd_5.12.0.orig tarball (a tag archive, PKG_HASH:=skip) for collectd.org's; only the daemon, no plugin (each plugin's BuildPlugin line removed: their libraries would be built too); no zlib, libltdl, jshn, liblua (the daemon does not link them; jshn is collectd.init's, on every router through procd)" \
        '^PKG_HASH:=skip$' \
        -e "s/^PKG_SOURCE:=.*/PKG_SOURCE:=$(basename "$collectd_tar")/" -e 's/^PKG_HASH:=.*/PKG_HASH:=skip/' \
        -e 's/^PKG_FIXUP:=autoreconf$/PKG_FIXUP:=autoreconf\nPKG_UNPACK=$(HOST_TAR) -C $(PKG_BUILD_DIR) --strip-components=1 -xf $(DL_DIR)\/$(PKG_SOURCE)/' \
        -e '/^\$(eval \$(call Build\(Script\)\{0,1\}\(Lua\)\{0,1\}Plugin,/d' \
        -e '/^  DEPENDS:= +libpthread \\$/,/PACKAGE_collectd-mod-lua:liblua$/c\  DEPENDS:= +libpthread' \
        -e 's/LDFLAGS="\$\$\$\$LDFLAGS -lm -lz"/LDFLAGS="$$$$LDFLAGS -lm"/'
    if grep -q 'call BuildPlugin' <<< "$(grep '^\$(eval' "$cmk")"; then die "collectd plugins left in $cmk"; fi
}

# Debian's host tools where OpenWrt's tools/ would have built them (NO_DEPS=1 skips tools/).
host_tools() {
    local t=$1 h=$1/staging_dir/host/bin n
    # aclocal -I folders OpenWrt's autoreconf names (tools/ and host packages would fill them).
    mkdir -p "$h" "$t/staging_dir/host/share/aclocal" "$t/staging_dir/hostpkg/share/aclocal" \
        "$t/staging_dir/target-mips-openwrt-linux-musl_musl/host/share/aclocal" "$t/staging_dir/target-mips-openwrt-linux-musl_musl/usr/share/aclocal"
    for n in sed tar xz zstd flock cmake ctest ninja meson autoconf autoheader autom4te automake aclocal \
             autoreconf autoscan autoupdate ifnames libtoolize m4 bison flex fakeroot patch \
             gzip bzip2 unzip file; do
        ln -sf "$(command -v "$n")" "$h/$n"
    done
    ln -sfn /usr/share/bison "$t/staging_dir/host/share/bison"   # BISON_PKGDATADIR
    ln -sf "$(command -v gzip)" "$h/libdeflate-gzip"   # tools/libdeflate's, used to unpack
    ln -sf "$(command -v pkgconf)" "$h/pkg-config.real"
    install -m 755 "$t/tools/pkgconf/files/pkg-config" "$h/pkg-config"
    [ -x "$h/mkhash" ] || cc -O2 -o "$h/mkhash" "$t/scripts/mkhash.c"
}

write_config() {
    cat > "$tree/.config" <<CONFIG
CONFIG_DEVEL=y
CONFIG_TARGET_ath79=y
CONFIG_TARGET_ath79_generic=y
CONFIG_EXTERNAL_TOOLCHAIN=y
CONFIG_TARGET_NAME="mips-openwrt-linux-musl"
CONFIG_TOOLCHAIN_PREFIX="mips-openwrt-linux-musl-"
CONFIG_TOOLCHAIN_ROOT="$tc"
CONFIG_TOOLCHAIN_LIBC="musl"
CONFIG_TOOLCHAIN_BIN_PATH="./bin"
CONFIG_TOOLCHAIN_INC_PATH=""
CONFIG_TOOLCHAIN_LIB_PATH="./lib"
CONFIG_EXTERNAL_TOOLCHAIN_LIBC_USE_MUSL=y
CONFIG_LIBC_ROOT_DIR="$tc"
CONFIG_LIBC_FILE_SPEC="./lib/ld-musl-*.so* ./lib/libc.so"
CONFIG_AUTOREMOVE=y
# CONFIG_ALL is not set
# CONFIG_ALL_KMODS is not set
# CONFIG_ALL_NONSHARED is not set
CONFIG_PACKAGE_collectd-mod-conntrack-nft=m
CONFIG
}

prepare_tree() {
    local recipe t
    recipe="$(sha256sum "$owsrc/openwrt-$version.tar.gz" "$owsrc/feed-packages-collectd-$version.tar.gz" | cut -c1-16 | tr '\n' ' ') tree v2"
    if [ "$(cat "$tree/.ctnft-recipe" 2>/dev/null)" != "$recipe" ]; then
        t=$SECONDS
        say "assembling OpenWrt $version's build system in $tree"
        local tmp=$tree.tmp
        rm -rf "$tmp" && mkdir -p "$tmp/feeds/packages"
        tar -xzf "$owsrc/openwrt-$version.tar.gz" -C "$tmp" --strip-components=1
        tar -xzf "$owsrc/feed-packages-collectd-$version.tar.gz" -C "$tmp/feeds/packages" --strip-components=1
        substitute_sources "$tmp"
        echo "$recipe" > "$tmp/.ctnft-recipe"
        rm -rf "$tree" && mv "$tmp" "$tree"
        say "tree assembled in $((SECONDS - t)) s"
    fi
    host_tools "$tree"
    # What `scripts/feeds install` makes: package/feeds/<feed>/<package> links. This checkout's
    # feed, every run (the tree is per machine, the checkout may be a new clone).
    mkdir -p "$tree/package/feeds/packages" "$tree/package/feeds/conntrack_nft"
    ln -sfn ../../../feeds/packages/utils/collectd "$tree/package/feeds/packages/collectd"
    rm -f "$tree"/package/feeds/conntrack_nft/*
    local p
    for p in "$root"/openwrt-feed/*/; do ln -sfn "${p%/}" "$tree/package/feeds/conntrack_nft/"; done
    write_config
    (cd "$tree" && make defconfig > "$tree/defconfig.log" 2>&1) || { tail -n 30 "$tree/defconfig.log"; die "make defconfig"; }
    grep -q '^CONFIG_EXTERNAL_TOOLCHAIN=y' "$tree/.config" || die "defconfig dropped the external toolchain"
    # OpenWrt's wrappers around the toolchain's programs (staging_dir/toolchain-*/bin), made again
    # each run as the toolchain's programs above are.
    if [ "$tree/.ctnft-wrapper" -nt "$tc/bin" ]; then return 0; fi
    owmake toolchain/wrapper/clean
    owmake toolchain/wrapper/compile
    touch "$tree/.ctnft-wrapper"
}

# OpenWrt's make, one target, its log kept; NO_DEPS=1 (tools/ and toolchain/ are not built here).
owmake() {
    local target=$1 log t=$SECONDS
    shift
    log=$tree/logs-ctnft/$(tr '/' '_' <<< "$target").log
    mkdir -p "$tree/logs-ctnft"
    (cd "$tree" && nice -n 10 make "$target" NO_DEPS=1 -j"$jobs" V=s "$@" > "$log" 2>&1) ||
        { grep -E -m 30 -B 3 -A 10 'Error|error:' "$log" | tail -n 60; die "make $target (log: $log)"; }
    say "make $target: $((SECONDS - t)) s"
}

# --- The package managers, built on this machine from ../shared's bundles -------------------------
# opkg (24.10): opkg-lede and libubox at the commits package/system/opkg and package/libs/libubox
# pin, built with Debian's gcc (only opkg-cl: its unit tests do not link with GCC 12).
build_opkg() {
    local d=$ow/host-opkg ubox opkg
    ubox=$(sed -n 's/^PKG_SOURCE_VERSION:=//p' "$tree/package/libs/libubox/Makefile")
    opkg=$(sed -n 's/^PKG_SOURCE_VERSION:=//p' "$tree/package/system/opkg/Makefile")
    [ "$(cat "$d/.recipe" 2>/dev/null)" = "$ubox $opkg" ] && return 0
    local t=$SECONDS tmp=$d.tmp
    rm -rf "$tmp" && mkdir -p "$tmp"
    (   set -e
        git clone -q "$owsrc/libubox.bundle" "$tmp/libubox" && git -C "$tmp/libubox" checkout -q "$ubox"
        git clone -q "$owsrc/opkg-lede.bundle" "$tmp/opkg" && git -C "$tmp/opkg" checkout -q "$opkg"
        cmake -S "$tmp/libubox" -B "$tmp/b-ubox" -DCMAKE_INSTALL_PREFIX="$d" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release
        nice -n 10 make -C "$tmp/b-ubox" -j"$jobs" install
        cmake -S "$tmp/opkg" -B "$tmp/b-opkg" -DCMAKE_PREFIX_PATH="$d" -DCMAKE_C_FLAGS="-I$d/include" \
            -DCMAKE_EXE_LINKER_FLAGS="-L$d/lib -Wl,-rpath,$d/lib" -DCMAKE_BUILD_TYPE=Release -DVERSION="$opkg"
        nice -n 10 make -C "$tmp/b-opkg" -j"$jobs" opkg-cl
        mkdir -p "$d/bin" && cp "$tmp/b-opkg/src/opkg-cl" "$d/bin/opkg"
    ) > "$ow/host-opkg.log" 2>&1 || { tail -n 30 "$ow/host-opkg.log"; die "building opkg (log: $ow/host-opkg.log)"; }
    rm -rf "$tmp"
    echo "$ubox $opkg" > "$d/.recipe"
    say "opkg ${opkg:0:7} with libubox ${ubox:0:7} built in $((SECONDS - t)) s"
}

prepare_all() {
    install_tools
    install_zig "$ow"
    prepare_toolchain
    warm_zig
    prepare_tree
}

owmake_once() {  # target ipk-glob
    local ipk
    ipk=$(find "$tree/bin" -name "$2" -newer "$tree/.ctnft-wrapper" -print -quit 2>/dev/null)
    if [ -n "$ipk" ]; then say "make $1: skipped, $(basename "$ipk") is there"; return 0; fi
    owmake "$1"
}

# --- The packages, by OpenWrt's own make --------------------------------------------------------
# In dependency order (NO_DEPS=1 does not walk them): the C library from the external toolchain,
# libmnl, libnftnl, collectd, the plugin. collectd's build directory is emptied after its
# compile (CONFIG_AUTOREMOVE=y): the plugin must not need it.
build_packages() {
    # With CONFIG_AUTOREMOVE=y OpenWrt compiles an autoremoved package again from scratch at each
    # `make package/X/compile` (clean-build): a package whose .ipk this tree already made (after
    # its last assembly and toolchain change) is not compiled again. The plugin always is.
    owmake_once package/toolchain/compile 'libc_*.ipk'
    owmake_once package/libmnl/compile 'libmnl0_*.ipk'
    owmake_once package/libnftnl/compile 'libnftnl11_*.ipk'
    owmake_once package/collectd/compile 'collectd_5.12.0-*.ipk'
    # CONFIG_AUTOREMOVE=y has emptied collectd's build directory (its stamps stay): the plugin
    # below builds without it.
    local cdir
    cdir=$(ls -d "$tree"/build_dir/target-*/collectd-5.12.0)
    [ ! -e "$cdir/src" ] || die "CONFIG_AUTOREMOVE=y did not empty $cdir"
    say "collectd's build directory after its compile: $(ls -A "$cdir" | tr '\n' ' ') (CONFIG_AUTOREMOVE)"
    build_plugin tree
    [ "${CTNFT_OPENWRT_DIST:-1}" = 0 ] || build_plugin dist
}

# The plugin, in the feed's form (this checkout's sources) or in openwrt/packages' form (the
# release tarball scripts/dist.sh makes, by PKG_SOURCE and PKG_HASH on make's command line).
build_plugin() {
    # The plugin's copy of collectd's headers comes from the tarball collectd's package used: here
    # Debian's (see substitute_sources), so its name and hash are overridden like collectd's own.
    local extra=(COLLECTD_SOURCE="$(basename "$(first_file "$tree"/dl/collectd_5.12.0.orig.tar.*)")" COLLECTD_HASH=skip)
    if [ "$1" = dist ]; then
        local tarball hash
        read -r tarball hash < <(DIST_DIR=$ow/dist "$root/scripts/dist.sh")
        cp "$tarball" "$tree/dl/"
        extra+=(PKG_SOURCE="$(basename "$tarball")" PKG_HASH="$hash" PKG_SOURCE_URL="file://$ow/dist/")
        say "the plugin from $(basename "$tarball") (sha256 $hash), as openwrt/packages would build it"
    fi
    owmake package/collectd-mod-conntrack-nft/clean
    owmake package/collectd-mod-conntrack-nft/compile "${extra[@]}"
    cp "$tree/logs-ctnft/package_collectd-mod-conntrack-nft_compile.log" "$tree/logs-ctnft/plugin-$1.log"
}

prepare_all
[ "$step" = prepare ] && { say "prepared in $((SECONDS - start)) s"; exit 0; }
build_packages
say "built in $((SECONDS - start)) s"
[ "$step" = build ] && exit 0
case "$pm" in
    opkg) build_opkg ;;
    # Not done yet: apk-tools at 25.12's pin with OpenWrt's patches, and an apk variant of
    # tests/openwrt/sdk_install.sh. The packages above are built; nothing installs them.
    apk) die "the .apk install with apk (25.12) is not implemented yet; the packages are in $tree/bin" ;;
esac
bash "$root/tests/openwrt/sdk_install.sh" "$version"
say "done in $((SECONDS - start)) s"
