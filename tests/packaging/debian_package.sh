#!/usr/bin/env bash
# The Debian package: built by the commands of docs/install.md, verbatim; its fields, files and
# dependencies checked; installed with dpkg (beside Debian's `collectd` package, for the stock
# collectd.conf) into a throwaway root; that root's collectd run with the stock configuration in
# a test namespace: the example is not loaded, and once enabled the values of known traffic
# arrive. The throwaway root is an overlay over this machine's / with its writes in a tmpfs,
# mounted in a mount namespace that only this test's processes see: the host is never written.
source "$(dirname "$0")/../lib/netns.sh"
source "$(dirname "$0")/../lib/collectd.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps readelf nsenter; do
    command -v $tool > /dev/null || skip "needs $tool (cmake, dpkg-dev, binutils, util-linux)"
done
COLLECTD_DEB=/var/cache/conntrack-nft/collectd_$(dpkg-query -W -f='${Version}' collectd-core | sed 's/:/%3a/')_$(dpkg --print-architecture).deb
[ -f "$COLLECTD_DEB" ] || skip "needs Debian's collectd package in $COLLECTD_DEB (scripts/install-deps.sh downloads it)"

# 1. Build: the first ```sh block after "## Debian / Ubuntu: the package", run in $TMP (its -S .
# becomes this checkout, so build-deb lands in $TMP).
awk '/^## Debian \/ Ubuntu: the package/ { sec = 1 } sec && /^```sh$/ { on = 1; next }
     on && /^```$/ { exit } on { print }' "$ROOT/docs/install.md" > "$TMP/build.sh"
grep -q "cpack -G DEB" "$TMP/build.sh" || { fail "no build commands found in docs/install.md"; finish; }
sed -i "s|-S \. |-S '$ROOT' |" "$TMP/build.sh"
start=$SECONDS
(cd "$TMP" && bash -euo pipefail "$TMP/build.sh") > "$TMP/build.log" 2>&1 || { tail -n 30 "$TMP/build.log"; fail "documented build failed"; finish; }
echo "build + cpack: $((SECONDS - start)) s"
version=$(sed -nE 's/^project\(conntrack_nft VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
arch=$(dpkg --print-architecture)
DEB="$TMP/build-deb/conntrack-nft_${version}_${arch}.deb"
[ -f "$DEB" ] && pass "built $(basename "$DEB")" || { fail "no $DEB: $(ls "$TMP/build-deb")"; finish; }

# 2. Fields and dependencies.
assert_eq "conntrack-nft $version $arch" "$(dpkg-deb -f "$DEB" Package Version Architecture | awk '{ printf "%s%s", s, $2; s = " " }')" "package, version, arch"
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
# collectd-core at the major.minor of the headers the plugin was built against (5.12 on bookworm).
cv=$(sed -nE 's/^#define PACKAGE_VERSION "([0-9]+)\.([0-9]+).*/\1 \2/p' /usr/include/collectd/core/config.h)
read -r major minor <<< "$cv"
want="collectd-core (>= $major.$minor), collectd-core (<< $major.$((minor + 1)))"
grep -q -F "$want" <<< "$depends" && pass "depends on $want (the headers' version)" || fail "no '$want' in: $depends"
# Every library the plugin links against is a dependency: the package owning each NEEDED soname.
dpkg-deb -x "$DEB" "$TMP/x"
so="$TMP/x/usr/lib/collectd/conntrack_nft.so"
needed=$(readelf -d "$so" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p')
tr ',' '\n' <<< "$depends" | awk '{ print $1 }' > "$TMP/depends"
for lib in $needed; do
    # The file the dynamic linker picks (ldd), owned by one package (merged /usr: either spelling).
    path=$(ldd "$so" | awk -v l="$lib" '$1 == l { print $3 }')
    owners=$(dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || true)
    pkg=$(sed -E '1!d; s/[:,].*//' <<< "$owners")
    grep -qxF "$pkg" "$TMP/depends" && pass "NEEDED $lib -> depends on $pkg" || fail "NEEDED $lib ($pkg) not in Depends"
done
assert_ge 4 "$(wc -w <<< "$needed")" "NEEDED libraries checked"

# 3. Files: the plugin in the directory collectd loads plugins from, stripped, exporting only
# module_register; the types; the example as a conffile; the docs.
plugin_dir=$(collectd -h | sed -nE 's/^ *Plugin directory +//p')
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' > "$TMP/files"
for f in "$plugin_dir/conntrack_nft.so" /usr/share/collectd/conntrack_nft.types.db \
         /etc/collectd/collectd.conf.d/conntrack_nft.conf.example \
         /usr/share/doc/conntrack-nft/copyright /usr/share/doc/conntrack-nft/install.md \
         /usr/share/doc/conntrack-nft/queries.md /usr/share/doc/conntrack-nft/grafana/conntrack-nft.json \
         /usr/share/doc/conntrack-nft/grafana/conntrack-nft-prometheus.json \
         /usr/share/doc/conntrack-nft/README.md /usr/share/doc/conntrack-nft/performance.txt; do
    grep -qx "$f" "$TMP/files" && pass "packaged $f" || fail "$f not in the package"
done
# The installed docs read on their own: every relative link of the installed README and docs
# (Markdown links and images, anchors dropped) names a file of the installed tree.
if python3 - "$TMP/x/usr/share/doc/conntrack-nft" <<'PY'
import pathlib, re, sys
root = pathlib.Path(sys.argv[1])
pages = sorted(root.rglob('*.md'))
links = broken = 0
for page in pages:
    text = re.sub(r'^```.*?^```', '', page.read_text(), flags=re.M | re.S)  # not in code blocks
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            continue
        links += 1
        path = target.split('#')[0]
        if not (page.parent / path).is_file():
            broken += 1
            print(f'FAIL: {page.relative_to(root)} links to {target}, which is not installed')
print(f'{len(pages)} installed pages, {links} relative links, {broken} broken')
sys.exit(1 if broken or len(pages) < 10 or links < 40 else 0)
PY
then pass "every relative link of the installed README and docs resolves in /usr/share/doc/conntrack-nft"
else fail "links of the installed docs"
fi
grep -q "stripped" <<< "$(file -L "$so")" && ! grep -q "not stripped" <<< "$(file -L "$so")" && pass "plugin stripped" || fail "plugin not stripped: $(file -L "$so")"
assert_eq "module_register" "$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | tr '\n' ' ' | sed 's/ $//')" "exported functions"
assert_eq "/etc/collectd/collectd.conf.d/conntrack_nft.conf.example" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" "conffiles"
cmp -s "$TMP/x/etc/collectd/collectd.conf.d/conntrack_nft.conf.example" "$ROOT/plugin/conntrack_nft.conf.example" &&
    pass "example is plugin/conntrack_nft.conf.example" || fail "example differs from plugin/conntrack_nft.conf.example"

# 4. The throwaway root: a holder process in the router namespace keeps a mount namespace with
# the overlay; every later step enters it (nsenter) and works in the root with chroot/dpkg --root.
topology
R="$TMP/root"
mkdir -p "$R" "$TMP/layers"
bg ip netns exec "$ROUTER" sh -c "
    mount -t tmpfs tmpfs '$TMP/layers' && mkdir '$TMP/layers/up' '$TMP/layers/work' &&
    mount -t overlay overlay -o 'lowerdir=/,upperdir=$TMP/layers/up,workdir=$TMP/layers/work' '$R' &&
    mount -t proc proc '$R/proc' && mount --bind /sys '$R/sys' && mount --bind /dev '$R/dev' &&
    mount -t tmpfs tmpfs '$R/run' && mount -t tmpfs tmpfs '$R/tmp' &&
    touch '$TMP/root-ready' && exec sleep 600"
HOLDER=$BG_PID
wait_for 10 test -f "$TMP/root-ready" || { fail "throwaway root not mounted"; finish; }
in_root() { nsenter -t "$HOLDER" -m -n "$@"; }
# Maintainer scripts of Debian's collectd would start a daemon: refused, as in any chroot.
in_root sh -c "printf '#!/bin/sh\nexit 101\n' > '$R/usr/sbin/policy-rc.d' && chmod +x '$R/usr/sbin/policy-rc.d'"
# Nothing of ours may be in the root before the install (e.g. a `cmake --install` on the host).
in_root rm -f "$R$plugin_dir/conntrack_nft.so" "$R/etc/collectd/collectd.conf.d/conntrack_nft.conf"
cp "$DEB" "$COLLECTD_DEB" "$TMP/"
if in_root dpkg --root="$R" --force-not-root -i "$TMP/$(basename "$COLLECTD_DEB")" "$TMP/$(basename "$DEB")" > "$TMP/dpkg.log" 2>&1; then
    pass "dpkg installed collectd and conntrack-nft into the throwaway root (dependencies satisfied)"
else
    cat "$TMP/dpkg.log"; fail "dpkg -i failed"; finish
fi
assert_eq "install ok installed" "$(in_root dpkg-query --root="$R" -W -f='${Status}' conntrack-nft)" "package status"
in_root cmp -s "$so" "$R$plugin_dir/conntrack_nft.so" && pass "plugin installed in $plugin_dir" || fail "installed plugin differs"
[ ! -e /var/lib/dpkg/info/conntrack-nft.list ] && pass "host's dpkg database untouched" || fail "host has conntrack-nft installed"

# The test's own addition to the stock configuration: csv values on stdout, a log file, 1 s
# interval for the plugins loaded after it, a fixed host name.
in_root sh -c "cat > '$R/etc/collectd/collectd.conf.d/00-test.conf'" <<'CONF'
Hostname "router"
FQDNLookup false
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "/tmp/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir stdout
  StoreRates false
</Plugin>
CONF
run_root_collectd() {  # the root's collectd with Debian's stock /etc/collectd/collectd.conf
    : > "$TMP/values.log"
    bg nsenter -t "$HOLDER" -m -n chroot "$R" stdbuf -oL /usr/sbin/collectd -C /etc/collectd/collectd.conf -f \
        > "$TMP/values.log" 2> "$TMP/collectd.stderr.log"
    COLLECTD_PID=$BG_PID
}

# 5. Installed, not enabled: collectd runs, loads the stock plugins and not ours.
run_root_collectd
wait_for 30 grep -q "^PUTVAL router/load/load " "$TMP/values.log" || fail "stock collectd sent no load values"
in_root grep -q "Initialization complete" "$R/tmp/collectd.log" && pass "stock collectd.conf runs in the root" || fail "collectd did not start"
stop_collectd TERM
if grep -q conntrack_nft "$TMP/values.log" "$TMP/collectd.stderr.log" || in_root grep -q conntrack_nft "$R/tmp/collectd.log"; then
    fail "conntrack_nft loaded before it was enabled"
else pass "the example is not loaded (Include filter *.conf)"; fi
assert_eq "" "$(in_ns "$ROUTER" nft list tables)" "nftables tables before enabling"

# 6. Enabled as the docs say: values arrive, exactly the flows sent.
in_root cp "$R/etc/collectd/collectd.conf.d/conntrack_nft.conf.example" "$R/etc/collectd/collectd.conf.d/conntrack_nft.conf"
in_root sh -c ": > '$R/tmp/collectd.log'"
run_root_collectd
id=router/nftables-conntrack_stats/packets-udp_conntrack_fwd_new
wait_for 30 grep -q "^PUTVAL $id " "$TMP/values.log" && pass "conntrack_nft values arrive" ||
    { in_root cat "$R/tmp/collectd.log"; fail "no $id"; finish; }
assert_eq "table ip conntrack_stats" "$(in_ns "$ROUTER" nft list tables)" "table created by the packaged plugin"
in_ns "$CLIENT" $TRAFFIC udp-send "$SERVER_IP" 40000 25 > /dev/null
wait_for 20 sh -c "[ \"\$(awk -v id='$id' '\$2 == id { split(\$4, tv, \":\"); v = tv[2] } END { print v + 0 }' '$TMP/values.log')\" = 25 ]" &&
    pass "udp_conntrack_fwd_new = 25 (25 flows sent)" || fail "udp_conntrack_fwd_new: $(value_of "$id"), 25 flows sent"
assert_eq 18 "$(putvals | awk '$2 ~ /^router\/nftables-conntrack_stats\/packets-/ { print $2 }' | sort -u | wc -l)" "counters dispatched"
wait_for 20 in_root test -f "$R/var/lib/collectd/rrd/router/nftables-conntrack_stats/packets-udp_conntrack_fwd_new.rrd" &&
    pass "the stock rrdtool writer stores them too" || fail "no RRD file for $id"
stop_collectd TERM
finish
