#include "nft/ruleset_batch.h"

#include <cstring>

#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

namespace ctnft {
namespace {

constexpr uint16_t kCreate = NLM_F_CREATE;
constexpr uint16_t kNoFlags = 0;

// Registers are 4 bytes wide: a protocol byte is compared as one byte, a state as a u32.
constexpr uint32_t kReg1 = NFT_REG_1;
// The second 4-byte register of a concatenation that starts in reg 1: the ct state half of the key.
constexpr uint32_t kReg32_01 = NFT_REG32_01;

using SetPtr = std::unique_ptr<nftnl_set, FreeWith<nftnl_set_free>>;
using SetElemPtr = std::unique_ptr<nftnl_set_elem, FreeWith<nftnl_set_elem_free>>;

// The anonymous map of the map shape, as nft 1.0.6 sends it for
// `counter name ip protocol . ct state map { tcp . new : "...", ... }`, so that `nft list` prints
// the same table for our batch and for `nft -f` of the rendered text.
// The kernel replaces %d with a free number (__objmap0, __objmap1...).
constexpr const char* kAnonymousObjectMap = "__objmap%d";
// nft's datatype ids, concatenated 6 bits each: inet_proto (12) . ct_state (26). `meta l4proto`
// and `ip protocol` are both inet_proto.
constexpr uint32_t kTypeInetProto = 12;
constexpr uint32_t kTypeCtState = 26;
constexpr uint32_t kConcatTypeBits = 6;
// Two 4-byte register slots: the protocol byte (zero padded), then the host-endian ct state.
constexpr uint32_t kMapKeyLength = 8;
constexpr uint32_t kMapFlags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_OBJECT;
// nft's set user data (libnftnl udata TLVs): key byte order 0 (a concatenation), data interval 0.
constexpr unsigned char kMapUserData[] = {0, 4, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0};

constexpr const char* kNoMemory = "out of memory";

ExprPtr make_expr(const char* name) { return ExprPtr(nftnl_expr_alloc(name)); }

void add_expr(nftnl_rule* rule, ExprPtr expr) { nftnl_rule_add_expr(rule, expr.release()); }

// The expression builders return false when libnftnl could not allocate (the rule is then not sent).
bool add_protocol_load(nftnl_rule* rule, Family family) {
    if (family == Family::ip) {
        auto load = make_expr("payload");
        if (!load) return false;
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_DREG, kReg1);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_OFFSET, 9);  // iphdr.protocol
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_LEN, 1);
        add_expr(rule, std::move(load));
    } else {
        auto load = make_expr("meta");
        if (!load) return false;
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_DREG, kReg1);
        add_expr(rule, std::move(load));
    }
    return true;
}

bool add_protocol_match(nftnl_rule* rule, Family family, Protocol protocol) {
    if (!add_protocol_load(rule, family)) return false;
    auto cmp = make_expr("cmp");
    if (!cmp) return false;
    const uint8_t number = ip_protocol_number(protocol);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, kReg1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &number, sizeof number);
    add_expr(rule, std::move(cmp));
    return true;
}

bool add_state_match(nftnl_rule* rule, CtState state) {
    auto load = make_expr("ct");
    auto mask = make_expr("bitwise");
    auto cmp = make_expr("cmp");
    if (!load || !mask || !cmp) return false;
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_CT_DREG, kReg1);
    add_expr(rule, std::move(load));

    const uint32_t bit = ct_state_bit(state);
    const uint32_t zero = 0;
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_SREG, kReg1);
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_DREG, kReg1);
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_LEN, sizeof bit);
    nftnl_expr_set(mask.get(), NFTNL_EXPR_BITWISE_MASK, &bit, sizeof bit);
    nftnl_expr_set(mask.get(), NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    add_expr(rule, std::move(mask));

    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, kReg1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
    add_expr(rule, std::move(cmp));
    return true;
}

bool add_counter_ref(nftnl_rule* rule, const std::string& counter) {
    auto ref = make_expr("objref");
    if (!ref) return false;
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_IMM_NAME, counter.c_str());
    add_expr(rule, std::move(ref));
    return true;
}

