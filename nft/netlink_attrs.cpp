#include "nft/netlink_attrs.h"

#include <linux/netfilter/nfnetlink.h>

namespace ctnft {

bool parse_attrs(const void* start, std::size_t len, mnl_attr_cb_t cb, void* data) {
    auto* attr = static_cast<const nlattr*>(start);
    int left = static_cast<int>(len);
    while (mnl_attr_ok(attr, left)) {
        if (cb(attr, data) != MNL_CB_OK) return false;
        left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
        attr = mnl_attr_next(attr);
    }
    return left == 0;
}

bool message_attrs(const nlmsghdr* nlh, uint16_t type, const nlattr** tb, uint16_t max) {
    if (nlh->nlmsg_type != type || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return false;
    const auto* payload = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    const auto* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
    struct Index {
        const nlattr** tb;
        uint16_t max;
    } index{tb, max};
    return parse_attrs(
        payload, static_cast<std::size_t>(end - payload),
        [](const nlattr* attr, void* d) {
            auto* i = static_cast<Index*>(d);
            const uint16_t t = mnl_attr_get_type(attr);
            if (t <= i->max) i->tb[t] = attr;
            return static_cast<int>(MNL_CB_OK);
        },
        &index);
}

}  // namespace ctnft
