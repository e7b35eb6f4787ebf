// collectd glue: registers the callbacks, turns configuration into a ruleset, and dispatches the
// counters the nft layer reads. Everything nftables lives in nft/.
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "nft/managed_table.h"
#include "nft/table_queries.h"
#include "plugin/collectd_api.h"
#include "plugin/plugin_config.h"

namespace ctnft {
namespace {

constexpr const char* kPluginName = "conntrack_nft";
// Drop-in compatible with the Exec script: <host>/nftables-<table>/packets-<counter>.
constexpr const char* kIdentPlugin = "nftables";

#define LOG_PREFIX "conntrack_nft plugin: "

std::string family_table(const RulesetSpec& spec) {
    return "table " + std::string(to_string(spec.family)) + " " + spec.table;
}

class Plugin {
public:
    explicit Plugin(PluginConfig config) : config_(std::move(config)) {}

    int init();
    int read();
    void shutdown();

private:
    int read_attached(std::size_t& count);
    std::string missing_message() const {
        return family_table(config_.ruleset) + " does not exist; values will flow once it is loaded";
    }
    void dispatch(const std::vector<CounterValue>& values, std::size_t count);
    void set_field(char* field, const std::string& value);

    PluginConfig config_;
    std::unique_ptr<ManagedTable> table_;          // Manage true
    NetlinkSocket socket_;                          // Manage false
    std::unique_ptr<CounterReader> reader_;         // Manage false
    std::vector<CounterValue> values_;
    std::vector<std::string> skipped_;              // counter names that cannot be identifiers
    bool failing_ = false;                          // an outage was logged and not yet recovered
    std::string last_error_;
};

std::unique_ptr<PluginConfig> g_config;
std::unique_ptr<Plugin> g_plugin;
// A bad block stops this plugin, not the daemon: the error is logged at config time, and init
// then fails, so collectd and its other plugins keep running.
bool g_config_failed = false;

int Plugin::init() {
    const RulesetSpec& spec = config_.ruleset;
    if (config_.manage) {
        table_ = std::make_unique<ManagedTable>(spec, config_.keep_table, config_.owner_flag);
        Status s = table_->open();
        if (s) s = table_->create();
        if (!s) {
            ERROR(LOG_PREFIX "cannot create %s: %s", family_table(spec).c_str(), s.message().c_str());
            return -1;
        }
        INFO(LOG_PREFIX "created %s with %zu counters (%s)", family_table(spec).c_str(),
             counting_rules(spec).size(),
             table_->owned() ? "owned by collectd: nobody else can change it, the kernel removes it if collectd dies"
                             : "unowned: the plugin repairs it if someone changes it");
        return 0;
    }
    reader_ = std::make_unique<CounterReader>(spec.family, spec.table);
    Status s = socket_.open();
    std::size_t count = 0;
    bool missing = false;
    // One read now, so that a missing capability stops the plugin at start, not at every read.
    if (s) s = reader_->read(socket_, values_, count, missing);
    if (!s) {
        ERROR(LOG_PREFIX "cannot read %s: %s", family_table(spec).c_str(), s.message().c_str());
        return -1;
    }
    if (missing) {
        // Counts as the start of an outage: the reads that fail until the table is loaded log nothing more.
        last_error_ = missing_message();
        failing_ = true;
        WARNING(LOG_PREFIX "%s", last_error_.c_str());
    }
    return 0;
}

void Plugin::set_field(char* field, const std::string& value) {
    std::strncpy(field, value.c_str(), DATA_MAX_NAME_LEN - 1);
    field[DATA_MAX_NAME_LEN - 1] = '\0';
}

void Plugin::dispatch(const std::vector<CounterValue>& values, std::size_t count) {
    value_t value{};
    value_list_t vl = {};
    vl.values = &value;
    vl.values_len = 1;
    vl.time = cdtime();  // one timestamp for the whole read
    vl.interval = plugin_get_interval();
    set_field(vl.plugin, kIdentPlugin);
    set_field(vl.plugin_instance, config_.ruleset.table);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& name = values[i].name;
        // An attached table may hold names collectd cannot carry: too long, or with '/', which
        // separates the identifier's parts. Those are skipped, and said so once.
        if (name.size() >= DATA_MAX_NAME_LEN || name.find('/') != std::string::npos) {
            bool known = false;
            for (const auto& s : skipped_) known = known || s == name;
            if (!known) {
                skipped_.push_back(name);
                WARNING(LOG_PREFIX "counter \"%.64s...\" is skipped: collectd identifiers take at most %d characters "
                        "and no '/'", name.c_str(), DATA_MAX_NAME_LEN - 1);
            }
            continue;
        }
        set_field(vl.type_instance, name);
        set_field(vl.type, "packets");
        value.derive = static_cast<derive_t>(values[i].packets);
        plugin_dispatch_values(&vl);
        if (config_.report_bytes) {
            set_field(vl.type, "total_bytes");
            value.derive = static_cast<derive_t>(values[i].bytes);
            plugin_dispatch_values(&vl);
        }
    }
}

int Plugin::read_attached(std::size_t& count) {
    bool missing = false;
    Status s = reader_->read(socket_, values_, count, missing);
    if (s && missing) s = Status::error(missing_message());
    if (!s) {
        // Once per outage, not at every read; collectd backs off meanwhile.
        if (!failing_ || s.message() != last_error_) ERROR(LOG_PREFIX "%s", s.message().c_str());
        failing_ = true;
        last_error_ = s.message();
        return -1;
    }
    return 0;
}

int Plugin::read() {
    std::size_t count = 0;
    if (table_) {
        std::string repaired;
        Status s = table_->read(values_, count, repaired);
        if (!s) {
            if (!failing_ || s.message() != last_error_)
                ERROR(LOG_PREFIX "reading %s failed: %s", family_table(config_.ruleset).c_str(), s.message().c_str());
            failing_ = true;
            last_error_ = s.message();
            return -1;
        }
        if (!repaired.empty())
            WARNING(LOG_PREFIX "%s: %s; created it again (its counters restart from zero)",
                    family_table(config_.ruleset).c_str(), repaired.c_str());
    } else if (read_attached(count) != 0) {
        return -1;
    }
    if (failing_) INFO(LOG_PREFIX "reading %s works again", family_table(config_.ruleset).c_str());
    failing_ = false;
    last_error_.clear();
    dispatch(values_, count);
    return 0;
}

void Plugin::shutdown() {
    if (table_ && !config_.keep_table) {
        if (Status s = table_->remove(); !s)
            WARNING(LOG_PREFIX "removing %s failed: %s", family_table(config_.ruleset).c_str(), s.message().c_str());
    }
    table_.reset();
    socket_.close();
}

// No exception may cross into collectd: each callback catches everything (in practice bad_alloc).
int config_cb(oconfig_item_t* block) {
    try {
        if (g_config || g_config_failed) {
            ERROR(LOG_PREFIX "configured twice: use one <Plugin %s> block; the plugin does not start", kPluginName);
            g_config_failed = true;
            return 0;
        }
        auto config = std::make_unique<PluginConfig>();
        std::string warning;
        if (Status s = parse_plugin_config(block, *config, warning); !s) {
            ERROR(LOG_PREFIX "%s; the plugin does not start", s.message().c_str());
            g_config_failed = true;
            return 0;
        }
        if (!warning.empty()) WARNING(LOG_PREFIX "%s", warning.c_str());
        g_config = std::move(config);
        return 0;
    } catch (...) {
        ERROR(LOG_PREFIX "out of memory while reading the configuration");
        g_config_failed = true;
        return 0;
    }
}

int init_cb() {
    if (g_config_failed) return -1;
    try {
        // Without a <Plugin> block the defaults apply: today's 18 counters.
        g_plugin = std::make_unique<Plugin>(g_config ? *g_config : PluginConfig{});
        if (g_plugin->init() != 0) {
            g_plugin.reset();
            return -1;
        }
        return 0;
    } catch (...) {
        ERROR(LOG_PREFIX "out of memory during init");
        g_plugin.reset();
        return -1;
    }
}

int read_cb() {
    try {
        return g_plugin ? g_plugin->read() : -1;
    } catch (...) {
        ERROR(LOG_PREFIX "out of memory during read");
        return -1;
    }
}

int shutdown_cb() {
    try {
        if (g_plugin) g_plugin->shutdown();
    } catch (...) {
    }
    g_plugin.reset();
    g_config.reset();
    g_config_failed = false;
    return 0;
}

}  // namespace
}  // namespace ctnft

extern "C" __attribute__((visibility("default"))) void module_register(void) {
    plugin_register_complex_config(ctnft::kPluginName, ctnft::config_cb);
    plugin_register_init(ctnft::kPluginName, ctnft::init_cb);
    plugin_register_read(ctnft::kPluginName, ctnft::read_cb);
    plugin_register_shutdown(ctnft::kPluginName, ctnft::shutdown_cb);
}
