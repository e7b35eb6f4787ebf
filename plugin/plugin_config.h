// The <Plugin conntrack_nft> block: flat keys only, so that LuCI's generic generator can write it.
#pragma once

#include <string>
#include <vector>

#include "nft/model.h"

struct oconfig_item_s;

namespace ctnft {

struct PluginConfig {
    RulesetSpec ruleset;    // Table, Family, Protocol, Hook, State, Priority, RuleShape
    bool manage = true;     // false: attach to an existing table and never modify it
    bool report_bytes = false;
    bool keep_table = false;
    bool owner_flag = true;  // false: an unowned table, as on kernels before 5.12
    bool conntrack_stats = true;  // the kernel's conntrack statistics over ctnetlink
    bool per_cpu = false;         // ... also per CPU
    double sample_interval = 0;   // seconds; 0: no sub-interval sampling
    std::vector<std::string> sample_counters;  // fnmatch patterns; empty: every counter
    bool notifications = true;    // collectd notifications on losses, a filling table, repairs, offloading
    double fill_threshold = 90;   // percent of the conntrack table that makes a notification
    // While a flowtable exists: the offload probe (nft/offload_probe.h) on its devices, and
    // <proto>_conntrack_fwd_offloaded dispatched beside the forward counters. Off by default: the
    // probe costs every packet arriving on a flowtable device about 170 ns here (tests/bench/
    // offload_probe.sh), paid on the fast path that offloading is turned on for.
    bool count_offloaded = false;
};

// Parses the block's children into config, starting from the defaults. On failure returns an
// error that names the key and the accepted values; config is then unspecified. Options that only
// apply to a managed table are checked (and reported in `warning`) when Manage is false.
Status parse_plugin_config(const oconfig_item_s* block, PluginConfig& config, std::string& warning);

}  // namespace ctnft
