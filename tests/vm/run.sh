#!/usr/bin/env bash
# Runs one command in a VM booted from Debian's own kernel (qemu, TCG: no KVM here), and returns
# its exit code and output. tests/vm/prepare.sh must have run (it caches the kernels).
#   tests/vm/run.sh [options] [--] COMMAND [ARG...]
#     --arch ARCH          amd64 (default): bookworm's linux-image-amd64 (6.1, modular);
#                          trixie: trixie's linux-image-amd64 (6.12), the host's userland;
#                          s390x: big-endian; armhf: linux-image-armmp on -M virt, Cortex-A15;
#                          mipsel: linux-image-4kc-malta on -M malta, 24Kc (each its own root)
#     --smp N              guest CPUs (default 1; TCG runs one host thread per CPU)
#     --mem MiB            guest memory (default 1024)
#     --timeout S          the whole boot+command+poweroff (default 600); 124 when exceeded
#     --env NAME           pass this variable from the caller's environment (repeatable);
#                          BUILD_DIR and CTNFT_* are always passed
#     --deny-module M      the module M (and its aliases) cannot be loaded in the guest: as on a
#                          router whose kmod package is not installed (repeatable)
#     --keep DIR           copy the guest's console log here
#     --share DIR          make this host folder visible at its path, writable on top (repeatable);
#                          the repository and BUILD_DIR always are
# The guest sees the host's files at the same paths, read-only underneath and writable on top
# (overlayfs: lower = the host's root over virtio-9p, upper = tmpfs; writes vanish at poweroff),
# so bash, python3, ip, nft, conntrack, collectd and the build tree are there. For s390x the
# lower layer is the s390x Debian root that prepare.sh made. /tmp and /run are fresh tmpfs. The
# shared folders (the repository, BUILD_DIR, --share) are mounted last, at their own paths, so a
# clone in /tmp or in any folder works on both arches. Modules load on demand from the kernel
# package (the kernel calls /sbin/modprobe, busybox's, in the initramfs).
# The command runs as root in the guest's init network namespace (the VM is the sandbox), with
# the caller's working directory; its stdout and stderr come back on stdout.
set -euo pipefail
cache=${CTNFT_VM_CACHE:-/var/cache/conntrack-nft/vm}
p9ver=9p2000.L arch=amd64 smp=${CTNFT_VM_SMP:-1} mem=1024 timeout=600 envs=() deny=() keep= shares=()
while [ $# -gt 0 ]; do
    case $1 in
        --arch) arch=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --env) envs+=("$2"); shift 2 ;;
        --deny-module) deny+=("$2"); shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --share) shares+=("$2"); shift 2 ;;
        --) shift; break ;;
        -*) echo "vm-run: unknown option '$1'"; exit 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "vm-run: no command"; exit 2; }
case $arch in amd64|s390x|trixie|armhf|mipsel) ;; *) echo "vm-run: --arch must be amd64, s390x, trixie, armhf or mipsel, not '$arch'"; exit 2 ;; esac

kdir=$cache/$arch/kernel
kver=
for d in "$kdir"/lib/modules/*; do [ -d "$d" ] && { kver=${d##*/}; break; }; done
if [ -z "$kver" ] || [ ! -f "$kdir/lib/modules/$kver/modules.dep" ]; then
    echo "vm-run: no $arch kernel in $kdir: run tests/vm/prepare.sh $arch (as root)"
    exit 3
fi
case $arch in
    amd64) qemu=qemu-system-x86_64 busybox=$cache/amd64/busybox/bin/busybox console=ttyS0 lower=/host
           boot_modules="virtio_pci 9pnet_virtio 9p overlay"
           # The boot's IO-APIC timer check measures ticks against TCG's clock: on a loaded host
           # it fails and the kernel panics ("IO-APIC + timer doesn't work", seen at load 9).
           machine=(-M "${CTNFT_VM_MACHINE:-q35}" -cpu max) p9dev=virtio-9p-pci kargs=no_timer_check ;;
    trixie) qemu=qemu-system-x86_64 busybox=$cache/amd64/busybox/bin/busybox console=ttyS0 lower=/host
           boot_modules="virtio_pci 9pnet_virtio 9p overlay"
           machine=(-M "${CTNFT_VM_MACHINE:-q35}" -cpu max) p9dev=virtio-9p-pci kargs=no_timer_check ;;
    s390x) qemu=qemu-system-s390x busybox=$cache/s390x/busybox/bin/busybox console=ttysclp0
           lower=/host$cache/s390x/root
           boot_modules="9pnet_virtio 9p overlay"
           machine=(-M s390-ccw-virtio -cpu max) p9dev=virtio-9p-ccw ;;
    # 32-bit router-class CPUs: ipq40xx's Cortex-A7 class (the A15 has the same ARMv7-A ABI),
    # ramips's 24Kc. Malta's PCI bus carries legacy virtio.
    armhf) qemu=qemu-system-arm busybox=$cache/armhf/busybox/bin/busybox console=ttyAMA0
           lower=/host$cache/armhf/root
           boot_modules="virtio_mmio 9pnet_virtio 9p overlay"
           machine=(-M "virt,highmem=off" -cpu cortex-a15) p9dev=virtio-9p-device ;;
    mipsel) qemu=qemu-system-mipsel busybox=$cache/mipsel/busybox/bin/busybox console=ttyS0
           lower=/host$cache/mipsel/root
           boot_modules="virtio_pci 9pnet_virtio 9p overlay"
           machine=(-M malta -cpu 24Kc) p9dev=virtio-9p-pci
           # 9P2000.L carries the host's errno numbers, and MIPS numbers differ: qemu's EOPNOTSUPP
           # (95) for an xattr arrives as ENOTSOCK, and overlayfs's lookups and exec's
           # security.capability fail. 9P2000.u sends the error's text, which the guest maps to
           # its own numbers (and has no xattrs).
           p9ver=9p2000.u ;;
