#!/bin/sh
# What users run today from collectd's Exec plugin (as a non-root user, through sudo), kept here
# as the reference the plugin must stay compatible with. ONCE=1 prints one round and exits.
HOSTNAME="${COLLECTD_HOSTNAME:-$(hostname -f)}"
INTERVAL="${COLLECTD_INTERVAL:-30}"
SUDO=${SUDO-sudo}
while :; do
    $SUDO nft list counters table ip conntrack_stats | awk -v h="$HOSTNAME" -v i="$INTERVAL" '
        $1 == "counter" { name = $2 }
        $1 == "packets" { printf "PUTVAL \"%s/nftables-conntrack_stats/packets-%s\" interval=%s N:%s\n", h, name, i, $2 }'
    [ -n "${ONCE:-}" ] && exit 0
    sleep "$INTERVAL"
done
