#include "plugin/plugin_config.h"

#include <cmath>
#include <limits>
#include <strings.h>

extern "C" {
#ifdef CONNTRACK_NFT_COLLECTD_TREE
#include "liboconfig/oconfig.h"
#else
#include "collectd/liboconfig/oconfig.h"
#endif
}

namespace ctnft {
namespace {

bool key_is(const oconfig_item_t* item, const char* key) { return strcasecmp(item->key, key) == 0; }

Status wrong(const oconfig_item_t* item, const std::string& expected) {
    return Status::error(std::string(item->key) + ": expects " + expected);
}

Status get_string(const oconfig_item_t* item, std::string& out) {
    if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_STRING)
        return wrong(item, "one quoted string");
    out = item->values[0].value.string;
    return {};
}

Status get_bool(const oconfig_item_t* item, bool& out) {
    if (item->values_num == 1 && item->values[0].type == OCONFIG_TYPE_BOOLEAN) {
        out = item->values[0].value.boolean != 0;
        return {};
    }
    // As collectd's own options: "true"/"false" in quotes are accepted too.
    if (item->values_num == 1 && item->values[0].type == OCONFIG_TYPE_STRING) {
        const char* s = item->values[0].value.string;
        if (strcasecmp(s, "true") == 0) return out = true, Status{};
        if (strcasecmp(s, "false") == 0) return out = false, Status{};
    }
    return wrong(item, "true or false");
}

Status get_priority(const oconfig_item_t* item, int32_t& out) {
    if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_NUMBER) return wrong(item, "a whole number above -200");
    const double v = item->values[0].value.number;
    if (!std::isfinite(v) || v != std::floor(v) || v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max())
        return wrong(item, "a whole number above -200");
    out = static_cast<int32_t>(v);
    return {};
}

// Repeatable list keys: the first occurrence replaces the default, later ones add to it; one line
// may also carry several values (Protocol "tcp" "udp").
template <typename E, typename Parse>
Status get_list(const oconfig_item_t* item, std::vector<E>& out, bool& seen, Parse parse, const std::string& accepted) {
    if (item->values_num < 1) return wrong(item, "one or more of " + accepted);
    if (!seen) out.clear();
    seen = true;
    for (int i = 0; i < item->values_num; ++i) {
        if (item->values[i].type != OCONFIG_TYPE_STRING) return wrong(item, "quoted strings, each one of " + accepted);
        const auto value = parse(item->values[i].value.string);
        if (!value)
            return Status::error(std::string(item->key) + ": \"" + item->values[i].value.string +
                                 "\" is not accepted; use one of " + accepted);
        out.push_back(*value);
    }
    return {};
}

}  // namespace

Status parse_plugin_config(const oconfig_item_s* block, PluginConfig& config, std::string& warning) {
    config = PluginConfig{};
    warning.clear();
    bool seen_protocol = false, seen_hook = false, seen_state = false;
    std::string managed_only;
    for (int i = 0; i < block->children_num; ++i) {
        const oconfig_item_t* item = &block->children[i];
        Status s;
        if (item->children_num > 0) {
            s = Status::error(std::string(item->key) + ": nested blocks are not accepted; all options are flat keys");
        } else if (key_is(item, "Table")) {
            s = get_string(item, config.ruleset.table);
            if (s) s = validate_table_name(config.ruleset.table);
        } else if (key_is(item, "Family")) {
            std::string text;
            s = get_string(item, text);
            if (s) {
                if (auto f = parse_family(text)) config.ruleset.family = *f;
                else s = Status::error("Family: \"" + text + "\" is not accepted; use one of " + accepted_families());
            }
        } else if (key_is(item, "Manage")) {
            s = get_bool(item, config.manage);
        } else if (key_is(item, "Protocol")) {
            s = get_list(item, config.ruleset.protocols, seen_protocol, parse_protocol, accepted_protocols());
            managed_only = item->key;
        } else if (key_is(item, "Hook")) {
            s = get_list(item, config.ruleset.hooks, seen_hook, parse_hook, accepted_hooks());
            managed_only = item->key;
        } else if (key_is(item, "State")) {
            s = get_list(item, config.ruleset.states, seen_state, parse_state, accepted_states());
            managed_only = item->key;
        } else if (key_is(item, "Priority")) {
            s = get_priority(item, config.ruleset.priority);
            managed_only = item->key;
        } else if (key_is(item, "ReportBytes")) {
            s = get_bool(item, config.report_bytes);
        } else if (key_is(item, "KeepTable")) {
            s = get_bool(item, config.keep_table);
            managed_only = item->key;
        } else {
            s = Status::error(std::string(item->key) +
                              ": unknown option; accepted: Table, Family, Manage, Protocol, Hook, State, Priority, "
                              "ReportBytes, KeepTable");
        }
        if (!s) return s;
    }
    if (config.manage) return validate(config.ruleset);
    if (!managed_only.empty())
        warning = managed_only + " only applies with Manage true: with Manage false the plugin reads every named "
                                 "counter of the existing table and changes nothing";
    return {};
}

}  // namespace ctnft
