#include "catch.h"

#include "nft/model.h"
#include "nft/render.h"

using namespace ctnft;

TEST_CASE("the default ruleset has today's 18 counter names") {
    const auto rules = counting_rules(RulesetSpec{});
    std::vector<std::string> names;
    for (const auto& r : rules) names.push_back(r.counter);
    const std::vector<std::string> expected{
        "tcp_conntrack_input_new",   "tcp_conntrack_input_established",  "tcp_conntrack_input_invalid",
        "udp_conntrack_input_new",   "udp_conntrack_input_established",  "udp_conntrack_input_invalid",
        "tcp_conntrack_output_new",  "tcp_conntrack_output_established", "tcp_conntrack_output_invalid",
        "udp_conntrack_output_new",  "udp_conntrack_output_established", "udp_conntrack_output_invalid",
        "tcp_conntrack_fwd_new",     "tcp_conntrack_fwd_established",    "tcp_conntrack_fwd_invalid",
        "udp_conntrack_fwd_new",     "udp_conntrack_fwd_established",    "udp_conntrack_fwd_invalid"};
    CHECK(names == expected);
    CHECK(validate(RulesetSpec{}).ok());
}

#include <initializer_list>
#include <string>
#include <vector>

namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string kTableRule =
    "a letter, then letters, digits or '_', at most 63 characters, not an nft keyword";

RulesetSpec spec_with(Family family, std::vector<Protocol> protocols) {
    RulesetSpec spec;
    spec.family = family;
    spec.protocols = std::move(protocols);
    return spec;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Table names

TEST_CASE("validate_table_name accepts names of letters, digits and '_' starting with a letter") {
    for (const char* name : {"conntrack_stats", "a", "Z", "abc_123", "a_", "Filter2", "tables2", "fwd2", "my_table"}) {
        INFO(name);
        CHECK(validate_table_name(name).ok());
    }
    CHECK(validate_table_name(std::string(63, 'a')).ok());
    CHECK(validate_table_name("x" + std::string(62, '9')).ok());
}

TEST_CASE("validate_table_name rejects an empty name") {
    const Status s = validate_table_name("");
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Table: "));
    CHECK(contains(s.message(), "empty"));
    CHECK(contains(s.message(), kTableRule));
    CHECK(s.code() == 0);
}

TEST_CASE("validate_table_name rejects a name of 64 characters") {
    const Status s = validate_table_name(std::string(64, 'a'));
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Table: "));
    CHECK(contains(s.message(), "64 characters long"));
    CHECK(contains(s.message(), kTableRule));
    CHECK_FALSE(validate_table_name(std::string(300, 'b')).ok());
}

TEST_CASE("validate_table_name rejects a name that does not start with a letter") {
    for (const char* name : {"1abc", "9", "_abc", "-abc", " abc"}) {
        INFO(name);
        const Status s = validate_table_name(name);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Table: \"" + std::string(name) + "\""));
        CHECK(contains(s.message(), "does not start with a letter"));
        CHECK(contains(s.message(), kTableRule));
    }
}

TEST_CASE("validate_table_name rejects characters other than letters, digits and '_'") {
    for (const char* name : {"a-b", "a b", "a;b", "a}b", "a{b", "a\"b", "a/b", "a.b", "a\tb", "caf\xc3\xa9", "ab\xff"}) {
        INFO(name);
        const Status s = validate_table_name(name);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Table: "));
        CHECK(contains(s.message(), "contains a character other than letters, digits and '_'"));
        CHECK(contains(s.message(), kTableRule));
    }
    // A name starting with a non-ASCII byte is not a letter either.
    const Status s = validate_table_name("\xc3\xa9t\xc3\xa9");
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Table: "));
}

TEST_CASE("validate_table_name rejects a NUL inside the name") {
    const Status s = validate_table_name(std::string("ab\0cd", 5));
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Table: "));
}

TEST_CASE("validate_table_name rejects nft keywords in any case") {
    for (const char* name : {"fwd", "table", "TABLE", "Table", "counter", "chain", "ip", "inet", "input", "forward",
                             "prerouting", "postrouting", "meta", "ct", "tcp", "udp", "icmp", "icmpv6"}) {
        INFO(name);
        const Status s = validate_table_name(name);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Table: \"" + std::string(name) + "\" is an nft keyword"));
        CHECK(contains(s.message(), kTableRule));
    }
}

TEST_CASE("validate checks the table name first") {
    RulesetSpec spec;
    spec.table = "fwd";
    spec.hooks.clear();
    const Status s = validate(spec);
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Table: "));
}

