// parse_plugin_config (plugin/plugin_config.h) over an oconfig_item_t tree built from the fuzz
// input, as collectd's liboconfig hands it over: any keys (known ones likely), any number of
// values of any type, nested blocks. Links without the daemon: only liboconfig's header.
#include <cmath>
#include <cstring>
#include <iterator>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "plugin/plugin_config.h"

extern "C" {
#ifdef CONNTRACK_NFT_COLLECTD_TREE
#include "liboconfig/oconfig.h"
#else
#include "collectd/liboconfig/oconfig.h"
#endif
}

namespace {

constexpr const char* kKeys[] = {"Table", "Family", "Manage", "Protocol", "Hook", "State", "Priority",
                                 "ReportBytes", "KeepTable", "OwnerFlag", "ConntrackStats", "PerCPU",
                                 "SampleInterval", "SampleCounter", "table", "SAMPLEINTERVAL",
                                 "Notifications", "FillThreshold", "CountOffloaded"};
constexpr const char* kWords[] = {"ip", "ip6", "inet", "tcp", "udp", "icmp", "icmpv6", "input", "output",
                                  "forward", "prerouting", "postrouting", "new", "established", "related",
                                  "invalid", "untracked", "true", "false", "conntrack_stats", "*_fwd_*", ""};
constexpr double kNumbers[] = {0, 1, -1, -199, -200, -201, 0.05, 0.049, 3600, 3600.5, 2147483647.0,
                               2147483648.0, -2147483648.0, -2147483649.0, 1e300, -1e300, 0.5,
                               std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min(),
                               90, 100, 100.5, 0.999};

class Reader {
public:
    Reader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::string text() {
        const std::size_t len = byte();
        std::string s;
        for (std::size_t i = 0; i < len && pos_ < size_; ++i) s.push_back(static_cast<char>(data_[pos_++]));
        return s;
    }
    double number() {
        double v = 0;
        unsigned char raw[sizeof v] = {};
        for (auto& b : raw) b = byte();
        std::memcpy(&v, raw, sizeof v);
        return v;
    }

private:
    const uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Owns every string and array the C tree points to; deques never move what they hold.
struct Tree {
    std::deque<std::string> strings;
    std::deque<std::vector<oconfig_value_t>> values;
    std::deque<std::vector<oconfig_item_t>> children;

    char* keep(std::string s) {
        strings.push_back(std::move(s));
        return strings.back().data();
    }

    void fill(Reader& in, oconfig_item_t& item, oconfig_item_t* parent, int depth) {
        item = oconfig_item_t{};
        item.parent = parent;
        const uint8_t k = in.byte();
        item.key = keep(k < 200 ? kKeys[k % std::size(kKeys)] : in.text());
        const int nvalues = in.byte() % 5;
        if (nvalues > 0) {
            auto& vals = values.emplace_back(static_cast<std::size_t>(nvalues));
            for (auto& v : vals) {
                v = oconfig_value_t{};
                const uint8_t t = in.byte();
                switch (t % 5) {
                    case 0: v.type = OCONFIG_TYPE_STRING; v.value.string = keep(kWords[in.byte() % std::size(kWords)]); break;
                    case 1: v.type = OCONFIG_TYPE_STRING; v.value.string = keep(in.text()); break;
                    case 2: v.type = OCONFIG_TYPE_NUMBER; v.value.number = kNumbers[in.byte() % std::size(kNumbers)]; break;
                    case 3: v.type = OCONFIG_TYPE_NUMBER; v.value.number = in.number(); break;
                    default: v.type = OCONFIG_TYPE_BOOLEAN; v.value.boolean = in.byte() & 1; break;
                }
            }
            item.values = vals.data();
            item.values_num = nvalues;
        }
        const int nchildren = depth < 2 && (in.byte() & 0xf0) == 0xf0 ? in.byte() % 4 : 0;
        if (nchildren > 0) {
            auto& items = children.emplace_back(static_cast<std::size_t>(nchildren));
            for (auto& c : items) fill(in, c, &item, depth + 1);
            item.children = items.data();
            item.children_num = nchildren;
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    Tree tree;
    oconfig_item_t block{};
    block.key = tree.keep("Plugin");
    oconfig_value_t name{};
    name.type = OCONFIG_TYPE_STRING;
    name.value.string = tree.keep("conntrack_nft");
    block.values = &name;
    block.values_num = 1;
    std::vector<oconfig_item_t> items;
    items.reserve(64);
    while (!in.empty() && items.size() < 64) {
        items.emplace_back();
        tree.fill(in, items.back(), &block, 1);
    }
    block.children = items.data();
    block.children_num = static_cast<int>(items.size());

    ctnft::PluginConfig config;
    std::string warning;
    const ctnft::Status s = ctnft::parse_plugin_config(&block, config, warning);
    if (s) {
        // What the plugin relies on after a successful parse.
        if (config.manage && !ctnft::validate(config.ruleset)) __builtin_trap();
        if (config.sample_interval != 0 && !(config.sample_interval >= 0.05 && config.sample_interval <= 3600))
            __builtin_trap();
        if (config.manage && ctnft::counting_rules(config.ruleset).empty()) __builtin_trap();
    } else if (s.message().empty()) {
        __builtin_trap();  // every error names the key
    }
    return 0;
}
