# shellcheck shell=bash
# OpenWrt-like roots for the OpenWrt tests, sourced after tests/lib/netns.sh.
#   owrt_userland                       builds (or reuses) the userland; skips without the sources
#   owrt_layout VERSION ROOT [SO]       lays out / of a router with LuCI VERSION and our feed
#   owrt_first_boot ROOT                runs /etc/uci-defaults/* as OpenWrt's first boot does
#   owrt_chroot ROOT CMD...             runs CMD in ROOT, in a private mount namespace (/tmp a
#                                       fresh tmpfs, or the directory OWRT_TMP names; in the
#                                       network namespace OWRT_NETNS names, if set)
#   owrt_fw4 ROOT                       adds firewall4 (fw4) to ROOT
# ROOT holds only what OpenWrt packages install; the host's libraries, busybox (OpenWrt's shell
# and tools) and collectd are reached through /host, the host's / bind-mounted read-only inside
# the namespace. Nothing on the host changes: the mounts end with the namespace.
OWRT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OWRT_REPO=$(cd "$OWRT_HERE/../../.." && pwd)
# shellcheck source=commits.sh
source "$OWRT_HERE/commits.sh"
# The upstream sources (git bundles and tarballs): a user's clone has them beside the repository.
OWRT_SRC=${OWRT_SRC:-$OWRT_REPO/../shared/openwrt-src}
# OWRT_USERLAND_DIR: another build tree's userland (the sanitizer pass reuses the main one's:
# OpenWrt's programs are not ours to sanitize).
OWRT_OUT=${OWRT_USERLAND_DIR:-$BUILD_DIR/openwrt/userland}
# The feed's two packages, each in its own folder.
OWRT_FEED=("$OWRT_REPO/openwrt-feed/collectd-mod-conntrack-nft/files" "$OWRT_REPO/openwrt-feed/luci-app-statistics-conntrack-nft/files")

owrt_userland() {
    [ -f "$OWRT_SRC/MANIFEST.tsv" ] ||
        skip "no OpenWrt sources at $OWRT_SRC (git bundles of ucode, uci, ubus, ... and LuCI tarballs; docs/openwrt.md says how to get them from upstream), or set OWRT_SRC"
    command -v busybox > /dev/null || skip "busybox (OpenWrt's shell and tools) is not installed: scripts/install-deps.sh"
    bash "$OWRT_HERE/build.sh" "$OWRT_SRC" "$OWRT_OUT"
}

# The LuCI packages the lab installs, as luci.mk installs them: htdocs/ -> /www, root/ -> /,
# ucode/ -> /usr/share/ucode/luci. rpcd-mod-luci (luci-rpc: network devices, DHCP leases, wireless)
# needs libiwinfo and libnl-tiny, which Debian lacks; the statistics pages do not call it.
OWRT_LUCI_PACKAGES=(modules/luci-base modules/luci-mod-status modules/luci-mod-system
                    themes/luci-theme-bootstrap applications/luci-app-statistics)

owrt_layout() {  # owrt_layout VERSION ROOT [PLUGIN_SO]
    local version=$1 root=$2 so=${3:-} luci="$OWRT_OUT/luci/$1" pkg
    [ -d "$luci" ] || { echo "owrt_layout: no LuCI '$version' (have: ${LUCI_VERSIONS[*]})" >&2; return 1; }
    mkdir -p "$root"
    cp -a "$OWRT_OUT/staging/." "$root/"
    rm -rf "$root/usr/include" "$root"/usr/lib/*.a "$root/usr/lib/pkgconfig"
    for pkg in "${OWRT_LUCI_PACKAGES[@]}"; do
        [ ! -d "$luci/$pkg/htdocs" ] || { mkdir -p "$root/www"; cp -a "$luci/$pkg/htdocs/." "$root/www/"; }
        [ ! -d "$luci/$pkg/root" ] || cp -a "$luci/$pkg/root/." "$root/"
        [ ! -d "$luci/$pkg/ucode" ] || { mkdir -p "$root/usr/share/ucode/luci"; cp -a "$luci/$pkg/ucode/." "$root/usr/share/ucode/luci/"; }
    done
    cp -a "$luci/staging/." "$root/"
    # base-files: /lib/functions.sh and its helpers.
    cp -a "$OWRT_SRC/base-files/lib/." "$root/lib/"
    mkdir -p "$root/lib/config"
    [ -f "$root/lib/config/uci.sh" ] || owrt_uci_sh > "$root/lib/config/uci.sh"
    # Our feed, as its two packages ship it.
    for pkg in "${OWRT_FEED[@]}"; do cp -a "$pkg/." "$root/"; done
    if [ -n "$so" ]; then
        mkdir -p "$root/usr/lib/collectd"
        ln -sf "/host$so" "$root/usr/lib/collectd/conntrack_nft.so"
    fi
    # What the rest of a router provides: busybox as /bin/sh and its applets, the host's C
    # libraries, /var on /tmp, a root account without password (OpenWrt's first boot).
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,host,dev,proc,sys,tmp,root,etc/config}
    ln -sfn /host/usr/lib/x86_64-linux-gnu "$root/lib/x86_64-linux-gnu"
    mkdir -p "$root/usr/lib"
    ln -sfn /host/usr/lib/x86_64-linux-gnu "$root/usr/lib/x86_64-linux-gnu"
    ln -sfn /host/usr/lib64 "$root/lib64"
    ln -sfn /tmp "$root/var"
    ln -sf /host/usr/bin/busybox "$root/bin/busybox"
    local applet name
    while read -r applet; do  # bin/ash, usr/bin/env, ... where OpenWrt's busybox puts them
        name=${applet##*/}
        # busybox-static lists bin/busybox itself: the link above, dangling outside the chroot.
        [ -L "$root/$applet" ] || [ -e "$root/bin/$name" ] || [ -e "$root/sbin/$name" ] || [ -e "$root/usr/bin/$name" ] ||
            [ -e "$root/usr/sbin/$name" ] || ln -s /bin/busybox "$root/$applet"
    done < <(busybox --list-full)
    ln -sfn ash "$root/bin/sh"
    printf 'root:x:0:0:root:/root:/bin/ash\nnobody:*:65534:65534:nobody:/var:/bin/false\n' > "$root/etc/passwd"
    printf 'root::0:99999:7:::\nnobody:*:0:0:99999:7:::\n' > "$root/etc/shadow"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
}

