#include "nft/offload_probe.h"

#include <algorithm>
#include <limits>
#include <memory>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"
#include "nft/nftnl_ptr.h"

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

void add_counter(Batch& batch, const std::string& table, const std::string& name) {
    ObjPtr obj(nftnl_obj_alloc());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, NFPROTO_NETDEV);
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_NEWOBJ, NFPROTO_NETDEV, NLM_F_CREATE, "counter " + name),
                                  obj.get());
}

void add_chain(Batch& batch, const std::string& table, const char* name, const Flowtables& f, int32_t priority) {
    ChainPtr chain(nftnl_chain_alloc());
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    std::vector<const char*> devices;
    for (const auto& d : f.devices) devices.push_back(d.c_str());
    devices.push_back(nullptr);
    nftnl_chain_set_array(chain.get(), NFTNL_CHAIN_DEVICES, devices.data());
    nftnl_chain_nlmsg_build_payload(
        batch.add(NFT_MSG_NEWCHAIN, NFPROTO_NETDEV, NLM_F_CREATE, std::string("chain ") + name), chain.get());
}

// `meta l4proto <protocol> counter name "<counter>"`
void add_rule(Batch& batch, const std::string& table, const char* chain, Protocol protocol, const std::string& counter) {
    RulePtr rule(nftnl_rule_alloc());
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain);
    ExprPtr load(nftnl_expr_alloc("meta"));
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
    nftnl_rule_add_expr(rule.get(), load.release());
    ExprPtr cmp(nftnl_expr_alloc("cmp"));
    const uint8_t number = ip_protocol_number(protocol);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &number, sizeof number);
    nftnl_rule_add_expr(rule.get(), cmp.release());
    ExprPtr ref(nftnl_expr_alloc("objref"));
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_IMM_NAME, counter.c_str());
    nftnl_rule_add_expr(rule.get(), ref.release());
    nftnl_rule_nlmsg_build_payload(
        batch.add(NFT_MSG_NEWRULE, NFPROTO_NETDEV, NLM_F_CREATE | NLM_F_APPEND, "rule counting " + counter), rule.get());
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
        if (devs)
            ok = walk_attrs(attr_payload(devs), attr_payload_len(devs), [&](const nlattr* a) {
                if (attr_type(a) != NFTA_DEVICE_NAME) return true;
                if (!attr_is_nul_string(a)) return false;
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
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_NETDEV);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_NEWTABLE, NFPROTO_NETDEV, NLM_F_CREATE, "table netdev " + table),
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
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_NETDEV);
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_DELTABLE, NFPROTO_NETDEV, 0, "table netdev " + table), t.get());
}

void OffloadTally::sample(Protocol protocol, uint64_t ahead, uint64_t behind) {
    const uint64_t diff = ahead > behind ? ahead - behind : 0;
    auto& last = last_[index(protocol)];
    last = std::max(last, diff);
}

void OffloadTally::restart() {
    for (std::size_t i = 0; i < base_.size(); ++i) {
        base_[i] += last_[i];
        last_[i] = 0;
    }
}

uint64_t OffloadTally::total(Protocol protocol) const { return base_[index(protocol)] + last_[index(protocol)]; }

}  // namespace ctnft
