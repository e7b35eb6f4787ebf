#include "plugin/plugin_config.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
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

// Errors name a key as the documentation spells it, whatever case the user wrote.
Status wrong(const char* key, const std::string& expected) { return Status::error(std::string(key) + ": expects " + expected); }

Status get_string(const oconfig_item_t* item, const char* key, const std::string& accepted, std::string& out) {
    if (item->values_num != 1 || item->values[0].type != OCONFIG_TYPE_STRING)
        return wrong(key, "one quoted string: " + accepted);
    out = item->values[0].value.string;
    return {};
}

Status get_bool(const oconfig_item_t* item, const char* key, bool& out) {
    if (item->values_num == 1 && item->values[0].type == OCONFIG_TYPE_BOOLEAN) {
        out = item->values[0].value.boolean != 0;
        return {};
    }
    // As collectd's own options (cf_util_get_boolean): in quotes, "true", "yes" and "on", or
    // "false", "no" and "off".
    if (item->values_num == 1 && item->values[0].type == OCONFIG_TYPE_STRING) {
        const char* s = item->values[0].value.string;
        for (const char* word : {"true", "yes", "on"})
            if (strcasecmp(s, word) == 0) return out = true, Status{};
        for (const char* word : {"false", "no", "off"})
            if (strcasecmp(s, word) == 0) return out = false, Status{};
    }
    return wrong(key, "true or false");
}

// A number, also in quotes: OpenWrt's config writers quote "-150" and "0.5".
bool get_number(const oconfig_item_t* item, double& out) {
    if (item->values_num != 1) return false;
    if (item->values[0].type == OCONFIG_TYPE_NUMBER) {
        out = item->values[0].value.number;
        return true;
    }
    if (item->values[0].type != OCONFIG_TYPE_STRING) return false;
    const char* s = item->values[0].value.string;
    char* end = nullptr;
    errno = 0;
    out = std::strtod(s, &end);
    return *s != '\0' && !std::isspace(static_cast<unsigned char>(*s)) && end && *end == '\0' && errno == 0;
}

Status get_priority(const oconfig_item_t* item, const char* key, int32_t& out) {
    const std::string accepted = "a whole number above -200, e.g. 0";
    double v = 0;
    if (!get_number(item, v)) return wrong(key, accepted);
    if (!std::isfinite(v) || v != std::floor(v) || v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max())
        return wrong(key, accepted);
    out = static_cast<int32_t>(v);
    return {};
}

// Repeatable list keys: the first occurrence replaces the default, later ones add to it; one line
// may also carry several values (Protocol "tcp" "udp").
template <typename E, typename Parse>
Status get_list(const oconfig_item_t* item, const char* key, std::vector<E>& out, bool& seen, Parse parse,
                const std::string& accepted) {
    if (item->values_num < 1) return wrong(key, "one or more quoted strings, each one of " + accepted);
    if (!seen) out.clear();
    seen = true;
    for (int i = 0; i < item->values_num; ++i) {
        if (item->values[i].type != OCONFIG_TYPE_STRING)
            return wrong(key, "quoted strings, each one of " + accepted);
        const auto value = parse(item->values[i].value.string);
        if (!value)
            return Status::error(std::string(key) + ": \"" + item->values[i].value.string +
                                 "\" is not accepted; use one of " + accepted);
        out.push_back(*value);
    }
    return {};
}

Status get_seconds(const oconfig_item_t* item, const char* key, double& out) {
    const std::string accepted = "a number of seconds from 0.05 to 3600, e.g. 1";
    double v = 0;
    if (!get_number(item, v)) return wrong(key, accepted);
    if (!std::isfinite(v) || v < 0.05 || v > 3600) return wrong(key, accepted);
    out = v;
    return {};
}

Status get_patterns(const oconfig_item_t* item, const char* key, std::vector<std::string>& out) {
    const std::string accepted = "one or more quoted counter names or patterns such as \"*_fwd_*\"";
    if (item->values_num < 1) return wrong(key, accepted);
    for (int i = 0; i < item->values_num; ++i) {
        if (item->values[i].type != OCONFIG_TYPE_STRING) return wrong(key, accepted);
        const std::string pattern = item->values[i].value.string;
        if (pattern.empty() || pattern.size() > 255) return wrong(key, accepted + " (1 to 255 characters)");
        out.push_back(pattern);
    }
    return {};
}

Status get_percent(const oconfig_item_t* item, const char* key, double& out) {
    const std::string accepted = "a percentage from 1 to 100, e.g. 90";
    double v = 0;
    if (!get_number(item, v)) return wrong(key, accepted);
    if (!std::isfinite(v) || v < 1 || v > 100) return wrong(key, accepted);
    out = v;
    return {};
}

