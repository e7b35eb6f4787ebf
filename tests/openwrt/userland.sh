#!/usr/bin/env bash
# The OpenWrt userland the OpenWrt tests use (tests/openwrt/userland/build.sh: libubox, ubus, uci,
# ucode, rpcd, uhttpd, lucihttp, cgi-io from ../shared/openwrt-src at the commits in
# userland/commits.sh) builds, and each LuCI version's root works in its chroot: ucode loads the
# modules LuCI's server side imports, first boot ran the theme's uci-defaults, jshn answers.
# The sources are at the commits userland/commits.sh names, and docs/openwrt.md names them all.
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

# The sources are the ones the commits name, and docs/openwrt.md names every commit used (it
# says how to get the same sources from upstream).
manifest_commit() { awk -F'\t' -v f="$1" '$1 == f { print $4 }' "$OWRT_SRC/MANIFEST.tsv"; }
for name in "${!COMMITS[@]}"; do
    assert_eq "${COMMITS[$name]}" "$(git -C "$OWRT_OUT/src/$name" rev-parse HEAD)" "$name checked out at"
done
for v in "${!LUCI_COMMITS[@]}"; do
    assert_eq "${LUCI_COMMITS[$v]}" "$(manifest_commit "luci-$v.tar.gz")" "MANIFEST.tsv: luci-$v.tar.gz from"
done
for r in "${!PACKAGES_COMMITS[@]}"; do
    assert_eq "${PACKAGES_COMMITS[$r]}" "$(manifest_commit "packages-collectd-$r.tar.gz")" "MANIFEST.tsv: packages-collectd-$r.tar.gz from"
done
docs="$OWRT_REPO/docs/openwrt.md"
for c in "${COMMITS[@]}" "${LUCI_COMMITS[@]}" "${PACKAGES_COMMITS[@]}" \
         $(awk -F'\t' 'NR > 1 { print $4 }' "$OWRT_SRC/base-files/MANIFEST.tsv" 2>/dev/null); do
    grep -q "$c" "$docs" && pass "docs/openwrt.md names $c" || fail "docs/openwrt.md does not name commit $c"
done
finish
