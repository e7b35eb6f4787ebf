// When the plugin speaks up on its own: collectd notifications for the moments the router loses
// connections or its table is in trouble. Pure logic: it sees each read's conntrack statistics
// and each repair, and decides which notices are news. One notice when a condition starts and one
// when it ends, never one per read while it lasts. The caller turns notices into collectd
// notifications.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nft/conntrack_stats.h"
#include "nft/model.h"

namespace ctnft {

struct Notice {
    enum class Severity { warning, okay };
    Severity severity;
    // What the notice is about, as the identifier of the value it concerns:
    // operations-drop, operations-early_drop, operations-insert_failed, percent-used,
    // count-flowtables; table-<name> for a repair.
    std::string type;
    std::string type_instance;
    std::string message;  // at most 255 characters (collectd's limit)
};

class Notifier {
public:
    // fill_threshold: percent of the table's size, 0 < t <= 100.
    explicit Notifier(double fill_threshold) : fill_threshold_(fill_threshold) {}

    // One successful read of the conntrack statistics. The first read only sets the baseline
    // of the loss counters (their totals count since boot); the fill state counts from the first
    // read on.
    std::vector<Notice> health(const ConntrackHealth& health);

    // The counting table was found changed or gone and created again; kept: its counters kept
    // their values (only its rules had gone).
    std::vector<Notice> repaired(Family family, const std::string& table, bool kept) const;

    // The table's fill is back to normal below this percentage: a margin under the threshold, so
    // that a table hovering at the threshold does not notify at every read.
    static double fill_okay_below(double threshold);

    // The loss counters watched: each its own episode.
    static constexpr std::array<CtStat, 3> kLossStats{CtStat::drop, CtStat::early_drop, CtStat::insert_failed};

private:
    struct Loss {
        bool baseline = false;  // `last` holds a value
        uint64_t last = 0;
        bool active = false;    // grew at the latest read
        uint64_t episode = 0;   // lost since the episode started
        unsigned reads = 0;     // reads with losses in this episode
    };
    double fill_threshold_;
    std::array<Loss, kLossStats.size()> losses_{};
    bool full_ = false;
};

// Whether flow offloading hides forward packets from the counters, as news for the log and a
// notification. On as soon as a flowtable is seen (and the forward hook is counted); off only once
// none has been seen at two reads or more, over at least kOffAfterSeconds: a firewall restart
// (OpenWrt's `service firewall restart` is fw4 stop, then start: the flowtable is gone for a
// moment, or for a read or two) is no news. Without that, each restart logged the WARNING again,
// and with collectd's LogLevel above info the "off again" between them was not seen.
class OffloadWatch {
public:
    enum class Change { none, on, off };
    static constexpr double kOffAfterSeconds = 10;

    // One read: offloading = flowtables exist and the forward hook is counted; now in seconds.
    Change update(bool offloading, double now);
    bool on() const { return on_; }
    // The notification of a change (on or off): flowtables is the count the read saw.
    static Notice notice(Change change, uint32_t flowtables);

private:
    bool on_ = false;
    unsigned absent_reads_ = 0;  // reads without a flowtable since it was last seen
    double absent_since_ = 0;    // the first of them
};

}  // namespace ctnft
