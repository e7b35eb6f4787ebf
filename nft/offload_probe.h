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
#include <optional>
#include <string>
#include <vector>

#include "nft/model.h"
#include "nft/netlink_socket.h"
#include "nft/table_queries.h"

namespace ctnft {

// One flowtable as the kernel lists it (NFT_MSG_NEWFLOWTABLE).
struct FlowtableInfo {
    std::string table;
    std::string name;
    int32_t priority = 0;
    std::vector<std::string> devices;
};

// The kernel's limits on what a reply can hold: a device name fits IFNAMSIZ (its NUL included),
// and a flowtable or a netdev chain hooks fewer than NFT_NETDEVICE_MAX (256) devices (EFBIG).
constexpr std::size_t kMaxHookDevices = 255;

// Parses one NFT_MSG_NEWFLOWTABLE message; false for anything malformed, or beyond the kernel's
// limits (a device name longer than IFNAMSIZ, more than kMaxHookDevices devices).
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
// flags (the owner flag, as the plugin's own table). At most kMaxHookDevices devices.
void add_offload_probe(Batch& batch, const std::string& table, const Flowtables& f, uint32_t flags);
void add_delete_offload_probe(Batch& batch, const std::string& table);
// Whether an existing netdev table of the probe's name holds exactly what add_offload_probe
// makes (its chains and counters, nothing else): only then is it the plugin's to replace or
// remove. A table the plugin did not make is never touched.
Status is_offload_probe(NetlinkSocket& sock, const std::string& table, bool& ours);

// Forward packets of offloaded connections per protocol, from successive reads of the probe.
// ahead and behind are read in one dump, not at one instant: a packet between the two chains,
// or counted behind after "ahead" was read, can make one difference smaller than the one before.
// The total never goes back (it keeps the largest difference seen, until the next read passes
// it). A counter that went back was reset (`nft reset counters`) or made again: the total then
// continues from where it was.
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
    std::array<uint64_t, 2> ahead_{};
    std::array<uint64_t, 2> behind_{};
};

// The probe's life in the kernel: made on the flowtables' devices, made again when they change,
// removed when they go; read into an OffloadTally.
class OffloadProbe {
public:
    explicit OffloadProbe(std::string table) : table_(std::move(table)) {}

    // Follows the flowtables, asked again only when the ruleset generation moved since the last
    // success (a flowtable is part of the ruleset). `made` describes a probe just made on devices
    // not named before (else empty: a firewall restart that brings the same flowtable back is no news). A netdev table of the probe's name that the plugin did not make is an error, and
    // left alone.
    Status update(NetlinkSocket& sock, std::optional<uint16_t> generation, bool owned, std::string& made);
    // Reads the probe's counters into the totals. A probe someone removed is an error; it is
    // made again at the next update.
    Status read(NetlinkSocket& sock);
    // Removes the probe, if one was made.
    Status remove(NetlinkSocket& sock);

    uint64_t total(Protocol protocol) const { return tally_.total(protocol); }
    const Flowtables& hooked() const { return probe_; }

private:
    Status replace(NetlinkSocket& sock, const Flowtables& now, bool owned);

    std::string table_;
    Flowtables probe_;   // what the kernel holds now (no devices: no probe)
    std::vector<std::string> announced_;  // the devices `made` last named: a restart is no news
    bool checked_ = false;  // a leftover of an earlier run was looked for
    std::optional<uint16_t> generation_;
    std::vector<CounterValue> values_;
    std::optional<CounterReader> reader_;
    OffloadTally tally_;
};

}  // namespace ctnft
