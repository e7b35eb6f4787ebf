// render_nft: the ruleset as `nft -f` text. The expected texts are written out in full here,
// not derived from the model, so that any change in what users would load shows up.
#include "catch.h"

#include <string>

#include "nft/model.h"
#include "nft/render.h"

using namespace ctnft;

TEST_CASE("render_nft of the default spec in the classic shape is today's hand-written ruleset") {
    const std::string expected =
        "table ip conntrack_stats {\n"
        "\tcounter tcp_conntrack_input_new {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_input_established {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_input_invalid {\n"
        "\t}\n"
        "\tcounter udp_conntrack_input_new {\n"
        "\t}\n"
        "\tcounter udp_conntrack_input_established {\n"
        "\t}\n"
        "\tcounter udp_conntrack_input_invalid {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_output_new {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_output_established {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_output_invalid {\n"
        "\t}\n"
        "\tcounter udp_conntrack_output_new {\n"
        "\t}\n"
        "\tcounter udp_conntrack_output_established {\n"
        "\t}\n"
        "\tcounter udp_conntrack_output_invalid {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_fwd_new {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_fwd_established {\n"
        "\t}\n"
        "\tcounter tcp_conntrack_fwd_invalid {\n"
        "\t}\n"
        "\tcounter udp_conntrack_fwd_new {\n"
        "\t}\n"
        "\tcounter udp_conntrack_fwd_established {\n"
        "\t}\n"
        "\tcounter udp_conntrack_fwd_invalid {\n"
        "\t}\n"
        "\n"
        "\tchain input_counter {\n"
        "\t\ttype filter hook input priority 0; policy accept;\n"
        "\t\tip protocol tcp ct state new counter name \"tcp_conntrack_input_new\"\n"
        "\t\tip protocol tcp ct state established counter name \"tcp_conntrack_input_established\"\n"
        "\t\tip protocol tcp ct state invalid counter name \"tcp_conntrack_input_invalid\"\n"
        "\t\tip protocol udp ct state new counter name \"udp_conntrack_input_new\"\n"
        "\t\tip protocol udp ct state established counter name \"udp_conntrack_input_established\"\n"
        "\t\tip protocol udp ct state invalid counter name \"udp_conntrack_input_invalid\"\n"
        "\t}\n"
        "\n"
        "\tchain output_counter {\n"
        "\t\ttype filter hook output priority 0; policy accept;\n"
        "\t\tip protocol tcp ct state new counter name \"tcp_conntrack_output_new\"\n"
        "\t\tip protocol tcp ct state established counter name \"tcp_conntrack_output_established\"\n"
        "\t\tip protocol tcp ct state invalid counter name \"tcp_conntrack_output_invalid\"\n"
        "\t\tip protocol udp ct state new counter name \"udp_conntrack_output_new\"\n"
        "\t\tip protocol udp ct state established counter name \"udp_conntrack_output_established\"\n"
        "\t\tip protocol udp ct state invalid counter name \"udp_conntrack_output_invalid\"\n"
        "\t}\n"
        "\n"
        "\tchain forward_counter {\n"
        "\t\ttype filter hook forward priority 0; policy accept;\n"
        "\t\tip protocol tcp ct state new counter name \"tcp_conntrack_fwd_new\"\n"
        "\t\tip protocol tcp ct state established counter name \"tcp_conntrack_fwd_established\"\n"
        "\t\tip protocol tcp ct state invalid counter name \"tcp_conntrack_fwd_invalid\"\n"
        "\t\tip protocol udp ct state new counter name \"udp_conntrack_fwd_new\"\n"
        "\t\tip protocol udp ct state established counter name \"udp_conntrack_fwd_established\"\n"
        "\t\tip protocol udp ct state invalid counter name \"udp_conntrack_fwd_invalid\"\n"
        "\t}\n"
        "}\n";
    RulesetSpec spec;
    spec.shape = RuleShape::classic;
    CHECK(render_nft(spec) == expected);
}

