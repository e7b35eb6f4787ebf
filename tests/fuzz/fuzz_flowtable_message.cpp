// parse_flowtable_message (nft/offload_probe.h) over one datagram of a flowtable dump, merged as
// read_flowtables merges it, and the probe's priorities and the tally fed from what was parsed.
#include "fuzz_util.h"
#include "nft/offload_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const ctnft_fuzz::Datagram datagram(data, size);
    ctnft::Flowtables all;
    ctnft::OffloadTally tally;
    ctnft_fuzz::for_each_message(datagram, [&](const nlmsghdr* nlh) {
        ctnft::FlowtableInfo f;
        if (!ctnft::parse_flowtable_message(nlh, f)) return;
        all.add(f);
        tally.sample(ctnft::Protocol::tcp, f.devices.size(), static_cast<uint32_t>(f.priority));
        tally.restart();
    });
    const int64_t sum = static_cast<int64_t>(ctnft::probe_ahead_priority(all)) + ctnft::probe_behind_priority(all) +
                        static_cast<int64_t>(all.devices.size() + tally.total(ctnft::Protocol::tcp));
    return sum == 42 ? 0 : 0;
}
