#!/usr/bin/env bash
# The packages OpenWrt's own build system made (scripts/openwrt-build.sh VERSION), installed as a
# router installs them and checked there:
#   - into an empty mips_24kc root by the real opkg (24.10) from a package index of that build
#     (libc, libpthread, libmnl, libnftnl, collectd, the plugin; the two kmods as stub packages:
#     no kernel is built here), the dependencies resolved by opkg;
#   - the files where collectd's init script and LuCI look for them;
#   - conntrack_nft.so: MIPS32r2 big-endian, no MIPS16 code, NEEDED only musl, libnftnl, libmnl,
#     every undefined symbol defined by a library of that root or collectd;
#   - collectd of the same build, under qemu-mips-static -cpu 24Kc in that root through OpenWrt's
#     loader /lib/ld-musl-mips-sf.so.1, loads the plugin and takes its configuration.
# Usage: sdk_install.sh VERSION (run by scripts/openwrt-build.sh after the build; exit 77: skip).
set -euo pipefail
version=$1
cache=${CTNFT_CACHE_DIR:-/var/cache/conntrack-nft}
ow=$cache/openwrt
tree=$ow/$version
FAILED=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; FAILED=1; }
die() { echo "FAIL: $*"; exit 1; }
R=$(mktemp -d "${TMPDIR:-/tmp}/ctnft-owroot.XXXXXX")
trap 'rm -rf "$R"' EXIT

pkgs=$R/.feed
mkdir -p "$pkgs"
# (libgcc1: libc's dependency; empty here, zig links its compiler runtime into each object.)
find "$tree/bin" -name '*.ipk' \( -name 'libc_*' -o -name 'libgcc1_*' -o -name 'libpthread_*' -o -name 'libmnl0_*' -o -name 'libnftnl11_*' \
    -o -name 'collectd_*' -o -name 'collectd-mod-conntrack-nft_*' \) -exec cp {} "$pkgs/" \;
# The kernel modules the plugin depends on: stub packages (no kernel is built here), said so in
# their description.
for k in kmod-nft-core kmod-nf-conntrack-netlink; do
    mkdir -p "$R/.stub-$k/CONTROL"
    printf 'Package: %s\nVersion: 6.6-stub\nArchitecture: mips_24kc\nMaintainer: none\nDescription: stand-in: no kernel is built by scripts/openwrt-build.sh\n' \
        "$k" > "$R/.stub-$k/CONTROL/control"
    (cd "$tree" && PATH=$tree/staging_dir/host/bin:$PATH bash scripts/ipkg-build -m "" "$R/.stub-$k" "$pkgs") > /dev/null ||
        die "ipkg-build of the $k stub"
done
n=$(ls "$pkgs" | wc -l)
[ "$n" = 9 ] || die "expected 9 packages (libc libgcc1 libpthread libmnl0 libnftnl11 collectd collectd-mod-conntrack-nft and 2 kmod stubs), have: $(ls "$pkgs" | tr '\n' ' ')"
(cd "$pkgs" && MKHASH=$tree/staging_dir/host/bin/mkhash PATH=$tree/staging_dir/host/bin:$PATH bash "$tree/scripts/ipkg-make-index.sh" . > Packages) ||
    die "ipkg-make-index.sh"
gzip -9nc "$pkgs/Packages" > "$pkgs/Packages.gz"

opkg=$ow/host-opkg/bin/opkg
mkdir -p "$R/etc/opkg" "$R/var/lock"
cat > "$R/etc/opkg.conf" <<CONF
dest root /
lists_dir ext /var/opkg-lists
option overlay_root /overlay
arch all 1
arch noarch 1
arch mips_24kc 10
src/gz local file://$pkgs
CONF
o() { "$opkg" --offline-root "$R" -f "$R/etc/opkg.conf" "$@"; }
o update > "$R/.opkg.log" 2>&1 || { cat "$R/.opkg.log"; die "opkg update"; }
# libc first: ipkg-make-index.sh leaves it out of the index (as OpenWrt's own feeds do).
o install "$pkgs"/libc_*.ipk >> "$R/.opkg.log" 2>&1 || { cat "$R/.opkg.log"; die "opkg install libc"; }
o install collectd-mod-conntrack-nft >> "$R/.opkg.log" 2>&1 || { cat "$R/.opkg.log"; die "opkg install collectd-mod-conntrack-nft"; }
installed=$(o list-installed | cut -d' ' -f1 | sort | tr '\n' ' ')
for p in libc libgcc1 libpthread libmnl0 libnftnl11 collectd collectd-mod-conntrack-nft kmod-nft-core kmod-nf-conntrack-netlink; do
    [[ " $installed" == *" $p "* ]] && ok "opkg installed $p" || bad "opkg did not install $p (installed: $installed)"
done

# Where collectd's init script (and LuCI's stat-genconfig) look for a plugin.
for f in usr/lib/collectd/conntrack_nft.so usr/share/collectd/plugin/conntrack_nft.json usr/sbin/collectd \
         etc/init.d/collectd usr/share/collectd/types.db lib/ld-musl-mips-sf.so.1 lib/libc.so \
         usr/lib/libnftnl.so.11 usr/lib/libmnl.so.0; do
    [ -e "$R/$f" ] && ok "/$f" || bad "/$f missing"
done

