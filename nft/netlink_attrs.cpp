#include "nft/netlink_attrs.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace ctnft {

bool parse_attrs(const void* start, std::size_t len, mnl_attr_cb_t cb, void* data) {
    return walk_attrs(start, len, [&](const nlattr* attr) { return cb(attr, data) == MNL_CB_OK; });
}

std::string refused_expression(const nlmsghdr* error, const char* request, std::size_t room) {
    if (error->nlmsg_type != NLMSG_ERROR || !(error->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    if (error->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nlmsgerr)) return {};
    const auto* e = reinterpret_cast<const nlmsgerr*>(reinterpret_cast<const char*>(error) + MNL_NLMSG_HDRLEN);
    // The TLVs follow the error and the echoed request: its header only when capped.
    std::size_t tlvs = MNL_NLMSG_HDRLEN + sizeof(nlmsgerr);
    if (!(error->nlmsg_flags & NLM_F_CAPPED)) {
        if (e->msg.nlmsg_len < sizeof(nlmsghdr)) return {};
        tlvs = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(int) + e->msg.nlmsg_len);
    }
    if (tlvs > error->nlmsg_len) return {};
    uint32_t offset = 0;
    bool have_offset = false;
    walk_attrs(reinterpret_cast<const char*>(error) + tlvs, error->nlmsg_len - tlvs, [&](const nlattr* attr) {
        if (attr_type(attr) == NLMSGERR_ATTR_OFFS && attr_is_u32(attr)) {
            offset = mnl_attr_get_u32(attr);
            have_offset = true;
        }
        return true;
    });
    if (!have_offset || room < sizeof(nlmsghdr)) return {};
    const auto* req = reinterpret_cast<const nlmsghdr*>(request);
    // Attributes start at 4-byte boundaries: any other offset is not one of ours (and reading an
    // nlattr there would be a misaligned access, which traps on a MIPS router).
    if (req->nlmsg_len > room || offset < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg)) ||
        offset > req->nlmsg_len - sizeof(nlattr) || offset % MNL_ALIGNTO != 0)
        return {};
    // A rule's expression: NFTA_LIST_ELEM { NFTA_EXPR_NAME "ct", NFTA_EXPR_DATA {...} }.
    const auto* elem = reinterpret_cast<const nlattr*>(request + offset);
    if (attr_type(elem) != NFTA_LIST_ELEM || elem->nla_len < sizeof(nlattr) || elem->nla_len > req->nlmsg_len - offset)
        return {};
    std::string name;
    walk_attrs(attr_payload(elem), attr_payload_len(elem), [&](const nlattr* attr) {
        if (attr_type(attr) == NFTA_EXPR_NAME && attr_is_nul_string(attr)) name = attr_payload(attr);
        return true;
    });
    return name;
}

}  // namespace ctnft