constexpr const char* kKeys =
    "Table, Family, Manage, Protocol, Hook, State, Priority, RuleShape, ReportBytes, KeepTable, OwnerFlag, "
    "ConntrackStats, PerCPU, SampleInterval, SampleCounter, Notifications, FillThreshold, CountOffloaded";

}  // namespace

Status parse_plugin_config(const oconfig_item_s* block, PluginConfig& config, std::string& warning) {
    config = PluginConfig{};
    warning.clear();
    bool seen_protocol = false, seen_hook = false, seen_state = false, seen_threshold = false;
    std::string managed_only;  // keys given that only a managed table uses
    auto managed = [&](const char* key) {
        if (managed_only.find(key) == std::string::npos) managed_only += managed_only.empty() ? key : std::string(", ") + key;
    };
    auto& spec = config.ruleset;
    for (int i = 0; i < block->children_num; ++i) {
        const oconfig_item_t* item = &block->children[i];
        auto is = [&](const char* key) { return strcasecmp(item->key, key) == 0; };
        Status s;
        if (item->children_num > 0) {
            s = Status::error(std::string(item->key) + ": nested blocks are not accepted; all options are flat keys: " +
                              kKeys);
        } else if (is("Table")) {
            // Checked once Manage is known: an existing table may have a name nft allows and
            // the plugin would not make.
            s = get_string(item, "Table", "an nft table name", spec.table);
        } else if (is("Family")) {
            std::string text;
            s = get_string(item, "Family", accepted_families(), text);
            if (s) {
                if (auto f = parse_family(text)) spec.family = *f;
                else s = Status::error("Family: \"" + text + "\" is not accepted; use one of " + accepted_families());
            }
        } else if (is("Manage")) {
            s = get_bool(item, "Manage", config.manage);
        } else if (is("Protocol")) {
            s = get_list(item, "Protocol", spec.protocols, seen_protocol, parse_protocol, accepted_protocols());
            managed("Protocol");
        } else if (is("Hook")) {
            s = get_list(item, "Hook", spec.hooks, seen_hook, parse_hook, accepted_hooks());
            managed("Hook");
        } else if (is("State")) {
            s = get_list(item, "State", spec.states, seen_state, parse_state, accepted_states());
            managed("State");
        } else if (is("RuleShape")) {
            std::string text;
            s = get_string(item, "RuleShape", accepted_rule_shapes(), text);
            if (s) {
                if (auto shape = parse_rule_shape(text)) spec.shape = *shape;
                else s = Status::error("RuleShape: \"" + text + "\" is not accepted; use one of " + accepted_rule_shapes());
            }
            managed("RuleShape");
        } else if (is("Priority")) {
            s = get_priority(item, "Priority", spec.priority);
            managed("Priority");
        } else if (is("ReportBytes")) {
            s = get_bool(item, "ReportBytes", config.report_bytes);
        } else if (is("KeepTable")) {
            s = get_bool(item, "KeepTable", config.keep_table);
            managed("KeepTable");
        } else if (is("ConntrackStats")) {
            s = get_bool(item, "ConntrackStats", config.conntrack_stats);
        } else if (is("PerCPU")) {
            s = get_bool(item, "PerCPU", config.per_cpu);
        } else if (is("SampleInterval")) {
            s = get_seconds(item, "SampleInterval", config.sample_interval);
        } else if (is("SampleCounter")) {
            s = get_patterns(item, "SampleCounter", config.sample_counters);
        } else if (is("Notifications")) {
            s = get_bool(item, "Notifications", config.notifications);
        } else if (is("FillThreshold")) {
            s = get_percent(item, "FillThreshold", config.fill_threshold);
            seen_threshold = true;
        } else if (is("CountOffloaded")) {
            s = get_bool(item, "CountOffloaded", config.count_offloaded);
            managed("CountOffloaded");
        } else if (is("OwnerFlag")) {
            s = get_bool(item, "OwnerFlag", config.owner_flag);
            managed("OwnerFlag");
        } else {
            s = Status::error(std::string(item->key) + ": unknown option; accepted: " + kKeys);
        }
        if (!s) return s;
    }
    if (!config.sample_counters.empty() && config.sample_interval == 0) {
        warning = "SampleCounter: only used with SampleInterval; no peak and low rates are dispatched";
    }
    if (seen_threshold && (!config.notifications || !config.conntrack_stats)) {
        warning += (warning.empty() ? "" : "; ") +
                   std::string("FillThreshold: only used with Notifications true and ConntrackStats true");
    }
    if (config.manage) return validate(spec);
    if (Status s = validate_attached_table_name(spec.table); !s) return s;
    if (!managed_only.empty())
        warning += (warning.empty() ? "" : "; ") + managed_only + ": only used with Manage true; with Manage false the plugin reads every named "
                                 "counter of the existing table and changes nothing";
    return {};
}

}  // namespace ctnft
