#!/usr/bin/env bash
# PID 1 of the OpenWrt lab (lab.sh runs it under unshare --mount --pid in the lab's network
# namespace). Mounts what the root needs, in this mount namespace only: the host's / read-only
# at /host (its C libraries, busybox, rrdtool), /dev, /sys, this PID namespace's /proc, and /tmp
# from the run directory (collectd, outside, writes the RRD files there). Then runs ubusd, rpcd
# and uhttpd with LuCI chrooted into the root, with OpenWrt's command lines. Nothing on the host
# changes: the mounts and the processes end with the namespaces.
#   inner.sh RUN_DIR ROOT
set -euo pipefail
RUN=$1 R=$2

mount --make-rprivate /
mount --rbind / "$R/host"
mount -o remount,bind,ro "$R/host"
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --bind "$RUN/tmp" "$R/tmp"
mkdir -p "$R/tmp/run/ubus" "$R/tmp/lock"
ip link set lo up

in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin:/host/usr/sbin:/host/usr/bin HOME=/root LANG=C \
        chroot "$R" "$@"
}
in_root ubusd > "$RUN/ubusd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$R/tmp/run/ubus/ubus.sock" ] && break; sleep 0.05; done
[ -S "$R/tmp/run/ubus/ubus.sock" ] || { echo "lab: ubusd did not create its socket" >&2; exit 1; }
in_root rpcd -t 30 > "$RUN/rpcd.log" 2>&1 &
# uhttpd as OpenWrt's init script starts it for LuCI (ucode handler at /cgi-bin/luci).
in_root uhttpd -f -h /www -r OpenWrt -x /cgi-bin -u /ubus -t 60 -T 30 -k 20 -A 1 -n 3 \
    -N 100 -R -p 127.0.0.1:80 -o /cgi-bin/luci -O /usr/share/ucode/luci/uhttpd.uc \
    > "$RUN/uhttpd.log" 2>&1 &
# The lab ends when a daemon does (or when lab.sh's unshare is killed: --kill-child).
wait -n
echo "lab: a daemon exited" >&2
exit 1
