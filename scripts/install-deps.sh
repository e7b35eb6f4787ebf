#!/usr/bin/env bash
# Installs what conntrack_nft needs on Debian (bookworm), and only what is missing. Idempotent;
# needs root (apt-get).
#   install-deps.sh --demo   what scripts/run.sh needs to build the plugin and run it in a real
#                            collectd (the packages in `demo` below), nothing else: no foreign
#                            architecture, no deb-src line, no download outside apt.
#   install-deps.sh          that and the whole test toolchain (scripts/test.sh): browsers,
#                            compilers, databases, foreign architectures, collectd's sources.
set -euo pipefail
only_demo=0
case "${1:-}" in
    --demo) only_demo=1 ;;
    "") ;;
    *) echo "install-deps: unknown option $1 (--demo: only what scripts/run.sh needs)" >&2; exit 2 ;;
esac

# The demo (scripts/run.sh): build the plugin, run it in collectd inside network namespaces with
# traffic between them. collectd-core has no /etc/collectd/collectd.conf, so Debian's collectd
# service does not start (now or at boot).
demo=(
    build-essential cmake pkg-config       # build
    libnftnl-dev libmnl-dev                # netlink to nf_tables
    collectd-core collectd-dev             # the daemon and its plugin headers
    nftables iproute2 iputils-ping         # namespaces, veths, the table seen from nft, ping
    python3                                # the demo's traffic and its rates table
)
# The test toolchain (scripts/test.sh), on top of the demo's packages.
tests=(
    catch2                                 # unit tests
    conntrack                              # the kernel side, seen from the tests
    jq util-linux procps                    # test tooling: JSON, setpriv/unshare, ps
    gnuplot-nox                            # the pictures in docs/
    influxdb curl                          # a real time-series database in the tests
    prometheus                             # scraping collectd's write_prometheus in the tests
    libprotobuf-c1 libmicrohttpd12         # what collectd-core's write_prometheus.so links to
    liboping0                              # collectd's ping plugin, in the docs' examples
    clang libclang-rt-14-dev valgrind      # fuzzing (libFuzzer), sanitizers, memcheck
    # OpenWrt checks: a router architecture's cross compiler and libraries, and what collectd's
    # source tree needs to be configured as OpenWrt's build directory is
    g++-aarch64-linux-gnu libnftnl-dev:arm64 libmnl-dev:arm64 file
    autoconf automake libtool flex bison dpkg-dev
    # The OpenWrt userland built from upstream (tests/openwrt/userland): json-c for libubox and
    # ucode; busybox is OpenWrt's shell and tools in the lab's root. busybox-static, not busybox
    # (they conflict): the VM lab's initramfs needs the static one, and both labs share it.
    libjson-c-dev busybox-static
    # OpenWrt lab: the real LuCI in a real browser (puppeteer-core drives Debian's chromium), and
    # the graphs collectd's rrdtool plugin writes, drawn by rrdtool through LuCI
    chromium rrdtool librrd8 fonts-dejavu-core
    # The 32-bit pass (scripts/test-i386.sh): i386 cross compiler (g++-multilib would remove the
    # aarch64 one), i386 libraries to link and run with, and debootstrap for an i386 root with
    # Debian's 32-bit collectd; qemu-i386-static runs the 32-bit tests where the kernel has no
    # IA32 emulation (Debian registers no binfmt handler for i386 on amd64)
    g++-i686-linux-gnu libnftnl-dev:i386 libmnl-dev:i386 libstdc++6:i386 debootstrap qemu-user-static
    # OpenWrt's own build system (scripts/openwrt-build.sh): the host tools its tools/ would build
    # (gawk and rsync for its prerequisite check), llvm's binutils and lld for the zig toolchain
    gawk rsync zstd fakeroot unzip ninja-build llvm lld
)
packages=("${demo[@]}")
[ "$only_demo" = 1 ] || packages+=("${tests[@]}")
# collectd's upstream source, for building against a collectd tree as OpenWrt does.
source_cache=/var/cache/conntrack-nft

