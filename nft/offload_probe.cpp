#include "nft/offload_probe.h"

#include <algorithm>
#include <limits>
#include <memory>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"
#include "nft/nftnl_ptr.h"
#include "nft/ruleset_batch.h"
#include "nft/text.h"

namespace ctnft {
namespace {

constexpr const char* kAheadChain = "offload_ahead";
constexpr const char* kBehindChain = "offload_behind";

int flowtable_cb(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<Flowtables*>(data);
    if (!nlh) {  // an interrupted dump starts again
        *out = Flowtables{};
        return MNL_CB_OK;
    }
    if (nlh->nlmsg_type != nft_type(NFT_MSG_NEWFLOWTABLE)) return MNL_CB_OK;
    FlowtableInfo f;
    if (!parse_flowtable_message(nlh, f)) return MNL_CB_ERROR;
    out->add(f);
    return MNL_CB_OK;
}

constexpr const char* kNoMemory = "out of memory";

void add_counter(Batch& batch, const std::string& table, const std::string& name) {
    ObjPtr obj(nftnl_obj_alloc());
    if (!obj) return batch.fail(kNoMemory);
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, NFPROTO_NETDEV);
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_NEWOBJ, NFPROTO_NETDEV, NLM_F_CREATE, "counter " + name,
                                            kFixedRoom + string_room(table) + string_room(name)),
                                  obj.get());
}

void add_chain(Batch& batch, const std::string& table, const char* name, const Flowtables& f, int32_t priority) {
    if (f.devices.size() > kMaxHookDevices)
        return batch.fail(dec(f.devices.size()) + " devices, more than a chain can hook (" + dec(kMaxHookDevices) + ")");
    ChainPtr chain(nftnl_chain_alloc());
    if (!chain) return batch.fail(kNoMemory);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    std::vector<const char*> devices;
    std::size_t room = kFixedRoom + string_room(table) + string_room(name);
    for (const auto& d : f.devices) {
        devices.push_back(d.c_str());
        room += string_room(d);
    }
    devices.push_back(nullptr);
    nftnl_chain_set_array(chain.get(), NFTNL_CHAIN_DEVICES, devices.data());
    nftnl_chain_nlmsg_build_payload(
        batch.add(NFT_MSG_NEWCHAIN, NFPROTO_NETDEV, NLM_F_CREATE, std::string("chain ") + name, room), chain.get());
}

// `meta l4proto <protocol> counter name "<counter>"`
void add_rule(Batch& batch, const std::string& table, const char* chain, Protocol protocol, const std::string& counter) {
    RulePtr rule(nftnl_rule_alloc());
    ExprPtr load(nftnl_expr_alloc("meta"));
    ExprPtr cmp(nftnl_expr_alloc("cmp"));
    ExprPtr ref(nftnl_expr_alloc("objref"));
    if (!rule || !load || !cmp || !ref) return batch.fail(kNoMemory);
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain);
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
    nftnl_rule_add_expr(rule.get(), load.release());
    const uint8_t number = ip_protocol_number(protocol);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &number, sizeof number);
    nftnl_rule_add_expr(rule.get(), cmp.release());
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_IMM_NAME, counter.c_str());
    nftnl_rule_add_expr(rule.get(), ref.release());
    nftnl_rule_nlmsg_build_payload(batch.add(NFT_MSG_NEWRULE, NFPROTO_NETDEV, NLM_F_CREATE | NLM_F_APPEND,
                                             "rule counting " + counter,
                                             kFixedRoom + string_room(table) + string_room(chain) + string_room(counter)),
                                   rule.get());
}

}  // namespace

// Parsed here, not with nftnl_flowtable_nlmsg_parse: libnftnl calls exit() on a reply it finds
// malformed ("kernel ABI is broken"; the fuzzer found one), which would end collectd.
bool parse_flowtable_message(const nlmsghdr* nlh, FlowtableInfo& out) {
    const nlattr* tb[NFTA_FLOWTABLE_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWFLOWTABLE), tb, NFTA_FLOWTABLE_MAX)) return false;
    const nlattr* table = tb[NFTA_FLOWTABLE_TABLE];
    const nlattr* name = tb[NFTA_FLOWTABLE_NAME];
    if (!table || !name || !attr_is_nul_string(table) || !attr_is_nul_string(name)) return false;
    FlowtableInfo f;
    f.table = attr_payload(table);
    f.name = attr_payload(name);
    if (const nlattr* hook = tb[NFTA_FLOWTABLE_HOOK]) {
        if (!attr_is_nested(hook)) return false;
        const nlattr* devs = nullptr;
        bool ok = walk_attrs(attr_payload(hook), attr_payload_len(hook), [&](const nlattr* a) {
            switch (attr_type(a)) {
            case NFTA_FLOWTABLE_HOOK_PRIORITY:
                if (!attr_is_u32(a)) return false;
                f.priority = static_cast<int32_t>(ntohl(mnl_attr_get_u32(a)));
                return true;
            case NFTA_FLOWTABLE_HOOK_NUM: return attr_is_u32(a);
            case NFTA_FLOWTABLE_HOOK_DEVS: devs = a; return attr_is_nested(a);
            default: return true;
            }
        });
        if (!ok) return false;
        // What the kernel can hold, no more: a name within IFNAMSIZ, fewer than 256 devices.
        if (devs)
            ok = walk_attrs(attr_payload(devs), attr_payload_len(devs), [&](const nlattr* a) {
                if (attr_type(a) != NFTA_DEVICE_NAME) return true;
                if (!attr_is_nul_string(a) || attr_payload_len(a) > IFNAMSIZ || f.devices.size() >= kMaxHookDevices)
                    return false;
                if (attr_payload(a)[0]) f.devices.emplace_back(attr_payload(a));
                return true;
            });
        if (!ok) return false;
    }
    out = std::move(f);
    return true;
}

