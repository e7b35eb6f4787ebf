#!/usr/bin/env bash
# Renders the OpenWrt pictures of docs/openwrt.md from real runs of the OpenWrt lab
# (tests/openwrt/lab): the settings dialog in the real LuCI of OpenWrt 23.05, and Statistics >
# Graphs of the real LuCI of OpenWrt 25.12 over RRD files that Debian's collectd with the plugin
# wrote while known traffic crossed a router namespace, drawn by rrdtool through LuCI. Needs
# root, ../shared/openwrt-src and the lab's packages (scripts/install-deps.sh); about 90 s.
#   BUILD_DIR=build bash docs/pictures/openwrt.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BUILD_DIR=${BUILD_DIR:-$HERE/../../build}
LAB="$HERE/../../tests/openwrt/lab"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

bash "$LAB/setup.sh" 23.05 "$HERE/openwrt-setup.png" > "$OUT/setup.log" ||
    { tail -n 40 "$OUT/setup.log"; exit 1; }
bash "$LAB/graphs.sh" 25.12 "$OUT/graphs" > "$OUT/graphs.log" ||
    { tail -n 40 "$OUT/graphs.log"; exit 1; }
# The graphs come in the definitions' order: per hook (input, forward, output) and protocol
# (tcp, udp) packets, then bytes, then peak and low rates.
cp "$OUT/graphs/graph-nftables-03.png" "$HERE/openwrt-graph-forward-tcp.png"
cp "$OUT/graphs/graph-nftables-04.png" "$HERE/openwrt-graph-forward-udp.png"
cp "$OUT/graphs/graph-nftables-15.png" "$HERE/openwrt-graph-peaks-forward-tcp.png"
cp "$OUT/graphs/graphs-nftables.png" "$HERE/openwrt-graphs.png"
cp "$OUT/graphs/graphs-conntrack_nft.png" "$HERE/openwrt-graphs-health.png"
echo "openwrt.sh: pictures written to $HERE"
