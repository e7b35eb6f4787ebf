#include "plugin/notifications.h"

#include <algorithm>
#include <cstdio>

namespace ctnft {
namespace {

// collectd's notification messages hold 255 characters; every message here is shorter.
template <typename... Args>
std::string format(const char* fmt, Args... args) {
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, fmt, args...);
    return buffer;
}

// What each loss counter means for the user's traffic, in the words of docs/diagnosis.md.
const char* meaning(CtStat stat) {
    switch (stat) {
        case CtStat::drop: return "new connections refused because the conntrack table is full: their packets are dropped";
        case CtStat::early_drop: return "connections evicted to make room in a full conntrack table: their traffic is lost";
        case CtStat::insert_failed: return "new connections lost an insert race with a twin: their first packet is dropped";
        default: return "";
    }
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// What flow offloading changes in the graphs, in one sentence. From the kernel's sources
// (docs/diagnosis.md, "Counting through flow offloading"): a connection is offloaded once
// conntrack has seen its reply; from then on its packets leave at ingress and reach neither the
// forward hook nor conntrack (which also marks no packet of it invalid); packets of the router
// itself are never offloaded.
constexpr const char* kOffloadEffect =
    "the forward graphs now miss most packets of offloaded TCP and UDP connections (established and "
    "invalid fall; new, input and output stay complete)";

}  // namespace

double Notifier::fill_okay_below(double threshold) { return threshold - std::min(5.0, threshold / 2); }

std::vector<Notice> Notifier::health(const ConntrackHealth& health) {
    std::vector<Notice> out;
    if (health.stats) {
        for (std::size_t i = 0; i < kLossStats.size(); ++i) {
            const CtStat stat = kLossStats[i];
            Loss& l = losses_[i];
            if (!health.stats->present(stat)) continue;  // this kernel does not report it
            const uint64_t total = health.stats->total(stat);
            const std::string name(to_string(stat));
            // Totals never go back (wrap-safe sums); a smaller one is a fresh baseline, not a loss.
            if (!l.baseline || total < l.last) {
                l.baseline = true;
                l.last = total;
                continue;
            }
            const uint64_t grew = total - l.last;
            l.last = total;
            if (grew > 0) {
                l.episode = l.active ? l.episode + grew : grew;
                l.reads = l.active ? l.reads + 1 : 1;
                if (!l.active)
                    out.push_back({Notice::Severity::warning, "operations", name,
                                   format("%llu %s since the last read: %s", ull(grew), name.c_str(), meaning(stat))});
                l.active = true;
            } else if (l.active) {
                l.active = false;
                out.push_back({Notice::Severity::okay, "operations", name,
                               format("no more %s since the last read; %llu in all over %u read%s", name.c_str(),
                                      ull(l.episode), l.reads, l.reads == 1 ? "" : "s")});
            }
        }
    }
    if (health.entries && health.max_entries && *health.max_entries > 0) {
        const double used = 100.0 * *health.entries / *health.max_entries;
        if (!full_ && used >= fill_threshold_) {
            full_ = true;
            out.push_back({Notice::Severity::warning, "percent", "used",
                           format("conntrack table %.1f%% full (%u of %u entries), at or above the %g%% threshold: at "
                                  "100%% new connections are lost",
                                  used, *health.entries, *health.max_entries, fill_threshold_)});
        } else if (full_ && used < fill_okay_below(fill_threshold_)) {
            full_ = false;
            out.push_back({Notice::Severity::okay, "percent", "used",
                           format("conntrack table back to %.1f%% full (%u of %u entries), below %g%%", used,
                                  *health.entries, *health.max_entries, fill_okay_below(fill_threshold_))});
        }
    }
    return out;
}

std::vector<Notice> Notifier::repaired(Family family, const std::string& table, bool kept) const {
    if (kept)
        return {{Notice::Severity::warning, "table", table,
                 format("%.80s lost its rules to someone else and has them again: its counters kept their values, "
                        "packets in between were not counted",
                        describe_table(family, table).c_str())}};
    return {{Notice::Severity::warning, "table", table,
             format("%.80s was changed by someone else and has been created again: its counters restart from zero, "
                    "one interval of rates is missing",
                    describe_table(family, table).c_str())}};
}

OffloadWatch::Change OffloadWatch::update(bool offloading, double now) {
    if (offloading) {
        absent_reads_ = 0;
        if (on_) return Change::none;
        on_ = true;
        return Change::on;
    }
    if (!on_) return Change::none;
    if (absent_reads_++ == 0) absent_since_ = now;
    if (absent_reads_ < 2 || now - absent_since_ < kOffAfterSeconds) return Change::none;
    on_ = false;
    absent_reads_ = 0;
    return Change::off;
}

Notice OffloadWatch::notice(Change change, uint32_t flowtables) {
    if (change == Change::on)
        return {Notice::Severity::warning, "count", "flowtables",
                format("flow offloading is on (%u flowtable%s): %s", flowtables, flowtables == 1 ? "" : "s",
                       kOffloadEffect)};
    return {Notice::Severity::okay, "count", "flowtables",
            "flow offloading is off again: forward counters see every forwarded packet"};
}

}  // namespace ctnft
