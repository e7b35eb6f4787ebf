#include "harness/fake_collectd.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <mutex>
#include <stdexcept>

namespace fake_collectd {
namespace {

constexpr cdtime_t kDefaultInterval = static_cast<cdtime_t>(10) << 30;  // 10 s in cdtime_t units

struct State {
    std::mutex mutex;
    Callbacks callbacks;
    std::vector<LogLine> logs;
    std::vector<DispatchedValues> dispatched;
    std::vector<DispatchedNotification> notifications;
    cdtime_t interval = kDefaultInterval;
    cdtime_t time = 0;
    std::map<std::string, std::vector<data_source_t>> data_sets;
    bool echo = std::getenv("FAKE_COLLECTD_VERBOSE") != nullptr;
};

State& state() {
    static State s;
    return s;
}

const char* severity_name(int severity) {
    switch (severity) {
        case LOG_ERR: return "ERROR";
        case LOG_WARNING: return "WARNING";
        case LOG_NOTICE: return "NOTICE";
        case LOG_INFO: return "INFO";
        case LOG_DEBUG: return "DEBUG";
        default: return "?";
    }
}

template <typename Callback>
int register_callback(std::map<std::string, Callback>& map, const char* kind, const char* name, Callback callback) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.callbacks.calls.push_back(std::string(kind) + ":" + (name ? name : "(null)"));
    if (!name || !callback) return -1;
    map[name] = callback;
    return 0;
}

template <typename Callback>
Callback find_callback(std::map<std::string, Callback> Callbacks::*member, const char* kind, const std::string& name) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    const auto& map = s.callbacks.*member;
    auto it = map.find(name);
    if (it == map.end()) throw std::logic_error(std::string("fake_collectd: no ") + kind + " callback \"" + name + "\"");
    return it->second;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ConfigBlock

struct ConfigBlock::Storage {
    // deques: growing them never moves what the C tree already points to.
    std::deque<std::string> strings;
    std::deque<std::vector<oconfig_value_t>> values;
    std::deque<std::vector<oconfig_item_t>> children;
    oconfig_item_t root{};

    char* keep(const std::string& text) {
        strings.push_back(text);
        return strings.back().data();
    }

    void fill(const ConfigBlock& block, oconfig_item_t& out, oconfig_item_t* parent) {
        out = oconfig_item_t{};
        out.key = keep(block.key_);
        out.parent = parent;
        if (!block.values_.empty()) {
            auto& vals = values.emplace_back(block.values_.size());
            for (std::size_t i = 0; i < block.values_.size(); ++i) {
                const Value& v = block.values_[i];
                vals[i] = oconfig_value_t{};
                vals[i].type = v.type();
                if (v.type() == OCONFIG_TYPE_STRING) vals[i].value.string = keep(v.string());
                else if (v.type() == OCONFIG_TYPE_NUMBER) vals[i].value.number = v.number();
                else vals[i].value.boolean = v.boolean() ? 1 : 0;
            }
            out.values = vals.data();
            out.values_num = static_cast<int>(vals.size());
        }
        if (!block.children_.empty()) {
            auto& items = children.emplace_back(block.children_.size());
            for (std::size_t i = 0; i < block.children_.size(); ++i) fill(block.children_[i], items[i], &out);
            out.children = items.data();
            out.children_num = static_cast<int>(items.size());
        }
    }
};

ConfigBlock::ConfigBlock(std::string key, std::initializer_list<Value> values)
    : key_(std::move(key)), values_(values) {}

ConfigBlock::ConfigBlock(const ConfigBlock& other)
    : key_(other.key_), values_(other.values_), children_(other.children_) {}

ConfigBlock& ConfigBlock::operator=(const ConfigBlock& other) {
    if (this != &other) {
        key_ = other.key_;
        values_ = other.values_;
        children_ = other.children_;
        built_.reset();
    }
    return *this;
}

ConfigBlock::ConfigBlock(ConfigBlock&&) noexcept = default;
ConfigBlock& ConfigBlock::operator=(ConfigBlock&&) noexcept = default;
ConfigBlock::~ConfigBlock() = default;

ConfigBlock& ConfigBlock::add(std::string key, Value value) { return add(std::move(key), std::vector<Value>{value}); }

ConfigBlock& ConfigBlock::add(std::string key, std::initializer_list<Value> values) {
    return add(std::move(key), std::vector<Value>(values));
}

ConfigBlock& ConfigBlock::add(std::string key, const std::vector<Value>& values) {
    ConfigBlock line(std::move(key));
    line.values_ = values;
    children_.push_back(std::move(line));
    built_.reset();
    return *this;
}

ConfigBlock& ConfigBlock::add(const ConfigBlock& child) {
    children_.push_back(child);
    built_.reset();
    return *this;
}

oconfig_item_t* ConfigBlock::item() {
    built_ = std::make_unique<Storage>();
    built_->fill(*this, built_->root, nullptr);
    return &built_->root;
}

// ---------------------------------------------------------------------------------------------
// Records

std::string DispatchedValues::identifier() const {
    std::string id = plugin;
    if (!plugin_instance.empty()) id += "-" + plugin_instance;
    id += "/" + type;
    if (!type_instance.empty()) id += "-" + type_instance;
    return id;
}

std::vector<LogLine> logs() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.logs;
}

