#include "nft/model.h"
#include "nft/text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <netinet/in.h>

#include <linux/netfilter.h>

namespace ctnft {
namespace {

template <typename E>
struct Named {
    std::string_view name;
    E value;
};

constexpr std::array<Named<Family>, 3> kFamilies{{{"ip", Family::ip}, {"ip6", Family::ip6}, {"inet", Family::inet}}};
constexpr std::array<Named<Hook>, 5> kHooks{{{"prerouting", Hook::prerouting},
                                             {"input", Hook::input},
                                             {"forward", Hook::forward},
                                             {"output", Hook::output},
                                             {"postrouting", Hook::postrouting}}};
constexpr std::array<Named<Protocol>, 4> kProtocols{{{"tcp", Protocol::tcp},
                                                     {"udp", Protocol::udp},
                                                     {"icmp", Protocol::icmp},
                                                     {"icmpv6", Protocol::icmpv6}}};
constexpr std::array<Named<CtState>, 5> kStates{{{"new", CtState::new_},
                                                 {"established", CtState::established},
                                                 {"related", CtState::related},
                                                 {"invalid", CtState::invalid},
                                                 {"untracked", CtState::untracked}}};
constexpr std::array<Named<RuleShape>, 2> kRuleShapes{{{"map", RuleShape::map}, {"classic", RuleShape::classic}}};

// Words nft's parser reads as syntax where a table name stands: a table named so could be
// created over netlink but not written in a ruleset file.
constexpr std::array<std::string_view, 132> kReservedWords{
    "accept", "add", "ah", "all", "arp", "bridge", "cgroup", "chain", "chains", "comment", "comp", "continue",
    "counter", "counters", "create", "ct", "day", "dccp", "define", "delete", "describe", "destroy", "device",
    "direction", "dnat", "drop", "dst", "dup", "element", "elements", "esp", "ether", "event", "expectation",
    "export", "exthdr", "fib", "flow", "flowtable", "flush", "forward", "frag", "fwd", "get", "goto",
    "handle", "hash", "hbh", "helper", "hook", "hour", "icmp", "icmpv6", "iif", "iifname", "import",
    "include", "index", "inet", "input", "insert", "ip", "ip6", "ip6ext", "jhash", "jump", "label", "last",
    "length", "limit", "list", "log", "map", "maps", "mark", "masquerade", "meta", "meter", "mh", "monitor",
    "netdev", "notrack", "numgen", "oif", "oifname", "osf", "output", "policy", "postrouting", "prerouting",
    "priority", "protocol", "queue", "quota", "quotas", "random", "redirect", "reject", "rename", "replace",
    "reset", "return", "rt", "rt0", "rule", "ruleset", "sctp", "secmark", "set", "sets", "size", "snat",
    "socket", "state", "status", "symhash", "synproxy", "table", "tables", "tcp", "th", "time", "tproxy",
    "tunnel", "type", "typeof", "udp", "udplite", "version", "vlan", "vmap", "zone",};

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

template <typename E, std::size_t N>
std::optional<E> parse(const std::array<Named<E>, N>& table, std::string_view text) {
    for (const auto& entry : table)
        if (iequals(entry.name, text)) return entry.value;
    return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
    for (const auto& entry : table)
        if (entry.value == value) return entry.name;
    return "?";
}

template <typename E, std::size_t N>
std::string accepted(const std::array<Named<E>, N>& table) {
    std::string out;
    for (const auto& entry : table) {
        if (!out.empty()) out += ", ";
        out += entry.name;
    }
    return out;
}

template <typename E>
Status check_selection(const std::vector<E>& values, std::string_view field, const std::string& accepted_values) {
    if (values.empty())
        return Status::error(std::string(field) + ": select at least one of " + accepted_values);
    for (std::size_t i = 0; i < values.size(); ++i)
        for (std::size_t j = i + 1; j < values.size(); ++j)
            if (values[i] == values[j])
                return Status::error(std::string(field) + ": \"" + std::string(to_string(values[i])) +
                                     "\" is selected twice; select each of " + accepted_values + " at most once");
    return {};
}

std::string_view hook_short_name(Hook hook) {
    // Today's hand-written ruleset says "fwd" for forward in counter names.
    return hook == Hook::forward ? std::string_view("fwd") : to_string(hook);
}

}  // namespace

std::string_view to_string(Family value) {
    return value == Family::netdev ? std::string_view("netdev") : name_of(kFamilies, value);
}
std::string_view to_string(Hook value) { return name_of(kHooks, value); }
std::string_view to_string(Protocol value) { return name_of(kProtocols, value); }
std::string_view to_string(CtState value) { return name_of(kStates, value); }
std::string_view to_string(RuleShape value) { return name_of(kRuleShapes, value); }

std::optional<Family> parse_family(std::string_view text) { return parse(kFamilies, text); }
std::optional<Hook> parse_hook(std::string_view text) { return parse(kHooks, text); }
std::optional<Protocol> parse_protocol(std::string_view text) { return parse(kProtocols, text); }
std::optional<CtState> parse_state(std::string_view text) { return parse(kStates, text); }
std::optional<RuleShape> parse_rule_shape(std::string_view text) { return parse(kRuleShapes, text); }

std::string accepted_families() { return accepted(kFamilies); }
std::string accepted_hooks() { return accepted(kHooks); }
std::string accepted_protocols() { return accepted(kProtocols); }
std::string accepted_states() { return accepted(kStates); }
std::string accepted_rule_shapes() { return accepted(kRuleShapes); }

std::string counter_name(Protocol protocol, Hook hook, CtState state) {
    std::string name(to_string(protocol));
    name += "_conntrack_";
    name += hook_short_name(hook);
    name += '_';
    name += to_string(state);
    return name;
}

std::string describe_table(Family family, const std::string& table) {
    return "table " + std::string(to_string(family)) + " " + table;
}

std::string chain_name(Hook hook) { return std::string(to_string(hook)) + "_counter"; }

std::vector<CountingRule> counting_rules(const RulesetSpec& spec) {
    std::vector<CountingRule> rules;
    rules.reserve(spec.hooks.size() * spec.protocols.size() * spec.states.size());
    for (Hook hook : spec.hooks)
        for (Protocol protocol : spec.protocols)
            for (CtState state : spec.states)
                rules.push_back({hook, protocol, state, counter_name(protocol, hook, state)});
    return rules;
}

std::size_t expected_rule_count(const RulesetSpec& spec) {
    if (spec.shape == RuleShape::map) return spec.hooks.size();
    return spec.hooks.size() * spec.protocols.size() * spec.states.size();
}

Status validate_table_name(std::string_view name) {
    const std::string rule = "a letter, then letters, digits or '_', at most " + dec(kMaxTableNameLength) +
                             " characters, not an nft keyword";
    if (name.empty()) return Status::error("Table: the name is empty; use " + rule);
    if (name.size() > kMaxTableNameLength)
        return Status::error("Table: the name is " + dec(name.size()) + " characters long; use " + rule);
    if (!std::isalpha(static_cast<unsigned char>(name[0])))
        return Status::error("Table: \"" + std::string(name) + "\" does not start with a letter; use " + rule);
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
            return Status::error("Table: \"" + std::string(name) + "\" contains a character other than letters, "
                                 "digits and '_'; use " + rule);
    for (std::string_view word : kReservedWords)
        if (iequals(word, name))
            return Status::error("Table: \"" + std::string(name) + "\" is an nft keyword; use " + rule);
    return {};
}

Status validate_attached_table_name(std::string_view name) {
    const std::string rule = "the name of an existing table: letters, digits, '_', '-' or '.', at most " +
                             dec(kMaxTableNameLength) + " characters (no '/': collectd's identifiers cannot carry it)";
    if (name.empty()) return Status::error("Table: the name is empty; use " + rule);
    if (name.size() > kMaxTableNameLength)
        return Status::error("Table: the name is " + dec(name.size()) + " characters long; use " + rule);
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            return Status::error("Table: \"" + std::string(name) + "\" contains a character other than letters, digits, "
                                 "'_', '-' and '.'; use " + rule);
    return {};
}

Status validate(const RulesetSpec& spec) {
    if (Status s = validate_table_name(spec.table); !s) return s;
    if (Status s = check_selection(spec.hooks, "Hook", accepted_hooks()); !s) return s;
    if (Status s = check_selection(spec.protocols, "Protocol", accepted_protocols()); !s) return s;
    if (Status s = check_selection(spec.states, "State", accepted_states()); !s) return s;
    for (Protocol protocol : spec.protocols) {
        if (spec.family == Family::ip && protocol == Protocol::icmpv6)
            return Status::error("Protocol: icmpv6 does not exist in family ip; use tcp, udp or icmp, or Family inet");
        if (spec.family == Family::ip6 && protocol == Protocol::icmp)
            return Status::error("Protocol: icmp does not exist in family ip6; use tcp, udp or icmpv6, or Family inet");
    }
    if (spec.priority <= kConntrackPriority)
        return Status::error("Priority: " + dec(spec.priority) +
                             " runs before conntrack has assigned a state (-200); use a value above -200, e.g. 0");
    return {};
}

uint8_t nfproto(Family family) {
    switch (family) {
        case Family::ip: return NFPROTO_IPV4;
        case Family::ip6: return NFPROTO_IPV6;
        case Family::inet: return NFPROTO_INET;
        case Family::netdev: return NFPROTO_NETDEV;
    }
    return NFPROTO_UNSPEC;
}

uint8_t ip_protocol_number(Protocol protocol) {
    switch (protocol) {
        case Protocol::tcp: return IPPROTO_TCP;
        case Protocol::udp: return IPPROTO_UDP;
        case Protocol::icmp: return IPPROTO_ICMP;
        case Protocol::icmpv6: return IPPROTO_ICMPV6;
    }
    return 0;
}

uint32_t ct_state_bit(CtState state) {
    switch (state) {
        case CtState::invalid: return 1;
        case CtState::established: return 2;
        case CtState::related: return 4;
        case CtState::new_: return 8;
        case CtState::untracked: return 64;
    }
    return 0;
}

uint32_t hook_number(Hook hook) {
    switch (hook) {
        case Hook::prerouting: return NF_INET_PRE_ROUTING;
        case Hook::input: return NF_INET_LOCAL_IN;
        case Hook::forward: return NF_INET_FORWARD;
        case Hook::output: return NF_INET_LOCAL_OUT;
        case Hook::postrouting: return NF_INET_POST_ROUTING;
    }
    return 0;
}

}  // namespace ctnft
