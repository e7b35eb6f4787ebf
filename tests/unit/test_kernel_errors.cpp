// What a user reads when the kernel refuses: the refused rule expression found through the
// error reply's extended ack in the very batch we built, and the modules the messages name.
#include "catch.h"

#include <cstring>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"
#include "nft/ruleset_batch.h"

using namespace ctnft;

namespace {

// Offsets, relative to the message, of each NFTA_LIST_ELEM of a NEWRULE message, with its
// expression's name.
struct Elem {
    uint32_t offset;
    std::string name;
};

std::vector<Elem> expressions(const nlmsghdr* rule) {
    std::vector<Elem> out;
    const char* base = reinterpret_cast<const char*>(rule);
    const std::size_t start = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    walk_attrs(base + start, rule->nlmsg_len - start, [&](const nlattr* attr) {
        if (attr_type(attr) != NFTA_RULE_EXPRESSIONS) return true;
        walk_attrs(attr_payload(attr), attr_payload_len(attr), [&](const nlattr* elem) {
            std::string name;
            walk_attrs(attr_payload(elem), attr_payload_len(elem), [&](const nlattr* a) {
                if (attr_type(a) == NFTA_EXPR_NAME) name = attr_payload(a);
                return true;
            });
            out.push_back({static_cast<uint32_t>(reinterpret_cast<const char*>(elem) - base), name});
            return true;
        });
        return true;
    });
    return out;
}

// An NLMSG_ERROR as the kernel sends it to a socket with NETLINK_EXT_ACK (and, when capped,
// NETLINK_CAP_ACK): the error, the request's header (or the whole request), then the TLVs.
std::vector<char> error_reply(const nlmsghdr* request, bool capped, const std::vector<std::pair<uint16_t, uint32_t>>& tlvs,
                              uint16_t flags = NLM_F_ACK_TLVS) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE, 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_flags = flags | (capped ? NLM_F_CAPPED : 0);
    const std::size_t echoed = capped ? sizeof(nlmsghdr) : request->nlmsg_len;
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, MNL_ALIGN(sizeof(int) + echoed)));
    e->error = -ENOENT;
    std::memcpy(&e->msg, request, echoed);
    for (const auto& [type, value] : tlvs) mnl_attr_put_u32(nlh, type, value);
    buf.resize(nlh->nlmsg_len);
    return buf;
}

const nlmsghdr* first_rule(const Batch& batch) {
    for (const auto& m : batch.messages())
        if (m.type == NFT_MSG_NEWRULE) return reinterpret_cast<const nlmsghdr*>(batch.data() + m.offset);
    return nullptr;
}

}  // namespace

TEST_CASE("the refused expression of a rule is found through the extended ack, for each shape") {
    for (RuleShape shape : {RuleShape::map, RuleShape::classic}) {
        RulesetSpec spec;
        spec.shape = shape;
        Batch batch(1);
        add_ruleset(batch, spec);
        batch.finish();
        const nlmsghdr* rule = first_rule(batch);
        REQUIRE(rule != nullptr);
        const std::size_t room = batch.size() - (reinterpret_cast<const char*>(rule) - batch.data());
        const auto elems = expressions(rule);
        REQUIRE(elems.size() >= 3);
        bool saw_ct = false, saw_objref = false;
        for (const auto& elem : elems) {
            saw_ct = saw_ct || elem.name == "ct";
            saw_objref = saw_objref || elem.name == "objref";
            for (bool capped : {true, false}) {
                const auto reply = error_reply(rule, capped, {{NLMSGERR_ATTR_OFFS, elem.offset}});
                CHECK(refused_expression(reinterpret_cast<const nlmsghdr*>(reply.data()),
                                         reinterpret_cast<const char*>(rule), room) == elem.name);
            }
        }
        CHECK(saw_ct);
        CHECK(saw_objref);
    }
}

TEST_CASE("an error reply without a usable offset names no expression") {
    RulesetSpec spec;
    Batch batch(1);
    add_ruleset(batch, spec);
    batch.finish();
    const nlmsghdr* rule = first_rule(batch);
    REQUIRE(rule != nullptr);
    const std::size_t room = batch.size() - (reinterpret_cast<const char*>(rule) - batch.data());
    const auto elems = expressions(rule);
    REQUIRE(!elems.empty());
    auto name = [&](const std::vector<char>& reply) {
        return refused_expression(reinterpret_cast<const nlmsghdr*>(reply.data()), reinterpret_cast<const char*>(rule), room);
    };
    // No TLVs at all (an older kernel, or no NETLINK_EXT_ACK).
    CHECK(name(error_reply(rule, true, {}, 0)).empty());
    // TLVs without an offset, only a message.
    CHECK(name(error_reply(rule, true, {{NLMSGERR_ATTR_MSG + 0, 0}})).empty());
    // Offsets outside the request, inside its header, or not at an expression.
    CHECK(name(error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, rule->nlmsg_len}})).empty());
    CHECK(name(error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, 0xfffffff0u}})).empty());
    CHECK(name(error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, 4}})).empty());
    CHECK(name(error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, elems[0].offset + 4}})).empty());
    // The flag says TLVs follow but the reply ends early.
    auto cut = error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, elems[0].offset}});
    reinterpret_cast<nlmsghdr*>(cut.data())->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
    CHECK(name(cut).empty());
    // An uncapped reply whose echoed request claims more than the reply holds.
    auto lying = error_reply(rule, false, {{NLMSGERR_ATTR_OFFS, elems[0].offset}});
    reinterpret_cast<nlmsgerr*>(lying.data() + MNL_NLMSG_HDRLEN)->msg.nlmsg_len = 0xffff;
    CHECK(name(lying).empty());
    // Too little of the batch left for the request.
    CHECK(refused_expression(reinterpret_cast<const nlmsghdr*>(error_reply(rule, true, {{NLMSGERR_ATTR_OFFS, elems[0].offset}}).data()),
                             reinterpret_cast<const char*>(rule), rule->nlmsg_len - 1)
              .empty());
}

TEST_CASE("a missing expression module is named, with OpenWrt's package") {
    const std::string ct = explain_kernel_error(ENOENT, NFT_MSG_NEWRULE, "rule of chain forward", "ct");
    CHECK(ct.find("\"ct\"") != std::string::npos);
    CHECK(ct.find("load module nft_ct") != std::string::npos);
    CHECK(ct.find("kmod-nft-core") != std::string::npos);
    const std::string objref = explain_kernel_error(ENOENT, NFT_MSG_NEWRULE, "rule of chain forward", "objref");
    CHECK(objref.find("load module nft_objref") != std::string::npos);
    // Without the extended ack: both candidates.
    const std::string unknown = explain_kernel_error(ENOENT, NFT_MSG_NEWRULE, "rule of chain forward");
    CHECK(unknown.find("nft_ct") != std::string::npos);
    CHECK(unknown.find("nft_objref") != std::string::npos);
}

TEST_CASE("ctnetlink's EINVAL names nf_conntrack_netlink and kmod-nf-conntrack-netlink") {
    const std::string m = explain_ctnetlink_error(EINVAL, "conntrack statistics");
    CHECK(m.rfind("conntrack statistics: ", 0) == 0);
    CHECK(m.find("module nf_conntrack_netlink") != std::string::npos);
    CHECK(m.find("kmod-nf-conntrack-netlink") != std::string::npos);
    // Other errors keep their general explanation.
    CHECK(explain_ctnetlink_error(EPERM, "conntrack statistics").find("CAP_NET_ADMIN") != std::string::npos);
}
