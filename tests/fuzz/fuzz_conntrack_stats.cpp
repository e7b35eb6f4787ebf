// parse_cpu_stats and parse_global_stats (nft/conntrack_stats.h) over one ctnetlink datagram, and
// the per-CPU samples summed by StatsAccumulator twice (as two reads do).
#include <optional>

#include "fuzz_util.h"
#include "nft/conntrack_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const ctnft_fuzz::Datagram datagram(data, size);
    ctnft::StatsAccumulator acc;
    for (int read = 0; read < 2; ++read) {
        ctnft_fuzz::for_each_message(datagram, [&](const nlmsghdr* nlh) {
            ctnft::CpuStats cpu;
            if (ctnft::parse_cpu_stats(nlh, cpu)) acc.add(cpu);
            std::optional<uint32_t> entries, max;
            ctnft::parse_global_stats(nlh, entries, max);
        });
    }
    uint64_t sum = 0;
    for (ctnft::CtStat stat : ctnft::kAllCtStats) sum += acc.total(stat) + acc.present(stat);
    return sum == 42 ? 0 : 0;
}
