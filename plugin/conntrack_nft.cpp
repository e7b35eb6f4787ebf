// collectd glue: registers the callbacks, turns configuration into a ruleset, and dispatches what
// the nft layer reads. Everything nftables and netlink lives in nft/.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fnmatch.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nft/conntrack_stats.h"
#include "nft/managed_table.h"
#include "nft/offload_probe.h"
#include "nft/table_queries.h"
#include "nft/text.h"
#include "plugin/collectd_api.h"
#include "plugin/exceptions.h"
#include "plugin/log_once.h"
#include "plugin/notifications.h"
#include "plugin/plugin_config.h"
#include "plugin/rate_window.h"
#include "plugin/threads.h"

namespace ctnft {
namespace {

constexpr const char* kPluginName = "conntrack_nft";
// Drop-in compatible with the Exec script: <host>/nftables-<table>/packets-<counter>.
constexpr const char* kCountersPlugin = "nftables";
// Conntrack health: <host>/conntrack_nft/conntrack-entries, .../operations-drop, ...
constexpr const char* kHealthPlugin = "conntrack_nft";
// Sub-interval sampling: the highest and lowest per-second rate within an interval, as gauges
// next to each counter: <host>/nftables-<table>/packets_peak-<counter>, .../packets_low-<counter>.
constexpr const char* kPeakType = "packets_peak";
constexpr const char* kLowType = "packets_low";

#define LOG_PREFIX "conntrack_nft plugin: "

std::string family_table(const RulesetSpec& spec) { return describe_table(spec.family, spec.table); }

// A counter name collectd can carry as a type instance: shorter than DATA_MAX_NAME_LEN, without
// '/', which separates an identifier's parts. An attached table may hold others: skipped.
bool usable_identifier(const std::string& name) {
    return name.size() < DATA_MAX_NAME_LEN && name.find('/') == std::string::npos;
}

// Builds value lists that share one timestamp and the plugin's interval.
class Dispatcher {
public:
    Dispatcher() {
        vl_.values = &value_;
        vl_.values_len = 1;
        vl_.time = cdtime();
        vl_.interval = plugin_get_interval();
    }
    void derive(const char* plugin, const std::string& instance, const char* type, const std::string& type_instance,
                uint64_t v) {
        value_.derive = static_cast<derive_t>(v);
        put(plugin, instance, type, type_instance);
    }
    void gauge(const char* plugin, const std::string& instance, const char* type, const std::string& type_instance,
               double v) {
        value_.gauge = v;
        put(plugin, instance, type, type_instance);
    }

private:
    static void set(char* field, const char* value, std::size_t len) {
        len = std::min(len, static_cast<std::size_t>(DATA_MAX_NAME_LEN - 1));
        std::memcpy(field, value, len);
        field[len] = '\0';
    }
    // Consecutive value lists mostly differ in type_instance only: the other fields are written
    // when they change (plugin and type are string constants, compared by address).
    void put(const char* plugin, const std::string& instance, const char* type, const std::string& type_instance) {
        if (plugin != plugin_) set(vl_.plugin, plugin_ = plugin, std::strlen(plugin));
        if (instance != vl_.plugin_instance) set(vl_.plugin_instance, instance.data(), instance.size());
        if (type != type_) set(vl_.type, type_ = type, std::strlen(type));
        set(vl_.type_instance, type_instance.data(), type_instance.size());
        plugin_dispatch_values(&vl_);
    }
    value_t value_{};
    value_list_t vl_ = {};
    const char* plugin_ = nullptr;
    const char* type_ = nullptr;
};

// Notices become collectd notifications of plugin conntrack_nft, stamped with the current time.
void notify(const std::vector<Notice>& notices) {
    for (const auto& n : notices) {
        notification_t nt = {};
        nt.severity = n.severity == Notice::Severity::okay ? NOTIF_OKAY : NOTIF_WARNING;
        nt.time = cdtime();
        std::snprintf(nt.host, sizeof nt.host, "%s", hostname_g ? hostname_g : "");
        std::snprintf(nt.plugin, sizeof nt.plugin, "%s", kHealthPlugin);
        std::snprintf(nt.type, sizeof nt.type, "%s", n.type.c_str());
        std::snprintf(nt.type_instance, sizeof nt.type_instance, "%s", n.type_instance.c_str());
        std::snprintf(nt.message, sizeof nt.message, "%s", n.message.c_str());
        plugin_dispatch_notification(&nt);
    }
}

class Plugin {
public:
    explicit Plugin(PluginConfig config) : config_(std::move(config)) {
        if (config_.notifications) notifier_ = std::make_unique<Notifier>(config_.fill_threshold);
    }
    ~Plugin() { stop_sampler(); }
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    int init();
    int read();
    void shutdown();

private:
    void start_sampler();
    void stop_sampler();
    void sampler_loop();
    void dispatch_extremes(Dispatcher& d);
    NetlinkSocket& socket() { return table_ ? table_->socket() : socket_; }
    // The same words at init and at every read of one outage: said once.
    std::string outage_message(const Status& s) const {
        if (table_ && !created_)
            return "cannot create " + family_table(config_.ruleset) + " yet: " + s.message() + "; trying again at every read";
        return "reading " + family_table(config_.ruleset) + " failed: " + s.message();
    }
    std::string missing_message() const {
        return family_table(config_.ruleset) + " does not exist; values will flow once it is loaded";
    }
    // The table and its counters: ok, missing (attach mode, not loaded yet) or failed.
    enum class Counters { ok, missing, failed };
    Counters read_counters(std::size_t& count);
    Status create_table();
    void announce_table();
    void dispatch_counters(Dispatcher& d, std::size_t count);
    bool read_health(Dispatcher& d);
    bool counts_forward() const {
        return !table_ || std::find(config_.ruleset.hooks.begin(), config_.ruleset.hooks.end(), Hook::forward) !=
                              config_.ruleset.hooks.end();
    }
    void count_offloaded(Dispatcher& d);

