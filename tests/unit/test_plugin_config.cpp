// The <Plugin conntrack_nft> block: parse_plugin_config directly, and the real callbacks the
// plugin registers, run by the in-process stand-in for collectd (tests/harness).
//
// The init callback is only ever run here after a configuration that failed: with a valid one it
// would create a table in this process's network namespace.
// Before catch.h: it takes collectd's logging macros out of the way of Catch's INFO.
#include "harness/fake_collectd.h"

#include "catch.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plugin/plugin_config.h"

using namespace ctnft;
using fake_collectd::ConfigBlock;

namespace {

constexpr const char* kName = "conntrack_nft";

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

struct Parsed {
    Status status;
    PluginConfig config;
    std::string warning;
};

Parsed parse(ConfigBlock& block) {
    Parsed p;
    p.status = parse_plugin_config(block.item(), p.config, p.warning);
    return p;
}

ConfigBlock plugin_block() { return ConfigBlock("Plugin", {kName}); }

// Parses a block expected to fail; returns its message.
std::string error_of(ConfigBlock& block) {
    const Parsed p = parse(block);
    INFO("warning: " << p.warning);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.code() == 0);
    return p.status.message();
}

const std::string kProtocols = "tcp, udp, icmp, icmpv6";
const std::string kHooks = "prerouting, input, forward, output, postrouting";
const std::string kStates = "new, established, related, invalid, untracked";
const std::string kKeys =
    "Table, Family, Manage, Protocol, Hook, State, Priority, RuleShape, ReportBytes, KeepTable, OwnerFlag, "
    "ConntrackStats, PerCPU, SampleInterval, SampleCounter, Notifications, FillThreshold, CountOffloaded";

}  // namespace

// =============================================================================================
// parse_plugin_config

TEST_CASE("an empty block gives the defaults") {
    ConfigBlock b = plugin_block();
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.warning.empty());
    CHECK(p.config.ruleset.table == "conntrack_stats");
    CHECK(p.config.ruleset.family == Family::ip);
    CHECK(p.config.manage);
    CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::tcp, Protocol::udp});
    CHECK(p.config.ruleset.hooks == std::vector<Hook>{Hook::input, Hook::output, Hook::forward});
    CHECK(p.config.ruleset.states == std::vector<CtState>{CtState::new_, CtState::established, CtState::invalid});
    CHECK(p.config.ruleset.priority == 0);
    CHECK_FALSE(p.config.report_bytes);
    CHECK_FALSE(p.config.keep_table);
    CHECK(p.config.owner_flag);
    CHECK(p.config.conntrack_stats);
    CHECK_FALSE(p.config.per_cpu);
    CHECK(p.config.notifications);
    CHECK(p.config.fill_threshold == 90);
    CHECK_FALSE(p.config.count_offloaded);
}

TEST_CASE("CountOffloaded: a boolean, only for a managed table") {
    ConfigBlock b = plugin_block();
    b.add("CountOffloaded", true);
    Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.count_offloaded);
    CHECK(p.warning.empty());

    ConfigBlock attach = plugin_block();
    attach.add("Manage", false).add("CountOffloaded", true);
    p = parse(attach);
    REQUIRE(p.status.ok());
    CHECK(p.warning.find("CountOffloaded: only used with Manage true") != std::string::npos);

    ConfigBlock bad = plugin_block();
    bad.add("CountOffloaded", "sometimes");
    p = parse(bad);
    REQUIRE_FALSE(p.status.ok());
    CHECK(p.status.message().find("CountOffloaded") != std::string::npos);
}

TEST_CASE("parsing starts from the defaults whatever the config held before") {
    PluginConfig config;
    config.manage = false;
    config.report_bytes = true;
    config.ruleset.table = "other";
    config.ruleset.protocols = {Protocol::icmp};
    std::string warning = "stale";
    ConfigBlock b = plugin_block();
    REQUIRE(parse_plugin_config(b.item(), config, warning).ok());
    CHECK(warning.empty());
    CHECK(config.manage);
    CHECK_FALSE(config.report_bytes);
    CHECK(config.ruleset.table == "conntrack_stats");
    CHECK(config.ruleset.protocols == std::vector<Protocol>{Protocol::tcp, Protocol::udp});
}

