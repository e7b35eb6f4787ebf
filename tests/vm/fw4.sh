#!/usr/bin/env bash
# The VM lab's part of tests/openwrt/fw4_boot.sh: flow_offloading switched on and off in UCI under
# the real firewall4, which needs a kernel with flowtables (Debian's 6.1 amd64; not the CI
# machine's). The built OpenWrt userland is the host's, seen through the guest's root.
exec bash "$(dirname "$0")/../openwrt/fw4_boot.sh" offload
