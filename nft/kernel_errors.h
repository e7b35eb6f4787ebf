// Kernel refusals turned into messages a user can act on.
#pragma once

#include <cstdint>
#include <string>

namespace ctnft {

// Stands for "no single message": the kernel refused a whole batch (its answer came on the
// batch-begin sequence number) or a request. NFT_MSG_NEWTABLE is 0, so 0 cannot serve.
constexpr uint16_t kNoMessage = 0xffff;

// `message_type` is the NFT_MSG_* of the refused batch message, or kNoMessage.
std::string explain_kernel_error(int err, uint16_t message_type, const std::string& what);

}  // namespace ctnft