TEST_CASE("render_nft of a single-hook, single-protocol, single-state spec in family inet") {
    RulesetSpec spec;
    spec.family = Family::inet;
    spec.table = "single";
    spec.hooks = {Hook::prerouting};
    spec.protocols = {Protocol::icmpv6};
    spec.states = {CtState::untracked};
    spec.priority = 10;
    spec.shape = RuleShape::classic;
    const std::string expected =
        "table inet single {\n"
        "\tcounter icmpv6_conntrack_prerouting_untracked {\n"
        "\t}\n"
        "\n"
        "\tchain prerouting_counter {\n"
        "\t\ttype filter hook prerouting priority 10; policy accept;\n"
        "\t\tmeta l4proto icmpv6 ct state untracked counter name \"icmpv6_conntrack_prerouting_untracked\"\n"
        "\t}\n"
        "}\n";
    CHECK(render_nft(spec) == expected);
}

TEST_CASE("render_nft matches protocols with meta l4proto in families inet and ip6") {
    RulesetSpec spec;
    spec.shape = RuleShape::classic;
    spec.hooks = {Hook::input};
    spec.protocols = {Protocol::tcp};
    spec.states = {CtState::new_};
    const std::string rule = "\t\tmeta l4proto tcp ct state new counter name \"tcp_conntrack_input_new\"\n";

    spec.family = Family::inet;
    std::string text = render_nft(spec);
    CHECK(text.rfind("table inet conntrack_stats {\n", 0) == 0);
    CHECK(text.find(rule) != std::string::npos);
    CHECK(text.find("ip protocol") == std::string::npos);

    spec.family = Family::ip6;
    text = render_nft(spec);
    CHECK(text.rfind("table ip6 conntrack_stats {\n", 0) == 0);
    CHECK(text.find(rule) != std::string::npos);
    CHECK(text.find("ip protocol") == std::string::npos);

    spec.family = Family::ip;
    text = render_nft(spec);
    CHECK(text.find("\t\tip protocol tcp ct state new counter name \"tcp_conntrack_input_new\"\n") != std::string::npos);
    CHECK(text.find("meta l4proto") == std::string::npos);
}

TEST_CASE("render_nft writes the priority as given") {
    RulesetSpec spec;
    spec.hooks = {Hook::output, Hook::postrouting};
    spec.protocols = {Protocol::udp};
    spec.states = {CtState::related};
    spec.priority = -150;
    spec.shape = RuleShape::classic;
    const std::string expected =
        "table ip conntrack_stats {\n"
        "\tcounter udp_conntrack_output_related {\n"
        "\t}\n"
        "\tcounter udp_conntrack_postrouting_related {\n"
        "\t}\n"
        "\n"
        "\tchain output_counter {\n"
        "\t\ttype filter hook output priority -150; policy accept;\n"
        "\t\tip protocol udp ct state related counter name \"udp_conntrack_output_related\"\n"
        "\t}\n"
        "\n"
        "\tchain postrouting_counter {\n"
        "\t\ttype filter hook postrouting priority -150; policy accept;\n"
        "\t\tip protocol udp ct state related counter name \"udp_conntrack_postrouting_related\"\n"
        "\t}\n"
        "}\n";
    CHECK(render_nft(spec) == expected);

    spec.priority = 10;
    const std::string text = render_nft(spec);
    CHECK(text.find("\t\ttype filter hook output priority 10; policy accept;\n") != std::string::npos);
    CHECK(text.find("\t\ttype filter hook postrouting priority 10; policy accept;\n") != std::string::npos);
}

TEST_CASE("render_nft keeps the order of hooks, protocols and states as given") {
    RulesetSpec spec;
    spec.shape = RuleShape::classic;
    spec.hooks = {Hook::forward, Hook::input};
    spec.protocols = {Protocol::udp, Protocol::tcp};
    spec.states = {CtState::invalid, CtState::new_};
    const std::string text = render_nft(spec);
    const auto pos = [&](const std::string& part) {
        const auto p = text.find(part);
        INFO(part);
        CHECK(p != std::string::npos);
        return p;
    };
    // Counters first, in rule order.
    CHECK(pos("counter udp_conntrack_fwd_invalid {") < pos("counter udp_conntrack_fwd_new {"));
    CHECK(pos("counter udp_conntrack_fwd_new {") < pos("counter tcp_conntrack_fwd_invalid {"));
    CHECK(pos("counter tcp_conntrack_fwd_new {") < pos("counter udp_conntrack_input_invalid {"));
    CHECK(pos("counter tcp_conntrack_input_new {") < pos("chain forward_counter {"));
    // Chains in hook order, each with its own rules only.
    CHECK(pos("chain forward_counter {") < pos("chain input_counter {"));
    CHECK(pos("counter name \"tcp_conntrack_fwd_new\"") < pos("chain input_counter {"));
    CHECK(pos("chain input_counter {") < pos("counter name \"udp_conntrack_input_invalid\""));
}

