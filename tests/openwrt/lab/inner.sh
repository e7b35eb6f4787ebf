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
# Each daemon once the one before answers: the socket file exists before ubusd listens on it
# (rpcd, connecting then, fails and exits), and uhttpd's LuCI needs rpcd's session object.
answers() {  # answers SECONDS CMD...: waits until CMD succeeds in the root
    local deadline=$(( $(date +%s) + $1 )); shift
    until in_root "$@" > /dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "lab: no answer to $*" >&2; exit 1; }
        sleep 0.05
    done
}
in_root ubusd > "$RUN/ubusd.log" 2>&1 &
answers 15 ubus list
in_root rpcd -t 30 > "$RUN/rpcd.log" 2>&1 &
answers 15 ubus list session
# uhttpd as OpenWrt's init script starts it for LuCI (ucode handler at /cgi-bin/luci).
in_root uhttpd -f -h /www -r OpenWrt -x /cgi-bin -u /ubus -t 60 -T 30 -k 20 -A 1 -n 3 \
    -N 100 -R -p 127.0.0.1:80 -o /cgi-bin/luci -O /usr/share/ucode/luci/uhttpd.uc \
    > "$RUN/uhttpd.log" 2>&1 &
# The lab ends when a daemon does (or when lab.sh's unshare is killed: --kill-child).
wait -n
echo "lab: a daemon exited" >&2
exit 1
