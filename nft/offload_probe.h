// Counting what flow offloading hides (docs/diagnosis.md, "Counting through flow offloading").
// A flowtable takes the packets of offloaded connections at ingress, before any other hook: they
// never reach the forward counters. The probe is a netdev table with the plugin's table name and
// two ingress chains on the flowtables' devices, one ahead of the flowtables (a lower priority)
// and one behind them (a higher one), each counting tcp and udp. A packet the flowtable takes is
// counted ahead and not behind: ahead - behind is exactly what the forward hook missed (measured
// in the VM lab, tests/lab/offload.sh). Packets that reach ingress encapsulated (PPPoE, on the
// WAN's lower device) carry no layer-4 protocol there and are counted by neither chain.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nft/model.h"
#include "nft/netlink_socket.h"

namespace ctnft {

// One flowtable as the kernel lists it (NFT_MSG_NEWFLOWTABLE).
struct FlowtableInfo {
    std::string table;
    std::string name;
    int32_t priority = 0;
    std::vector<std::string> devices;
};

// Parses one NFT_MSG_NEWFLOWTABLE message; false for anything malformed.
bool parse_flowtable_message(const nlmsghdr* nlh, FlowtableInfo& out);

// Every flowtable of the namespace (all families), merged: their number, the devices they hook
// (sorted, each once) and the lowest and highest hook priority among them.
struct Flowtables {
    uint32_t count = 0;
    std::vector<std::string> devices;
    int32_t min_priority = 0;
    int32_t max_priority = 0;
    void add(const FlowtableInfo& f);
    bool operator==(const Flowtables& o) const = default;
};

Status read_flowtables(NetlinkSocket& sock, Flowtables& out);

// The probe's chains' priorities: one below the lowest flowtable priority, one above the highest
// (saturated at the ends of int32_t).
int32_t probe_ahead_priority(const Flowtables& f);
int32_t probe_behind_priority(const Flowtables& f);

// Counter names in the probe table: "tcp_ahead", "tcp_behind", "udp_ahead", "udp_behind".
constexpr std::array<Protocol, 2> kProbeProtocols{Protocol::tcp, Protocol::udp};
std::string probe_counter(Protocol protocol, bool ahead);
// What the plugin dispatches: "tcp_conntrack_fwd_offloaded", next to tcp_conntrack_fwd_new, ...
std::string offloaded_counter_name(Protocol protocol);

// Writes the whole probe (table, counters, two chains, their rules) into a batch. flags: table
// flags (the owner flag, as the plugin's own table).
void add_offload_probe(Batch& batch, const std::string& table, const Flowtables& f, uint32_t flags);
void add_delete_offload_probe(Batch& batch, const std::string& table);

// Forward packets of offloaded connections per protocol, from successive reads of the probe.
// ahead and behind are read in one dump, not at one instant: a packet between the two chains,
// or counted behind after "ahead" was read, can make one difference smaller than the one before.
// The total never goes back (it keeps the largest difference seen, until the next read passes
// it), and a probe made again (its counters restart at zero) continues from where it was.
class OffloadTally {
public:
    void sample(Protocol protocol, uint64_t ahead, uint64_t behind);
    // The probe was made again: its counters restart from zero, the totals do not.
    void restart();
    uint64_t total(Protocol protocol) const;

private:
    static std::size_t index(Protocol p) { return p == Protocol::tcp ? 0 : 1; }
    std::array<uint64_t, 2> base_{};
    std::array<uint64_t, 2> last_{};
};

}  // namespace ctnft
