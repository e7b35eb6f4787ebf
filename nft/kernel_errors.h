// Kernel refusals turned into messages a user can act on.
#pragma once

#include <cstdint>
#include <string>

namespace ctnft {

// Stands for "no single message": the kernel refused a whole batch (its answer came on the
// batch-begin sequence number) or a request. NFT_MSG_NEWTABLE is 0, so 0 cannot serve.
constexpr uint16_t kNoMessage = 0xffff;

// `message_type` is the NFT_MSG_* of the refused batch message, or kNoMessage; `expression` the
// rule expression the kernel named as refused (extended ack), if any.
std::string explain_kernel_error(int err, uint16_t message_type, const std::string& what,
                                 const std::string& expression = {});

// For requests to ctnetlink (conntrack statistics): nfnetlink answers EINVAL to a subsystem
// that is not there, i.e. module nf_conntrack_netlink is not loaded.
std::string explain_ctnetlink_error(int err, const std::string& what);

}  // namespace ctnft