TEST_CASE("every key is read case-insensitively") {
    const auto spelling = GENERATE(as<std::string>{}, "canonical", "lower", "upper");
    const auto key = [&](std::string k) {
        if (spelling == "lower") return lower(k);
        if (spelling == "upper") {
            std::transform(k.begin(), k.end(), k.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        }
        return k;
    };
    INFO(spelling);
    ConfigBlock b = plugin_block();
    b.add(key("Table"), "counting")
        .add(key("Family"), "inet")
        .add(key("Protocol"), {"icmp", "icmpv6"})
        .add(key("Hook"), "prerouting")
        .add(key("State"), {"related", "untracked"})
        .add(key("Priority"), 10.0)
        .add(key("ReportBytes"), true)
        .add(key("KeepTable"), true)
        .add(key("OwnerFlag"), false)
        .add(key("ConntrackStats"), false)
        .add(key("PerCPU"), true)
        .add(key("Manage"), true);
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.warning.empty());
    CHECK(p.config.ruleset.table == "counting");
    CHECK(p.config.ruleset.family == Family::inet);
    CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::icmp, Protocol::icmpv6});
    CHECK(p.config.ruleset.hooks == std::vector<Hook>{Hook::prerouting});
    CHECK(p.config.ruleset.states == std::vector<CtState>{CtState::related, CtState::untracked});
    CHECK(p.config.ruleset.priority == 10);
    CHECK(p.config.report_bytes);
    CHECK(p.config.keep_table);
    CHECK_FALSE(p.config.owner_flag);
    CHECK_FALSE(p.config.conntrack_stats);
    CHECK(p.config.per_cpu);
    CHECK(p.config.manage);
}

TEST_CASE("Manage false is read in any spelling of the key") {
    for (const char* key : {"Manage", "manage", "MANAGE", "mAnAgE"}) {
        INFO(key);
        ConfigBlock b = plugin_block();
        b.add(key, false);
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK_FALSE(p.config.manage);
        CHECK(p.warning.empty());
    }
}

TEST_CASE("values of Family, Protocol, Hook and State are case-insensitive") {
    ConfigBlock b = plugin_block();
    b.add("Family", "IP6").add("Protocol", {"TCP", "Icmpv6"}).add("Hook", {"INPUT", "Output"}).add("State", "NEW");
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.family == Family::ip6);
    CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::tcp, Protocol::icmpv6});
    CHECK(p.config.ruleset.hooks == std::vector<Hook>{Hook::input, Hook::output});
    CHECK(p.config.ruleset.states == std::vector<CtState>{CtState::new_});
}

TEST_CASE("Family takes ip, ip6 and inet") {
    for (const auto& [text, family] : {std::pair{"ip", Family::ip}, std::pair{"ip6", Family::ip6},
                                       std::pair{"inet", Family::inet}}) {
        INFO(text);
        ConfigBlock b = plugin_block();
        b.add("Family", text);
        if (family == Family::ip6) b.add("Protocol", {"tcp", "udp"});
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.family == family);
    }
}

TEST_CASE("Table sets the table name") {
    ConfigBlock b = plugin_block();
    b.add("Table", "my_counters2");
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.table == "my_counters2");
}

