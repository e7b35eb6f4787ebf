// The kernel's own conntrack statistics over ctnetlink (no /proc): table entries and maximum, and
// the per-CPU event counters (found, invalid, insert, drop, ...), summed without wrapping back.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "nft/netlink_socket.h"

namespace ctnft {

enum class CtStat { found, invalid, insert, insert_failed, drop, early_drop, error, search_restart, clash_resolve,
                    chaintoolong };
constexpr std::size_t kCtStatCount = 10;
std::string_view to_string(CtStat stat);
constexpr std::array<CtStat, kCtStatCount> kAllCtStats{
    CtStat::found, CtStat::invalid, CtStat::insert, CtStat::insert_failed, CtStat::drop,
    CtStat::early_drop, CtStat::error, CtStat::search_restart, CtStat::clash_resolve, CtStat::chaintoolong};

// One CPU's reply to IPCTNL_MSG_CT_GET_STATS_CPU: the kernel's 32-bit counters, and which of them
// this kernel sends at all (older kernels lack clash_resolve and chaintoolong).
struct CpuStats {
    uint16_t cpu = 0;
    std::array<uint32_t, kCtStatCount> value{};
    std::array<bool, kCtStatCount> present{};
};

// Parsers of kernel replies: false for anything malformed.
bool parse_cpu_stats(const nlmsghdr* nlh, CpuStats& out);
bool parse_global_stats(const nlmsghdr* nlh, std::optional<uint32_t>& entries, std::optional<uint32_t>& max);

// 64-bit totals from 32-bit per-CPU counters that wrap. The first sample of a CPU counts in full
// (as `conntrack -S` shows it); after that each CPU adds its increase modulo 2^32, so a wrap
// never makes a total go back. A CPU that stops answering (offline) keeps its total.
class StatsAccumulator {
public:
    void add(const CpuStats& sample);
    uint64_t total(CtStat stat) const;
    bool present(CtStat stat) const { return present_[static_cast<std::size_t>(stat)]; }

    struct Cpu {
        uint16_t cpu;
        std::array<uint32_t, kCtStatCount> last;
        std::array<uint64_t, kCtStatCount> total;
    };
    const std::vector<Cpu>& cpus() const { return cpus_; }

private:
    std::vector<Cpu> cpus_;
    std::array<bool, kCtStatCount> present_{};
};

struct ConntrackHealth {
    std::optional<uint32_t> entries;
    std::optional<uint32_t> max_entries;
    const StatsAccumulator* stats = nullptr;
};

class ConntrackStatsReader {
public:
    // Two requests: the per-CPU counters (a dump) and the global entries/maximum.
    Status read(NetlinkSocket& sock, ConntrackHealth& out);

private:
    StatsAccumulator accumulator_;
};

// Number of flowtables in this network namespace, all families: with flow offloading, packets of
// offloaded connections skip the forward hook.
Status count_flowtables(NetlinkSocket& sock, uint32_t& count);

}  // namespace ctnft
