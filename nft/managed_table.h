// The counting table the plugin owns: created in one transaction, kept healthy, removed at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nft/model.h"
#include "nft/netlink_socket.h"
#include "nft/ruleset_batch.h"
#include "nft/table_queries.h"

namespace ctnft {

class ManagedTable {
public:
    // keep: the table must survive this process (the owner flag is then only used together with
    // the kernel's persist flag, which lets an owned table outlive its owner).
    // owner_flag false: never ask for the owner flag, as on kernels before 5.12.
    ManagedTable(RulesetSpec spec, bool keep, bool owner_flag = true);

    Status open();
    // Creates the table, or replaces what a table of that name holds with exactly the spec's
    // ruleset, in one transaction. Counter values survive a replace where the kernel allows.
    Status create();
    // Reads every counter. If the table or its rules were removed behind our back, recreates
    // them first and says why in `repaired` (empty when nothing was wrong).
    Status read(std::vector<CounterValue>& values, std::size_t& count, std::string& repaired);
    // Deletes the table; absence is not an error.
    Status remove();

    const RulesetSpec& spec() const { return spec_; }
    // Table flags in force (owner/persist), after any fallback for older kernels.
    uint32_t flags() const { return flags_; }
    bool owned() const { return (flags_ & kTableFlagOwner) != 0; }
    // The flags this kernel refused (owner, persist: too old a kernel), 0 when none was.
    uint32_t refused_flags() const { return refused_flags_; }
    // The last create() kept an existing table and its counter values (KeepTable, a restart).
    bool adopted() const { return adopted_; }
    NetlinkSocket& socket() { return sock_; }
    // See CounterReader::generation.
    std::optional<uint16_t> generation() const { return reader_.generation(); }

private:
    Status commit_ruleset(bool exists, bool keep_values, const std::vector<ChainInfo>& chains, uint16_t& refused);
    Status check_rules(bool& intact);
    Status flags_supported(uint32_t flags, bool& supported);
    void refuse_flags();
    Status generation(uint32_t& genid);

    RulesetSpec spec_;
    bool keep_;
    uint32_t flags_;
    uint32_t refused_flags_ = 0;
    bool adopted_ = false;
    std::size_t expected_counters_;
    std::size_t expected_rules_;  // per shape: one per counter (classic) or one per chain (map)
    std::optional<uint32_t> verified_genid_;  // the generation whose rules were found intact
    NetlinkSocket sock_;
    CounterReader reader_;
    std::vector<CounterValue> scratch_;
};

}  // namespace ctnft
