// The decisions behind the plugin's notifications: which read is news (a condition starts or
// ends) and which is not (it lasts), from conntrack statistics built as the reader builds them.
#include "catch.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "plugin/notifications.h"

using namespace ctnft;
using Severity = Notice::Severity;

namespace {

// One read's statistics: the loss counters' totals (absent ones not reported by the kernel), and
// the table's entries and size.
struct Read {
    std::optional<uint32_t> drop = 0, early_drop = 0, insert_failed = 0;
    std::optional<uint32_t> entries = 10, max = 1000;
};

class Reads {
public:
    explicit Reads(double threshold = 90) : notifier_(threshold) {}
    std::vector<Notice> read(const Read& r) {
        // A fresh accumulator: its first sample counts in full, so each total is the value given.
        stats_ = StatsAccumulator{};
        CpuStats cpu;
        auto set = [&](CtStat stat, std::optional<uint32_t> v) {
            cpu.present[static_cast<std::size_t>(stat)] = v.has_value();
            cpu.value[static_cast<std::size_t>(stat)] = v.value_or(0);
        };
        set(CtStat::drop, r.drop);
        set(CtStat::early_drop, r.early_drop);
        set(CtStat::insert_failed, r.insert_failed);
        stats_.add(cpu);
        ConntrackHealth h;
        h.entries = r.entries;
        h.max_entries = r.max;
        h.stats = &stats_;
        return notifier_.health(h);
    }
    Notifier& notifier() { return notifier_; }

private:
    Notifier notifier_;
    StatsAccumulator stats_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Read losses(uint32_t drop, uint32_t early_drop, uint32_t insert_failed) {
    Read r;
    r.drop = drop;
    r.early_drop = early_drop;
    r.insert_failed = insert_failed;
    return r;
}

Read fill(uint32_t entries, uint32_t max = 1000) {
    Read r;
    r.entries = entries;
    r.max = max;
    return r;
}

}  // namespace

TEST_CASE("the first read sets the baseline of the loss counters: what happened before is not news") {
    Reads reads;
    CHECK(reads.read(losses(500, 70000, 3)).empty());
    CHECK(reads.read(losses(500, 70000, 3)).empty());
}

TEST_CASE("losses: one WARNING with how many when they start, none while they last, one OKAY when they stop") {
    Reads reads;
    REQUIRE(reads.read(losses(0, 100, 0)).empty());

    auto n = reads.read(losses(0, 350, 0));
    REQUIRE(n.size() == 1);
    CHECK(n[0].severity == Severity::warning);
    CHECK(n[0].type == "operations");
    CHECK(n[0].type_instance == "early_drop");
    CHECK(n[0].message.rfind("250 early_drop since the last read: ", 0) == 0);
    CHECK(contains(n[0].message, "full conntrack table"));

    CHECK(reads.read(losses(0, 400, 0)).empty());
    CHECK(reads.read(losses(0, 1400, 0)).empty());

    n = reads.read(losses(0, 1400, 0));
    REQUIRE(n.size() == 1);
    CHECK(n[0].severity == Severity::okay);
    CHECK(n[0].type_instance == "early_drop");
    CHECK(n[0].message == "no more early_drop since the last read; 1300 in all over 3 reads");

    CHECK(reads.read(losses(0, 1400, 0)).empty());

    SECTION("a new episode counts from its own start") {
        n = reads.read(losses(0, 1401, 0));
        REQUIRE(n.size() == 1);
        CHECK(n[0].message.rfind("1 early_drop since the last read", 0) == 0);
        n = reads.read(losses(0, 1401, 0));
        REQUIRE(n.size() == 1);
        CHECK(n[0].message == "no more early_drop since the last read; 1 in all over 1 read");
    }
}

TEST_CASE("drop, early_drop and insert_failed are episodes of their own") {
    Reads reads;
    REQUIRE(reads.read(losses(0, 0, 0)).empty());
    auto n = reads.read(losses(2, 0, 7));
    REQUIRE(n.size() == 2);
    CHECK(n[0].type_instance == "drop");
    CHECK(n[0].message.rfind("2 drop since the last read: new connections refused", 0) == 0);
    CHECK(n[1].type_instance == "insert_failed");
    CHECK(n[1].message.rfind("7 insert_failed since the last read: new connections lost an insert race", 0) == 0);

    // drop stops while insert_failed goes on and early_drop starts.
    n = reads.read(losses(2, 5, 9));
    REQUIRE(n.size() == 2);
    CHECK(n[0].severity == Severity::okay);
    CHECK(n[0].type_instance == "drop");
    CHECK(n[1].severity == Severity::warning);
    CHECK(n[1].type_instance == "early_drop");
}

TEST_CASE("a loss counter this kernel does not report is never news") {
    Reads reads;
    Read r = losses(0, 0, 0);
    r.insert_failed.reset();
    REQUIRE(reads.read(r).empty());
    r.early_drop = 5;
    const auto n = reads.read(r);
    REQUIRE(n.size() == 1);
    CHECK(n[0].type_instance == "early_drop");
}

TEST_CASE("a total that went back is a new baseline, not a loss") {
    Reads reads;
    REQUIRE(reads.read(losses(0, 900, 0)).empty());
    CHECK(reads.read(losses(0, 10, 0)).empty());
    const auto n = reads.read(losses(0, 15, 0));
    REQUIRE(n.size() == 1);
    CHECK(n[0].message.rfind("5 early_drop", 0) == 0);
}

TEST_CASE("without conntrack counters only the fill is watched") {
    Notifier notifier(90);
    ConntrackHealth h;
    h.entries = 950;
    h.max_entries = 1000;
    const auto n = notifier.health(h);
    REQUIRE(n.size() == 1);
    CHECK(n[0].type == "percent");
}

TEST_CASE("the fill: WARNING at the threshold, OKAY only once it is clearly below again") {
    CHECK(Notifier::fill_okay_below(90) == 85);
    CHECK(Notifier::fill_okay_below(100) == 95);
    CHECK(Notifier::fill_okay_below(6) == 3);
    CHECK(Notifier::fill_okay_below(1) == 0.5);

    Reads reads(90);
    CHECK(reads.read(fill(899)).empty());
    auto n = reads.read(fill(900));
    REQUIRE(n.size() == 1);
    CHECK(n[0].severity == Severity::warning);
    CHECK(n[0].type == "percent");
    CHECK(n[0].type_instance == "used");
    CHECK(n[0].message.rfind("conntrack table 90.0% full (900 of 1000 entries), at or above the 90% threshold", 0) == 0);

    CHECK(reads.read(fill(1000)).empty());  // still full: no news
    CHECK(reads.read(fill(860)).empty());   // below the threshold, within the margin
    CHECK(reads.read(fill(950)).empty());
    n = reads.read(fill(849));
    REQUIRE(n.size() == 1);
    CHECK(n[0].severity == Severity::okay);
    CHECK(n[0].message == "conntrack table back to 84.9% full (849 of 1000 entries), below 85%");
    CHECK(reads.read(fill(100)).empty());
    CHECK(reads.read(fill(920)).size() == 1);  // a new episode
}

TEST_CASE("a table already full at the first read is news at once") {
    Reads reads(50);
    const auto n = reads.read(fill(600));
    REQUIRE(n.size() == 1);
    CHECK(contains(n[0].message, "at or above the 50% threshold"));
}

TEST_CASE("the fill needs both entries and a size above 0") {
    Reads reads;
    Read r = fill(1000, 0);
    CHECK(reads.read(r).empty());
    r = fill(1000);
    r.max.reset();
    CHECK(reads.read(r).empty());
    r = fill(1000);
    r.entries.reset();
    CHECK(reads.read(r).empty());
}

TEST_CASE("flow offloading: on when a flowtable is seen, off once none was seen at two reads over 10 s") {
    using Change = OffloadWatch::Change;
    OffloadWatch w;
    CHECK(w.update(false, 0) == Change::none);
    CHECK(w.update(true, 1) == Change::on);
    CHECK(w.on());
    CHECK(w.update(true, 2) == Change::none);

    SECTION("a firewall restart at a 1 s interval: gone for a few reads, under 10 s") {
        for (double t = 3; t < 12; ++t) CHECK(w.update(false, t) == Change::none);
        CHECK(w.update(true, 12) == Change::none);  // back: no news either way
        // Gone again: the 10 s count from this absence, not from the one before.
        CHECK(w.update(false, 13) == Change::none);
        CHECK(w.update(false, 22) == Change::none);
        CHECK(w.update(false, 23) == Change::off);
        CHECK(!w.on());
        CHECK(w.update(false, 24) == Change::none);
        CHECK(w.update(true, 25) == Change::on);
    }
    SECTION("a 30 s interval: one read without it is no news, the second is") {
        CHECK(w.update(false, 32) == Change::none);
        CHECK(w.update(false, 62) == Change::off);
    }
    SECTION("a 0.5 s interval: 20 reads without it") {
        double t = 2;
        for (int i = 0; i < 20; ++i) CHECK(w.update(false, t += 0.5) == Change::none);
        CHECK(w.update(false, t += 0.5) == Change::off);
    }
}

TEST_CASE("flow offloading's notifications say what changes in the graphs") {
    using Change = OffloadWatch::Change;
    Notice n = OffloadWatch::notice(Change::on, 1);
    CHECK(n.severity == Severity::warning);
    CHECK(n.type == "count");
    CHECK(n.type_instance == "flowtables");
    CHECK(n.message.rfind("flow offloading is on (1 flowtable): ", 0) == 0);
    // Which graphs fall, which stay complete.
    CHECK(contains(n.message, "forward graphs now miss most packets of offloaded TCP and UDP connections"));
    CHECK(contains(n.message, "established and invalid fall; new, input and output stay complete"));
    CHECK(OffloadWatch::notice(Change::on, 2).message.rfind("flow offloading is on (2 flowtables): ", 0) == 0);
    n = OffloadWatch::notice(Change::off, 0);
    CHECK(n.severity == Severity::okay);
    CHECK(n.type_instance == "flowtables");
    CHECK(n.message == "flow offloading is off again: forward counters see every forwarded packet");
}

TEST_CASE("every repair is news of its own") {
    Notifier notifier(90);
    for (int i = 0; i < 2; ++i) {
        const auto n = notifier.repaired(Family::ip, "conntrack_stats", false);
        REQUIRE(n.size() == 1);
        CHECK(n[0].severity == Severity::warning);
        CHECK(n[0].type == "table");
        CHECK(n[0].type_instance == "conntrack_stats");
        CHECK(n[0].message.rfind("table ip conntrack_stats was changed by someone else and has been created again", 0) == 0);
        CHECK(n[0].message.find("restart from zero") != std::string::npos);
    }
}

TEST_CASE("a repair that kept the counters does not say they restart") {
    Notifier notifier(90);
    const auto n = notifier.repaired(Family::ip, "conntrack_stats", true);
    REQUIRE(n.size() == 1);
    CHECK(n[0].type == "table");
    CHECK(n[0].message.rfind("table ip conntrack_stats lost its rules to someone else and has them again", 0) == 0);
    CHECK(n[0].message.find("restart from zero") == std::string::npos);
    CHECK(n[0].message.find("kept their values") != std::string::npos);
}

TEST_CASE("messages fit collectd's 255 characters whatever the figures") {
    Reads reads(0.5);
    const uint32_t big = std::numeric_limits<uint32_t>::max();
    Read r = losses(0, 0, 0);
    r.entries = big - 1;
    r.max = big;
    std::vector<Notice> all = reads.read(r);                  // the fill
    r.drop = r.early_drop = r.insert_failed = big;
    auto more = reads.read(r);                                // three losses
    all.insert(all.end(), more.begin(), more.end());
    more = reads.read(r);                                     // their ends
    all.insert(all.end(), more.begin(), more.end());
    all.push_back(OffloadWatch::notice(OffloadWatch::Change::on, 4000000000u));
    all.push_back(OffloadWatch::notice(OffloadWatch::Change::off, 0));
    more = reads.notifier().repaired(Family::inet, std::string(63, 'x'), false);
    all.insert(all.end(), more.begin(), more.end());
    more = reads.notifier().repaired(Family::inet, std::string(63, 'x'), true);
    all.insert(all.end(), more.begin(), more.end());
    REQUIRE(all.size() == 11);
    for (const auto& n : all) {
        INFO(n.message);
        CHECK(n.message.size() <= 255);
        CHECK(!n.message.empty());
    }
}
