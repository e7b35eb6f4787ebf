#!/usr/bin/env bash
# Prepares the VM lab (tests/vm): installs what it needs and caches Debian's own kernels, so that
# the timed tests only boot. Idempotent: installs only what is missing, downloads once.
#   sudo tests/vm/prepare.sh [amd64] [s390x]      (default: both)
# What it does:
#   - apt: qemu-system-x86 (amd64 guest, TCG), qemu-system-misc (s390x guest: big-endian), cpio;
#     busybox-static of each architecture (the initramfs) by apt-get download + dpkg -x into the
#     cache, not installed: it conflicts with the busybox package other tools install; for s390x the s390x architecture (multiarch), the
#     cross compiler g++-s390x-linux-gnu with libnftnl-dev:s390x and libmnl-dev:s390x, debootstrap.
#   - Debian's kernels: `apt-get download` of linux-image-<abi>-amd64 / -s390x and `dpkg -x` into
#     /var/cache/conntrack-nft/vm/<arch>/kernel (never the host's /boot or /lib/modules), then
#     `busybox depmod` (the .deb ships no modules.dep and the host has no kmod).
#   - s390x userland: debootstrap --foreign (minbase + collectd-core, nftables, iproute2, python3,
#     conntrack, ...), every downloaded package unpacked with dpkg -x (nothing runs on the host),
#     kept in /var/cache/conntrack-nft/vm/s390x/root. The amd64 guest needs no root of its own: it
#     mounts the host's root read-only over 9p (tests/vm/run.sh).
# Each cache folder is made in a temporary folder and renamed when complete, under a lock.
set -euo pipefail
cache=${CTNFT_VM_CACHE:-/var/cache/conntrack-nft/vm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 s390x)
[ "$(id -u)" = 0 ] || { echo "vm-prepare: needs root (apt, the cache in $cache)"; exit 1; }
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"; }
missing() { local p out=(); for p in "$@"; do [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || out+=("$p"); done; echo "${out[*]}"; }
install() {
    local m; m=$(missing "$@")
    [ -z "$m" ] && return 0
    echo "vm-prepare: installing $m"
    # shellcheck disable=SC2086
    apt_get install -y -qq --no-install-recommends $m > /dev/null || { apt_get update -qq && apt_get install -y -qq --no-install-recommends $m; }
}

mkdir -p "$cache"
exec 8> "$cache/prepare.lock"
flock 8
start=$SECONDS

pkgs=(cpio)
for a in "${archs[@]}"; do
    case $a in
        amd64) pkgs+=(qemu-system-x86) ;;
        s390x) pkgs+=(qemu-system-misc debootstrap g++-s390x-linux-gnu) ;;
        *) echo "vm-prepare: unknown architecture '$a' (accepted: amd64, s390x)"; exit 2 ;;
    esac
done
install "${pkgs[@]}"
for a in "${archs[@]}"; do
    if [ "$a" = s390x ]; then
        if ! grep -qx s390x <<< "$(dpkg --print-foreign-architectures)"; then
            dpkg --add-architecture s390x
            apt_get update -qq
        fi
        install libnftnl-dev:s390x libmnl-dev:s390x
    fi
done

