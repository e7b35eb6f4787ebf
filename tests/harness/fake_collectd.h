// An in-process stand-in for the collectd daemon, for tests that link the plugin's glue
// (conntrack_nft_glue) directly: it defines the plugin_* functions the glue calls, records what
// the plugin registers, logs and dispatches, and runs the registered callbacks on request.
//
// Single process, no threads of its own; the recording functions are nevertheless guarded by a
// mutex, as collectd may call into a plugin from several threads.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plugin/collectd_api.h"

// collectd's logging macros would replace Catch's INFO (and take the names ERROR, WARNING...):
// tests log through plugin_log(LOG_..., ...) instead. Include this header before "catch.h".
#undef ERROR
#undef WARNING
#undef NOTICE
#undef INFO
#undef DEBUG

namespace fake_collectd {

// ---------------------------------------------------------------------------------------------
// Configuration trees

// One value of a config line: "quoted string", number, or true/false.
class Value {
public:
    Value(const char* s) : type_(OCONFIG_TYPE_STRING), string_(s) {}
    Value(std::string s) : type_(OCONFIG_TYPE_STRING), string_(std::move(s)) {}
    Value(double n) : type_(OCONFIG_TYPE_NUMBER), number_(n) {}
    Value(int n) : type_(OCONFIG_TYPE_NUMBER), number_(n) {}
    Value(bool b) : type_(OCONFIG_TYPE_BOOLEAN), boolean_(b) {}

    int type() const { return type_; }
    const std::string& string() const { return string_; }
    double number() const { return number_; }
    bool boolean() const { return boolean_; }

private:
    int type_;
    std::string string_;
    double number_ = 0;
    bool boolean_ = false;
};

// A config block (or line) that owns the oconfig_item_t tree it hands out:
//
//   ConfigBlock b("Plugin", {"conntrack_nft"});
//   b.add("Table", "x").add("Protocol", {"tcp", "udp"}).add("Priority", 10.0).add("Manage", false);
//   ConfigBlock nested("Sub"); nested.add("Key", "v"); b.add(nested);
//   oconfig_item_t* item = b.item();
//
// item() builds a fresh C tree each time; the pointer stays valid until the next item() call,
// the next change to the block, or the block's destruction.
class ConfigBlock {
public:
    explicit ConfigBlock(std::string key, std::initializer_list<Value> values = {});
    ConfigBlock(const ConfigBlock& other);
    ConfigBlock& operator=(const ConfigBlock& other);
    ConfigBlock(ConfigBlock&&) noexcept;
    ConfigBlock& operator=(ConfigBlock&&) noexcept;
    ~ConfigBlock();

    // A line with one value, several values, or none (add("Key", {})).
    ConfigBlock& add(std::string key, Value value);
    ConfigBlock& add(std::string key, std::initializer_list<Value> values);
    ConfigBlock& add(std::string key, const std::vector<Value>& values);
    // A nested block.
    ConfigBlock& add(const ConfigBlock& child);

    const std::string& key() const { return key_; }
    oconfig_item_t* item();

private:
    struct Storage;
    std::string key_;
    std::vector<Value> values_;
    std::vector<ConfigBlock> children_;
    std::unique_ptr<Storage> built_;
};

// ---------------------------------------------------------------------------------------------
// What the plugin did

struct LogLine {
    int severity;  // LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
    std::string message;
};

struct DispatchedValues {
    std::string host, plugin, plugin_instance, type, type_instance;
    cdtime_t time = 0;
    cdtime_t interval = 0;
    std::vector<value_t> values;  // as given: without types.db the data source type is unknown

    derive_t derive(std::size_t i = 0) const { return values.at(i).derive; }
    gauge_t gauge(std::size_t i = 0) const { return values.at(i).gauge; }
    // "plugin-instance/type-type_instance", without the host, as collectd writes identifiers.
    std::string identifier() const;
};

struct DispatchedNotification {
    int severity = 0;  // NOTIF_FAILURE, NOTIF_WARNING, NOTIF_OKAY
    cdtime_t time = 0;
    std::string host, plugin, plugin_instance, type, type_instance, message;
};

struct Callbacks {
    std::map<std::string, int (*)(oconfig_item_t*)> config;
    std::map<std::string, int (*)(void)> init;
    std::map<std::string, int (*)(void)> read;
    std::map<std::string, int (*)(void)> shutdown;
    // Every registration in call order, as "config:<name>", "init:<name>", ...
    std::vector<std::string> calls;
};

// Copies (under the lock) of what has been recorded so far.
std::vector<LogLine> logs();
std::vector<LogLine> logs(int severity);
std::size_t log_count(int severity);
std::vector<DispatchedValues> dispatched();
std::vector<DispatchedNotification> notifications();
Callbacks callbacks();

// Forgets logs and dispatched values; registrations stay.
void clear_records();
// Forgets everything, registrations included, and restores the default time and interval.
void reset();

// The value plugin_get_interval() returns (default 10 s) and the time cdtime() returns
// (0, the default: the real clock).
void set_interval(cdtime_t interval);
void set_time(cdtime_t time);

// Copies every log line to stderr as it is recorded (default: only when the environment has
// FAKE_COLLECTD_VERBOSE set).
void set_echo(bool echo);

// Run a registered callback and return its result; throw std::logic_error when nothing is
// registered under that name.
int run_config(const std::string& name, ConfigBlock& block);
int run_init(const std::string& name);
int run_read(const std::string& name);
int run_shutdown(const std::string& name);

}  // namespace fake_collectd