    PluginConfig config_;
    std::unique_ptr<ManagedTable> table_;   // Manage true
    bool created_ = false;                  // table_ is in the kernel (init may leave it to a read)
    Status counters_status_;                // the last failure to read the counters
    NetlinkSocket socket_;                  // Manage false
    std::unique_ptr<CounterReader> reader_; // Manage false
    std::vector<CounterValue> values_;
    std::vector<std::string> skipped_;      // counter names that cannot be identifiers
    std::unique_ptr<Notifier> notifier_;    // Notifications true
    Episode counters_down_;
    Episode health_down_;
    OffloadWatch offloading_;
    ConntrackStatsReader health_reader_;
    // The flowtable count, asked again only when the ruleset generation moved since (a flowtable
    // is part of the ruleset): the counter dump tells the generation for free.
    uint32_t flowtables_ = 0;
    std::optional<uint16_t> flowtables_generation_;
    // CountOffloaded: the probe (nft/offload_probe.h) follows the flowtables' devices.
    std::unique_ptr<OffloadProbe> probe_;
    Episode probe_down_;

    // With SampleInterval: a thread samples the counters between reads. mutex_ serialises every
    // use of the netlink socket and of the values, so sampler and read callback never race.
    Mutex mutex_;
    std::unique_ptr<RateWindow> window_;
    std::vector<RateWindow::Extremes> extremes_;
    CondVar wake_;
    bool stopping_ = false;
    MemberThread<Plugin, &Plugin::sampler_loop> sampler_;  // last: joined before the rest goes
};

std::unique_ptr<PluginConfig> g_config;
std::unique_ptr<Plugin> g_plugin;
// A bad block stops this plugin, not the daemon: the error is logged at config time, and init
// then fails, so collectd and its other plugins keep running.
bool g_config_failed = false;

// Failures a later read may not meet: the kernel in the middle of a ruleset change (fw4 loading
// at boot), a reply late or odd. Anything else (no CAP_NET_ADMIN, no nf_tables, a table another
// process owns) lasts until someone acts, and stops the plugin at start.
bool passing(int err) {
    switch (err) {
        case EINTR: case ETIMEDOUT: case EAGAIN: case EBUSY: case ENOBUFS: case ENOMEM: case EPROTO: case ERESTART:
        case EIO:
            return true;
        default:
            return false;
    }
}

Status Plugin::create_table() {
    Status s = table_->socket().is_open() ? Status{} : table_->open();
    if (s) s = table_->create();
    if (!s) return s;
    created_ = true;
    announce_table();
    return {};
}

void Plugin::announce_table() {
    const RulesetSpec& spec = config_.ruleset;
    if (const uint32_t refused = table_->refused_flags())
        NOTICE(LOG_PREFIX "this kernel refused the table flag%s %s (owner needs Linux 5.12, persist 6.9): %s",
               refused == (kTableFlagOwner | kTableFlagPersist) ? "s" : "",
               refused == kTableFlagOwner     ? "owner"
               : refused == kTableFlagPersist ? "persist"
                                              : "owner and persist",
               config_.keep_table ? "the table is unowned and kept when collectd stops, with its values; the "
                                    "plugin watches it and repairs it if someone changes it"
                                  : "the table is unowned; the plugin watches it and repairs it if someone changes it");
    INFO(LOG_PREFIX "%s %s with %zu counters (%s)", table_->adopted() ? "adopted" : "created",
         family_table(spec).c_str(), counting_rules(spec).size(),
         table_->owned() ? "owned by collectd: nobody else can change it, the kernel removes it if collectd dies"
                         : "unowned: the plugin repairs it if someone changes it");
}

int Plugin::init() {
    const RulesetSpec& spec = config_.ruleset;
    Status s;
    if (config_.manage) {
        table_ = std::make_unique<ManagedTable>(spec, config_.keep_table, config_.owner_flag);
        if (config_.count_offloaded && counts_forward()) probe_ = std::make_unique<OffloadProbe>(spec.table);
        s = create_table();
    } else {
        reader_ = std::make_unique<CounterReader>(spec.family, spec.table);
        s = socket_.open();
        std::size_t count = 0;
        bool missing = false;
        // One read now, so that a missing capability stops the plugin at start, not at every read.
        if (s) s = reader_->read(socket_, values_, count, missing);
        // Counts as the start of an outage: the reads that fail until the table is loaded log nothing more.
        if (s && missing && counters_down_.start(missing_message())) WARNING(LOG_PREFIX "%s", missing_message().c_str());
    }
    if (!s && !passing(s.code())) {
        ERROR(LOG_PREFIX "cannot %s %s: %s", config_.manage ? "create" : "read", family_table(spec).c_str(),
              s.message().c_str());
        return -1;
    }
    if (!s) {
        // While the firewall loads at boot: every read tries again, and the outage is said once.
        counters_status_ = s;
        if (counters_down_.start(outage_message(s))) WARNING(LOG_PREFIX "%s", outage_message(s).c_str());
    }
    start_sampler();
    return 0;
}

void Plugin::start_sampler() {
    if (config_.sample_interval <= 0) return;
    // The two gauge types, unless a TypesDB (conntrack_nft.types.db) defines them already.
    for (const char* type : {kPeakType, kLowType}) {
        if (plugin_get_ds(type)) continue;
        data_source_t ds = {};
        std::strcpy(ds.name, "value");
        ds.type = DS_TYPE_GAUGE;
        ds.min = 0;
        ds.max = NAN;
        data_set_t set = {};
        std::strcpy(set.type, type);
        set.ds_num = 1;
        set.ds = &ds;
        plugin_register_data_set(&set);
    }
    const auto& patterns = config_.sample_counters;
    window_ = std::make_unique<RateWindow>([patterns](const std::string& name) {
        if (!usable_identifier(name)) return false;
        if (patterns.empty()) return true;
        for (const auto& p : patterns)
            if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
        return false;
    });
    const double interval = CDTIME_T_TO_DOUBLE(plugin_get_interval());
    if (config_.sample_interval >= interval)
        WARNING(LOG_PREFIX "SampleInterval %g s is not shorter than the read interval (%g s): peak and low rates "
                "will equal the average", config_.sample_interval, interval);
    if (!sampler_.start(this)) ERROR(LOG_PREFIX "cannot start the sampling thread: no peak and low rates");
}

void Plugin::stop_sampler() {
    if (!sampler_.joinable()) return;
    {
        Lock lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    sampler_.join();
}

void Plugin::sampler_loop() {
    CTNFT_TRY {
        const double period = config_.sample_interval;
        double next = monotonic_seconds();
        Lock lock(mutex_);
        while (!stopping_) {
            std::size_t count = 0;
            const double now = monotonic_seconds();
            if (read_counters(count) == Counters::ok) window_->sample(now, values_, count);
            // A fixed schedule; ticks missed while the kernel was slow are skipped, not caught up.
            next += period;
            if (next <= monotonic_seconds()) next = monotonic_seconds() + period;
            wake_.wait_until(lock, next, [this] { return stopping_; });
        }
    }
    CTNFT_CATCH_ALL {
        // Nothing may escape a thread (std::terminate would end collectd): sampling stops, reads go on.
        ERROR(LOG_PREFIX "sampling stopped: out of memory");
    }
}

void Plugin::dispatch_extremes(Dispatcher& d) {
    window_->take(extremes_);
    for (const auto& e : extremes_) {
        d.gauge(kCountersPlugin, config_.ruleset.table, kPeakType, e.counter, e.peak);
        d.gauge(kCountersPlugin, config_.ruleset.table, kLowType, e.counter, e.low);
    }
}

Plugin::Counters Plugin::read_counters(std::size_t& count) {
    Status s;
    std::string repaired;
    bool missing = false;
    if (table_ && !created_) s = create_table();
    if (s && table_) s = table_->read(values_, count, repaired);
    else if (s) s = reader_->read(socket_, values_, count, missing);
    if (!s || missing) {
        const std::string message = missing ? missing_message() : outage_message(s);
        counters_status_ = s;
        // Once per outage, not at every read.
        if (counters_down_.start(message)) plugin_log(missing ? LOG_WARNING : LOG_ERR, LOG_PREFIX "%s", message.c_str());
        return missing ? Counters::missing : Counters::failed;
    }
    if (!repaired.empty()) {
        // Flushed rules are put back beside the counters, which keep their values; a table that
        // was deleted (or whose counters changed) is made anew.
        const bool kept = table_->adopted();
        WARNING(LOG_PREFIX "%s: %s; %s", family_table(config_.ruleset).c_str(), repaired.c_str(),
                kept ? "restored its rules (the counters keep their values)"
                     : "created it again (its counters restart from zero)");
        if (notifier_) notify(notifier_->repaired(config_.ruleset.family, config_.ruleset.table, kept));
    }
    if (counters_down_.end()) INFO(LOG_PREFIX "reading %s works again", family_table(config_.ruleset).c_str());
    counters_status_ = {};
    return Counters::ok;
}

void Plugin::dispatch_counters(Dispatcher& d, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& name = values_[i].name;
        // An attached table may hold names collectd cannot carry: too long, or with '/', which
        // separates the identifier's parts. Those are skipped, and said so once.
        if (!usable_identifier(name)) {
            bool known = false;
            for (const auto& s : skipped_) known = known || s == name;
            if (!known) {
                skipped_.push_back(name);
                WARNING(LOG_PREFIX "counter \"%.64s...\" is skipped: collectd identifiers take at most %d characters "
                        "and no '/'", name.c_str(), DATA_MAX_NAME_LEN - 1);
            }
            continue;
        }
        d.derive(kCountersPlugin, config_.ruleset.table, "packets", name, values_[i].packets);
        if (config_.report_bytes) d.derive(kCountersPlugin, config_.ruleset.table, "total_bytes", name, values_[i].bytes);
    }
}

bool Plugin::read_health(Dispatcher& d) {
    ConntrackHealth health;
    Status s = health_reader_.read(socket(), health);
    const std::optional<uint16_t> generation = table_ ? table_->generation() : reader_->generation();
    if (s && (!generation || generation != flowtables_generation_)) {
        flowtables_generation_.reset();
        uint32_t count = 0;
        if (Status c = count_flowtables(socket(), count); c) {
            flowtables_ = count;
            flowtables_generation_ = generation;
        } else if (c.code() != EINTR) {
            s = c;
        }  // else the ruleset changed under every dump: the last count stands, the next read counts again
    }
    const uint32_t flowtables = flowtables_;
    if (!s) {
        // The packet counters do not depend on these: log once, keep the read successful.
        if (health_down_.start(s.message())) WARNING(LOG_PREFIX "%s", s.message().c_str());
        return false;
    }
    if (health_down_.end()) INFO(LOG_PREFIX "conntrack statistics are back");

    if (health.entries) d.gauge(kHealthPlugin, "", "conntrack", "entries", *health.entries);
    if (health.max_entries) d.gauge(kHealthPlugin, "", "conntrack", "max", *health.max_entries);
    if (health.entries && health.max_entries && *health.max_entries > 0)
        d.gauge(kHealthPlugin, "", "percent", "used", 100.0 * *health.entries / *health.max_entries);
    // Only what this kernel reports: an absent statistic is not a zero.
    for (CtStat stat : kAllCtStats) {
        if (!health.stats->present(stat)) continue;
        const std::string name(to_string(stat));
        d.derive(kHealthPlugin, "", "operations", name, health.stats->total(stat));
        if (config_.per_cpu)
            for (const auto& cpu : health.stats->cpus())
                d.derive(kHealthPlugin, "cpu" + dec(cpu.cpu), "operations", name,
                         cpu.total[static_cast<std::size_t>(stat)]);
    }
    d.gauge(kHealthPlugin, "", "count", "flowtables", flowtables);
    if (notifier_) notify(notifier_->health(health));
    const auto change = offloading_.update(flowtables > 0 && counts_forward(), CDTIME_T_TO_DOUBLE(cdtime()));
    if (change == OffloadWatch::Change::none) return true;
    // The log line and the notification say the same words.
    const Notice notice = OffloadWatch::notice(change, flowtables);
    if (change == OffloadWatch::Change::on)
        WARNING(LOG_PREFIX "%s", notice.message.c_str());
    else
        INFO(LOG_PREFIX "%s", notice.message.c_str());
    if (notifier_) notify({notice});
    return true;
}

void Plugin::count_offloaded(Dispatcher& d) {
    std::string made;
    Status s = probe_->update(socket(), table_->generation(), table_->owned(), made);
    if (!made.empty()) INFO(LOG_PREFIX "%s", made.c_str());
    if (s) s = probe_->read(socket());
    if (!s) {
        if (probe_down_.start(s.message())) WARNING(LOG_PREFIX "%s", s.message().c_str());
    } else if (probe_down_.end()) {
        INFO(LOG_PREFIX "counting offloaded forward packets works again");
    }
    for (Protocol p : kProbeProtocols)
        if (std::find(config_.ruleset.protocols.begin(), config_.ruleset.protocols.end(), p) !=
            config_.ruleset.protocols.end())
            d.derive(kCountersPlugin, config_.ruleset.table, "packets", offloaded_counter_name(p), probe_->total(p));
}

int Plugin::read() {
    Lock lock(mutex_);
    Dispatcher d;
    std::size_t count = 0;
    const Counters counters = read_counters(count);
    if (counters == Counters::ok) dispatch_counters(d, count);
    if (counters == Counters::ok && probe_) count_offloaded(d);
    if (window_) dispatch_extremes(d);
    const bool health = config_.conntrack_stats && read_health(d);
    // A failing read makes collectd wait longer before the next one (up to MaxReadInterval), and
    // every value rides on this callback: only a lasting failure with nothing read is one. A
    // table not loaded yet, or the ruleset changing under the read, is logged once and read again.
    const bool lasting = counters == Counters::failed && !passing(counters_status_.code());
    return lasting && !health ? -1 : 0;
}

void Plugin::shutdown() {
    stop_sampler();
    if (probe_)
        if (Status s = probe_->remove(socket()); !s)
            WARNING(LOG_PREFIX "removing the offload probe (table netdev %s) failed: %s", config_.ruleset.table.c_str(),
                    s.message().c_str());
    if (table_ && created_ && !config_.keep_table) {
        if (Status s = table_->remove(); !s)
            WARNING(LOG_PREFIX "removing %s failed: %s", family_table(config_.ruleset).c_str(), s.message().c_str());
    }
    table_.reset();
    socket_.close();
}

// No exception may cross into collectd: each callback catches everything (in practice bad_alloc).
int config_cb(oconfig_item_t* block) {
    CTNFT_TRY {
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
    } CTNFT_CATCH_ALL {
        ERROR(LOG_PREFIX "out of memory while reading the configuration");
        g_config_failed = true;
        return 0;
    }
}

int init_cb() {
    if (g_config_failed) return -1;
    CTNFT_TRY {
        // Without a <Plugin> block the defaults apply: today's 18 counters.
        g_plugin = std::make_unique<Plugin>(g_config ? *g_config : PluginConfig{});
        if (g_plugin->init() != 0) {
            g_plugin.reset();
            return -1;
        }
        return 0;
    } CTNFT_CATCH_ALL {
        ERROR(LOG_PREFIX "out of memory during init");
        g_plugin.reset();
        return -1;
    }
}

int read_cb() {
    CTNFT_TRY {
        return g_plugin ? g_plugin->read() : -1;
    } CTNFT_CATCH_ALL {
        ERROR(LOG_PREFIX "out of memory during read");
        return -1;
    }
}

int shutdown_cb() {
    CTNFT_TRY {
        if (g_plugin) g_plugin->shutdown();
    } CTNFT_CATCH_ALL {
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
