#!/usr/bin/env bash
# PID 1 of the OpenWrt lab (start.sh runs it under unshare --mount --pid in the lab's network
# namespace). Builds the lab's root in its own mount namespace: the OpenWrt layers over the
# host's /usr and /etc (Debian's libraries, rrdtool, sh), each overlay with a private writable
# tmpfs layer, /tmp from the run directory (collectd outside writes its RRD files there), /var
# a link to /tmp as on OpenWrt; then runs ubusd, rpcd and uhttpd with LuCI chrooted into it.
# Nothing on the host changes: every mount lives and dies with this mount namespace.
#   inner.sh RUN_DIR LAYER...   (layers highest first; each an OpenWrt-like root)
set -euo pipefail
RUN=$1; shift
LAYERS=("$@")
R="$RUN/root"
RW="$RUN/rw"

mount --make-rprivate /
mkdir -p "$R" "$RW" "$RUN/tmp"
mount -t tmpfs -o mode=0755 lab-root "$R"
mount -t tmpfs -o mode=0755 lab-rw "$RW"

# Top-level directories: the layers' own, plus usr and etc (layered over the host's).
declare -A tops=([usr]=1 [etc]=1)
for l in "${LAYERS[@]}"; do
    for d in "$l"/*/; do tops[$(basename "$d")]=1; done
done
for d in "${!tops[@]}"; do
    case $d in bin|sbin|lib|lib64|tmp|var|proc|dev|sys|run) continue ;; esac
    lower=""
    for l in "${LAYERS[@]}"; do [ -d "$l/$d" ] && lower="$lower${lower:+:}$l/$d"; done
    case $d in usr|etc) lower="$lower${lower:+:}/$d" ;; esac
    mkdir -p "$R/$d" "$RW/$d/upper" "$RW/$d/work"
    mount -t overlay "lab-$d" -o "lowerdir=$lower,upperdir=$RW/$d/upper,workdir=$RW/$d/work" "$R/$d"
done
# Debian's merged /usr, as on the host (the layers put OpenWrt's /sbin and /bin into /usr).
for d in bin sbin lib lib64; do [ -L "/$d" ] && ln -s "$(readlink "/$d")" "$R/$d"; done
ln -s tmp "$R/var"
mkdir -p "$R/tmp" "$R/proc" "$R/dev" "$R/sys" "$R/root"
mount --bind "$RUN/tmp" "$R/tmp"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind -o ro /sys "$R/sys" 2> /dev/null || mount --rbind /sys "$R/sys"
mkdir -p "$R/tmp/run/ubus" "$R/tmp/lock" "$R/tmp/rrd"
ip link set lo up

# OpenWrt's own command lines (package/system/ubus, rpcd; uhttpd's init script with LuCI's
# ucode handler), logging to files in the run directory.
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
in_root ubusd > "$RUN/ubusd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$R/tmp/run/ubus/ubus.sock" ] && break; sleep 0.05; done
[ -S "$R/tmp/run/ubus/ubus.sock" ] || { echo "lab: ubusd did not create its socket" >&2; exit 1; }
in_root rpcd -t 30 > "$RUN/rpcd.log" 2>&1 &
in_root uhttpd -f -h /www -r OpenWrt -x /cgi-bin -u /ubus -t 60 -T 30 -k 20 -A 1 -n 3 \
    -N 100 -R -p 127.0.0.1:80 -o /cgi-bin/luci -O /usr/share/ucode/luci/uhttpd.uc \
    > "$RUN/uhttpd.log" 2>&1 &
echo ready > "$RUN/inner.started"
# The lab ends when any daemon does (or when start.sh's unshare is killed: --kill-child).
wait -n
echo "lab: a daemon exited" >&2
exit 1
