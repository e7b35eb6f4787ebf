#include "plugin/rate_window.h"

#include <algorithm>

namespace ctnft {

RateWindow::Track* RateWindow::find(const std::string& name, std::size_t hint) {
    // Dumps list counters in a stable order: the same position almost always matches.
    if (hint < tracks_.size() && tracks_[hint].name == name) return &tracks_[hint];
    for (auto& t : tracks_)
        if (t.name == name) return &t;
    return nullptr;
}

void RateWindow::sample(double seconds, const std::vector<CounterValue>& values, std::size_t count) {
    ++samples_;
    for (std::size_t i = 0; i < count; ++i) {
        const CounterValue& v = values[i];
        Track* t = find(v.name, i);
        if (!t) {
            tracks_.push_back(Track{v.name, select_(v.name), v.packets, seconds, 0, 0, false, samples_});
            continue;
        }
        t->seen_in = samples_;
        const double dt = seconds - t->last_time;
        if (t->selected && dt > 0 && v.packets >= t->last) {
            const double rate = static_cast<double>(v.packets - t->last) / dt;
            t->peak = t->has_rate ? std::max(t->peak, rate) : rate;
            t->low = t->has_rate ? std::min(t->low, rate) : rate;
            t->has_rate = true;
        }
        t->last = v.packets;
        t->last_time = seconds;
    }
}

void RateWindow::take(std::vector<Extremes>& out) {
    out.clear();
    for (auto& t : tracks_) {
        if (t.has_rate) out.push_back({t.name, t.peak, t.low});
        t.has_rate = false;
    }
    tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(), [this](const Track& t) { return t.seen_in != samples_; }),
                  tracks_.end());
}

}  // namespace ctnft
