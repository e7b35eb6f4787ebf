// Error reporting for the nft layer: no exceptions, a message a user can act on.
#pragma once

#include <string>
#include <utility>

namespace ctnft {

class Status {
public:
    Status() = default;
    static Status error(std::string message, int err = 0) { return Status(std::move(message), err); }

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const std::string& message() const { return message_; }
    // errno reported by the kernel, 0 when the failure is ours.
    int code() const { return code_; }

private:
    Status(std::string message, int err) : failed_(true), code_(err), message_(std::move(message)) {}
    bool failed_ = false;
    int code_ = 0;
    std::string message_;
};

}  // namespace ctnft