void add_counter(Batch& batch, Family family, const std::string& table, const std::string& counter) {
    ObjPtr obj(nftnl_obj_alloc());
    if (!obj) return batch.fail(kNoMemory);
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, nfproto(family));
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, counter.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    // Without NLM_F_EXCL an existing counter is left as it is, value included.
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_NEWOBJ, nfproto(family), kCreate, "counter " + counter,
                                            kFixedRoom + string_room(table) + string_room(counter)),
                                  obj.get());
}

void add_chain(Batch& batch, const RulesetSpec& spec, Hook hook) {
    ChainPtr chain(nftnl_chain_alloc());
    if (!chain) return batch.fail(kNoMemory);
    const std::string name = chain_name(hook);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, nfproto(spec.family));
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, spec.table.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    // The kernel only takes a hook when both number and priority are present.
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, hook_number(hook));
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, spec.priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nftnl_chain_nlmsg_build_payload(batch.add(NFT_MSG_NEWCHAIN, nfproto(spec.family), kCreate, "chain " + name,
                                              kFixedRoom + string_room(spec.table) + string_room(name)),
                                    chain.get());
}

// The map of one chain (set and elements, two messages) and its single rule:
//   [ payload load 1b @ network header + 9 => reg 1 ]   (meta load l4proto in ip6/inet)
//   [ ct load state => reg 9 ]
//   [ objref sreg 1 set __objmapN ]
// The rule names the map by its batch-local id, as the kernel has not named it yet.
void add_map_chain_rule(Batch& batch, const RulesetSpec& spec, const std::vector<CountingRule>& rules, Hook hook,
                        uint32_t set_id) {
    const uint8_t family = nfproto(spec.family);
    const std::string chain = chain_name(hook);
    SetPtr set(nftnl_set_alloc());
    if (!set) return batch.fail(kNoMemory);
    nftnl_set_set_u32(set.get(), NFTNL_SET_FAMILY, family);
    nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, spec.table.c_str());
    nftnl_set_set_str(set.get(), NFTNL_SET_NAME, kAnonymousObjectMap);
    nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, kMapFlags);
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, (kTypeInetProto << kConcatTypeBits) | kTypeCtState);
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, kMapKeyLength);
    nftnl_set_set_u32(set.get(), NFTNL_SET_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_set_set_u32(set.get(), NFTNL_SET_ID, set_id);
    nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, kMapUserData, sizeof kMapUserData);
    uint32_t elements = 0;
    // Each element: its nest, the 8-byte key in a nested value, and the counter's name.
    std::size_t element_room = 0;
    for (const auto& rule : rules) {
        if (rule.hook != hook) continue;
        unsigned char key[kMapKeyLength] = {};
        key[0] = ip_protocol_number(rule.protocol);
        const uint32_t state = ct_state_bit(rule.state);  // host-endian, as `ct load state` writes it
        std::memcpy(key + 4, &state, sizeof state);
        SetElemPtr elem(nftnl_set_elem_alloc());
        if (!elem) return batch.fail(kNoMemory);
        nftnl_set_elem_set(elem.get(), NFTNL_SET_ELEM_KEY, key, sizeof key);
        nftnl_set_elem_set_str(elem.get(), NFTNL_SET_ELEM_OBJREF, rule.counter.c_str());
        nftnl_set_elem_add(set.get(), elem.release());
        ++elements;
        element_room += attr_room(0) + attr_room(attr_room(kMapKeyLength)) + string_room(rule.counter);
    }
    nftnl_set_set_u32(set.get(), NFTNL_SET_DESC_SIZE, elements);
    const std::string what = "map of chain " + chain;
    const std::size_t names_room = string_room(spec.table) + string_room(kAnonymousObjectMap);
    nftnl_set_nlmsg_build_payload(batch.add(NFT_MSG_NEWSET, family, kCreate, what, kFixedRoom + names_room), set.get());
    nftnl_set_elems_nlmsg_build_payload(batch.add(NFT_MSG_NEWSETELEM, family, kCreate, "elements of the " + what,
                                                  kFixedRoom + names_room + element_room),
                                        set.get());

    RulePtr rule(nftnl_rule_alloc());
    auto state = make_expr("ct");
    auto ref = make_expr("objref");
    if (!rule || !state || !ref || !add_protocol_load(rule.get(), spec.family)) return batch.fail(kNoMemory);
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, family);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, spec.table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
    nftnl_expr_set_u32(state.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(state.get(), NFTNL_EXPR_CT_DREG, kReg32_01);
    add_expr(rule.get(), std::move(state));
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_SET_SREG, kReg1);
    nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_SET_NAME, kAnonymousObjectMap);
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_SET_ID, set_id);
    add_expr(rule.get(), std::move(ref));
    nftnl_rule_nlmsg_build_payload(batch.add(NFT_MSG_NEWRULE, family, kCreate | NLM_F_APPEND, "map rule in chain " + chain,
                                             kFixedRoom + string_room(spec.table) + string_room(chain) +
                                                 string_room(kAnonymousObjectMap)),
                                   rule.get());
}