// ---------------------------------------------------------------------------------------------
// Selections

TEST_CASE("validate rejects an empty Hook, Protocol or State list and lists the accepted values") {
    SECTION("Hook") {
        RulesetSpec spec;
        spec.hooks.clear();
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(s.message() == "Hook: select at least one of prerouting, input, forward, output, postrouting");
    }
    SECTION("Protocol") {
        RulesetSpec spec;
        spec.protocols.clear();
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Protocol: "));
        CHECK(contains(s.message(), "tcp, udp, icmp, icmpv6"));
    }
    SECTION("State") {
        RulesetSpec spec;
        spec.states.clear();
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "State: "));
        CHECK(contains(s.message(), "new, established, related, invalid, untracked"));
    }
}

TEST_CASE("validate rejects a value selected twice") {
    SECTION("Hook") {
        RulesetSpec spec;
        spec.hooks = {Hook::input, Hook::forward, Hook::input};
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Hook: \"input\" is selected twice"));
        CHECK(contains(s.message(), "prerouting, input, forward, output, postrouting"));
    }
    SECTION("Protocol") {
        RulesetSpec spec;
        spec.protocols = {Protocol::udp, Protocol::udp};
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(s.message() == "Protocol: \"udp\" is selected twice; select each of tcp, udp, icmp, icmpv6 at most once");
    }
    SECTION("State") {
        RulesetSpec spec;
        spec.states = {CtState::related, CtState::new_, CtState::new_};
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "State: \"new\" is selected twice"));
        CHECK(contains(s.message(), "new, established, related, invalid, untracked"));
    }
}

TEST_CASE("validate accepts every hook, protocol and state once each in family inet") {
    RulesetSpec spec;
    spec.family = Family::inet;
    spec.hooks = {Hook::prerouting, Hook::input, Hook::forward, Hook::output, Hook::postrouting};
    spec.protocols = {Protocol::tcp, Protocol::udp, Protocol::icmp, Protocol::icmpv6};
    spec.states = {CtState::invalid, CtState::established, CtState::related, CtState::new_, CtState::untracked};
    CHECK(validate(spec).ok());
    CHECK(counting_rules(spec).size() == 5 * 4 * 5);
}

// ---------------------------------------------------------------------------------------------
// Protocols and families

TEST_CASE("icmpv6 does not exist in family ip") {
    const Status s = validate(spec_with(Family::ip, {Protocol::tcp, Protocol::icmpv6}));
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Protocol: icmpv6"));
    CHECK(contains(s.message(), "family ip"));
    CHECK(contains(s.message(), "tcp, udp or icmp"));
    CHECK(contains(s.message(), "Family inet"));
    CHECK(validate(spec_with(Family::ip, {Protocol::icmp})).ok());
}

TEST_CASE("icmp does not exist in family ip6") {
    const Status s = validate(spec_with(Family::ip6, {Protocol::icmp}));
    REQUIRE_FALSE(s.ok());
    CHECK(starts_with(s.message(), "Protocol: icmp "));
    CHECK(contains(s.message(), "family ip6"));
    CHECK(contains(s.message(), "tcp, udp or icmpv6"));
    CHECK(contains(s.message(), "Family inet"));
    CHECK(validate(spec_with(Family::ip6, {Protocol::tcp, Protocol::udp, Protocol::icmpv6})).ok());
}

TEST_CASE("icmp and icmpv6 are both fine in family inet") {
    CHECK(validate(spec_with(Family::inet, {Protocol::icmp, Protocol::icmpv6})).ok());
    CHECK(validate(spec_with(Family::inet, {Protocol::icmpv6})).ok());
    CHECK(validate(spec_with(Family::inet, {Protocol::icmp})).ok());
}

// ---------------------------------------------------------------------------------------------
// Priority

TEST_CASE("validate rejects priorities at or before conntrack's") {
    for (int32_t priority : {-200, -201, -1000, INT32_MIN}) {
        INFO(priority);
        RulesetSpec spec;
        spec.priority = priority;
        const Status s = validate(spec);
        REQUIRE_FALSE(s.ok());
        CHECK(starts_with(s.message(), "Priority: " + std::to_string(priority) + " "));
        CHECK(contains(s.message(), "above -200"));
    }
}