# The kernel the metapackage (linux-image-amd64, linux-image-s390x) points at today.
kernel() {
    local a=$1 dir=$cache/$1/kernel pkg
    pkg=$(apt-cache depends "linux-image-$a:$a" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    pkg=${pkg%:"$a"}
    [ -n "$pkg" ] || { apt_get update -qq; pkg=$(apt-cache depends "linux-image-$a:$a" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'); pkg=${pkg%:"$a"}; }
    [ -n "$pkg" ] || { echo "vm-prepare: no linux-image-$a in apt's lists"; exit 1; }
    [ "$(cat "$dir/.package" 2>/dev/null)" = "$pkg" ] && return 0
    echo "vm-prepare: downloading $pkg ($a)"
    local tmp=$dir.new
    rm -rf "$tmp"; mkdir -p "$tmp/deb"
    (cd "$tmp/deb" && apt_get download "$pkg:$a" > /dev/null)
    dpkg -x "$tmp"/deb/*.deb "$tmp"
    rm -rf "$tmp/deb"
    local kver; kver=$(ls "$tmp/lib/modules")
    "$cache/amd64/busybox/bin/busybox" depmod -b "$tmp" "$kver"
    [ -s "$tmp/lib/modules/$kver/modules.dep" ] || { echo "vm-prepare: depmod made no modules.dep"; exit 1; }
    # amd64: the uncompressed ELF kernel (PVH entry, CONFIG_PVH=y), so that the guest does not
    # spend its first seconds unpacking xz under TCG.
    if [ "$a" = amd64 ]; then
        local z=$tmp/boot/vmlinuz-$kver off
        off=$(grep -abo -m 1 $'\xfd7zXZ' "$z" | cut -d: -f1)
        if [ -n "$off" ]; then
            tail -c +$((off + 1)) "$z" | xz -dc --single-stream > "$tmp/boot/vmlinux-$kver" 2>/dev/null || true
            grep -q Xen <<< "$(readelf -n "$tmp/boot/vmlinux-$kver" 2>/dev/null)" || rm -f "$tmp/boot/vmlinux-$kver"
        fi
    fi
    echo "$pkg" > "$tmp/.package"
    rm -rf "$dir"; mv "$tmp" "$dir"
}

# The s390x userland: what the guest runs (Debian's collectd, nft, ip, python3, conntrack, bash).
s390x_packages="collectd-core,nftables,iproute2,python3,conntrack,libnftnl11,libmnl0,libstdc++6,procps,kmod,gawk,file"
s390x_root() {
    local dir=$cache/s390x/root recipe="debootstrap --foreign bookworm s390x minbase + $s390x_packages"
    [ "$(cat "$dir/.recipe" 2>/dev/null)" = "$recipe" ] && return 0
    local tmp=$dir.new log=$cache/s390x/root.log
    rm -rf "$tmp"; mkdir -p "$cache/s390x"
    echo "vm-prepare: making the s390x root in $dir (once per machine)"
    if ! debootstrap --foreign --arch=s390x --variant=minbase --include="$s390x_packages" bookworm "$tmp" "$mirror" > "$log" 2>&1; then
        tail -n 30 "$log"; exit 1
    fi
    # The first stage unpacked the base; unpack every downloaded package (no maintainer script
    # runs: those need s390x binaries).
    local d
    for d in "$tmp"/var/cache/apt/archives/*.deb; do dpkg -x "$d" "$tmp"; done
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp/debootstrap"
    # What maintainer scripts would have made: the alternatives and links the tests use.
    ln -sf mawk "$tmp/usr/bin/awk" 2>/dev/null || true
    [ -e "$tmp/usr/bin/gawk" ] && ln -sf gawk "$tmp/usr/bin/awk"
    [ -x "$tmp/usr/sbin/collectd" ] && [ -x "$tmp/usr/sbin/nft" ] && [ -x "$tmp/usr/bin/python3" ] ||
        { echo "vm-prepare: the s390x root lacks collectd, nft or python3"; exit 1; }
    echo "$recipe" > "$tmp/.recipe"
    rm -rf "$dir"; mv "$tmp" "$dir"
}

# The initramfs's busybox (static), unpacked from Debian's busybox-static of that architecture.
busybox_of() {
    local dir=$cache/$1/busybox
    [ -x "$dir/bin/busybox" ] && return 0
    rm -rf "$dir.new"; mkdir -p "$dir.new/deb"
    (cd "$dir.new/deb" && apt_get download "busybox-static:$1" > /dev/null)
    dpkg -x "$dir.new"/deb/*.deb "$dir.new"
    rm -rf "$dir.new/deb" "$dir"; mv "$dir.new" "$dir"
}

busybox_of amd64   # also runs depmod here
# Tools the tests call that the first recipe left out, unpacked into the root (dependencies
# named: apt-get download takes no closure).
s390x_extras="iputils-ping jq libjq1 libonig5"
s390x_extra() {
    local r=$cache/s390x/root
    [ "$(cat "$r/.extras" 2>/dev/null)" = "$s390x_extras" ] && return 0
    local tmp p; tmp=$(mktemp -d "$cache/s390x/extras.XXXXXX")
    # shellcheck disable=SC2086
    (cd "$tmp" && for p in $s390x_extras; do apt_get download "$p:s390x" > /dev/null || exit 1; done)
    for p in "$tmp"/*.deb; do dpkg -x "$p" "$r"; done
    rm -rf "$tmp"
    echo "$s390x_extras" > "$r/.extras"
}

# What base-passwd's maintainer script would have made (collectd's exec plugin runs its
# programs as "nobody").
s390x_fixups() {
    local r=$cache/s390x/root
    [ -s "$r/etc/passwd" ] || cp "$r/usr/share/base-passwd/passwd.master" "$r/etc/passwd"
    [ -s "$r/etc/group" ] || cp "$r/usr/share/base-passwd/group.master" "$r/etc/group"
}

for a in "${archs[@]}"; do
    busybox_of "$a"
    kernel "$a"
    if [ "$a" = s390x ]; then s390x_root; s390x_extra; s390x_fixups; fi
done
echo "vm-prepare: ready in $((SECONDS - start)) s ($cache)"
