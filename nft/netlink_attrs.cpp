#include "nft/netlink_attrs.h"

#include <linux/netfilter/nfnetlink.h>

namespace ctnft {

bool parse_attrs(const void* start, std::size_t len, mnl_attr_cb_t cb, void* data) {
    return walk_attrs(start, len, [&](const nlattr* attr) { return cb(attr, data) == MNL_CB_OK; });
}

}  // namespace ctnft
