// Sub-interval sampling: per-second rates between consecutive samples of cumulative counters,
// and the highest and lowest of them within each collectd interval. Pure logic, no locking: the
// caller serialises sample() and take().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nft/table_queries.h"

namespace ctnft {

class RateWindow {
public:
    // select: which counters get peak and low values (decided once per counter name).
    explicit RateWindow(std::function<bool(const std::string&)> select) : select_(std::move(select)) {}

    // Cumulative counter values read at `seconds` (a steady clock). Each pair of consecutive
    // samples gives one rate, which belongs to the window open when the later sample is taken:
    // no pair is lost or counted twice at a window's edge. A counter that went down (its table
    // was re-created) gives no rate for that pair.
    void sample(double seconds, const std::vector<CounterValue>& values, std::size_t count);

    struct Extremes {
        std::string counter;
        double peak;  // highest per-second rate in the window
        double low;   // lowest
    };
    // The window's extremes for every selected counter that had at least one rate, then a new
    // window. Counters missing from the latest sample are forgotten.
    void take(std::vector<Extremes>& out);

private:
    struct Track {
        std::string name;
        bool selected;
        uint64_t last;
        double last_time;
        double peak;
        double low;
        bool has_rate;
        uint64_t seen_in;  // number of the latest sample that had this counter
    };
    Track* find(const std::string& name, std::size_t hint);

    std::function<bool(const std::string&)> select_;
    std::vector<Track> tracks_;
    uint64_t samples_ = 0;
};

}  // namespace ctnft
