# The OpenWrt lab: OpenWrt's real userland (ubusd, rpcd with its file, ucode and luci plugins,
# uhttpd with LuCI's ucode handler, cgi-io), built from ../shared/openwrt-src by
# tests/openwrt/userland/build.sh, serving one LuCI version with this repository's feed files
# installed, in namespaces the test makes: a network namespace (netns.sh's ns_add, so the
# sweep fixture removes a killed test's lab too) and, inside it, a mount and a PID namespace
# (inner.sh). Source after tests/lib/netns.sh.
#   lab_start VERSION   -> LAB_NS, LAB_RUN (its files; LAB_RUN/tmp is the lab's /tmp),
#                          LAB_URL, LAB_PASSWORD; lab_root_path PATH: PATH as the lab sees it
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_HERE/../../.." && pwd)
LAB_SRC=${OPENWRT_SRC:-$LAB_REPO/../shared/openwrt-src}
LAB_OUT="$BUILD_DIR/openwrt/userland"
LAB_PASSWORD=conntrack-nft-lab
LAB_URL=http://127.0.0.1
FEED_FILES="$LAB_REPO/openwrt-feed/collectd-mod-conntrack-nft/files"

[ -d "$LAB_SRC" ] || skip "needs OpenWrt's sources in $LAB_SRC (see docs/openwrt.md; OPENWRT_SRC overrides)"
command -v unshare > /dev/null || skip "needs unshare (util-linux)"
command -v curl > /dev/null || skip "needs curl"
command -v openssl > /dev/null || skip "needs openssl (the lab's root password hash)"

# lab_build: the userland, once per set of commits (build.sh caches and locks).
lab_build() {
    local t0=$SECONDS
    bash "$LAB_REPO/tests/openwrt/userland/build.sh" "$LAB_SRC" "$LAB_OUT" > "$TMP/userland.log" 2>&1 ||
        { tail -n 40 "$TMP/userland.log"; echo "FAIL: the OpenWrt userland did not build"; exit 1; }
    echo "lab: userland ready in $((SECONDS - t0)) s"
}

# lab_layout VERSION DEST: an OpenWrt-like root of one LuCI version as its packages install
# it (luci.mk: htdocs/ -> /www, root/ -> /, ucode/ -> /usr/share/ucode/luci), the userland,
# and the feed's LuCI files as luci-app-statistics-conntrack-nft installs them. Debian's merged
# /usr: OpenWrt's /sbin, /bin and /lib go to /usr.
lab_layout() {
    local v=$1 dest=$2 tree="$LAB_OUT/luci/$1" p d
    rm -rf "$dest"
    mkdir -p "$dest/usr" "$dest/www" "$dest/usr/share/ucode/luci"
    cp -a "$LAB_OUT/staging/." "$dest/"
    cp -a "$tree/staging/." "$dest/"
    for p in modules/luci-base modules/luci-mod-status modules/luci-mod-system \
             applications/luci-app-statistics themes/luci-theme-bootstrap; do
        [ ! -d "$tree/$p/htdocs" ] || cp -a "$tree/$p/htdocs/." "$dest/www/"
        [ ! -d "$tree/$p/root" ] || cp -a "$tree/$p/root/." "$dest/"
        [ ! -d "$tree/$p/ucode" ] || cp -a "$tree/$p/ucode/." "$dest/usr/share/ucode/luci/"
    done
    for d in bin sbin lib; do
        if [ -d "$dest/$d" ]; then
            mkdir -p "$dest/usr/$d"
            cp -a "$dest/$d/." "$dest/usr/$d/"
            rm -rf "${dest:?}/$d"
        fi
    done
    rm -rf "$dest/usr/include" "$dest/etc/init.d" "$dest/etc/uci-defaults"
    # rpcd's package installs its ACL for logging in (session access and login without a session).
    install -D -m 0644 "$LAB_OUT/src/rpcd/unauthenticated.json" "$dest/usr/share/rpcd/acl.d/unauthenticated.json"
    # The feed: the package Makefile's install lines, read from it so the lab installs what ships.
    (cd "$FEED_FILES" && find . -type f) | while read -r f; do
        install -D -m 0644 "$FEED_FILES/$f" "$dest/$f"
    done
}

# lab_start VERSION: builds the root if needed, starts the lab, waits until LuCI answers.
lab_start() {
    local v=$1 root="$BUILD_DIR/openwrt/lab-root-$1" hash layer
    [ -d "$LAB_OUT/luci/$v" ] || { echo "FAIL: no LuCI $v in $LAB_OUT"; exit 1; }
    lab_layout "$v" "$root"
    LAB_RUN="$TMP/lab"
    layer="$LAB_RUN/layer"
    mkdir -p "$layer/etc/config" "$layer/usr/share/rpcd/ucode" "$layer/usr/lib/collectd" "$LAB_RUN/tmp"
    # root's password: rpcd's login reads /etc/shadow (crypt).
    hash=$(openssl passwd -6 -salt ctnftlab "$LAB_PASSWORD")
    grep -v '^root:' /etc/shadow > "$layer/etc/shadow" || true
    echo "root:$hash:19000:0:99999:7:::" >> "$layer/etc/shadow"
    chmod 0600 "$layer/etc/shadow"
    # rpcd's config as OpenWrt ships it: root logs in with its system password.
    printf "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n\nconfig login\n\toption username 'root'\n\toption password '\$p\$root'\n\tlist read '*'\n\tlist write '*'\n" \
        > "$layer/etc/config/rpcd"
    install -m 0644 "$LAB_HERE/system.uc" "$layer/usr/share/rpcd/ucode/lab-system"
    # The plugin itself: Statistics > Setup lists plugins whose .so is in /usr/lib/collectd.
    install -m 0644 "$BUILD_DIR/plugin/conntrack_nft.so" "$layer/usr/lib/collectd/conntrack_nft.so"
    chmod 0755 "$LAB_RUN"

    ns_add LAB_NS lab
    bg ip netns exec "$LAB_NS" unshare --mount --pid --fork --kill-child=SIGKILL \
        bash "$LAB_HERE/inner.sh" "$LAB_RUN" "$layer" "$root" > "$TMP/lab.log" 2>&1
    LAB_PID=$BG_PID
    if ! wait_for 30 lab_answers; then
        echo "FAIL: LuCI $v did not answer in the lab"
        for f in "$TMP/lab.log" "$LAB_RUN"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
        exit 1
    fi
    echo "lab: LuCI $v answers on $LAB_URL (netns $LAB_NS)"
}

lab_answers() {
    [ "$(ip netns exec "$LAB_NS" curl -s -o /dev/null -w '%{http_code}' "$LAB_URL/cgi-bin/luci/" 2>/dev/null)" = 403 ] ||
        [ "$(ip netns exec "$LAB_NS" curl -s -o /dev/null -w '%{http_code}' "$LAB_URL/cgi-bin/luci/" 2>/dev/null)" = 200 ]
}

# lab_root_path PATH: PATH inside the lab's root, seen from the host (through a lab process).
lab_root_path() {
    local p
    for p in $(ip netns pids "$LAB_NS"); do
        if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = uhttpd ]; then
            echo "/proc/$p/root$1"
            return 0
        fi
    done
    return 1
}