so=$R/usr/lib/collectd/conntrack_nft.so
desc=$(file -b "$so")
[[ "$desc" == "ELF 32-bit MSB shared object, MIPS, MIPS32 rel2"* ]] && ok "conntrack_nft.so: $desc" || bad "conntrack_nft.so: $desc"
flags=$(readelf -h "$so" | sed -n 's/^ *Flags: *//p')
[[ "$flags" != *mips16* ]] && ok "ELF flags without MIPS16: $flags" || bad "ELF flags say MIPS16: $flags"
m16=$(readelf -s -W "$so" | grep -c 'MIPS16' || true)
[ "$m16" = 0 ] && ok "no MIPS16 function" || bad "$m16 MIPS16 symbols"
# The plugin's compile commands (its log from scripts/openwrt-build.sh) carry no -mips16
# (PKG_BUILD_FLAGS:=no-mips16); libnftnl's do (OpenWrt's default on ath79; the zig wrappers drop it).
plog=$tree/logs-ctnft/package_collectd-mod-conntrack-nft_compile.log
if [ -f "$plog" ]; then
    grep -q -- '-mips16' "$plog" && bad "the plugin was compiled with -mips16" || ok "no -mips16 in the plugin's compile commands"
    grep -q -- '-mips16' "$tree/logs-ctnft/package_libnftnl_compile.log" && ok "(libnftnl's carry -mips16: the flag is OpenWrt's default)" ||
        bad "libnftnl's compile commands lack -mips16: the no-mips16 check above proves nothing"
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
[ "$needed" = "libc.so libmnl.so.0 libnftnl.so.11 " ] && ok "NEEDED: $needed" || bad "NEEDED: $needed (want libc.so libmnl.so.0 libnftnl.so.11)"
# Every symbol the plugin leaves undefined is defined (exported) by collectd or a library it needs.
defs() { readelf --dyn-syms -W "$1" | sed 's/\[[^]]*\]//g' | awk '$7 != "UND" && $8 != "" && ($5 == "GLOBAL" || $5 == "WEAK") { sub(/@.*/, "", $8); print $8 }'; }
defined=$( { defs "$R/usr/sbin/collectd"; defs "$R/lib/libc.so"; defs "$R/usr/lib/libnftnl.so.11"; defs "$R/usr/lib/libmnl.so.0"; } | sort -u)
undef=$(readelf --dyn-syms -W "$so" | sed 's/\[[^]]*\]//g' | awk '$7 == "UND" && $8 != "" && $5 == "GLOBAL" { sub(/@.*/, "", $8); print $8 }' | sort -u)
missing=$(comm -23 <(echo "$undef") <(echo "$defined") | tr '\n' ' ')
[ -z "$missing" ] && ok "all $(echo "$undef" | wc -l) undefined symbols are defined in the root" || bad "undefined and defined nowhere in the root: $missing"

# collectd from this build, in this root, through OpenWrt's loader.
interp=$(readelf -l "$R/usr/sbin/collectd" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = /lib/ld-musl-mips-sf.so.1 ] && ok "collectd's loader: $interp" || bad "collectd's loader: $interp"
mkdir -p "$R/tmp"
cat > "$R/tmp/collectd.conf" <<'CONF'
BaseDir "/tmp"
PIDFile "/tmp/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Hostname "router"
FQDNLookup false
Interval 30
LoadPlugin conntrack_nft
<Plugin conntrack_nft>
  Table "conntrack_stats"
  Priority -150
  ConntrackStats true
</Plugin>
CONF
# chroot into the root with qemu-user inside it: every path is the router's (qemu's -L does not
# redirect collectd's stat() of the plugin).
cp "$(command -v qemu-mips-static)" "$R/.qemu-mips-static"
# musl's wordexp() (collectd expands its config file's name) runs /bin/sh: Debian's static busybox
# stands in for OpenWrt's (an x86 program, which qemu-user runs natively).
command -v busybox > /dev/null || die "needs busybox-static (scripts/install-deps.sh)"
mkdir -p "$R/bin" "$R/dev" && cp "$(command -v busybox)" "$R/bin/busybox" && ln -s busybox "$R/bin/sh"
mknod -m 666 "$R/dev/null" c 1 3
qemu=(chroot "$R" /.qemu-mips-static -cpu 24Kc)
# collectd 5.12.0's -t exits before it reads the configuration (src/daemon/collectd.c,
# init_config): -T reads it (loading the plugin, which parses its block: a bad key fails the
# whole configuration), runs every init, one read and the shutdown. Under qemu-user the plugin's
# init cannot open its netfilter netlink socket (qemu-user passes only a few netlink families):
# it must get that far and fail there, so -T exits 1 ("plugin init callbacks failed").
out=$("${qemu[@]}" /usr/sbin/collectd -T -C /tmp/collectd.conf 2>&1) && rc=0 || rc=$?
if [[ "$out" == *'plugin "conntrack_nft" successfully loaded'* ]] && [[ "$out" != *"Parsing the config file failed"* ]] &&
   [[ "$out" == *"conntrack_nft plugin: cannot create table ip conntrack_stats: opening a netlink socket: Protocol not supported"* ]]; then
    ok "collectd -T (rc $rc): the plugin loaded, took its configuration and its init reached netlink, which qemu-user refuses"
else
    bad "collectd -T (rc $rc): $out"
fi
# A key the plugin does not know must fail the configuration: the plugin has read its block.
sed 's/^  Priority -150$/  NoSuchOption 1/' "$R/tmp/collectd.conf" > "$R/tmp/bad.conf"
out=$("${qemu[@]}" /usr/sbin/collectd -T -C /tmp/bad.conf 2>&1) && rc=0 || rc=$?
if [ "$rc" != 0 ] && [[ "$out" == *conntrack_nft*NoSuchOption* ]]; then
    ok "an unknown key fails the configuration, named by the plugin: $(tr '\n' ' ' <<< "$out" | cut -c1-200)"
else
    bad "collectd -T with an unknown key (rc $rc): $out"
fi

[ "$FAILED" = 0 ] || { echo "sdk_install $version: FAILED"; exit 1; }
echo "sdk_install $version: passed"
