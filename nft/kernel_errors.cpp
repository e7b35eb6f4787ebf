#include "nft/kernel_errors.h"

#include <cerrno>
#include <cstring>
#include <linux/netfilter/nf_tables.h>

namespace ctnft {
namespace {

bool modifies(uint16_t type) {
    switch (type) {
        case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE: case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN:
        case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: case NFT_MSG_NEWOBJ: case NFT_MSG_DELOBJ:
            return true;
        default:
            return false;
    }
}

// The kernel module that provides an nf_tables expression, as modprobe knows it.
std::string expression_module(const std::string& expression) {
    return "nft_" + expression;
}

}  // namespace

std::string explain_kernel_error(int err, uint16_t message_type, const std::string& what, const std::string& expression) {
    const std::string prefix = (what.empty() ? std::string("nf_tables") : what) + ": ";
    const std::string raw = std::strerror(err);
    switch (err) {
        case EPERM:
            // nfnetlink checks the capability once, on the batch itself; a single message is
            // refused when the kernel's owner flag ties the table to another process.
            if (modifies(message_type))
                return prefix + raw + " (the table is owned by another process: another collectd or program "
                                      "manages it; stop that one or choose another Table)";
            return prefix + raw + " (the process needs CAP_NET_ADMIN: run collectd as root, or under systemd "
                                  "add AmbientCapabilities=CAP_NET_ADMIN to its unit)";
        case EOPNOTSUPP:
            if (message_type == kNoMessage)
                return prefix + raw + " (the kernel has no nf_tables: load module nf_tables, "
                                      "on OpenWrt install kmod-nft-core)";
            return prefix + raw + " (the kernel does not support this feature)";
        case ENOENT:
            if (message_type == NFT_MSG_NEWRULE && !expression.empty())
                return prefix + raw + " (the kernel has no nf_tables expression \"" + expression + "\": load module " +
                       expression_module(expression) + ", on OpenWrt install kmod-nft-core)";
            if (message_type == NFT_MSG_NEWRULE)
                return prefix + raw + " (the kernel lacks an expression the rule needs: load modules nft_ct and "
                                      "nft_objref, on OpenWrt install kmod-nft-core)";
            return prefix + raw;
        case EEXIST:
            return prefix + raw + " (an object of that name exists already)";
        case EBUSY:
            return prefix + raw + " (the object is in use by another rule or object)";
        case ENOBUFS:
            return prefix + raw + " (replies were lost to a full receive buffer; the next read tries again)";
        case ERESTART:
            return prefix + raw + " (the ruleset changed during the transaction, which the kernel rolled back; the next "
                                  "read tries again)";
        case EINTR:
            return prefix + "the ruleset changed during every attempt to read it; the next read tries again";
        case ETIMEDOUT:
            return prefix + "no answer from the kernel in time";
        default:
            return prefix + raw;
    }
}

std::string explain_ctnetlink_error(int err, const std::string& what) {
    if (err == EINVAL)
        return what + ": " + std::strerror(err) + " (the kernel does not answer ctnetlink: load module "
               "nf_conntrack_netlink, on OpenWrt install kmod-nf-conntrack-netlink)";
    return explain_kernel_error(err, kNoMessage, what);
}

}  // namespace ctnft
