#!/usr/bin/env bash
# Prepares the VM lab (tests/vm): installs what it needs and caches Debian's own kernels, so that
# the timed tests only boot. Idempotent: installs only what is missing, downloads once.
#   sudo tests/vm/prepare.sh [amd64] [s390x] [trixie] [armhf] [mipsel]      (default: all)
# amd64: bookworm's 6.1; trixie: trixie's linux-image-amd64 (6.12, OpenWrt 25.12's line) with the
# host's bookworm userland; s390x (big-endian), armhf (Cortex-A15, 32-bit ARM: ipq40xx's class)
# and mipsel (24Kc on Malta: ramips's CPU) with bookworm's kernels and userland of their own.
# What it does:
#   - apt: qemu-system-x86 (amd64, trixie), qemu-system-misc (s390x), qemu-system-arm (armhf),
#     qemu-system-mips (mipsel), cpio; busybox-static of each architecture (the initramfs) by
#     apt-get download + dpkg -x into the cache, not installed: it conflicts with the busybox
#     package other tools install; for each foreign guest (s390x, armhf, mipsel) its dpkg
#     architecture, Debian's cross compiler (g++-<triple>) with libnftnl-dev and libmnl-dev of
#     that architecture, and debootstrap.
#   - Debian's kernels: `apt-get download` of what linux-image-amd64 / -s390x / -armmp /
#     -4kc-malta point at (trixie's linux-image-amd64 through apt lists of its own) and `dpkg -x`
#     into /var/cache/conntrack-nft/vm/<guest>/kernel (never the host's /boot or /lib/modules),
#     then `busybox depmod` (the .deb ships no modules.dep and the host has no kmod).
#   - Foreign userlands: debootstrap --foreign (minbase + collectd-core, nftables, iproute2,
#     python3, conntrack, ...), every downloaded package unpacked with dpkg -x (nothing runs on
#     the host), kept in /var/cache/conntrack-nft/vm/<arch>/root. The amd64 and trixie guests need
#     no root of their own: they mount the host's root read-only over 9p (tests/vm/run.sh).
# Each cache folder is made in a temporary folder and renamed when complete, under a lock.
set -euo pipefail
cache=${CTNFT_VM_CACHE:-/var/cache/conntrack-nft/vm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 s390x trixie armhf mipsel)
# The guests with a userland of their own (cross-built trees, a foreign root).
foreign() { case $1 in s390x|armhf|mipsel) return 0 ;; *) return 1 ;; esac; }
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
        trixie) pkgs+=(qemu-system-x86) ;;
        s390x) pkgs+=(qemu-system-misc debootstrap g++-s390x-linux-gnu) ;;
        armhf) pkgs+=(qemu-system-arm debootstrap g++-arm-linux-gnueabihf) ;;
        mipsel) pkgs+=(qemu-system-mips debootstrap g++-mipsel-linux-gnu) ;;
        *) echo "vm-prepare: unknown architecture '$a' (accepted: amd64, s390x, trixie, armhf, mipsel)"; exit 2 ;;
    esac
done
install "${pkgs[@]}"
for a in "${archs[@]}"; do
    if foreign "$a"; then
        if ! grep -qx "$a" <<< "$(dpkg --print-foreign-architectures)"; then
            dpkg --add-architecture "$a"
            apt_get update -qq
        fi
        install "libnftnl-dev:$a" "libmnl-dev:$a"
    fi
done