# installed NAME[:ARCH]: a name without an architecture means the machine's own (or "all"); with
# foreign architectures added, dpkg-query prints one line per installed architecture.
native=$(dpkg --print-architecture)
installed() {
    local want=$native
    [[ $1 == *:* ]] && want=${1#*:}
    grep -qE "^install ok installed ($want|all)\$" <<< "$(dpkg-query -W -f='${Status} ${Architecture}\n' "${1%%:*}" 2>/dev/null)"
}
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
# Multiarch: the cross builds' libraries (arm64: OpenWrt check; i386: the 32-bit pass).
foreign_archs=(arm64 i386)
[ "$only_demo" = 0 ] || foreign_archs=()
have_arch() { grep -qx "$1" <<< "$(dpkg --print-foreign-architectures)"; }
need_update=0
for a in "${foreign_archs[@]+"${foreign_archs[@]}"}"; do have_arch "$a" || need_update=1; done
[ "$only_demo" = 1 ] || [ -f /etc/apt/sources.list.d/debian-src.sources ] || need_update=1
have_source() { [ "$only_demo" = 1 ] || ls "$source_cache"/collectd_*.orig.tar.* > /dev/null 2>&1; }
# Debian's package `collectd` (the stock /etc/collectd/collectd.conf), at collectd-core's version:
# the Debian package test installs it into a throwaway root, never on this machine.
collectd_deb() {
    local v
    v=$(dpkg-query -W -f='${Version}' collectd-core 2>/dev/null) || return 1
    echo "$source_cache/collectd_${v//:/%3a}_$(dpkg --print-architecture).deb"
}
have_collectd_deb() { local f; [ "$only_demo" = 1 ] || { f=$(collectd_deb) && [ -f "$f" ]; }; }

if [ ${#missing[@]} -eq 0 ] && [ "$need_update" = 0 ] && have_source && have_collectd_deb; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing: ${missing[*]:-} $(have_source || echo "collectd source in $source_cache")" \
         "$(have_collectd_deb || echo "collectd .deb in $source_cache");" \
         "run as root (apt-get) or install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
for a in "${foreign_archs[@]+"${foreign_archs[@]}"}"; do have_arch "$a" || dpkg --add-architecture "$a"; done
if [ "$only_demo" = 0 ] && [ ! -f /etc/apt/sources.list.d/debian-src.sources ]; then
    cat > /etc/apt/sources.list.d/debian-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "install-deps: installing ${missing[*]:-nothing new}"
# A mirror in the middle of a sync answers with index files of the wrong size for a few minutes
# ("Mirror sync in progress?"): try again rather than fail the whole run on it.
apt_update() {
    local attempt
    for attempt in 1 2 3 4 5; do
        apt-get -o DPkg::Lock::Timeout=900 update -qq && return 0
        echo "install-deps: apt-get update failed (attempt $attempt of 5), trying again in $((attempt * 10)) s" >&2
        sleep $((attempt * 10))
    done
    echo "install-deps: apt-get update kept failing; installing from the package lists apt has" >&2
}
apt_install() {
    local attempt
    for attempt in 1 2 3; do
        apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" && return 0
        echo "install-deps: apt-get install failed (attempt $attempt of 3)" >&2
        [ "$attempt" = 3 ] || { sleep $((attempt * 15)); apt_update; }
    done
    return 1
}
apt_update
# Packages such as collectd-core or influxdb must not start daemons of their own here.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
fi
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
if ! have_source; then
    mkdir -p "$source_cache"
    # The upstream tarball only (the same 5.12.0 release OpenWrt builds).
    (cd "$source_cache" && apt-get source -qq --download-only --tar-only collectd)
fi
if ! have_collectd_deb; then
    mkdir -p "$source_cache"
    # Only the package test needs it: a mirror without this exact version fails that test alone.
    (cd "$source_cache" && apt-get -o DPkg::Lock::Timeout=900 download -qq "collectd=$(dpkg-query -W -f='${Version}' collectd-core)") ||
        echo "install-deps: could not download Debian's collectd package at collectd-core's version" >&2
fi
