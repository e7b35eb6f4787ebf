#include "nft/ruleset_batch.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

namespace ctnft {
namespace {

constexpr uint16_t kCreate = NLM_F_CREATE;
constexpr uint16_t kNoFlags = 0;

std::string table_what(Family family, const std::string& table) {
    return "table " + std::string(to_string(family)) + " " + table;
}

// Registers are 4 bytes wide: a protocol byte is compared as one byte, a state as a u32.
constexpr uint32_t kReg1 = NFT_REG_1;

ExprPtr make_expr(const char* name) { return ExprPtr(nftnl_expr_alloc(name)); }

void add_expr(nftnl_rule* rule, ExprPtr expr) { nftnl_rule_add_expr(rule, expr.release()); }

void add_protocol_match(nftnl_rule* rule, Family family, Protocol protocol) {
    if (family == Family::ip) {
        auto load = make_expr("payload");
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_DREG, kReg1);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_OFFSET, 9);  // iphdr.protocol
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_PAYLOAD_LEN, 1);
        add_expr(rule, std::move(load));
    } else {
        auto load = make_expr("meta");
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_DREG, kReg1);
        add_expr(rule, std::move(load));
    }
    auto cmp = make_expr("cmp");
    const uint8_t number = ip_protocol_number(protocol);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, kReg1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &number, sizeof number);
    add_expr(rule, std::move(cmp));
}

void add_state_match(nftnl_rule* rule, CtState state) {
    auto load = make_expr("ct");
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(load.get(), NFTNL_EXPR_CT_DREG, kReg1);
    add_expr(rule, std::move(load));

    auto mask = make_expr("bitwise");
    const uint32_t bit = ct_state_bit(state);
    const uint32_t zero = 0;
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_SREG, kReg1);
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_DREG, kReg1);
    nftnl_expr_set_u32(mask.get(), NFTNL_EXPR_BITWISE_LEN, sizeof bit);
    nftnl_expr_set(mask.get(), NFTNL_EXPR_BITWISE_MASK, &bit, sizeof bit);
    nftnl_expr_set(mask.get(), NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    add_expr(rule, std::move(mask));

    auto cmp = make_expr("cmp");
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_SREG, kReg1);
    nftnl_expr_set_u32(cmp.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
    nftnl_expr_set(cmp.get(), NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
    add_expr(rule, std::move(cmp));
}

void add_counter_ref(nftnl_rule* rule, const std::string& counter) {
    auto ref = make_expr("objref");
    nftnl_expr_set_u32(ref.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(ref.get(), NFTNL_EXPR_OBJREF_IMM_NAME, counter.c_str());
    add_expr(rule, std::move(ref));
}

void add_counter(Batch& batch, Family family, const std::string& table, const std::string& counter) {
    ObjPtr obj(nftnl_obj_alloc());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, nfproto(family));
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, counter.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    // Without NLM_F_EXCL an existing counter is left as it is, value included.
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_NEWOBJ, nfproto(family), kCreate, "counter " + counter), obj.get());
}

void add_chain(Batch& batch, const RulesetSpec& spec, Hook hook) {
    ChainPtr chain(nftnl_chain_alloc());
    const std::string name = chain_name(hook);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, nfproto(spec.family));
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, spec.table.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name.c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    // The kernel only takes a hook when both number and priority are present.
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, hook_number(hook));
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, spec.priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nftnl_chain_nlmsg_build_payload(batch.add(NFT_MSG_NEWCHAIN, nfproto(spec.family), kCreate, "chain " + name),
                                    chain.get());
}

void add_rule(Batch& batch, const RulesetSpec& spec, const CountingRule& counting) {
    RulePtr rule(nftnl_rule_alloc());
    const std::string chain = chain_name(counting.hook);
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, nfproto(spec.family));
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, spec.table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
    add_protocol_match(rule.get(), spec.family, counting.protocol);
    add_state_match(rule.get(), counting.state);
    add_counter_ref(rule.get(), counting.counter);
    nftnl_rule_nlmsg_build_payload(batch.add(NFT_MSG_NEWRULE, nfproto(spec.family), kCreate | NLM_F_APPEND,
                                             "rule for counter " + counting.counter + " in chain " + chain),
                                   rule.get());
}

}  // namespace

void add_table(Batch& batch, Family family, const std::string& table, uint32_t flags) {
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, nfproto(family));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_NEWTABLE, nfproto(family), kCreate, table_what(family, table)),
                                    t.get());
}

void add_delete_table(Batch& batch, Family family, const std::string& table) {
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, nfproto(family));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_nlmsg_build_payload(batch.add(NFT_MSG_DELTABLE, nfproto(family), kNoFlags, table_what(family, table)),
                                    t.get());
}

void add_flush_rules(Batch& batch, Family family, const std::string& table) {
    RulePtr rule(nftnl_rule_alloc());
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, nfproto(family));
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_nlmsg_build_payload(
        batch.add(NFT_MSG_DELRULE, nfproto(family), kNoFlags, "rules of " + table_what(family, table)), rule.get());
}

void add_delete_chain(Batch& batch, Family family, const std::string& table, const std::string& chain) {
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, nfproto(family));
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
    nftnl_chain_nlmsg_build_payload(batch.add(NFT_MSG_DELCHAIN, nfproto(family), kNoFlags, "chain " + chain), c.get());
}

void add_delete_counter(Batch& batch, Family family, const std::string& table, const std::string& counter) {
    ObjPtr obj(nftnl_obj_alloc());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_FAMILY, nfproto(family));
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_NAME, counter.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_DELOBJ, nfproto(family), kNoFlags, "counter " + counter),
                                  obj.get());
}

void add_ruleset(Batch& batch, const RulesetSpec& spec) {
    const auto rules = counting_rules(spec);
    for (const auto& rule : rules) add_counter(batch, spec.family, spec.table, rule.counter);
    for (Hook hook : spec.hooks) add_chain(batch, spec, hook);
    for (const auto& rule : rules) add_rule(batch, spec, rule);
}

}  // namespace ctnft