void Flowtables::add(const FlowtableInfo& f) {
    min_priority = count == 0 ? f.priority : std::min(min_priority, f.priority);
    max_priority = count == 0 ? f.priority : std::max(max_priority, f.priority);
    ++count;
    for (const auto& d : f.devices) {
        auto at = std::lower_bound(devices.begin(), devices.end(), d);
        if (at == devices.end() || *at != d) devices.insert(at, d);
    }
}

Status read_flowtables(NetlinkSocket& sock, Flowtables& out) {
    out = Flowtables{};
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(sock.request_buffer(), NFT_MSG_GETFLOWTABLE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                          sock.next_seq());
    if (Status s = sock.dump(nlh, flowtable_cb, &out); !s)
        return Status::error(explain_kernel_error(s.code(), kNoMessage, "flowtables"), s.code());
    return {};
}

int32_t probe_ahead_priority(const Flowtables& f) {
    return f.min_priority == std::numeric_limits<int32_t>::min() ? f.min_priority : f.min_priority - 1;
}

int32_t probe_behind_priority(const Flowtables& f) {
    return f.max_priority == std::numeric_limits<int32_t>::max() ? f.max_priority : f.max_priority + 1;
}

std::string probe_counter(Protocol protocol, bool ahead) {
    return std::string(to_string(protocol)) + (ahead ? "_ahead" : "_behind");
}

std::string offloaded_counter_name(Protocol protocol) {
    return std::string(to_string(protocol)) + "_conntrack_fwd_offloaded";
}

void add_offload_probe(Batch& batch, const std::string& table, const Flowtables& f, uint32_t flags) {
    TablePtr t(nftnl_table_alloc());
    if (!t) return batch.fail(kNoMemory);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_NETDEV);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_NEWTABLE, NFPROTO_NETDEV, NLM_F_CREATE, "table netdev " + table,
                                              kFixedRoom + string_room(table)),
                                    t.get());
    for (Protocol p : kProbeProtocols)
        for (bool ahead : {true, false}) add_counter(batch, table, probe_counter(p, ahead));
    add_chain(batch, table, kAheadChain, f, probe_ahead_priority(f));
    add_chain(batch, table, kBehindChain, f, probe_behind_priority(f));
    for (Protocol p : kProbeProtocols) {
        add_rule(batch, table, kAheadChain, p, probe_counter(p, true));
        add_rule(batch, table, kBehindChain, p, probe_counter(p, false));
    }
}

void add_delete_offload_probe(Batch& batch, const std::string& table) {
    TablePtr t(nftnl_table_alloc());
    if (!t) return batch.fail(kNoMemory);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_NETDEV);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_nlmsg_build_payload(
        batch.add(NFT_MSG_DELTABLE, NFPROTO_NETDEV, 0, "table netdev " + table, kFixedRoom + string_room(table)), t.get());
}

Status is_offload_probe(NetlinkSocket& sock, const std::string& table, bool& ours) {
    ours = false;
    std::vector<ChainInfo> chains;
    if (Status s = list_chains(sock, Family::netdev, table, chains); !s) return s;
    std::vector<std::string> names;
    for (const auto& c : chains) names.push_back(c.name);
    std::sort(names.begin(), names.end());
    if (names != std::vector<std::string>{kAheadChain, kBehindChain}) return {};
    CounterReader reader(Family::netdev, table);
    std::vector<CounterValue> values;
    std::size_t count = 0;
    bool missing = false;
    if (Status s = reader.read(sock, values, count, missing); !s) return s;
    names.clear();
    for (std::size_t i = 0; i < count; ++i) names.push_back(values[i].name);
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected;
    for (Protocol p : kProbeProtocols)
        for (bool ahead : {true, false}) expected.push_back(probe_counter(p, ahead));
    std::sort(expected.begin(), expected.end());
    ours = names == expected;
    return {};
}

