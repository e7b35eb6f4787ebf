#include "nft/managed_table.h"
#include "nft/text.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"
#include "nft/ruleset_batch.h"

namespace ctnft {
namespace {

uint32_t wanted_flags(bool keep, bool owner_flag) {
    if (!owner_flag) return 0;
    return keep ? (kTableFlagOwner | kTableFlagPersist) : kTableFlagOwner;
}

int count_rules_cb(const nlmsghdr* nlh, void* data) {
    auto* count = static_cast<std::size_t*>(data);
    if (!nlh) *count = 0;
    else ++*count;
    return MNL_CB_OK;
}

int gen_cb(const nlmsghdr* nlh, void* data) {
    if (!nlh) return MNL_CB_OK;
    const nlattr* tb[NFTA_GEN_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWGEN), tb, NFTA_GEN_MAX) || !tb[NFTA_GEN_ID] ||
        mnl_attr_validate(tb[NFTA_GEN_ID], MNL_TYPE_U32) < 0)
        return MNL_CB_ERROR;
    *static_cast<uint32_t*>(data) = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID]));
    return MNL_CB_OK;
}

}  // namespace

ManagedTable::ManagedTable(RulesetSpec spec, bool keep, bool owner_flag)
    : spec_(std::move(spec)),
      keep_(keep),
      flags_(wanted_flags(keep, owner_flag)),
      expected_counters_(counting_rules(spec_).size()),
      expected_rules_(expected_rule_count(spec_)),
      reader_(spec_.family, spec_.table) {}

Status ManagedTable::open() { return sock_.open(); }

Status ManagedTable::commit_ruleset(bool exists, bool keep_values, const std::vector<ChainInfo>& chains,
                                    uint16_t& refused) {
    Batch batch(sock_.next_seq());
    if (exists && keep_values) {
        // Same chains: flush the rules and add them again; counters, declared without
        // NLM_F_EXCL, keep their values. Chains and counters we no longer want go. The anonymous
        // maps of the map shape belong to their rules: the flush removes them too, and the
        // ruleset brings new ones.
        std::size_t count = 0;
        bool missing = false;
        if (Status s = reader_.read(sock_, scratch_, count, missing); !s) return s;
        add_table(batch, spec_.family, spec_.table, flags_);
        add_flush_rules(batch, spec_.family, spec_.table);
        for (const auto& chain : chains)
            if (std::none_of(spec_.hooks.begin(), spec_.hooks.end(),
                             [&](Hook h) { return chain_name(h) == chain.name; }))
                add_delete_chain(batch, spec_.family, spec_.table, chain.name);
        const auto rules = counting_rules(spec_);
        for (std::size_t i = 0; i < count; ++i)
            if (std::none_of(rules.begin(), rules.end(), [&](const CountingRule& r) { return r.counter == scratch_[i].name; }))
                add_delete_counter(batch, spec_.family, spec_.table, scratch_[i].name);
    } else {
        if (exists) add_delete_table(batch, spec_.family, spec_.table);
        add_table(batch, spec_.family, spec_.table, flags_);
    }
    add_ruleset(batch, spec_);
    return sock_.commit(batch, &refused);
}

Status ManagedTable::create() {
    TableInfo info;
    if (Status s = get_table(sock_, spec_.family, spec_.table, info); !s) return s;
    if (info.exists && (info.flags & kTableFlagOwner) && info.owner != sock_.portid())
        return Status::error(describe_table(spec_.family, spec_.table) +
                                 " is owned by another process (netlink port " + dec(info.owner) +
                                 "): another collectd or program manages it; stop that one or choose another Table",
                             EPERM);

    bool keep_values = false;
    std::vector<ChainInfo> chains;
    if (info.exists) {
        // Chains whose hook or priority differ cannot be changed in place: replace the table then.
        if (Status s = list_chains(sock_, spec_.family, spec_.table, chains); !s) return s;
        keep_values = std::all_of(chains.begin(), chains.end(), [&](const ChainInfo& c) {
            for (Hook h : spec_.hooks)
                if (chain_name(h) == c.name)
                    return c.base && c.hook == hook_number(h) && c.priority == spec_.priority && c.type == "filter";
            return true;
        });
    }

    // An existing table that is neither ours nor an orphan the persist flag left behind cannot
    // take the owner flag on any kernel: keep its values unowned, or replace it to own it.
    if (info.exists && keep_values && (flags_ & kTableFlagOwner) &&
        (info.flags & (kTableFlagOwner | kTableFlagPersist)) != kTableFlagPersist) {
        bool supported = false;
        if (Status s = flags_supported(flags_, supported); !s) return s;
        // An older kernel: the values stay, unowned. A kernel that knows the flags: the table is
        // replaced once (its values restart) and owned from then on.
        if (!supported) refuse_flags();
        else keep_values = false;
    }

    for (;;) {
        uint16_t refused = kNoMessage;
        Status s = commit_ruleset(info.exists, keep_values, chains, refused);
        if (s) break;
        if (s.code() != EOPNOTSUPP || refused != NFT_MSG_NEWTABLE) return s;
        if (keep_values && !keep_) {
            // The kernel cannot change an existing table's owner flag: replace the table.
            keep_values = false;
        } else if (flags_ != 0) {
            // An older kernel without the owner (5.12) or persist (6.9) flag: an unowned table,
            // which the plugin watches and repairs instead. With KeepTable the values stay.
            refuse_flags();
        } else if (keep_values) {
            keep_values = false;
        } else {
            return s;
        }
    }
    adopted_ = info.exists && keep_values;
    // Unowned: the rules as made are verified as of the generation before this transaction (the
    // first read checks them once more).
    verified_genid_.reset();
    return {};
}

