#include "nft/render.h"
#include "nft/text.h"

namespace ctnft {
namespace {

std::string protocol_key(Family family) {
    // In family ip the hand-written ruleset matches the IPv4 header field; ip6 and inet need
    // meta l4proto, which also looks past IPv6 extension headers.
    return family == Family::ip ? "ip protocol" : "meta l4proto";
}

void render_classic_rules(std::string& out, const RulesetSpec& spec, const std::vector<CountingRule>& rules, Hook hook) {
    for (const auto& rule : rules) {
        if (rule.hook != hook) continue;
        out += "\t\t" + protocol_key(spec.family) + " " + std::string(to_string(rule.protocol)) + " ct state " +
               std::string(to_string(rule.state)) + " counter name \"" + rule.counter + "\"\n";
    }
}

// One rule per chain: the counter is looked up by protocol and state in an anonymous map.
void render_map_rule(std::string& out, const RulesetSpec& spec, const std::vector<CountingRule>& rules, Hook hook) {
    out += "\t\tcounter name " + protocol_key(spec.family) + " . ct state map {\n";
    bool first = true;
    for (const auto& rule : rules) {
        if (rule.hook != hook) continue;
        if (!first) out += ",\n";
        first = false;
        out += "\t\t\t" + std::string(to_string(rule.protocol)) + " . " + std::string(to_string(rule.state)) + " : \"" +
               rule.counter + "\"";
    }
    out += "\n\t\t}\n";
}

}  // namespace

std::string render_nft(const RulesetSpec& spec) {
    const auto rules = counting_rules(spec);
    std::string out = describe_table(spec.family, spec.table) + " {\n";
    for (const auto& rule : rules) out += "\tcounter " + rule.counter + " {\n\t}\n";
    for (Hook hook : spec.hooks) {
        out += "\n\tchain " + chain_name(hook) + " {\n";
        out += "\t\ttype filter hook " + std::string(to_string(hook)) + " priority " + dec(spec.priority) +
               "; policy accept;\n";
        if (spec.shape == RuleShape::map) render_map_rule(out, spec, rules, hook);
        else render_classic_rules(out, spec, rules, hook);
        out += "\t}\n";
    }
    out += "}\n";
    return out;
}

}  // namespace ctnft