# OpenWrt's /lib/config/uci.sh (openwrt/openwrt package/system/uci/files/lib/config/uci.sh) is
# not among the sources (base-files/ has functions.sh, which sources it): a stand-in with the one
# function the init scripts reach through functions.sh's config_load. Like upstream's, it
# evaluates the real uci's `export` with functions.sh's config/option/list. A copy of upstream's
# file in base-files/lib/config/ takes its place.
owrt_uci_sh() {
    cat <<'SH'
# Stand-in written by tests/openwrt/userland/root.sh: uci_load only.
uci_load() {
	local DATA RET VAR
	_C=0
	if [ -z "$CONFIG_APPEND" ]; then
		for VAR in $CONFIG_LIST_STATE; do
			export ${NO_EXPORT:+-n} CONFIG_${VAR}= CONFIG_${VAR}_LENGTH=
		done
		export ${NO_EXPORT:+-n} CONFIG_LIST_STATE= CONFIG_SECTIONS= CONFIG_NUM_SECTIONS=0 CONFIG_SECTION=
	fi
	DATA="$(/sbin/uci ${UCI_CONFIG_DIR:+-c $UCI_CONFIG_DIR} ${LOAD_STATE:+-P /var/state} -S -n export "$1" 2>/dev/null)"
	RET=$?
	[ "$RET" != 0 ] || [ -z "$DATA" ] || eval "$DATA"
	unset DATA
	${CONFIG_SECTION:+config_cb}
	return "$RET"
}
SH
}

owrt_chroot() {  # owrt_chroot ROOT CMD...
    local root=$1
    shift
    # shellcheck disable=SC2016  # expanded by the inner shell
    # OWRT_NETNS: in that network namespace (the router's), /sys included.
    ${OWRT_NETNS:+ip netns exec "$OWRT_NETNS"} unshare -m --propagation private -- bash -c '
        set -e
        R=$1 T=$2; shift 2
        mount --rbind / "$R/host"
        mount -o remount,bind,ro "$R/host"
        mount --rbind /dev "$R/dev"
        mount --rbind /proc "$R/proc"
        mount --rbind /sys "$R/sys"
        # OWRT_TMP: a directory kept across calls (/var/run: the ubus socket, the fw4 state).
        if [ -n "$T" ]; then mount --bind "$T" "$R/tmp"; else mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"; fi
        # What /etc/init.d/boot makes on a router (/var is /tmp).
        mkdir -p "$R"/tmp/run/ubus "$R"/tmp/log "$R"/tmp/lock "$R"/tmp/state "$R"/tmp/tmp "$R"/tmp/.uci
        exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin:/host/usr/sbin:/host/usr/bin HOME=/root \
            TERM=dumb LANG=C chroot "$R" "$@"' owrt_chroot "$root" "${OWRT_TMP:-}" "$@"
}

owrt_fw4() {  # owrt_fw4 ROOT: firewall4 as its package installs it, nft from the host
    cp -a "$OWRT_OUT/firewall4/." "$1/"
    # fw4 runs /usr/sbin/nft by that path and `nft` from PATH: Debian's nftables is the loader.
    ln -sf /host/usr/sbin/nft "$1/usr/sbin/nft"
}

owrt_first_boot() {  # owrt_first_boot ROOT: /etc/uci-defaults/*, kept only if it fails
    # shellcheck disable=SC2016
    owrt_chroot "$1" /bin/sh -c '
        cd /etc/uci-defaults 2>/dev/null || exit 0
        for f in *; do [ -f "$f" ] || continue; ( . "./$f" ) > /dev/null && rm -f "$f"; done; true'
}
