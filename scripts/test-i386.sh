#!/usr/bin/env bash
# The 32-bit pass: most home routers are 32-bit (MIPS, ARM), where long and size_t have 32 bits,
# time_t may too, and a u64 in a struct is only 4-byte aligned. This builds the nft layer, the
# plugin and the tests for i386 (cmake/toolchain-i686-linux-gnu.cmake; the binaries run natively
# here) and runs, in that tree:
#   - the unit and harness tests and the fuzz corpus replays,
#   - the kernel tests (tests/kernel: real nf_tables in namespaces, exact counts) through the
#     32-bit tests/tools/ctnft,
#   - the core daemon tests with Debian i386's own collectd loading the 32-bit plugin: collectd
#     runs chrooted into an i386 Debian root (debootstrap, made once per machine and kept in
#     /var/cache/conntrack-nft/i386-root; the host is not changed), in a private mount namespace
#     that sees the test's files, the sources and the build tree at their usual paths; the test's
#     network namespace is kept (ip netns exec).
# Run by scripts/test.sh after the main suite, never under the sanitizers. Alone:
#   sudo scripts/test-i386.sh [ctest arguments; -R daemon replaces the selection below]
# Environment: I386_BUILD_DIR (default ./build-i386), JOBS (default nproc),
# CTNFT_REQUIRE_KERNEL_TESTS=1 (CI): what cannot run fails instead of being skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${I386_BUILD_DIR:-$root/build-i386}
jobs=${JOBS:-$(nproc)}
cache=/var/cache/conntrack-nft
chroot_dir=$cache/i386-root
# Debian's collectd and what the plugin links (as the .deb would depend on). A root made from
# another recipe is made again.
root_packages="collectd-core libnftnl11 libmnl0 libstdc++6"
recipe="debootstrap bookworm i386 minbase + $root_packages"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What runs in the 32-bit tree (tests/tools/ctnft, the .so and the Catch2 binaries are i386).
# The daemon tests are those of the core path: exact values and identifiers, SIGTERM removes the
# table (values), keep/restart/owner (lifecycle), attach mode, conntrack health, sampling,
# counters past 2^32 (wide_counters), and the faults a router meets: collectd killed (the kernel
# removes its owned table; sigkill_restart) and the table flushed under it (table_flushed).
# capability is left out: it drops capabilities that chroot needs.
tests='^(unit: |harness: |fuzz\.replay\.|kernel\.|daemon\.(values|lifecycle|attach|health|sampling|wide_counters)$|faults\.(sigkill_restart|table_flushed)$)'

skip_or_fail() {
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then
        echo "test-i386: FAIL: $* (CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping)"
        exit 1
    fi
    echo "test-i386: SKIP: $*"
}

start=$SECONDS
"$root/scripts/install-deps.sh"
command -v i686-linux-gnu-g++ > /dev/null ||
    { skip_or_fail "no i686-linux-gnu-g++ (scripts/install-deps.sh installs it as root)"; exit 0; }

mkdir -p "$build"
# A kernel built without IA32 emulation (or booted with ia32_emulation=0) runs no 32-bit x86
# code ("Exec format error", 126): then CTest runs our test binaries under qemu-user, and Catch2's
# test discovery at build time too.
emulator=
echo 'int main(void) { return 0; }' | i686-linux-gnu-gcc -x c - -o "$build/exec-probe"
probe=0
"$build/exec-probe" 2> /dev/null || probe=$?
if [ "$probe" != 0 ]; then
    emulator=$(command -v qemu-i386-static) ||
        { echo "test-i386: FAIL: this kernel runs no 32-bit x86 code and there is no qemu-i386-static (scripts/install-deps.sh installs qemu-user-static)"; exit 1; }
fi
# MinSizeRel (-Os), as routers' packages are built; and 40% less compile time than RelWithDebInfo.
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-i686-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_CROSSCOMPILING_EMULATOR="$emulator" > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
# Only what the selected tests run (no benchmarks, no soak harness).
cmake --build "$build" -j "$jobs" --target unit_tests plugin_harness_tests ctnft_tool conntrack_nft fuzz_all \
    > "$build/build.log" 2>&1 || { tail -n 60 "$build/build.log"; exit 1; }
echo "test-i386: 32-bit build took $((SECONDS - start)) s"
is_i386() { grep -q 'ELF 32-bit LSB.*Intel 80386' <<< "$(file -L "$1")" || { echo "test-i386: FAIL: $1 is not i386: $(file -L "$1")"; exit 1; }; }
is_i386 "$build/plugin/conntrack_nft.so"
is_i386 "$build/tests/tools/ctnft"

