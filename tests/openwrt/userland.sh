#!/usr/bin/env bash
# The OpenWrt userland the OpenWrt tests use (tests/openwrt/userland/build.sh: libubox, ubus, uci,
# ucode, rpcd, uhttpd, lucihttp, cgi-io from ../shared/openwrt-src at the commits in
# userland/commits.sh) builds, and each LuCI version's root works in its chroot: ucode loads the
# modules LuCI's server side imports, first boot ran the theme's uci-defaults, jshn answers.
# The CTest fixture openwrt_userland: the tests that need the userland run after it.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/userland/root.sh"

start=$(date +%s)
owrt_userland
echo "userland ready in $(( $(date +%s) - start )) s (cached under $OWRT_OUT)"

for v in "${LUCI_VERSIONS[@]}"; do
    root="$TMP/root-$v"
    owrt_layout "$v" "$root"
    owrt_first_boot "$root"
    # shellcheck disable=SC2016  # ucode source
    out=$(owrt_chroot "$root" ucode -e '
        for (let m in ["fs", "uci", "ubus", "uloop", "math", "html", "lucihttp", "luci.core"])
            require(m);
        print(require("uci").cursor().get("luci", "main", "mediaurlbase"), "\n");' 2>&1) || true
    assert_eq /luci-static/bootstrap "$out" "LuCI $v: ucode modules load, mediaurlbase from the theme's first boot"
    # shellcheck disable=SC2016  # OpenWrt's shell
    out=$(owrt_chroot "$root" /bin/sh -c '. /usr/share/libubox/jshn.sh; json_init; json_add_string release "$1"; json_dump' sh "$v" 2>&1) || true
    assert_eq "{ \"release\": \"$v\" }" "$out" "LuCI $v: jshn"
    [ -x "$root/usr/libexec/stat-genconfig" ] && pass "LuCI $v: stat-genconfig installed" || fail "LuCI $v: no /usr/libexec/stat-genconfig"
done
finish