esac
command -v "$qemu" > /dev/null || { echo "vm-run: no $qemu: run tests/vm/prepare.sh $arch (as root)"; exit 3; }
[ -x "$busybox" ] || { echo "vm-run: no $busybox: run tests/vm/prepare.sh $arch (as root)"; exit 3; }
[ "$(id -u)" = 0 ] || { echo "vm-run: needs root (qemu must read the whole root to share it)"; exit 3; }

# The folders the guest sees at their own paths: absolute, existing, none inside another.
shares+=("$(cd "$(dirname "$0")/../.." && pwd)")
[ -n "${BUILD_DIR:-}" ] && shares+=("$BUILD_DIR")
physical=()
for d in "${shares[@]}"; do
    [ -d "$d" ] || { echo "vm-run: --share '$d' is not a folder"; exit 2; }
    d=$(cd "$d" && pwd -P)
    case $d in /) echo "vm-run: --share /: the host's root is the guest's already"; exit 2 ;;
               *[[:space:]]*) echo "vm-run: --share '$d': a shared path cannot contain spaces"; exit 2 ;; esac
    physical+=("$d")
done
share_list=()
while read -r d; do
    for kept in "${share_list[@]}"; do case $d/ in "$kept"/*) continue 2 ;; esac; done
    share_list+=("$d")
done < <(printf '%s\n' "${physical[@]}" | sort -u)

run=$(mktemp -d /tmp/ctnft-vm.XXXXXX)
qpid=
cleanup() {
    local rc=$?
    [ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
    [ -n "$keep" ] && mkdir -p "$keep" && cp "$run/console.log" "$keep/" 2>/dev/null
    rm -rf "$run"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The initramfs: busybox, the modules that mount the shares (in dependency order), /init.
init=$run/initramfs
mkdir -p "$init"/{bin,sbin,proc,sys,dev,host,rw,newroot,mods,lib}
cp "$busybox" "$init/bin/busybox"
mdir=$kdir/lib/modules/$kver
declare -A seen=()
order=()
add_module() {  # add_module NAME: the module and what it needs (modules.dep), needed ones first
    local name=$1 path dep
    path=$(awk -v n="$name" -F: '{ f = $1; sub(".*/", "", f); sub("\\.ko.*", "", f); gsub("-", "_", f) } f == n { print $1; exit }' "$mdir/modules.dep")
    [ -n "$path" ] || return 0   # built in
    [ -n "${seen[$path]:-}" ] && return 0
    seen[$path]=1
    for dep in $(awk -v p="$path" -F': *' '$1 == p { print $2; exit }' "$mdir/modules.dep"); do
        dep=${dep##*/}; dep=${dep%%.ko*}; add_module "${dep//-/_}"
    done
    cp "$mdir/$path" "$init/mods/"
    order+=("${path##*/}")
}
for m in $boot_modules; do add_module "$m"; done
printf '%s\n' "${order[@]}" > "$init/mods/order"
printf '%s\n' "${share_list[@]}" > "$init/shares"
ln -s "/host$kdir/lib/modules" "$init/lib/modules"
# Denied: each module and every alias of it (request_module asks for "nft-expr-ct" and the
# like), '-' written as '_'. tests/vm/modules.sh writes /run/ctnft-deny-modules the same way.
for m in "${deny[@]}"; do
    m=${m//-/_}
    echo "$m"
    awk -v m="$m" '$1 == "alias" { t = $3; gsub("-", "_", t); if (t == m) { a = $2; gsub("-", "_", a); print a } }' "$mdir/modules.alias"
done > "$init/deny-modules"
# The kernel's module loader: busybox modprobe, except for what is denied (a plain string
# comparison: this runs for every module the kernel asks for).
cat > "$init/sbin/modprobe" <<'MP'
#!/bin/busybox sh
for a; do n=$a; done
n=$(echo "$n" | tr - _)
grep -qxF -e "$n" /deny-modules /newroot/run/ctnft-deny-modules 2>/dev/null && exit 1
exec /bin/busybox modprobe "$@"
MP
chmod +x "$init/sbin/modprobe"
cat > "$init/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in \$(cat /mods/order); do insmod /mods/\$m || echo "vm-init: insmod \$m failed"; done
echo /sbin/modprobe > /proc/sys/kernel/modprobe
mount -t 9p -o trans=virtio,version=$p9ver,ro,cache=loose,msize=262144 hostroot /host || echo "vm-init: cannot mount the host's root"
mount -t tmpfs -o size=70% rw /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=$lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || echo "vm-init: overlay failed"
mount -t proc proc /newroot/proc; mount -t sysfs sys /newroot/sys; mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm; mount -t devpts devpts /newroot/dev/pts; mount -t tmpfs shm /newroot/dev/shm
ln -s /proc/self/fd /newroot/dev/fd; ln -s /proc/self/fd/0 /newroot/dev/stdin; ln -s /proc/self/fd/1 /newroot/dev/stdout; ln -s /proc/self/fd/2 /newroot/dev/stderr
mount -t tmpfs tmp /newroot/tmp; mount -t tmpfs run /newroot/run
i=0
for d in \$(cat /shares); do
    i=\$((i + 1)); mkdir -p /rw/s\$i/upper /rw/s\$i/work /newroot\$d
    mount -t overlay -o lowerdir=/host\$d,upperdir=/rw/s\$i/upper,workdir=/rw/s\$i/work overlay /newroot\$d || echo "vm-init: cannot share \$d"
done
cp /bin/busybox /newroot/run/busybox
mkdir -p /newroot/usr/lib/modules && mount --bind /lib/modules /newroot/usr/lib/modules
mkdir -p /newroot$run && mount -t 9p -o trans=virtio,version=$p9ver,msize=262144 out /newroot$run || echo "vm-init: cannot mount the output share"
modprobe crc32c_generic
chroot /newroot /bin/sh -c 'cd "\$(cat $run/cwd)" 2>/dev/null || cd /; exec /bin/bash $run/cmd' > /newroot$run/output 2>&1 < /dev/null
echo \$? > /newroot$run/rc
sync
umount /newroot$run
poweroff -f
INIT
chmod +x "$init/init"
(cd "$init" && find . | cpio -o -H newc --quiet | gzip -1) > "$run/initrd.gz"

# The command, its environment and working directory, on the output share.
{
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8'
    echo "export CTNFT_IN_VM=$arch"
    for v in BUILD_DIR $(compgen -e | grep '^CTNFT_' || true) "${envs[@]}"; do
        [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
    done
    printf 'exec'; printf ' %q' "$@"; echo
} > "$run/cmd"
pwd > "$run/cwd"

vmlinuz=
for f in "$kdir/boot/vmlinux-$kver" "$kdir/boot/vmlinuz-$kver"; do [ -f "$f" ] && { vmlinuz=$f; break; }; done
start=$SECONDS
"$qemu" "${machine[@]}" -accel tcg -smp "$smp" -m "$mem" -nodefaults -no-reboot -display none \
    -serial "file:$run/console.log" -monitor none \
    -kernel "$vmlinuz" -initrd "$run/initrd.gz" \
    -append "console=$console panic=-1 oops=panic loglevel=4${kargs:+ $kargs}" \
    -fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap" \
    -device "$p9dev,fsdev=root,mount_tag=hostroot" \
    -fsdev "local,id=out,path=$run,security_model=none,multidevs=remap" \
    -device "$p9dev,fsdev=out,mount_tag=out" &
qpid=$!
while kill -0 "$qpid" 2>/dev/null; do
    if [ "$((SECONDS - start))" -ge "$timeout" ]; then
        echo "vm-run: TIMEOUT after $timeout s ($arch); console:"; tail -n 40 "$run/console.log"
        [ -f "$run/output" ] && { echo "--- output so far:"; cat "$run/output"; }
        exit 124
    fi
    sleep 0.5   # polling qemu's exit, bounded by the timeout above
done
wait "$qpid" || true
qpid=
[ -f "$run/output" ] && cat "$run/output"
if [ ! -f "$run/rc" ]; then
    echo "vm-run: the guest ended without the command's exit code ($arch, $((SECONDS - start)) s); console:"
    tail -n 60 "$run/console.log"
    exit 125
fi
rc=$(cat "$run/rc")
grep -E 'vm-init:|Kernel panic|BUG:|WARNING:' "$run/console.log" >&2 || true
echo "vm-run: $arch $kver, rc $rc, $((SECONDS - start)) s" >&2
exit "$rc"
