// parse_counter_message (nft/table_queries.h) over one datagram of a counter dump, and the
// counters it yields fed to RateWindow (plugin/rate_window.h), as the sampler does.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "nft/table_queries.h"
#include "plugin/rate_window.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const ctnft_fuzz::Datagram datagram(data, size);
    std::vector<ctnft::CounterValue> values;
    ctnft_fuzz::for_each_message(datagram, [&](const nlmsghdr* nlh) {
        std::string_view name;
        uint64_t packets = 0, bytes = 0;
        if (!ctnft::parse_counter_message(nlh, name, packets, bytes)) return;
        // On success the name lies inside the message and is not empty.
        const char* begin = reinterpret_cast<const char*>(nlh);
        if (name.empty() || name.data() < begin || name.data() + name.size() > begin + nlh->nlmsg_len)
            __builtin_trap();
        values.push_back({std::string(name), packets, bytes});
    });
    // Two samples one second apart, the second with every counter halved or doubled: rates of any
    // 64-bit values (wrap, counters going backwards) must stay defined.
    ctnft::RateWindow window([](const std::string& n) { return !n.empty() && n[0] != 'x'; });
    window.sample(1.0, values, values.size());
    for (auto& v : values) v.packets = (v.packets & 1) ? v.packets / 2 : v.packets * 2;
    window.sample(2.0, values, values.size());
    window.sample(2.0, values, values.size());  // no time passed
    std::vector<ctnft::RateWindow::Extremes> out;
    window.take(out);
    return 0;
}