TEST_CASE("the first Protocol line replaces the default, later lines add to it") {
    SECTION("one line") {
        ConfigBlock b = plugin_block();
        b.add("Protocol", "udp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::udp});
    }
    SECTION("several lines") {
        ConfigBlock b = plugin_block();
        b.add("Protocol", "icmp").add("Protocol", "udp").add("protocol", "tcp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::icmp, Protocol::udp, Protocol::tcp});
    }
    SECTION("several values on one line, then another line") {
        ConfigBlock b = plugin_block();
        b.add("Protocol", {"udp", "icmp"}).add("Protocol", "tcp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::udp, Protocol::icmp, Protocol::tcp});
    }
    SECTION("other keys in between do not reset the list") {
        ConfigBlock b = plugin_block();
        b.add("Protocol", "udp").add("Hook", "input").add("Protocol", "tcp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.protocols == std::vector<Protocol>{Protocol::udp, Protocol::tcp});
    }
}

TEST_CASE("Hook and State lines replace their defaults and then append") {
    ConfigBlock b = plugin_block();
    b.add("Hook", "postrouting").add("State", {"untracked", "related"}).add("Hook", {"prerouting", "forward"});
    b.add("State", "new");
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.hooks == std::vector<Hook>{Hook::postrouting, Hook::prerouting, Hook::forward});
    CHECK(p.config.ruleset.states == std::vector<CtState>{CtState::untracked, CtState::related, CtState::new_});
}

TEST_CASE("Priority takes whole numbers above -200") {
    for (double value : {0.0, 10.0, -199.0, -150.0, 100.0, 2147483647.0}) {
        INFO(value);
        ConfigBlock b = plugin_block();
        b.add("Priority", value);
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.config.ruleset.priority == static_cast<int32_t>(value));
    }
}

TEST_CASE("booleans are true/false, or in quotes what collectd's own options take") {
    for (const char* key : {"Manage", "ReportBytes", "KeepTable", "OwnerFlag", "ConntrackStats", "PerCPU"}) {
        for (const bool value : {true, false}) {
            for (const int form : {0, 1, 2, 3, 4}) {
                ConfigBlock b = plugin_block();
                if (form == 0) b.add(key, value);
                else if (form == 1) b.add(key, value ? "true" : "false");
                else if (form == 2) b.add(key, value ? "TRUE" : "False");
                else if (form == 3) b.add(key, value ? "yes" : "no");
                else b.add(key, value ? "On" : "OFF");
                INFO(key << " " << value << " form " << form);
                const Parsed p = parse(b);
                REQUIRE(p.status.ok());
                const std::string k = key;
                const bool got = k == "Manage"           ? p.config.manage
                                 : k == "ReportBytes"    ? p.config.report_bytes
                                 : k == "KeepTable"      ? p.config.keep_table
                                 : k == "OwnerFlag"      ? p.config.owner_flag
                                 : k == "ConntrackStats" ? p.config.conntrack_stats
                                                         : p.config.per_cpu;
                CHECK(got == value);
            }
        }
    }
}

TEST_CASE("the ruleset is checked after every key is read") {
    // icmpv6 needs Family inet or ip6, which may come later in the block.
    ConfigBlock b = plugin_block();
    b.add("Protocol", "icmpv6").add("Family", "inet");
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.family == Family::inet);
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the key as the docs write it and lists what is accepted.

TEST_CASE("an unknown key is an error that lists the accepted keys") {
    ConfigBlock b = plugin_block();
    b.add("Tabel", "x");
    const std::string message = error_of(b);
    CHECK(starts_with(message, "Tabel: unknown option"));
    CHECK(contains(message, kKeys));
}

TEST_CASE("Table errors") {
    ConfigBlock b = plugin_block();
    SECTION("a number") {
        b.add("Table", 5.0);
        CHECK(error_of(b) == "Table: expects one quoted string: an nft table name");
    }
    SECTION("a boolean") {
        b.add("Table", true);
        CHECK(error_of(b) == "Table: expects one quoted string: an nft table name");
    }
    SECTION("two strings") {
        b.add("Table", {"a", "b"});
        CHECK(error_of(b) == "Table: expects one quoted string: an nft table name");
    }
    SECTION("no value") {
        b.add("Table", {});
        CHECK(error_of(b) == "Table: expects one quoted string: an nft table name");
    }
    SECTION("an invalid name") {
        for (const char* name : {"", "1abc", "a-b", "a b", "fwd", "table", "x123456789012345678901234567890123456789012345678901234567890123"}) {
            INFO(name);
            ConfigBlock block = plugin_block();
            block.add("Table", name);
            const std::string message = error_of(block);
            CHECK(starts_with(message, "Table: "));
            CHECK(contains(message, "a letter, then letters, digits or '_', at most 63 characters, not an nft keyword"));
        }
    }
}

TEST_CASE("Family errors") {
    ConfigBlock b = plugin_block();
    SECTION("an unknown family") {
        b.add("Family", "ip4");
        CHECK(error_of(b) == "Family: \"ip4\" is not accepted; use one of ip, ip6, inet");
    }
    SECTION("a number") {
        b.add("Family", 4.0);
        CHECK(starts_with(error_of(b), "Family: expects one quoted string"));
    }
    SECTION("two values") {
        b.add("Family", {"ip", "ip6"});
        CHECK(starts_with(error_of(b), "Family: expects one quoted string"));
    }
}

TEST_CASE("Protocol, Hook and State errors") {
    ConfigBlock b = plugin_block();
    SECTION("an unknown protocol") {
        b.add("Protocol", {"tcp", "sctp"});
        CHECK(error_of(b) == "Protocol: \"sctp\" is not accepted; use one of " + kProtocols);
    }
    SECTION("a number as protocol") {
        b.add("Protocol", 6.0);
        CHECK(error_of(b) == "Protocol: expects quoted strings, each one of " + kProtocols);
    }
    SECTION("a Protocol line without values") {
        b.add("Protocol", {});
        CHECK(error_of(b) == "Protocol: expects one or more quoted strings, each one of " + kProtocols);
    }
    SECTION("an unknown hook") {
        b.add("Hook", "fwd");
        CHECK(error_of(b) == "Hook: \"fwd\" is not accepted; use one of " + kHooks);
    }
    SECTION("a boolean as hook") {
        b.add("Hook", true);
        CHECK(error_of(b) == "Hook: expects quoted strings, each one of " + kHooks);
    }
    SECTION("an unknown state") {
        b.add("State", "estab");
        CHECK(error_of(b) == "State: \"estab\" is not accepted; use one of " + kStates);
    }
    SECTION("a State line without values") {
        b.add("State", {});
        CHECK(error_of(b) == "State: expects one or more quoted strings, each one of " + kStates);
    }
    SECTION("icmpv6 in family ip") {
        b.add("Protocol", "icmpv6");
        const std::string message = error_of(b);
        CHECK(starts_with(message, "Protocol: icmpv6 does not exist in family ip"));
        CHECK(contains(message, "Family inet"));
    }
    SECTION("icmp in family ip6") {
        b.add("Family", "ip6").add("Protocol", "icmp");
        const std::string message = error_of(b);
        CHECK(starts_with(message, "Protocol: icmp does not exist in family ip6"));
    }
}

TEST_CASE("a value selected twice is an error") {
    ConfigBlock b = plugin_block();
    SECTION("on one line") {
        b.add("Protocol", {"tcp", "tcp"});
        CHECK(error_of(b) == "Protocol: \"tcp\" is selected twice; select each of " + kProtocols + " at most once");
    }
    SECTION("on two lines, spelled differently") {
        b.add("Protocol", "udp").add("Protocol", "UDP");
        CHECK(starts_with(error_of(b), "Protocol: \"udp\" is selected twice"));
    }
    SECTION("a hook") {
        b.add("Hook", {"input", "output"}).add("Hook", "input");
        const std::string message = error_of(b);
        CHECK(starts_with(message, "Hook: \"input\" is selected twice"));
        CHECK(contains(message, kHooks));
    }
    SECTION("a state") {
        b.add("State", {"new", "invalid", "new"});
        const std::string message = error_of(b);
        CHECK(starts_with(message, "State: \"new\" is selected twice"));
        CHECK(contains(message, kStates));
    }
}

TEST_CASE("Priority errors") {
    ConfigBlock b = plugin_block();
    SECTION("a string that is not a number") {
        b.add("Priority", "10x");
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("an empty string or one with blanks") {
        b.add("Priority", " 10");
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("a fraction") {
        b.add("Priority", 1.5);
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("beyond 32 bits") {
        b.add("Priority", 4294967296.0);
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("a boolean") {
        b.add("Priority", true);
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("two numbers") {
        b.add("Priority", {1.0, 2.0});
        CHECK(error_of(b) == "Priority: expects a whole number above -200, e.g. 0");
    }
    SECTION("conntrack's own priority") {
        b.add("Priority", -200.0);
        const std::string message = error_of(b);
        CHECK(starts_with(message, "Priority: -200 "));
        CHECK(contains(message, "above -200"));
    }
    SECTION("far before conntrack") {
        b.add("Priority", -1000.0);
        CHECK(starts_with(error_of(b), "Priority: -1000 "));
    }
}

TEST_CASE("boolean errors") {
    for (const char* key : {"Manage", "ReportBytes", "KeepTable"}) {
        INFO(key);
        for (int form : {0, 1, 2, 3, 4}) {
            INFO(form);
            ConfigBlock b = plugin_block();
            if (form == 0) b.add(key, "enabled");
            else if (form == 1) b.add(key, 1.0);
            else if (form == 2) b.add(key, {true, false});
            else if (form == 3) b.add(key, {});
            else b.add(key, "");
            CHECK(error_of(b) == std::string(key) + ": expects true or false");
        }
    }
}

TEST_CASE("a nested block is an error") {
    ConfigBlock b = plugin_block();
    ConfigBlock nested("Hook", {"input"});
    nested.add("Protocol", "tcp");
    b.add(nested);
    const std::string message = error_of(b);
    CHECK(starts_with(message, "Hook: nested blocks are not accepted"));
}

TEST_CASE("a nested block of an unknown name is an error too") {
    ConfigBlock b = plugin_block();
    ConfigBlock nested("Counters");
    nested.add("Table", "x");
    b.add(nested);
    CHECK(starts_with(error_of(b), "Counters: nested blocks are not accepted"));
}

TEST_CASE("the first error stops the parse") {
    ConfigBlock b = plugin_block();
    b.add("Family", "ip4").add("Protocol", "sctp");
    CHECK(starts_with(error_of(b), "Family: "));
}

TEST_CASE("errors for keys spelled in another case name the key") {
    // The message starts with the key, compared without case: some paths echo the spelling of
    // the configuration, others the spelling of the docs.
    const std::vector<std::pair<std::string, ConfigBlock>> cases = [] {
        std::vector<std::pair<std::string, ConfigBlock>> out;
        auto add = [&](const std::string& key, fake_collectd::Value value) {
            ConfigBlock b = plugin_block();
            b.add(lower(key), value);
            out.emplace_back(key, b);
        };
        add("Table", 5.0);
        add("Table", "fwd");
        add("Family", "ip4");
        add("Family", 1.0);
        add("Protocol", "sctp");
        add("Hook", "fwd");
        add("State", "estab");
        add("Priority", "ten");
        add("Priority", -200.0);
        add("Manage", "enabled");
        add("ReportBytes", 2.0);
        add("KeepTable", "nope");
        return out;
    }();
    for (auto [key, block] : cases) {
        INFO(key);
        const std::string message = error_of(block);
        CHECK(starts_with(lower(message), lower(key) + ":"));
    }
}

// ---------------------------------------------------------------------------------------------
// Manage false

TEST_CASE("options of a managed table give a warning, not an error, with Manage false") {
    SECTION("Protocol") {
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("Protocol", "tcp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK_FALSE(p.config.manage);
        CHECK(starts_with(p.warning, "Protocol: only used with Manage true"));
    }
    SECTION("Protocol before Manage") {
        ConfigBlock b = plugin_block();
        b.add("Protocol", "udp").add("Manage", "false");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(starts_with(p.warning, "Protocol: only used with Manage true"));
    }
    for (const char* key : {"Hook", "State", "Priority", "KeepTable"}) {
        DYNAMIC_SECTION(key) {
            ConfigBlock b = plugin_block();
            b.add("Manage", false);
            if (std::string(key) == "Hook") b.add(key, "input");
            else if (std::string(key) == "State") b.add(key, "new");
            else if (std::string(key) == "Priority") b.add(key, 5.0);
            else b.add(key, true);
            const Parsed p = parse(b);
            REQUIRE(p.status.ok());
            CHECK(starts_with(p.warning, std::string(key) + ": only used with Manage true"));
        }
    }
    SECTION("every such key is named") {
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("protocol", "tcp").add("Hook", "input").add("Protocol", "udp");
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(starts_with(p.warning, "Protocol, Hook: only used with Manage true"));
    }
    SECTION("a ruleset that Manage true would reject") {
        // Nothing is created, so the ruleset is not checked; the warning still says so.
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("Priority", -200.0).add("Protocol", {"tcp", "tcp"});
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK_FALSE(p.warning.empty());
    }
}

TEST_CASE("Manage false with Table, Family and ReportBytes gives no warning") {
    ConfigBlock b = plugin_block();
    b.add("Manage", false).add("Table", "fw4").add("Family", "inet").add("ReportBytes", true);
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.warning.empty());
    CHECK(p.config.ruleset.table == "fw4");
    CHECK(p.config.ruleset.family == Family::inet);
    CHECK(p.config.report_bytes);
}

TEST_CASE("Manage false still checks the table name and the values") {
    SECTION("table name") {
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("Table", "a/b");
        CHECK(starts_with(error_of(b), "Table: \"a/b\" contains a character other than letters, digits, '_', '-' and '.'"));
        ConfigBlock empty = plugin_block();
        empty.add("Table", "").add("Manage", false);
        CHECK(starts_with(error_of(empty), "Table: the name is empty"));
    }
    SECTION("names nft allows for an existing table, in either order of the keys") {
        for (const char* name : {"my-table", "stats.v2", "fwd", "_x"}) {
            INFO(name);
            ConfigBlock b = plugin_block();
            b.add("Table", name).add("Manage", false);
            const Parsed p = parse(b);
            CHECK(p.status.ok());
            CHECK(p.config.ruleset.table == name);
        }
    }
    SECTION("the same names are refused for a table the plugin makes") {
        ConfigBlock b = plugin_block();
        b.add("Table", "my-table");
        CHECK(starts_with(error_of(b), "Table: \"my-table\" contains a character other than letters, digits and '_'"));
    }
    SECTION("family") {
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("Family", "bridge");
        CHECK(starts_with(error_of(b), "Family: "));
    }
    SECTION("protocol") {
        ConfigBlock b = plugin_block();
        b.add("Manage", false).add("Protocol", "sctp");
        CHECK(starts_with(error_of(b), "Protocol: \"sctp\""));
    }
}

// =============================================================================================
// Through the callbacks the plugin registers

namespace {

// Registers the plugin with a fresh stand-in; runs its shutdown callback at the end, which
// resets the plugin's global state for the next test.
struct Session {
    Session() {
        fake_collectd::reset();
        module_register();
    }
    ~Session() {
        fake_collectd::run_shutdown(kName);
        fake_collectd::reset();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
};

std::vector<std::string> error_lines() {
    std::vector<std::string> out;
    for (const auto& line : fake_collectd::logs(LOG_ERR)) out.push_back(line.message);
    return out;
}

}  // namespace

TEST_CASE("module_register registers config, init, read and shutdown as conntrack_nft") {
    Session session;
    const auto cb = fake_collectd::callbacks();
    CHECK(cb.calls == std::vector<std::string>{"config:conntrack_nft", "init:conntrack_nft", "read:conntrack_nft",
                                               "shutdown:conntrack_nft"});
    CHECK(cb.config.count(kName) == 1);
    CHECK(cb.init.count(kName) == 1);
    CHECK(cb.read.count(kName) == 1);
    CHECK(cb.shutdown.count(kName) == 1);
    CHECK(fake_collectd::logs().empty());
}

TEST_CASE("a bad block logs one error naming the key, and init then fails quietly") {
    struct Case {
        const char* key;
        ConfigBlock block;
        const char* accepted;
    };
    std::vector<Case> cases;
    auto make = [&](const char* key, fake_collectd::Value value, const char* accepted) {
        ConfigBlock b = plugin_block();
        b.add(key, value);
        cases.push_back({key, b, accepted});
    };
    make("Table", "a-b", "letters, digits or '_'");
    make("Table", 3.0, "quoted string");
    make("Family", "ip4", "ip, ip6, inet");
    make("Manage", "enabled", "true or false");
    make("Protocol", "sctp", "tcp, udp, icmp, icmpv6");
    make("Hook", "ingress", "prerouting, input, forward, output, postrouting");
    make("State", "closed", "new, established, related, invalid, untracked");
    make("Priority", -200.0, "above -200");
    make("Priority", 1.5, "whole number above -200");
    make("ReportBytes", 7.0, "true or false");
    make("KeepTable", "maybe", "true or false");
    make("Bogus", "x", kKeys.c_str());

    for (auto& c : cases) {
        INFO(c.key);
        Session session;
        CHECK(fake_collectd::run_config(kName, c.block) == 0);  // collectd itself goes on
        const auto errors = error_lines();
        REQUIRE(errors.size() == 1);
        CHECK(contains(errors[0], std::string(c.key) + ":"));
        CHECK(contains(errors[0], c.accepted));
        CHECK(starts_with(errors[0], "conntrack_nft plugin: "));
        CHECK(fake_collectd::log_count(LOG_WARNING) == 0);

        CHECK(fake_collectd::run_init(kName) != 0);
        CHECK(fake_collectd::log_count(LOG_ERR) == 1);
        CHECK(fake_collectd::run_read(kName) != 0);
        CHECK(fake_collectd::log_count(LOG_ERR) == 1);
        CHECK(fake_collectd::dispatched().empty());
    }
}

TEST_CASE("a nested block in the config logs one error") {
    Session session;
    ConfigBlock b = plugin_block();
    ConfigBlock nested("State", {"new"});
    nested.add("Hook", "input");
    b.add(nested);
    CHECK(fake_collectd::run_config(kName, b) == 0);
    const auto errors = error_lines();
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], "State: nested blocks are not accepted"));
    CHECK(fake_collectd::run_init(kName) != 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 1);
}

TEST_CASE("a second <Plugin> block is an error and the plugin does not start") {
    Session session;
    ConfigBlock first = plugin_block();
    first.add("Table", "first");
    ConfigBlock second = plugin_block();
    second.add("Table", "second");
    CHECK(fake_collectd::run_config(kName, first) == 0);
    CHECK(fake_collectd::logs().empty());
    CHECK(fake_collectd::run_config(kName, second) == 0);
    const auto errors = error_lines();
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors[0], "configured twice"));
    CHECK(contains(errors[0], "<Plugin conntrack_nft>"));
    // Init fails without creating anything and without another error.
    CHECK(fake_collectd::run_init(kName) != 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 1);
}

TEST_CASE("a second block after a bad one is an error too") {
    Session session;
    ConfigBlock bad = plugin_block();
    bad.add("Family", "ip4");
    ConfigBlock good = plugin_block();
    CHECK(fake_collectd::run_config(kName, bad) == 0);
    CHECK(fake_collectd::run_config(kName, good) == 0);
    const auto errors = error_lines();
    REQUIRE(errors.size() == 2);
    CHECK(contains(errors[0], "Family:"));
    CHECK(contains(errors[1], "configured twice"));
    CHECK(fake_collectd::run_init(kName) != 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 2);
}

TEST_CASE("Manage false with Protocol logs a warning and no error") {
    Session session;
    ConfigBlock b = plugin_block();
    b.add("Manage", false).add("Protocol", {"tcp", "udp"});
    CHECK(fake_collectd::run_config(kName, b) == 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 0);
    const auto warnings = fake_collectd::logs(LOG_WARNING);
    REQUIRE(warnings.size() == 1);
    CHECK(contains(warnings[0].message, "conntrack_nft plugin: Protocol: only used with Manage true"));
    // init is not run: it would read the table of this network namespace.
}

TEST_CASE("a valid block logs nothing") {
    Session session;
    ConfigBlock b = plugin_block();
    b.add("Table", "my_counters").add("Family", "inet").add("Protocol", {"tcp", "icmpv6"}).add("Priority", 5.0);
    CHECK(fake_collectd::run_config(kName, b) == 0);
    CHECK(fake_collectd::logs().empty());
}

TEST_CASE("shutdown forgets the configuration, also a failed one") {
    {
        Session session;
        ConfigBlock bad = plugin_block();
        bad.add("Priority", "high");
        CHECK(fake_collectd::run_config(kName, bad) == 0);
        CHECK(fake_collectd::log_count(LOG_ERR) == 1);
        CHECK(fake_collectd::run_shutdown(kName) == 0);
        fake_collectd::clear_records();
        // A new configuration after shutdown is not "configured twice".
        ConfigBlock good = plugin_block();
        CHECK(fake_collectd::run_config(kName, good) == 0);
        CHECK(fake_collectd::logs().empty());
        CHECK(fake_collectd::run_shutdown(kName) == 0);
        CHECK(fake_collectd::logs().empty());
    }
}

TEST_CASE("read before a successful init fails without dispatching") {
    Session session;
    CHECK(fake_collectd::run_read(kName) != 0);
    CHECK(fake_collectd::dispatched().empty());
    CHECK(fake_collectd::logs().empty());
}

TEST_CASE("the stand-in records what the plugin API receives") {
    // The stand-in itself: values are copied at dispatch, log lines formatted.
    fake_collectd::reset();
    value_t values[2];
    values[0].derive = 123456789012345;
    values[1].gauge = 2.5;
    value_list_t vl = {};
    vl.values = values;
    vl.values_len = 2;
    vl.time = 1;
    vl.interval = 2;
    std::snprintf(vl.host, sizeof vl.host, "%s", "h");
    std::snprintf(vl.plugin, sizeof vl.plugin, "%s", "nftables");
    std::snprintf(vl.plugin_instance, sizeof vl.plugin_instance, "%s", "t");
    std::snprintf(vl.type, sizeof vl.type, "%s", "packets");
    std::snprintf(vl.type_instance, sizeof vl.type_instance, "%s", "c");
    CHECK(plugin_dispatch_values(&vl) == 0);
    values[0].derive = 0;
    plugin_log(LOG_WARNING, "x=%d %s", 5, "y");
    const auto d = fake_collectd::dispatched();
    REQUIRE(d.size() == 1);
    CHECK(d[0].derive(0) == 123456789012345);
    CHECK(d[0].gauge(1) == 2.5);
    CHECK(d[0].identifier() == "nftables-t/packets-c");
    CHECK(d[0].host == "h");
    CHECK(d[0].time == 1);
    CHECK(d[0].interval == 2);
    const auto logs = fake_collectd::logs();
    REQUIRE(logs.size() == 1);
    CHECK(logs[0].severity == LOG_WARNING);
    CHECK(logs[0].message == "x=5 y");
    CHECK(plugin_get_interval() == (static_cast<cdtime_t>(10) << 30));
    fake_collectd::set_time(77);
    CHECK(cdtime() == 77);
    fake_collectd::reset();
    CHECK(cdtime() > (static_cast<cdtime_t>(1600000000) << 30));
    CHECK_THROWS_AS(fake_collectd::run_init("nobody"), std::logic_error);
}

TEST_CASE("numbers in quotes are numbers, as OpenWrt's config writers write them") {
    ConfigBlock b = plugin_block();
    b.add("Priority", "-150").add("SampleInterval", "0.5");
    const Parsed p = parse(b);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.priority == -150);
    CHECK(p.config.sample_interval == 0.5);

    ConfigBlock low = plugin_block();
    low.add("Priority", "-200");
    CHECK(starts_with(error_of(low), "Priority: -200 runs before"));
    ConfigBlock tiny = plugin_block();
    tiny.add("SampleInterval", "0.01");
    CHECK(error_of(tiny) == "SampleInterval: expects a number of seconds from 0.05 to 3600, e.g. 1");
}

TEST_CASE("RuleShape: map by default, classic on request, anything else refused") {
    ConfigBlock d = plugin_block();
    CHECK(parse(d).config.ruleset.shape == RuleShape::map);
    ConfigBlock c = plugin_block();
    c.add("ruleshape", "Classic");
    const Parsed p = parse(c);
    REQUIRE(p.status.ok());
    CHECK(p.config.ruleset.shape == RuleShape::classic);
    ConfigBlock bad = plugin_block();
    bad.add("RuleShape", "vmap");
    CHECK(error_of(bad) == "RuleShape: \"vmap\" is not accepted; use one of map, classic");
    ConfigBlock attach = plugin_block();
    attach.add("Manage", false).add("RuleShape", "classic");
    CHECK(starts_with(parse(attach).warning, "RuleShape: only used with Manage true"));
}

TEST_CASE("Notifications and FillThreshold") {
    ConfigBlock b = plugin_block();
    SECTION("turned off") {
        b.add("notifications", false);
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK_FALSE(p.config.notifications);
        CHECK(p.warning.empty());
    }
    SECTION("a threshold as a number, in quotes, with a fraction, at both ends of the range") {
        for (auto [value, want] : std::vector<std::pair<fake_collectd::Value, double>>{
                 {75.0, 75}, {"92.5", 92.5}, {1.0, 1}, {"100", 100}}) {
            ConfigBlock c = plugin_block();
            c.add("FILLTHRESHOLD", value);
            const Parsed p = parse(c);
            REQUIRE(p.status.ok());
            CHECK(p.config.fill_threshold == want);
            CHECK(p.warning.empty());
        }
    }
    SECTION("a threshold outside 1 to 100, or not a number") {
        for (const fake_collectd::Value& value : {fake_collectd::Value(0.0), fake_collectd::Value(0.5),
                                                  fake_collectd::Value(100.5), fake_collectd::Value(-90.0),
                                                  fake_collectd::Value("90%"), fake_collectd::Value(true),
                                                  fake_collectd::Value("")}) {
            ConfigBlock c = plugin_block();
            c.add("FillThreshold", value);
            CHECK(error_of(c) == "FillThreshold: expects a percentage from 1 to 100, e.g. 90");
        }
    }
    SECTION("Notifications takes only booleans") {
        b.add("Notifications", "sometimes");
        CHECK(error_of(b) == "Notifications: expects true or false");
    }
    SECTION("a threshold without notifications or without conntrack statistics is said to be unused") {
        const bool notifications = GENERATE(true, false);
        b.add("FillThreshold", 80.0).add("Notifications", notifications).add("ConntrackStats", !notifications);
        const Parsed p = parse(b);
        REQUIRE(p.status.ok());
        CHECK(p.warning == "FillThreshold: only used with Notifications true and ConntrackStats true");
    }
}

// The LuCI dialog refuses what the plugin refuses: tests/openwrt/luci/dialog_cases.txt holds the
// cases both run (the lab types the same lines into the real dialog, tests/openwrt/lab/setup.mjs).
// Values are quoted, as LuCI's generator writes "0.25".
TEST_CASE("the LuCI dialog's cases: the plugin accepts and refuses the same values") {
    const std::string path = std::string(CTNFT_SOURCE_DIR) + "/tests/openwrt/luci/dialog_cases.txt";
    std::FILE* f = std::fopen(path.c_str(), "r");
    REQUIRE(f != nullptr);
    int accepted = 0, refused = 0;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, f)) {
        std::string line(buffer);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        const auto a = line.find(' '), b = line.find(' ', a + 1);
        REQUIRE(a != std::string::npos);
        REQUIRE(b != std::string::npos);
        const auto c = line.find(' ', b + 1);
        const std::string option = line.substr(0, a), verdict = line.substr(a + 1, b - a - 1);
        const std::string value = line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
        const std::string part = c == std::string::npos ? "" : line.substr(c + 1);
        INFO(line);
        REQUIRE((verdict == "accept" || verdict == "refuse"));
        ConfigBlock block = plugin_block();
        block.add(option, value);
        const Parsed p = parse(block);
        if (verdict == "accept") {
            CHECK(p.status.ok());
            ++accepted;
        } else {
            CHECK_FALSE(p.status.ok());
            CHECK(starts_with(p.status.message(), option + ": "));
            CHECK(contains(p.status.message(), part));
            ++refused;
        }
    }
    std::fclose(f);
    CHECK(accepted >= 10);
    CHECK(refused >= 10);
}
