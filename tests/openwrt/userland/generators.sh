# shellcheck shell=bash
# OpenWrt's two collectd config generators, run for real in a root from root.sh (source both).
#   owrt_stat_genconfig ROOT [UCI_FILE]           LuCI: UCI_FILE's sections in
#       /etc/config/luci_statistics, then /usr/libexec/stat-genconfig as /etc/init.d/luci_statistics
#       runs it; the collectd.conf it writes goes to stdout. Without UCI_FILE, the root's
#       configuration as it is (after LuCI's Save & Apply, say).
#   owrt_collectd_init ROOT RELEASE UCI_FILE      collectd's own init script, from openwrt/packages
#       RELEASE (23.05, 24.10, 25.12, master): the collectd package's init script and UCI defaults
#       in ROOT, UCI_FILE's sections in /etc/config/collectd, the collectd.conf it writes to stdout
#   owrt_plugin_block FILE                        our LoadPlugin line and <Plugin conntrack_nft> block
# Each call starts from the package's own configuration file (UCI_FILE's sections are added to
# it, as a user adds them), so one root serves several calls. The plugin must be in ROOT
# (owrt_layout's PLUGIN_SO) for the init script to emit it.

_owrt_fresh_config() {  # _owrt_fresh_config ROOT NAME UCI_FILE: the package's file + UCI_FILE
    local file="$1/etc/config/$2"
    [ -f "$file.package" ] || cp "$file" "$file.package"
    cat "$file.package" "$3" > "$file"
}

owrt_stat_genconfig() {  # owrt_stat_genconfig ROOT [UCI_FILE]
    [ -z "${2:-}" ] || _owrt_fresh_config "$1" luci_statistics "$2"
    owrt_chroot "$1" /usr/libexec/stat-genconfig
}

owrt_collectd_init() {  # owrt_collectd_init ROOT RELEASE UCI_FILE
    local root=$1 release=$2 pk
    if [ ! -f "$root/etc/init.d/collectd" ]; then
        pk=$(mktemp -d)
        tar xzf "$OWRT_SRC/packages-collectd-$release.tar.gz" -C "$pk" --strip-components=1 ||
            { echo "owrt_collectd_init: no packages-collectd-$release.tar.gz in $OWRT_SRC" >&2; rm -rf "$pk"; return 1; }
        # The collectd package: its init script and UCI defaults (alt_config_file names an
        # /etc/collectd.conf that does not exist here, so the UCI sections are used).
        install -D -m 0755 "$pk/utils/collectd/files/collectd.init" "$root/etc/init.d/collectd"
        install -D -m 0644 "$pk/utils/collectd/files/collectd.uci" "$root/etc/config/collectd"
        rm -rf "$pk"
    fi
    _owrt_fresh_config "$root" collectd "$3"
    # As /etc/rc.common runs a procd init script (functions.sh, service.sh, the script,
    # procd.sh), then the first step of its start_service, which writes /tmp/collectd.conf
    # before handing collectd to procd (not running here).
    # shellcheck disable=SC2016  # expanded by OpenWrt's shell
    owrt_chroot "$root" /bin/sh -c '
        initscript=/etc/init.d/collectd
        . /lib/functions.sh
        . /lib/functions/service.sh
        . /etc/init.d/collectd
        . /lib/functions/procd.sh
        process_config
        cat "$COLLECTD_CONF"'
}

owrt_plugin_block() {  # owrt_plugin_block FILE
    awk '$0 == "LoadPlugin conntrack_nft" { print; next }
         $0 == "<Plugin conntrack_nft>" { on = 1 } on { print } $0 == "</Plugin>" { on = 0 }' "$1"
}
