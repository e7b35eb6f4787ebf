#!/usr/bin/env bash
# Installs what building, running and testing conntrack_nft need on Debian (bookworm), and only
# what is missing. Idempotent; needs root (apt-get).
set -euo pipefail

packages=(
    build-essential cmake pkg-config       # build
    libnftnl-dev libmnl-dev                # netlink to nf_tables
    collectd-core collectd-dev             # the daemon and its plugin headers
    catch2                                 # unit tests
    nftables iproute2 conntrack            # the kernel side, seen from the tests
    jq python3 util-linux procps iputils-ping   # test tooling: JSON, traffic, setpriv, ping
    gnuplot-nox                            # the pictures in docs/
    influxdb curl                          # a real time-series database in the tests
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (apt-get) or install them" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# collectd-core must not start a daemon of its own here: policy-rc.d says no to services.
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
[ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${missing[@]}"