void add_rule(Batch& batch, const RulesetSpec& spec, const CountingRule& counting) {
    RulePtr rule(nftnl_rule_alloc());
    if (!rule) return batch.fail(kNoMemory);
    const std::string chain = chain_name(counting.hook);
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, nfproto(spec.family));
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, spec.table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
    if (!add_protocol_match(rule.get(), spec.family, counting.protocol) || !add_state_match(rule.get(), counting.state) ||
        !add_counter_ref(rule.get(), counting.counter))
        return batch.fail(kNoMemory);
    nftnl_rule_nlmsg_build_payload(batch.add(NFT_MSG_NEWRULE, nfproto(spec.family), kCreate | NLM_F_APPEND,
                                             "rule for counter " + counting.counter + " in chain " + chain,
                                             kFixedRoom + string_room(spec.table) + string_room(chain) +
                                                 string_room(counting.counter)),
                                   rule.get());
}

}  // namespace

void add_table(Batch& batch, Family family, const std::string& table, uint32_t flags, uint16_t nlm_flags) {
    TablePtr t(nftnl_table_alloc());
    if (!t) return batch.fail(kNoMemory);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, nfproto(family));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_NEWTABLE, nfproto(family), kCreate | nlm_flags,
                                              describe_table(family, table), kFixedRoom + string_room(table)),
                                    t.get());
}

void add_delete_table(Batch& batch, Family family, const std::string& table) {
    TablePtr t(nftnl_table_alloc());
    if (!t) return batch.fail(kNoMemory);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, nfproto(family));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_DELTABLE, nfproto(family), kNoFlags,
                                              describe_table(family, table), kFixedRoom + string_room(table)),
                                    t.get());
}

void add_flush_rules(Batch& batch, Family family, const std::string& table) {
    RulePtr rule(nftnl_rule_alloc());
    if (!rule) return batch.fail(kNoMemory);
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, nfproto(family));
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_nlmsg_build_payload(batch.add(NFT_MSG_DELRULE, nfproto(family), kNoFlags,
                                             "rules of " + describe_table(family, table), kFixedRoom + string_room(table)),
                                   rule.get());
}

void add_delete_chain(Batch& batch, Family family, const std::string& table, const std::string& chain) {
    ChainPtr c(nftnl_chain_alloc());
    if (!c) return batch.fail(kNoMemory);
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, nfproto(family));
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
    nftnl_chain_nlmsg_build_payload(batch.add(NFT_MSG_DELCHAIN, nfproto(family), kNoFlags, "chain " + chain,
                                              kFixedRoom + string_room(table) + string_room(chain)),
                                    c.get());
}

void add_delete_counter(Batch& batch, Family family, const std::string& table, const std::string& counter) {
    ObjPtr obj(nftnl_obj_alloc());
    if (!obj) return batch.fail(kNoMemory);
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, nfproto(family));
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, counter.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_DELOBJ, nfproto(family), kNoFlags, "counter " + counter,
                                            kFixedRoom + string_room(table) + string_room(counter)),
                                  obj.get());
}

void add_ruleset(Batch& batch, const RulesetSpec& spec) {
    const auto rules = counting_rules(spec);
    for (const auto& rule : rules) add_counter(batch, spec.family, spec.table, rule.counter);
    for (Hook hook : spec.hooks) add_chain(batch, spec, hook);
    if (spec.shape == RuleShape::map) {
        uint32_t set_id = 0;
        for (Hook hook : spec.hooks) add_map_chain_rule(batch, spec, rules, hook, ++set_id);
    } else {
        for (const auto& rule : rules) add_rule(batch, spec, rule);
    }
}

}  // namespace ctnft
