#include "nft/render.h"

namespace ctnft {
namespace {

std::string protocol_match(Family family, Protocol protocol) {
    // In family ip the hand-written ruleset matches the IPv4 header field; ip6 and inet need
    // meta l4proto, which also looks past IPv6 extension headers.
    std::string match = family == Family::ip ? "ip protocol " : "meta l4proto ";
    return match + std::string(to_string(protocol));
}

}  // namespace

std::string render_nft(const RulesetSpec& spec) {
    const auto rules = counting_rules(spec);
    std::string out = "table " + std::string(to_string(spec.family)) + " " + spec.table + " {\n";
    for (const auto& rule : rules) out += "\tcounter " + rule.counter + " {\n\t}\n";
    for (Hook hook : spec.hooks) {
        out += "\n\tchain " + chain_name(hook) + " {\n";
        out += "\t\ttype filter hook " + std::string(to_string(hook)) + " priority " + std::to_string(spec.priority) +
               "; policy accept;\n";
        for (const auto& rule : rules) {
            if (rule.hook != hook) continue;
            out += "\t\t" + protocol_match(spec.family, rule.protocol) + " ct state " +
                   std::string(to_string(rule.state)) + " counter name \"" + rule.counter + "\"\n";
        }
        out += "\t}\n";
    }
    out += "}\n";
    return out;
}

}  // namespace ctnft