void OffloadTally::sample(Protocol protocol, uint64_t ahead, uint64_t behind) {
    const std::size_t i = index(protocol);
    // Counters only grow: one that went back was reset or made again.
    if (ahead < ahead_[i] || behind < behind_[i]) {
        base_[i] += last_[i];
        last_[i] = 0;
    }
    ahead_[i] = ahead;
    behind_[i] = behind;
    const uint64_t diff = ahead > behind ? ahead - behind : 0;
    last_[i] = std::max(last_[i], diff);
}

void OffloadTally::restart() {
    for (std::size_t i = 0; i < base_.size(); ++i) {
        base_[i] += last_[i];
        last_[i] = 0;
        ahead_[i] = 0;
        behind_[i] = 0;
    }
}

uint64_t OffloadTally::total(Protocol protocol) const { return base_[index(protocol)] + last_[index(protocol)]; }

Status OffloadProbe::update(NetlinkSocket& sock, std::optional<uint16_t> generation, bool owned, std::string& made) {
    made.clear();
    if (checked_ && generation && generation == generation_) return {};
    generation_.reset();
    Flowtables now;
    if (Status s = read_flowtables(sock, now); !s) return s;
    if (now.devices.size() > kMaxHookDevices)
        return Status::error("the flowtables hook " + dec(now.devices.size()) + " devices; the offload probe can hook at most " +
                                 dec(kMaxHookDevices) + ", so the *_fwd_offloaded values stand still",
                             E2BIG);
    const bool same = now.devices == probe_.devices && probe_ahead_priority(now) == probe_ahead_priority(probe_) &&
                      probe_behind_priority(now) == probe_behind_priority(probe_);
    if (!same || !checked_) {
        if (Status s = replace(sock, now, owned); !s) return s;
        checked_ = true;
        if (!probe_.devices.empty() && probe_.devices != announced_) {
            announced_ = probe_.devices;
            std::string devices;
            for (const auto& dev : probe_.devices) devices += (devices.empty() ? "" : ", ") + dev;
            made = "counting offloaded forward packets at ingress of " + devices + " (table netdev " + table_ +
                   ", priorities " + dec(probe_ahead_priority(probe_)) + " and " + dec(probe_behind_priority(probe_)) +
                   " around the flowtables)";
        }
    }
    generation_ = generation;
    return {};
}

Status OffloadProbe::replace(NetlinkSocket& sock, const Flowtables& now, bool owned) {
    TableInfo info;
    if (Status s = get_table(sock, Family::netdev, table_, info); !s) return s;
    if (info.exists) {
        bool ours = false;
        if (Status s = is_offload_probe(sock, table_, ours); !s) return s;
        if (!ours)
            return Status::error("table netdev " + table_ + " exists and is not the plugin's offload probe: it is left "
                                 "alone; choose another Table or remove that table to count offloaded packets",
                                 EEXIST);
    }
    if (info.exists || !now.devices.empty()) {
        Batch batch(sock.next_seq());
        if (info.exists) add_delete_offload_probe(batch, table_);
        if (!now.devices.empty()) add_offload_probe(batch, table_, now, owned ? kTableFlagOwner : 0);
        if (Status s = sock.commit(batch); !s)
            return Status::error("offload probe on " + dec(now.devices.size()) + " flowtable device(s): " + s.message(),
                                 s.code());
    }
    // The old probe's counts are kept; the new one starts from zero.
    tally_.restart();
    probe_ = now.devices.empty() ? Flowtables{} : now;
    return {};
}

Status OffloadProbe::read(NetlinkSocket& sock) {
    if (probe_.devices.empty()) return {};
    if (!reader_) reader_.emplace(Family::netdev, table_);
    std::size_t count = 0;
    bool missing = false;
    if (Status s = reader_->read(sock, values_, count, missing); !s) return s;
    if (missing) {
        // Someone removed it: made again at the next update.
        tally_.restart();
        probe_ = Flowtables{};
        generation_.reset();
        return Status::error("the offload probe (table netdev " + table_ + ") was removed; made again");
    }
    for (Protocol p : kProbeProtocols) {
        uint64_t ahead = 0, behind = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (values_[i].name == probe_counter(p, true)) ahead = values_[i].packets;
            if (values_[i].name == probe_counter(p, false)) behind = values_[i].packets;
        }
        tally_.sample(p, ahead, behind);
    }
    return {};
}

Status OffloadProbe::remove(NetlinkSocket& sock) {
    if (probe_.devices.empty()) return {};
    Batch batch(sock.next_seq());
    add_delete_offload_probe(batch, table_);
    probe_ = Flowtables{};
    return sock.commit(batch);
}

}  // namespace ctnft