# trixie's package lists, in a sources list, lists and cache folder of their own: the host's apt
# stays on bookworm and never sees trixie.
trixie_apt() {
    local d=$cache/trixie/apt
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    echo "deb $mirror trixie main" > "$d/sources.list"
    tapt=(-o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::lists="$d/lists"
          -o Dir::Cache="$d/cache" -o APT::Architectures::=amd64 -o Acquire::Languages=none)
}
# The kernel the metapackage points at today: linux-image-amd64, -s390x, -armmp (armhf),
# -4kc-malta (mipsel); trixie's linux-image-amd64 for trixie.
kernel() {
    local a=$1 dir=$cache/$1/kernel pkg meta=linux-image-$1 pa=$1 opts=()
    case $a in armhf) meta=linux-image-armmp ;; mipsel) meta=linux-image-4kc-malta ;;
               trixie) meta=linux-image-amd64 pa=amd64; trixie_apt; opts=("${tapt[@]}") ;; esac
    pkg=$(apt-cache "${opts[@]}" depends "$meta:$pa" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true)
    pkg=${pkg%:"$pa"}
    [ -n "$pkg" ] || { apt_get "${opts[@]}" update -qq; pkg=$(apt-cache "${opts[@]}" depends "$meta:$pa" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'); pkg=${pkg%:"$pa"}; }
    [ -n "$pkg" ] || { echo "vm-prepare: no $meta:$pa in apt's lists"; exit 1; }
    [ "$(cat "$dir/.package" 2>/dev/null)" = "$pkg" ] && return 0
    echo "vm-prepare: downloading $pkg ($a)"
    local tmp=$dir.new
    rm -rf "$tmp"; mkdir -p "$tmp/deb"
    # (Lists older than the mirror name a package it no longer has: once more after an update.)
    (cd "$tmp/deb" && { apt_get "${opts[@]}" download "$pkg:$pa" > /dev/null ||
        { apt_get "${opts[@]}" update -qq && apt_get "${opts[@]}" download "$pkg:$pa" > /dev/null; }; })
    dpkg -x "$tmp"/deb/*.deb "$tmp"
    rm -rf "$tmp/deb"
    # trixie's packages put the modules under /usr (merged /usr): where the lab looks, /lib.
    [ -d "$tmp/lib/modules" ] || { mkdir -p "$tmp/lib" && mv "$tmp/usr/lib/modules" "$tmp/lib/"; }
    local kver; kver=$(ls "$tmp/lib/modules")
    # trixie's modules are xz-compressed; busybox's insmod loads plain .ko files.
    find "$tmp/lib/modules" -name '*.ko.xz' -print0 | xargs -0 -r -n 200 -P 2 xz -d
    "$cache/amd64/busybox/bin/busybox" depmod -b "$tmp" "$kver"
    [ -s "$tmp/lib/modules/$kver/modules.dep" ] || { echo "vm-prepare: depmod made no modules.dep"; exit 1; }
    # amd64: the uncompressed ELF kernel (PVH entry, CONFIG_PVH=y), so that the guest does not
    # spend its first seconds unpacking xz under TCG.
    if [ "$pa" = amd64 ]; then
        # (bookworm's is xz-compressed, trixie's zstd.)
        local z=$tmp/boot/vmlinuz-$kver off
        off=$(grep -abo -m 1 $'\xfd7zXZ' "$z" | cut -d: -f1 || true)
        if [ -n "$off" ]; then
            tail -c +$((off + 1)) "$z" | xz -dc --single-stream > "$tmp/boot/vmlinux-$kver" 2>/dev/null || true
        else
            off=$(grep -abo -m 1 $'\x28\xb5\x2f\xfd' "$z" | cut -d: -f1 || true)
            [ -z "$off" ] || tail -c +$((off + 1)) "$z" | zstd -dcq > "$tmp/boot/vmlinux-$kver" 2>/dev/null || true
        fi
        grep -q Xen <<< "$(readelf -n "$tmp/boot/vmlinux-$kver" 2>/dev/null)" || rm -f "$tmp/boot/vmlinux-$kver"
    fi
    echo "$pkg" > "$tmp/.package"
    rm -rf "$dir"; mv "$tmp" "$dir"
}

# A foreign guest's userland: what it runs (Debian's collectd, nft, ip, python3, conntrack, bash).
foreign_packages="collectd-core,nftables,iproute2,python3,conntrack,libnftnl11,libmnl0,libstdc++6,procps,kmod,gawk,file"
foreign_root() {
    local a=$1 dir=$cache/$1/root recipe="debootstrap --foreign bookworm $1 minbase + $foreign_packages"
    [ "$(cat "$dir/.recipe" 2>/dev/null)" = "$recipe" ] && return 0
    local tmp=$dir.new log=$cache/$a/root.log
    rm -rf "$tmp"; mkdir -p "$cache/$a"
    echo "vm-prepare: making the $a root in $dir (once per machine)"
    if ! debootstrap --foreign --arch="$a" --variant=minbase --include="$foreign_packages" bookworm "$tmp" "$mirror" > "$log" 2>&1; then
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
        { echo "vm-prepare: the $a root lacks collectd, nft or python3"; exit 1; }
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
foreign_extras="iputils-ping jq libjq1 libonig5"
foreign_extra() {
    local a=$1 r=$cache/$1/root
    [ "$(cat "$r/.extras" 2>/dev/null)" = "$foreign_extras" ] && return 0
    local tmp p; tmp=$(mktemp -d "$cache/$a/extras.XXXXXX")
    # shellcheck disable=SC2086
    (cd "$tmp" && for p in $foreign_extras; do apt_get download "$p:$a" > /dev/null || exit 1; done)
    for p in "$tmp"/*.deb; do dpkg -x "$p" "$r"; done
    rm -rf "$tmp"
    echo "$foreign_extras" > "$r/.extras"
}

# What base-passwd's maintainer script would have made (collectd's exec plugin runs its
# programs as "nobody").
foreign_fixups() {
    local r=$cache/$1/root
    [ -s "$r/etc/passwd" ] || cp "$r/usr/share/base-passwd/passwd.master" "$r/etc/passwd"
    [ -s "$r/etc/group" ] || cp "$r/usr/share/base-passwd/group.master" "$r/etc/group"
}

# Kernels and busyboxes one after another; the foreign roots (debootstrap: mostly waiting on
# the mirror) side by side.
pids=()
for a in "${archs[@]}"; do
    [ "$a" = trixie ] || busybox_of "$a"
    kernel "$a"
    if foreign "$a"; then (foreign_root "$a" && foreign_extra "$a" && foreign_fixups "$a") & pids+=($!); fi
done
for p in "${pids[@]}"; do wait "$p" || { echo "vm-prepare: a foreign root failed"; exit 1; }; done
echo "vm-prepare: ready in $((SECONDS - start)) s ($cache)"