void ManagedTable::refuse_flags() {
    if (refused_flags_ == 0) {
        refused_flags_ = flags_;
        // Kernels 5.12 to 6.8 know the owner flag and refuse only persist: say which.
        bool owner = false;
        if (flags_ == (kTableFlagOwner | kTableFlagPersist) && flags_supported(kTableFlagOwner, owner) && owner)
            refused_flags_ = kTableFlagPersist;
    }
    flags_ = 0;
}

Status ManagedTable::flags_supported(uint32_t flags, bool& supported) {
    // A throwaway table with the flags, deleted again in the same transaction: the ruleset is
    // unchanged either way. NLM_F_EXCL: a table of that name that exists is never touched.
    const std::string probe = "conntrack_nft_flags_probe";
    Batch batch(sock_.next_seq());
    add_table(batch, spec_.family, probe, flags, NLM_F_EXCL);
    add_delete_table(batch, spec_.family, probe);
    uint16_t refused = kNoMessage;
    Status s = sock_.commit(batch, &refused);
    supported = static_cast<bool>(s);
    if (s || (s.code() == EOPNOTSUPP && refused == NFT_MSG_NEWTABLE)) return {};
    if (s.code() == EEXIST) return {};  // someone's table of that name: assume the older kernel
    return s;
}

Status ManagedTable::generation(uint32_t& genid) {
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(sock_.request_buffer(), NFT_MSG_GETGEN, AF_UNSPEC, 0, sock_.next_seq());
    Status s = sock_.query(nlh, gen_cb, &genid);
    if (!s) return Status::error(explain_kernel_error(s.code(), kNoMessage, "nf_tables generation"), s.code());
    return {};
}

Status ManagedTable::check_rules(bool& intact) {
    RulePtr rule(nftnl_rule_alloc());
    if (!rule) return Status::error("out of memory", ENOMEM);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, spec_.table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(sock_.request_buffer(), NFT_MSG_GETRULE, nfproto(spec_.family), NLM_F_DUMP,
                                          sock_.next_seq());
    nftnl_rule_nlmsg_build_payload(nlh, rule.get());
    std::size_t rules = 0;
    Status s = sock_.dump(nlh, count_rules_cb, &rules);
    if (!s) return Status::error(explain_kernel_error(s.code(), kNoMessage, "rules of table " + spec_.table), s.code());
    intact = rules == expected_rules_;
    return {};
}

Status ManagedTable::read(std::vector<CounterValue>& values, std::size_t& count, std::string& repaired) {
    repaired.clear();
    bool missing = false;
    if (Status s = reader_.read(sock_, values, count, missing); !s) return s;
    if (missing) {
        repaired = "the table was removed by someone else";
    } else if (count != expected_counters_) {
        repaired = "the table holds " + dec(count) + " counters instead of " + dec(expected_counters_);
    } else if (!owned()) {
        // Nobody else can touch an owned table. An unowned one may have lost its rules (`nft flush
        // table`) while its counters stay: check whenever the ruleset generation moved.
        // The generation read before the check is the one verified: a change during the check
        // moves it again, and the next read checks again.
        uint32_t genid = 0;
        if (Status s = generation(genid); !s) return s;
        if (genid != verified_genid_) {
            bool intact = false;
            if (Status s = check_rules(intact); !s) return s;
            if (!intact) repaired = "the table's rules were removed by someone else";
            else verified_genid_ = genid;
        }
    }
    if (repaired.empty()) return {};
    if (Status s = create(); !s) return s;
    bool still_missing = false;
    return reader_.read(sock_, values, count, still_missing);
}

Status ManagedTable::remove() {
    TableInfo info;
    if (Status s = get_table(sock_, spec_.family, spec_.table, info); !s) return s;
    if (!info.exists) return {};
    Batch batch(sock_.next_seq());
    add_delete_table(batch, spec_.family, spec_.table);
    Status s = sock_.commit(batch);
    if (!s && s.code() == ENOENT) return {};
    return s;
}

}  // namespace ctnft