TEST_CASE("validate accepts priorities after conntrack's") {
    for (int32_t priority : {-199, -150, 0, 10, 300, INT32_MAX}) {
        INFO(priority);
        RulesetSpec spec;
        spec.priority = priority;
        CHECK(validate(spec).ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Names and parsing

TEST_CASE("to_string and the accepted lists") {
    CHECK(to_string(Family::ip) == "ip");
    CHECK(to_string(Family::ip6) == "ip6");
    CHECK(to_string(Family::inet) == "inet");
    CHECK(to_string(Hook::prerouting) == "prerouting");
    CHECK(to_string(Hook::input) == "input");
    CHECK(to_string(Hook::forward) == "forward");
    CHECK(to_string(Hook::output) == "output");
    CHECK(to_string(Hook::postrouting) == "postrouting");
    CHECK(to_string(Protocol::tcp) == "tcp");
    CHECK(to_string(Protocol::udp) == "udp");
    CHECK(to_string(Protocol::icmp) == "icmp");
    CHECK(to_string(Protocol::icmpv6) == "icmpv6");
    CHECK(to_string(CtState::new_) == "new");
    CHECK(to_string(CtState::established) == "established");
    CHECK(to_string(CtState::related) == "related");
    CHECK(to_string(CtState::invalid) == "invalid");
    CHECK(to_string(CtState::untracked) == "untracked");

    CHECK(accepted_families() == "ip, ip6, inet");
    CHECK(accepted_hooks() == "prerouting, input, forward, output, postrouting");
    CHECK(accepted_protocols() == "tcp, udp, icmp, icmpv6");
    CHECK(accepted_states() == "new, established, related, invalid, untracked");
}

TEST_CASE("parse_family is case-insensitive and rejects anything else") {
    CHECK(parse_family("ip") == Family::ip);
    CHECK(parse_family("IP") == Family::ip);
    CHECK(parse_family("ip6") == Family::ip6);
    CHECK(parse_family("Ip6") == Family::ip6);
    CHECK(parse_family("inet") == Family::inet);
    CHECK(parse_family("INET") == Family::inet);
    for (const char* text : {"", "ip4", "ipv4", "ipv6", "inet6", "arp", "bridge", "netdev", " ip", "ip ", "i"}) {
        INFO(text);
        CHECK_FALSE(parse_family(text).has_value());
    }
}

TEST_CASE("parse_hook is case-insensitive and rejects anything else") {
    CHECK(parse_hook("prerouting") == Hook::prerouting);
    CHECK(parse_hook("INPUT") == Hook::input);
    CHECK(parse_hook("Forward") == Hook::forward);
    CHECK(parse_hook("oUtPuT") == Hook::output);
    CHECK(parse_hook("POSTROUTING") == Hook::postrouting);
    for (const char* text : {"", "fwd", "ingress", "egress", "pre-routing", "in", "inputs", "input "}) {
        INFO(text);
        CHECK_FALSE(parse_hook(text).has_value());
    }
}

TEST_CASE("parse_protocol is case-insensitive and rejects anything else") {
    CHECK(parse_protocol("tcp") == Protocol::tcp);
    CHECK(parse_protocol("TCP") == Protocol::tcp);
    CHECK(parse_protocol("Udp") == Protocol::udp);
    CHECK(parse_protocol("ICMP") == Protocol::icmp);
    CHECK(parse_protocol("ICMPv6") == Protocol::icmpv6);
    for (const char* text : {"", "sctp", "dccp", "ipv6-icmp", "icmp6", "tc", "tcpp", "6"}) {
        INFO(text);
        CHECK_FALSE(parse_protocol(text).has_value());
    }
}

TEST_CASE("parse_state is case-insensitive and rejects anything else") {
    CHECK(parse_state("new") == CtState::new_);
    CHECK(parse_state("NEW") == CtState::new_);
    CHECK(parse_state("Established") == CtState::established);
    CHECK(parse_state("RELATED") == CtState::related);
    CHECK(parse_state("invalid") == CtState::invalid);
    CHECK(parse_state("UnTracked") == CtState::untracked);
    for (const char* text : {"", "new_", "estab", "snat", "dnat", "untrack", "closed"}) {
        INFO(text);
        CHECK_FALSE(parse_state(text).has_value());
    }
}

TEST_CASE("counter_name and chain_name for every hook") {
    CHECK(counter_name(Protocol::tcp, Hook::prerouting, CtState::new_) == "tcp_conntrack_prerouting_new");
    CHECK(counter_name(Protocol::udp, Hook::input, CtState::established) == "udp_conntrack_input_established");
    CHECK(counter_name(Protocol::icmp, Hook::forward, CtState::related) == "icmp_conntrack_fwd_related");
    CHECK(counter_name(Protocol::icmpv6, Hook::output, CtState::invalid) == "icmpv6_conntrack_output_invalid");
    CHECK(counter_name(Protocol::tcp, Hook::postrouting, CtState::untracked) == "tcp_conntrack_postrouting_untracked");

    CHECK(chain_name(Hook::prerouting) == "prerouting_counter");
    CHECK(chain_name(Hook::input) == "input_counter");
    CHECK(chain_name(Hook::forward) == "forward_counter");
    CHECK(chain_name(Hook::output) == "output_counter");
    CHECK(chain_name(Hook::postrouting) == "postrouting_counter");
}

TEST_CASE("counting_rules orders by hook, then protocol, then state, as given") {
    RulesetSpec spec;
    spec.family = Family::inet;
    spec.hooks = {Hook::postrouting, Hook::prerouting};
    spec.protocols = {Protocol::icmpv6, Protocol::tcp};
    spec.states = {CtState::untracked, CtState::related, CtState::new_};
    const auto rules = counting_rules(spec);
    REQUIRE(rules.size() == 12);
    std::size_t i = 0;
    for (Hook h : spec.hooks)
        for (Protocol p : spec.protocols)
            for (CtState st : spec.states) {
                INFO(i);
                CHECK(rules[i].hook == h);
                CHECK(rules[i].protocol == p);
                CHECK(rules[i].state == st);
                CHECK(rules[i].counter == counter_name(p, h, st));
                ++i;
            }
    CHECK(rules.front().counter == "icmpv6_conntrack_postrouting_untracked");
    CHECK(rules[1].counter == "icmpv6_conntrack_postrouting_related");
    CHECK(rules[3].counter == "tcp_conntrack_postrouting_untracked");
    CHECK(rules[6].counter == "icmpv6_conntrack_prerouting_untracked");
    CHECK(rules.back().counter == "tcp_conntrack_prerouting_new");
}

TEST_CASE("counting_rules of an empty selection is empty") {
    RulesetSpec spec;
    spec.states.clear();
    CHECK(counting_rules(spec).empty());
}

TEST_CASE("kernel numbers") {
    // NFPROTO_*
    CHECK(nfproto(Family::inet) == 1);
    CHECK(nfproto(Family::ip) == 2);
    CHECK(nfproto(Family::ip6) == 10);
    // IPPROTO_*
    CHECK(ip_protocol_number(Protocol::icmp) == 1);
    CHECK(ip_protocol_number(Protocol::tcp) == 6);
    CHECK(ip_protocol_number(Protocol::udp) == 17);
    CHECK(ip_protocol_number(Protocol::icmpv6) == 58);
    // `ct state` bits: NF_CT_STATE_BIT(IP_CT_*) and NF_CT_STATE_UNTRACKED_BIT
    CHECK(ct_state_bit(CtState::invalid) == 1);
    CHECK(ct_state_bit(CtState::established) == 2);
    CHECK(ct_state_bit(CtState::related) == 4);
    CHECK(ct_state_bit(CtState::new_) == 8);
    CHECK(ct_state_bit(CtState::untracked) == 64);
    // NF_INET_*
    CHECK(hook_number(Hook::prerouting) == 0);
    CHECK(hook_number(Hook::input) == 1);
    CHECK(hook_number(Hook::forward) == 2);
    CHECK(hook_number(Hook::output) == 3);
    CHECK(hook_number(Hook::postrouting) == 4);
}

TEST_CASE("rule shapes: map is the default, parsed case-insensitively; rules expected per shape") {
    RulesetSpec spec;
    CHECK(spec.shape == RuleShape::map);
    CHECK(to_string(RuleShape::map) == "map");
    CHECK(to_string(RuleShape::classic) == "classic");
    CHECK(parse_rule_shape("MAP") == RuleShape::map);
    CHECK(parse_rule_shape("Classic") == RuleShape::classic);
    CHECK_FALSE(parse_rule_shape("vmap").has_value());
    CHECK_FALSE(parse_rule_shape("").has_value());
    CHECK(accepted_rule_shapes() == "map, classic");

    // One map rule per chain, or one rule per counter; the counters are the same either way.
    CHECK(expected_rule_count(spec) == 3);
    CHECK(counting_rules(spec).size() == 18);
    spec.shape = RuleShape::classic;
    CHECK(expected_rule_count(spec) == 18);
    CHECK(counting_rules(spec).size() == 18);
    spec.hooks = {Hook::forward};
    spec.protocols = {Protocol::udp};
    CHECK(expected_rule_count(spec) == 3);
    spec.shape = RuleShape::map;
    CHECK(expected_rule_count(spec) == 1);
}
