// Turns ruleset values into nf_tables batch messages. One function per kind of message;
// add_ruleset() writes the whole counting ruleset (counters, chains, rules) of a spec.
#pragma once

#include <cstdint>
#include <string>

#include "nft/model.h"
#include "nft/netlink_socket.h"

namespace ctnft {

// Table flags we use; NFT_TABLE_F_PERSIST (kernel >= 6.9) is missing from older UAPI headers.
constexpr uint32_t kTableFlagOwner = 0x2;
constexpr uint32_t kTableFlagPersist = 0x4;

// nlm_flags: NLM_F_EXCL to fail (EEXIST) rather than update a table that exists.
void add_table(Batch& batch, Family family, const std::string& table, uint32_t flags, uint16_t nlm_flags = 0);
void add_delete_table(Batch& batch, Family family, const std::string& table);
// Removes every rule of the table, keeping chains and counters (and the counters' values).
void add_flush_rules(Batch& batch, Family family, const std::string& table);
void add_delete_chain(Batch& batch, Family family, const std::string& table, const std::string& chain);
void add_delete_counter(Batch& batch, Family family, const std::string& table, const std::string& counter);
void add_ruleset(Batch& batch, const RulesetSpec& spec);

}  // namespace ctnft
