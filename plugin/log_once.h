// Logging once per episode: an outage (or any condition) is reported when it starts or its
// message changes, not at every read, and its end can be reported once too.
#pragma once

#include <string>

namespace ctnft {

class Episode {
public:
    // The condition holds now; true when this is news worth a log line.
    bool start(const std::string& message) {
        const bool news = !active_ || message != message_;
        active_ = true;
        message_ = message;
        return news;
    }
    // The condition is over; true when it was active (worth one "back to normal" line).
    bool end() {
        const bool was = active_;
        active_ = false;
        message_.clear();
        return was;
    }
    bool active() const { return active_; }

private:
    bool active_ = false;
    std::string message_;
};

}  // namespace ctnft