// ---------------------------------------------------------------------------------------------
// The map shape (the default): one rule per chain, the counter looked up by protocol and state.

TEST_CASE("the default spec renders the map shape: same counters, one map rule per chain") {
    const std::string text = render_nft(RulesetSpec{});
    const std::string forward =
        "\tchain forward_counter {\n"
        "\t\ttype filter hook forward priority 0; policy accept;\n"
        "\t\tcounter name ip protocol . ct state map {\n"
        "\t\t\ttcp . new : \"tcp_conntrack_fwd_new\",\n"
        "\t\t\ttcp . established : \"tcp_conntrack_fwd_established\",\n"
        "\t\t\ttcp . invalid : \"tcp_conntrack_fwd_invalid\",\n"
        "\t\t\tudp . new : \"udp_conntrack_fwd_new\",\n"
        "\t\t\tudp . established : \"udp_conntrack_fwd_established\",\n"
        "\t\t\tudp . invalid : \"udp_conntrack_fwd_invalid\"\n"
        "\t\t}\n"
        "\t}\n"
        "}\n";
    CHECK(text.size() > forward.size());
    CHECK(text.substr(text.size() - forward.size()) == forward);
    // The counters are declared exactly as in the classic shape.
    RulesetSpec classic;
    classic.shape = RuleShape::classic;
    const std::string classic_text = render_nft(classic);
    const std::string declarations = classic_text.substr(0, classic_text.find("\n\tchain "));
    CHECK(text.rfind(declarations + "\n\tchain input_counter {\n", 0) == 0);
    CHECK(text.find("ct state new counter") == std::string::npos);
    std::size_t maps = 0;
    for (auto p = text.find(" map {\n"); p != std::string::npos; p = text.find(" map {\n", p + 1)) ++maps;
    CHECK(maps == 3);
}

TEST_CASE("render_nft of the map shape in family inet uses meta l4proto as the key") {
    RulesetSpec spec;
    spec.family = Family::inet;
    spec.table = "single";
    spec.hooks = {Hook::prerouting};
    spec.protocols = {Protocol::icmpv6};
    spec.states = {CtState::untracked};
    spec.priority = 10;
    const std::string expected =
        "table inet single {\n"
        "\tcounter icmpv6_conntrack_prerouting_untracked {\n"
        "\t}\n"
        "\n"
        "\tchain prerouting_counter {\n"
        "\t\ttype filter hook prerouting priority 10; policy accept;\n"
        "\t\tcounter name meta l4proto . ct state map {\n"
        "\t\t\ticmpv6 . untracked : \"icmpv6_conntrack_prerouting_untracked\"\n"
        "\t\t}\n"
        "\t}\n"
        "}\n";
    CHECK(render_nft(spec) == expected);
}

TEST_CASE("render_nft of the map shape keeps the order of protocols and states as given") {
    RulesetSpec spec;
    spec.family = Family::ip6;
    spec.hooks = {Hook::output};
    spec.protocols = {Protocol::udp, Protocol::tcp};
    spec.states = {CtState::invalid, CtState::new_};
    const std::string text = render_nft(spec);
    const std::string rule =
        "\t\tcounter name meta l4proto . ct state map {\n"
        "\t\t\tudp . invalid : \"udp_conntrack_output_invalid\",\n"
        "\t\t\tudp . new : \"udp_conntrack_output_new\",\n"
        "\t\t\ttcp . invalid : \"tcp_conntrack_output_invalid\",\n"
        "\t\t\ttcp . new : \"tcp_conntrack_output_new\"\n"
        "\t\t}\n";
    CHECK(text.find(rule) != std::string::npos);
}
