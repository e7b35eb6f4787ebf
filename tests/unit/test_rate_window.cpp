// Sub-interval sampling: rates between consecutive samples, their extremes per window, and the
// window's edges.
#include "catch.h"

#include <string>
#include <vector>

#include "plugin/rate_window.h"

using namespace ctnft;

namespace {

std::vector<CounterValue> values(std::initializer_list<std::pair<const char*, uint64_t>> list) {
    std::vector<CounterValue> out;
    for (const auto& [name, packets] : list) out.push_back({name, packets, 0});
    return out;
}

void sample(RateWindow& w, double t, std::initializer_list<std::pair<const char*, uint64_t>> list) {
    const auto v = values(list);
    w.sample(t, v, v.size());
}

RateWindow all() {
    return RateWindow([](const std::string&) { return true; });
}

}  // namespace

TEST_CASE("peak and low are the extremes of the per-second rates in the window") {
    RateWindow w = all();
    std::vector<RateWindow::Extremes> out;
    sample(w, 0, {{"a", 0}});
    sample(w, 1, {{"a", 10}});   // 10/s
    sample(w, 2, {{"a", 40}});   // 30/s
    sample(w, 3, {{"a", 40}});   // 0/s: a stall
    sample(w, 5, {{"a", 50}});   // 5/s over 2 s
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].counter == "a");
    CHECK(out[0].peak == Approx(30));
    CHECK(out[0].low == Approx(0));
}

TEST_CASE("each pair of samples belongs to exactly one window") {
    RateWindow w = all();
    std::vector<RateWindow::Extremes> out;
    sample(w, 0, {{"a", 0}});
    w.take(out);
    CHECK(out.empty());  // one sample: no rate yet
    sample(w, 1, {{"a", 100}});  // pair (0,1): 100/s, first window
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].peak == Approx(100));
    CHECK(out[0].low == Approx(100));
    sample(w, 2, {{"a", 103}});  // pair (1,2): 3/s, second window only
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].peak == Approx(3));
    CHECK(out[0].low == Approx(3));
    w.take(out);
    CHECK(out.empty());  // no sample since: nothing to report
    sample(w, 3, {{"a", 110}});  // pair (2,3) counts in the window open now
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].peak == Approx(7));
}

TEST_CASE("rates use the real time between samples") {
    RateWindow w = all();
    std::vector<RateWindow::Extremes> out;
    sample(w, 10.0, {{"a", 0}});
    sample(w, 10.5, {{"a", 10}});  // 20/s
    sample(w, 12.5, {{"a", 20}});  // 5/s
    w.take(out);
    CHECK(out[0].peak == Approx(20));
    CHECK(out[0].low == Approx(5));
}

TEST_CASE("a counter that goes down (table re-created) gives no rate for that pair") {
    RateWindow w = all();
    std::vector<RateWindow::Extremes> out;
    sample(w, 0, {{"a", 1000}});
    sample(w, 1, {{"a", 4}});  // reset: no rate, and no huge negative or wrapped one
    w.take(out);
    CHECK(out.empty());
    sample(w, 2, {{"a", 6}});
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].peak == Approx(2));
}

TEST_CASE("only selected counters get extremes; counters are matched by name") {
    RateWindow w([](const std::string& n) { return n.find("_fwd_") != std::string::npos; });
    std::vector<RateWindow::Extremes> out;
    sample(w, 0, {{"tcp_conntrack_fwd_new", 0}, {"tcp_conntrack_input_new", 0}});
    // Another order, and a counter that appears later.
    sample(w, 1, {{"udp_conntrack_fwd_new", 5}, {"tcp_conntrack_input_new", 9}, {"tcp_conntrack_fwd_new", 4}});
    sample(w, 2, {{"udp_conntrack_fwd_new", 8}, {"tcp_conntrack_input_new", 9}, {"tcp_conntrack_fwd_new", 6}});
    w.take(out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].counter == "tcp_conntrack_fwd_new");
    CHECK(out[0].peak == Approx(4));
    CHECK(out[0].low == Approx(2));
    CHECK(out[1].counter == "udp_conntrack_fwd_new");
    CHECK(out[1].peak == Approx(3));
}

TEST_CASE("counters gone from the table are forgotten at the next window") {
    RateWindow w = all();
    std::vector<RateWindow::Extremes> out;
    sample(w, 0, {{"a", 0}, {"b", 0}});
    sample(w, 1, {{"a", 1}, {"b", 1}});
    w.take(out);
    CHECK(out.size() == 2);
    sample(w, 2, {{"a", 2}});
    w.take(out);
    CHECK(out.size() == 1);
    sample(w, 3, {{"a", 3}, {"b", 100}});  // b is new again: no rate from its old value
    w.take(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].counter == "a");
}
