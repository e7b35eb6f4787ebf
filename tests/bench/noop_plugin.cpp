// bench_noop: a collectd plugin that reads nothing and dispatches the value lists it is given,
// the way a plain C plugin does (identifier fields copied, one plugin_dispatch_values each).
// tests/bench/daemon.sh runs it next to conntrack_nft with the identifiers conntrack_nft
// dispatched, so the difference between the two daemons is what conntrack_nft itself costs.
//   <Plugin bench_noop>
//     Value "nftables" "conntrack_stats" "packets" "tcp_conntrack_input_new"
//   </Plugin>
#include <cstring>
#include <string>
#include <vector>

#include <strings.h>

#include "plugin/collectd_api.h"
extern "C" {
#ifdef CONNTRACK_NFT_COLLECTD_TREE
#include "liboconfig/oconfig.h"
#else
#include "collectd/liboconfig/oconfig.h"
#endif
}

namespace {

struct Identifier {
    std::string plugin, plugin_instance, type, type_instance;
    int ds_type = DS_TYPE_GAUGE;
};
std::vector<Identifier> g_values;
derive_t g_counter = 0;

// What sstrncpy does (it lives in a header that needs collectd's config.h).
void copy(char (&field)[DATA_MAX_NAME_LEN], const std::string& value) {
    std::strncpy(field, value.c_str(), DATA_MAX_NAME_LEN - 1);
    field[DATA_MAX_NAME_LEN - 1] = '\0';
}

int config_cb(oconfig_item_t* block) {
    for (int i = 0; i < block->children_num; ++i) {
        const oconfig_item_t& item = block->children[i];
        if (strcasecmp(item.key, "Value") != 0 || item.values_num != 4) {
            ERROR("bench_noop plugin: expected Value \"plugin\" \"plugin_instance\" \"type\" \"type_instance\"");
            return -1;
        }
        Identifier id;
        std::string* fields[] = {&id.plugin, &id.plugin_instance, &id.type, &id.type_instance};
        for (int k = 0; k < 4; ++k) {
            if (item.values[k].type != OCONFIG_TYPE_STRING) return -1;
            *fields[k] = item.values[k].value.string;
        }
        g_values.push_back(id);
    }
    return 0;
}

int init_cb() {
    for (auto& id : g_values) {
        const data_set_t* ds = plugin_get_ds(id.type.c_str());
        if (!ds) {
            ERROR("bench_noop plugin: unknown type %s", id.type.c_str());
            return -1;
        }
        id.ds_type = ds->ds[0].type;
    }
    return 0;
}

int read_cb() {
    ++g_counter;
    const cdtime_t now = cdtime();
    for (const auto& id : g_values) {
        value_t value{};
        if (id.ds_type == DS_TYPE_DERIVE) value.derive = g_counter;
        else value.gauge = static_cast<gauge_t>(g_counter);
        value_list_t vl = {};
        vl.values = &value;
        vl.values_len = 1;
        vl.time = now;
        copy(vl.plugin, id.plugin);
        copy(vl.plugin_instance, id.plugin_instance);
        copy(vl.type, id.type);
        copy(vl.type_instance, id.type_instance);
        plugin_dispatch_values(&vl);
    }
    return 0;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void module_register(void) {
    plugin_register_complex_config("bench_noop", config_cb);
    plugin_register_init("bench_noop", init_cb);
    plugin_register_read("bench_noop", read_cb);
}