std::vector<LogLine> logs(int severity) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    std::vector<LogLine> out;
    for (const auto& line : s.logs)
        if (line.severity == severity) out.push_back(line);
    return out;
}

std::size_t log_count(int severity) { return logs(severity).size(); }

std::vector<DispatchedValues> dispatched() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.dispatched;
}

std::vector<DispatchedNotification> notifications() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.notifications;
}

Callbacks callbacks() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.callbacks;
}

void clear_records() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.logs.clear();
    s.dispatched.clear();
    s.notifications.clear();
}

void reset() {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.logs.clear();
    s.dispatched.clear();
    s.notifications.clear();
    s.callbacks = Callbacks{};
    s.interval = kDefaultInterval;
    s.time = 0;
    s.data_sets.clear();
}

void set_interval(cdtime_t interval) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.interval = interval;
}

void set_time(cdtime_t time) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.time = time;
}

void set_echo(bool echo) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.echo = echo;
}

// ---------------------------------------------------------------------------------------------
// Running callbacks. The lock is not held while a callback runs: it logs and dispatches.

int run_config(const std::string& name, ConfigBlock& block) {
    auto callback = find_callback(&Callbacks::config, "config", name);
    return callback(block.item());
}

int run_init(const std::string& name) { return find_callback(&Callbacks::init, "init", name)(); }
int run_read(const std::string& name) { return find_callback(&Callbacks::read, "read", name)(); }
int run_shutdown(const std::string& name) { return find_callback(&Callbacks::shutdown, "shutdown", name)(); }

}  // namespace fake_collectd

// -------------------------------------------------------------------------------------------------
// The daemon's side of collectd's plugin API, as far as the plugin uses it.

using fake_collectd::state;

extern "C" {

// The daemon's host name (collectd's Hostname option).
static char fake_hostname[] = "fake";
char* hostname_g = fake_hostname;

int plugin_register_complex_config(const char* type, int (*callback)(oconfig_item_t*)) {
    return fake_collectd::register_callback(state().callbacks.config, "config", type, callback);
}

int plugin_register_init(const char* name, plugin_init_cb callback) {
    return fake_collectd::register_callback(state().callbacks.init, "init", name, callback);
}

int plugin_register_read(const char* name, int (*callback)(void)) {
    return fake_collectd::register_callback(state().callbacks.read, "read", name, callback);
}

int plugin_register_shutdown(const char* name, plugin_shutdown_cb callback) {
    return fake_collectd::register_callback(state().callbacks.shutdown, "shutdown", name, callback);
}

int plugin_dispatch_values(value_list_t const* vl) {
    if (!vl || !vl->values || vl->values_len == 0) return EINVAL;
    fake_collectd::DispatchedValues d;
    d.host = vl->host;
    d.plugin = vl->plugin;
    d.plugin_instance = vl->plugin_instance;
    d.type = vl->type;
    d.type_instance = vl->type_instance;
    d.time = vl->time;
    d.interval = vl->interval;
    d.values.assign(vl->values, vl->values + vl->values_len);
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.dispatched.push_back(std::move(d));
    return 0;
}

int plugin_dispatch_notification(const notification_t* n) {
    if (!n) return EINVAL;
    fake_collectd::DispatchedNotification d;
    d.severity = n->severity;
    d.time = n->time;
    d.host = n->host;
    d.plugin = n->plugin;
    d.plugin_instance = n->plugin_instance;
    d.type = n->type;
    d.type_instance = n->type_instance;
    d.message = n->message;
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.notifications.push_back(std::move(d));
    return 0;
}

void plugin_log(int level, const char* format, ...) {
    char buffer[1024];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(buffer, sizeof buffer, format, ap);
    va_end(ap);
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.logs.push_back({level, buffer});
    if (s.echo) std::fprintf(stderr, "[fake collectd] %s: %s\n", fake_collectd::severity_name(level), buffer);
}

// Data sets the plugin registers (types it brings itself), by type name.
int plugin_register_data_set(const data_set_t* ds) {
    if (!ds) return EINVAL;
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.data_sets[ds->type] = std::vector<data_source_t>(ds->ds, ds->ds + ds->ds_num);
    return 0;
}

const data_set_t* plugin_get_ds(const char* name) {
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.data_sets.find(name);
    if (it == s.data_sets.end()) return nullptr;
    static thread_local data_set_t view;
    std::snprintf(view.type, sizeof view.type, "%s", name);
    view.ds_num = it->second.size();
    view.ds = it->second.data();
    return &view;
}

cdtime_t plugin_get_interval(void) {
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.interval;
}

cdtime_t cdtime(void) {
    {
        auto& s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.time != 0) return s.time;
    }
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    // As collectd's TIMESPEC_TO_CDTIME_T: seconds in the high bits, 2^-30 s below.
    const auto seconds = static_cast<cdtime_t>(ts.tv_sec) << 30;
    const auto fraction = ((static_cast<cdtime_t>(ts.tv_nsec) << 30) + 500000000) / 1000000000;
    return seconds + fraction;
}

}  // extern "C"