# The i386 root with Debian's collectd, made once (about a minute) under a lock, in a temporary
# directory renamed when complete, so that an interrupted run leaves nothing half made.
have_root() { [ "$(cat "$chroot_dir/.ctnft-root" 2>/dev/null)" = "$recipe" ]; }
make_root() {
    have_root && return 0
    mkdir -p "$cache"
    # Another run may be making it: wait for that one, then look again.
    { flock 9 && { have_root || debootstrap_root; }; } 9> "$cache/i386-root.lock"
}
debootstrap_root() {
    local t=$SECONDS tmp=$chroot_dir.new log=$cache/i386-root.log
    rm -rf "$tmp"
    echo "test-i386: making the i386 root with collectd in $chroot_dir (once per machine)"
    if ! debootstrap --arch=i386 --variant=minbase bookworm "$tmp" "$mirror" > "$log" 2>&1; then
        tail -n 30 "$log"
        return 1
    fi
    # No daemon may start while packages are installed in it.
    printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
    chmod +x "$tmp/usr/sbin/policy-rc.d"
    # debootstrap leaves the package lists it used; update them only if that is not enough.
    if ! DEBIAN_FRONTEND=noninteractive unshare --mount --propagation private sh -c '
            r=$0
            mount -t proc proc "$r/proc" &&
            { chroot "$r" apt-get install -y -qq --no-install-recommends "$@" ||
              { chroot "$r" apt-get update -qq && chroot "$r" apt-get install -y -qq --no-install-recommends "$@"; }; } &&
            chroot "$r" apt-get clean' "$tmp" $root_packages >> "$log" 2>&1 || [ ! -x "$tmp/usr/sbin/collectd" ]; then
        tail -n 30 "$log"
        return 1
    fi
    echo "$recipe" > "$tmp/.ctnft-root"
    rm -rf "$chroot_dir"
    mv "$tmp" "$chroot_dir"
    echo "test-i386: i386 root made in $((SECONDS - t)) s"
}

wrap=$build/i386-collectd
rm -rf "$wrap"
if [ -n "$emulator" ]; then
    # qemu-user refuses netfilter netlink sockets: only the pure tests run under it.
    echo "test-i386: NOTE: this kernel runs no 32-bit x86 code (no IA32 emulation): the unit, harness and"
    echo "test-i386: NOTE: fuzz replay tests run under qemu-i386-static; the 32-bit kernel and daemon tests cannot run here"
    tests='^(unit: |harness: |fuzz\.replay\.)'
elif [ "$(id -u)" != 0 ]; then
    skip_or_fail "not root: no i386 root for the daemon tests (the kernel tests skip themselves)"
    tests='^(unit: |harness: |fuzz\.replay\.|kernel\.)'
elif ! command -v debootstrap > /dev/null || ! make_root; then
    skip_or_fail "cannot make the i386 root in $chroot_dir (see $cache/i386-root.log): no 32-bit daemon tests"
    tests='^(unit: |harness: |fuzz\.replay\.|kernel\.)'
else
    # tests/lib/collectd.sh runs the first `collectd` in PATH: this one is i386 Debian's.
    mkdir -p "$wrap"
    cat > "$wrap/collectd" <<WRAP
#!/bin/sh
# Debian i386's collectd in $chroot_dir, in a private mount namespace that sees /tmp (the tests'
# files), the sources and the build tree at the same paths. Every step execs: the caller's pid
# is collectd's, and signals reach it.
exec unshare --mount --propagation private /bin/sh -c '
r=\$0
for d in /proc /sys /dev /tmp "$root" "$build"; do
    mkdir -p "\$r\$d" && mount --rbind "\$d" "\$r\$d" || exit 1
done
exec chroot "\$r" /usr/sbin/collectd "\$@"' "$chroot_dir" "\$@"
WRAP
    chmod +x "$wrap/collectd"
    is_i386 "$chroot_dir/usr/sbin/collectd"
    "$wrap/collectd" -h > "$wrap/version.txt" 2>&1 || true
    grep -q '^collectd ' "$wrap/version.txt" || { cat "$wrap/version.txt"; echo "test-i386: FAIL: the i386 collectd does not run"; exit 1; }
fi

echo "test-i386: running $tests"
rc=0
(cd "$build" && PATH="$wrap:$PATH" ctest --output-on-failure -j "$jobs" -R "$tests" "$@") || rc=1
echo "test-i386: rc $rc, $((SECONDS - start)) s in all"
exit $rc
