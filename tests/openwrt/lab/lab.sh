# shellcheck shell=bash
# The OpenWrt lab: OpenWrt's real userland (ubusd, rpcd with its file and ucode plugins, uhttpd
# with LuCI's ucode handler, cgi-io) serving one LuCI version with this repository's feed
# installed, in an OpenWrt root (tests/openwrt/userland/root.sh) run in namespaces the test
# makes: a network namespace from netns.sh (so the sweep fixture also ends a killed test's lab)
# and, inside it, a mount and a PID namespace (inner.sh). Source after tests/lib/netns.sh.
#   lab_start VERSION          -> LAB_NS, LAB_ROOT (the lab's / on the host), LAB_RUN (logs;
#                                 LAB_RUN/tmp is the lab's /tmp, /tmp/rrd its RRD files)
#   lab_node SCRIPT ARGS...       runs a browser script (Node, puppeteer-core) in LAB_NS
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../userland/root.sh
source "$LAB_HERE/../userland/root.sh"
LAB_PASSWORD=conntrack-nft-lab
LAB_URL=http://127.0.0.1
NPM_DIR="$BUILD_DIR/openwrt/luci-npm"

command -v unshare > /dev/null || skip "needs unshare (util-linux)"
command -v curl > /dev/null || skip "needs curl"
command -v openssl > /dev/null || skip "needs openssl (the lab's root password)"
command -v rrdtool > /dev/null || skip "needs rrdtool (scripts/install-deps.sh)"
[ -x /usr/bin/chromium ] || skip "needs Debian's chromium (scripts/install-deps.sh)"
command -v node > /dev/null && command -v npm > /dev/null || skip "needs Node.js and npm"

# puppeteer-core (and ESLint) from npm, pinned by tests/openwrt/luci/package-lock.json; never a
# browser download (puppeteer-core has none; PUPPETEER_SKIP_DOWNLOAD says so anyway).
lab_npm() {
    mkdir -p "$NPM_DIR"
    exec 8> "$NPM_DIR/.lock"
    flock 8
    if ! cmp -s "$LAB_HERE/../luci/package-lock.json" "$NPM_DIR/package-lock.json" ||
       [ ! -d "$NPM_DIR/node_modules/puppeteer-core" ]; then
        cp "$LAB_HERE/../luci/package.json" "$LAB_HERE/../luci/package-lock.json" "$NPM_DIR/"
        (cd "$NPM_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
            { echo "FAIL: npm ci in $NPM_DIR (is the npm registry reachable?)"; exit 1; }
    fi
    exec 8>&-
}

# lab_start VERSION: lays out the root, starts the lab in a network namespace of its own, waits
# until LuCI answers. The userland build (cached) is not part of the lab's time (LAB_T0).
lab_start() {
    local v=$1 hash t0
    owrt_userland || { echo "FAIL: the OpenWrt userland did not build"; exit 1; }
    lab_npm
    t0=$(date +%s.%N)
    LAB_T0=$t0
    LAB_RUN="$TMP/lab"
    LAB_ROOT="$LAB_RUN/root"
    mkdir -p "$LAB_RUN/tmp/rrd"
    owrt_layout "$v" "$LAB_ROOT" "$BUILD_DIR/plugin/conntrack_nft.so"
    owrt_first_boot "$LAB_ROOT"
    # What OpenWrt's packages add and the layout does not: rpcd's ACL that lets a browser log in
    # (session access and login without a session) and rpcd's config (root logs in with the
    # system password); root's password, set as a user does after the first boot.
    install -m 0644 "$OWRT_OUT/src/rpcd/unauthenticated.json" "$LAB_ROOT/usr/share/rpcd/acl.d/"
    printf "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n\nconfig login\n\toption username 'root'\n\toption password '\$p\$root'\n\tlist read '*'\n\tlist write '*'\n" \
        > "$LAB_ROOT/etc/config/rpcd"
    hash=$(openssl passwd -6 -salt ctnftlab "$LAB_PASSWORD")
    # (All nine shadow fields: glibc's getspnam skips a shorter line, and rpcd's login with it.)
    sed -i "s|^root:.*|root:$hash:19000:0:99999:7:::|" "$LAB_ROOT/etc/shadow"
    # procd's "system" ubus object, which LuCI's header asks for (procd does not run here).
    install -D -m 0644 "$LAB_HERE/system.uc" "$LAB_ROOT/usr/share/rpcd/ucode/lab-system"
    # More of collectd's plugins, as a router with collectd-mod-cpu, -interface, ... has them
    # (Debian's builds of the same collectd 5.12): Statistics > Setup lists every plugin whose
    # .so is installed, so the page shows ours among others.
    local p
    for p in "$LAB_ROOT"/usr/share/luci/statistics/plugins/*.json; do
        p=$(basename "$p" .json)
        [ ! -f "/usr/lib/collectd/$p.so" ] || [ -e "$LAB_ROOT/usr/lib/collectd/$p.so" ] ||
            ln -s "/host/usr/lib/collectd/$p.so" "$LAB_ROOT/usr/lib/collectd/$p.so"
    done
    # OpenWrt's rrdtool1 package: Debian's rrdtool, with the fonts it draws text with.
    ln -sf /host/usr/bin/rrdtool "$LAB_ROOT/usr/bin/rrdtool"
    ln -sfn /host/etc/fonts "$LAB_ROOT/etc/fonts"
    mkdir -p "$LAB_ROOT/usr/share"
    ln -sfn /host/usr/share/fonts "$LAB_ROOT/usr/share/fonts"

    # A test's own additions to the root (a function it defines).
    if declare -F lab_prepare > /dev/null; then lab_prepare "$LAB_ROOT"; fi

    ns_add LAB_NS lab
    bg ip netns exec "$LAB_NS" unshare --mount --pid --fork --kill-child=SIGKILL \
        bash "$LAB_HERE/inner.sh" "$LAB_RUN" "$LAB_ROOT" > "$LAB_RUN/lab.log" 2>&1
    if ! wait_for 30 lab_answers; then
        echo "FAIL: LuCI $v did not answer in the lab"
        for f in "$LAB_RUN"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
        exit 1
    fi
    LAB_START_TIME=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    echo "lab: LuCI $v answers on $LAB_URL in netns $LAB_NS after $LAB_START_TIME s"
}

# LuCI's login page (HTTP 403 until logged in) or the page itself.
lab_answers() {
    local code
    code=$(ip netns exec "$LAB_NS" curl -s -o /dev/null -w '%{http_code}' "$LAB_URL/cgi-bin/luci/" 2>/dev/null) || true
    [ "$code" = 403 ] || [ "$code" = 200 ]
}

lab_node() {  # lab_node SCRIPT ARGS...
    ip netns exec "$LAB_NS" env NPM_DIR="$NPM_DIR" LAB_URL="$LAB_URL" LAB_PASSWORD="$LAB_PASSWORD" \
        HOME="$TMP" node "$@"
}
