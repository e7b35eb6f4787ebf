# Shared helpers for the kernel and daemon tests: namespaces the test makes itself, a
# client -> router -> server topology, traffic, assertions, and cleanup on every exit.
# Never touches the init network namespace's ruleset. Source it; it sets -euo pipefail.
set -euo pipefail

# 77 tells CTest "skipped" (SKIP_RETURN_CODE); CI sets CTNFT_REQUIRE_KERNEL_TESTS=1 to make a
# skip a failure instead.
skip() {
    echo "SKIP: $*"
    if [ "${CTNFT_REQUIRE_KERNEL_TESTS:-0}" = 1 ]; then
        echo "FAIL: CTNFT_REQUIRE_KERNEL_TESTS=1 forbids skipping"
        exit 1
    fi
    exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
command -v nft >/dev/null || skip "needs nftables (nft)"

TEST_NAME=$(basename "$0" .sh)
NS_PREFIX="ctnft$$"
NAMESPACES=()
BACKGROUND=()
TMP=$(mktemp -d "/tmp/${TEST_NAME}.XXXXXX")
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at the build tree}
CTNFT="$BUILD_DIR/tests/tools/ctnft"
TRAFFIC="python3 $(dirname "${BASH_SOURCE[0]}")/../tools/traffic.py"
FAILED=0

cleanup() {
    local rc=$?
    for pid in "${BACKGROUND[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in "${BACKGROUND[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Anything still running inside our namespaces goes too.
    for ns in "${NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -d "$TMP" ]; then
        echo "--- $TEST_NAME failed (rc $rc); files in $TMP:"
        for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

ns_add() {  # ns_add VAR NAME: creates namespace $NS_PREFIX-NAME with lo up, its name in $VAR
    local ns="$NS_PREFIX-$2"
    ip netns add "$ns" || skip "cannot create a network namespace"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
    printf -v "$1" '%s' "$ns"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

bg() {  # bg CMD...: runs in the background, killed at cleanup; sets BG_PID
    "$@" &
    BG_PID=$!
    BACKGROUND+=("$BG_PID")
}

# client (198.18.1.2, 2001:db8:1::2) -- router -- server (198.18.2.2, 2001:db8:2::2).
# 198.18.0.0/15 and 2001:db8::/32 are reserved for tests and documentation: nothing real there.
topology() {
    ns_add CLIENT client
    ns_add ROUTER router
    ns_add SERVER server
    ip link add c0 netns "$CLIENT" type veth peer name r0 netns "$ROUTER"
    ip link add s0 netns "$SERVER" type veth peer name r1 netns "$ROUTER"
    ip -n "$CLIENT" addr add 198.18.1.2/24 dev c0
    ip -n "$ROUTER" addr add 198.18.1.1/24 dev r0
    ip -n "$ROUTER" addr add 198.18.2.1/24 dev r1
    ip -n "$SERVER" addr add 198.18.2.2/24 dev s0
    ip -n "$CLIENT" addr add 2001:db8:1::2/64 dev c0 nodad
    ip -n "$ROUTER" addr add 2001:db8:1::1/64 dev r0 nodad
    ip -n "$ROUTER" addr add 2001:db8:2::1/64 dev r1 nodad
    ip -n "$SERVER" addr add 2001:db8:2::2/64 dev s0 nodad
    for l in "$CLIENT c0" "$ROUTER r0" "$ROUTER r1" "$SERVER s0"; do
        set -- $l
        ip -n "$1" link set "$2" up
    done
    ip -n "$CLIENT" route add default via 198.18.1.1
    ip -n "$SERVER" route add default via 198.18.2.1
    ip -n "$CLIENT" -6 route add default via 2001:db8:1::1
    ip -n "$SERVER" -6 route add default via 2001:db8:2::1
    in_ns "$ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    CLIENT_IP=198.18.1.2 ROUTER_IP=198.18.1.1 ROUTER_IP_S=198.18.2.1 SERVER_IP=198.18.2.2
    CLIENT_IP6=2001:db8:1::2 SERVER_IP6=2001:db8:2::2
    # Resolve neighbours (ARP, IPv6 ND) before any test counts: a first packet queued behind
    # a resolution can be lost and retransmitted, and a retransmitted SYN counts as new twice.
    local ip
    for ip in "$SERVER_IP" "$SERVER_IP6" "$ROUTER_IP"; do
        in_ns "$CLIENT" ping -q -c 1 -w 5 "$ip" > /dev/null || { echo "FAIL: no route to $ip"; exit 1; }
    done
    in_ns "$ROUTER" ping -q -c 1 -w 5 "$SERVER_IP" > /dev/null
}

start_tcp_server() {  # start_tcp_server NS PORT: waits until it listens
    bg in_ns "$1" $TRAFFIC tcp-server "$2"
    for _ in $(seq 100); do
        grep -q LISTEN <<< "$(in_ns "$1" ss -Hltn "sport = :$2")" && return 0
        sleep 0.05
    done
    echo "FAIL: tcp server on port $2 did not start"
    exit 1
}

# "name packets bytes" per named counter, from nft's own JSON listing.
nft_counters() {  # nft_counters NS [FAMILY TABLE]
    in_ns "$1" nft -j list counters | jq -r '.nftables[] | select(.counter) | .counter |
        "\(.name) \(.packets) \(.bytes)"' | sort
}

counter_of() {  # counter_of NS NAME: packets of one counter, from nft
    in_ns "$1" nft -j list counters | jq -r --arg n "$2" '.nftables[] | select(.counter) | .counter |
        select(.name == $n) | .packets'
}

# Waits until the traffic a test sent has passed NS: every TCP connection tracked there is closed
# (TIME_WAIT or CLOSE: its last ACK went through) and at least UDP_FLOWS UDP flows are tracked (an
# entry is listed only once its packet has passed every hook, counters included). A condition, not
# a guessed delay: on a busy machine the last packets can lag the program that sent them.
settle() {  # settle NS [UDP_FLOWS]
    command -v conntrack > /dev/null || { echo "FAIL: settle needs conntrack (package conntrack)"; exit 1; }
    wait_for 10 settled "$1" "${2:-0}" || { echo "FAIL: traffic in $1 did not settle within 10 s:"
        in_ns "$1" conntrack -L 2>&1; exit 1; }
}
settled() {  # settled NS UDP_FLOWS
    local open udp
    open=$(in_ns "$1" conntrack -L -p tcp 2>/dev/null | awk '$4 != "TIME_WAIT" && $4 != "CLOSE" { n++ } END { print n + 0 }')
    udp=$(in_ns "$1" conntrack -L -p udp 2>/dev/null | awk 'END { print NR }')
    [ "$open" = 0 ] && [ "$udp" -ge "$2" ]
}

pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }

assert_eq() {  # assert_eq EXPECTED ACTUAL WHAT
    if [ "$1" = "$2" ]; then pass "$3 = $2"; else fail "$3: expected '$1', got '$2'"; fi
}

assert_ge() {  # assert_ge MIN ACTUAL WHAT
    if [ "$2" -ge "$1" ]; then pass "$3 = $2 (>= $1)"; else fail "$3: expected >= $1, got $2"; fi
}

finish() {
    if [ "$FAILED" != 0 ]; then echo "$TEST_NAME: FAILED"; exit 1; fi
    echo "$TEST_NAME: passed"
}

# Waits until CMD succeeds, up to SECONDS.
wait_for() {  # wait_for SECONDS CMD...
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
