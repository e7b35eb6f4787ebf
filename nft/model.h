// Value types that describe the counting ruleset: what is counted, in which table, at which hooks.
// Pure data and rules about it; nothing here talks to the kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nft/status.h"

namespace ctnft {

// netdev is the offload probe's family (nft/offload_probe.h), never a user's choice: parse_family
// and accepted_families know only ip, ip6 and inet.
enum class Family { ip, ip6, inet, netdev };
enum class Hook { prerouting, input, forward, output, postrouting };
enum class Protocol { tcp, udp, icmp, icmpv6 };
enum class CtState { invalid, established, related, new_, untracked };
// How a chain's rules pick the counter:
//  classic: one rule per protocol and state, `ip protocol tcp ct state new counter name "..."`,
//           every packet walks all of them (the hand-written ruleset, nft/conntrack-counter.nft);
//  map:     one rule per chain, `counter name ip protocol . ct state map { tcp . new : "...", ... }`,
//           a single hash lookup per packet. Same counters, same counts (a packet carries exactly
//           one ct state bit; a protocol or state not in the map is not counted, as before).
enum class RuleShape { classic, map };

// Conntrack assigns a state at this priority; a counting chain must run after it.
constexpr int32_t kConntrackPriority = -200;
// nft identifiers are longer in the kernel (256), but names end up in collectd identifiers,
// whose fields hold 127 characters; the table name stays short enough to leave room.
constexpr std::size_t kMaxTableNameLength = 63;

struct RulesetSpec {
    Family family = Family::ip;
    std::string table = "conntrack_stats";
    std::vector<Hook> hooks{Hook::input, Hook::output, Hook::forward};
    std::vector<Protocol> protocols{Protocol::tcp, Protocol::udp};
    std::vector<CtState> states{CtState::new_, CtState::established, CtState::invalid};
    int32_t priority = 0;
    RuleShape shape = RuleShape::map;
};

// One counting rule: packets of `protocol` in `state` seen at `hook` go to counter `counter`.
struct CountingRule {
    Hook hook;
    Protocol protocol;
    CtState state;
    std::string counter;
};

// Rules in chain order: hooks as given, then protocols, then states. Counters are declared in
// this order too, so that the kernel lists what we create and what `nft -f` creates alike.
std::vector<CountingRule> counting_rules(const RulesetSpec& spec);
// Rules the kernel holds for the spec: one per counter (classic) or one per chain (map).
std::size_t expected_rule_count(const RulesetSpec& spec);

std::string counter_name(Protocol protocol, Hook hook, CtState state);
// "table ip conntrack_stats": how messages name a table.
std::string describe_table(Family family, const std::string& table);
std::string chain_name(Hook hook);

Status validate(const RulesetSpec& spec);
// Checks a table name in the same way validate() does, for callers that only attach to a table.
Status validate_table_name(std::string_view name);
// The table of Manage false, which exists already: what nft allows and a collectd identifier
// can carry (nft's identifiers also take '/', which separates an identifier's parts).
Status validate_attached_table_name(std::string_view name);

std::string_view to_string(Family value);
std::string_view to_string(Hook value);
std::string_view to_string(Protocol value);
std::string_view to_string(CtState value);
std::string_view to_string(RuleShape value);

// Case-insensitive parsing; std::nullopt for anything else.
std::optional<Family> parse_family(std::string_view text);
std::optional<Hook> parse_hook(std::string_view text);
std::optional<Protocol> parse_protocol(std::string_view text);
std::optional<CtState> parse_state(std::string_view text);
std::optional<RuleShape> parse_rule_shape(std::string_view text);

// "ip, ip6, inet": the accepted values, for error messages.
std::string accepted_families();
std::string accepted_hooks();
std::string accepted_protocols();
std::string accepted_states();
std::string accepted_rule_shapes();

// Values the kernel uses.
uint8_t nfproto(Family family);           // NFPROTO_*
uint8_t ip_protocol_number(Protocol protocol);
uint32_t ct_state_bit(CtState state);     // NF_CT_STATE_*_BIT as seen by `ct state`
uint32_t hook_number(Hook hook);          // NF_INET_*

}  // namespace ctnft
