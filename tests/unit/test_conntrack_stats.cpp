// Conntrack statistics: parsing synthetic ctnetlink replies, summing 32-bit per-CPU counters
// that wrap, and statistics an older kernel does not send.
#include "catch.h"

#include <arpa/inet.h>
#include <cstdint>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include "nft/conntrack_stats.h"
#include "plugin/log_once.h"

using namespace ctnft;

namespace {

struct Reply {
    std::vector<uint64_t> storage = std::vector<uint64_t>(1024, 0);
    nlmsghdr* nlh = nullptr;

    Reply(uint8_t msg, uint16_t res_id) {
        nlh = mnl_nlmsg_put_header(storage.data());
        nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
        auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        nfg->nfgen_family = AF_UNSPEC;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = htons(res_id);
    }
    Reply& u32(uint16_t type, uint32_t value) {
        mnl_attr_put_u32(nlh, type, htonl(value));
        return *this;
    }
};

// A per-CPU reply as kernel 5.16+ sends it: every live statistic.
Reply cpu_reply(uint16_t cpu, uint32_t base) {
    Reply r(IPCTNL_MSG_CT_GET_STATS_CPU, cpu);
    r.u32(CTA_STATS_FOUND, base + 1).u32(CTA_STATS_INVALID, base + 2).u32(CTA_STATS_INSERT, base + 3)
        .u32(CTA_STATS_INSERT_FAILED, base + 4).u32(CTA_STATS_DROP, base + 5).u32(CTA_STATS_EARLY_DROP, base + 6)
        .u32(CTA_STATS_ERROR, base + 7).u32(CTA_STATS_SEARCH_RESTART, base + 8)
        .u32(CTA_STATS_CLASH_RESOLVE, base + 9).u32(CTA_STATS_CHAIN_TOOLONG, base + 10);
    return r;
}

CpuStats sample(uint16_t cpu, uint32_t drop) {
    CpuStats s;
    s.cpu = cpu;
    s.present.fill(true);
    s.value[static_cast<std::size_t>(CtStat::drop)] = drop;
    return s;
}

}  // namespace

TEST_CASE("a per-CPU statistics reply is parsed, cpu from res_id") {
    Reply r = cpu_reply(3, 100);
    CpuStats s;
    REQUIRE(parse_cpu_stats(r.nlh, s));
    CHECK(s.cpu == 3);
    for (std::size_t i = 0; i < kCtStatCount; ++i) {
        CHECK(s.present[i]);
        CHECK(s.value[i] == 100 + i + 1);
    }
    CHECK(to_string(CtStat::chaintoolong) == "chaintoolong");
    CHECK(to_string(CtStat::insert_failed) == "insert_failed");
}

TEST_CASE("statistics an older kernel does not send are absent, not zero") {
    Reply r(IPCTNL_MSG_CT_GET_STATS_CPU, 0);
    r.u32(CTA_STATS_FOUND, 5).u32(CTA_STATS_DROP, 7);  // e.g. no clash_resolve, no chaintoolong
    CpuStats s;
    REQUIRE(parse_cpu_stats(r.nlh, s));
    StatsAccumulator acc;
    acc.add(s);
    CHECK(acc.present(CtStat::found));
    CHECK(acc.present(CtStat::drop));
    CHECK_FALSE(acc.present(CtStat::clash_resolve));
    CHECK_FALSE(acc.present(CtStat::chaintoolong));
    CHECK_FALSE(acc.present(CtStat::insert));
    CHECK(acc.total(CtStat::drop) == 7);
}

TEST_CASE("dead statistics (searched, new, ...) are ignored") {
    Reply r(IPCTNL_MSG_CT_GET_STATS_CPU, 0);
    r.u32(CTA_STATS_SEARCHED, 9).u32(CTA_STATS_NEW, 9).u32(CTA_STATS_DELETE, 9).u32(CTA_STATS_FOUND, 1);
    CpuStats s;
    REQUIRE(parse_cpu_stats(r.nlh, s));
    int present = 0;
    for (bool p : s.present) present += p;
    CHECK(present == 1);
}

TEST_CASE("malformed statistics replies are refused") {
    CpuStats s;
    SECTION("wrong message type") {
        Reply r(IPCTNL_MSG_CT_GET_STATS, 0);
        r.u32(CTA_STATS_FOUND, 1);
        CHECK_FALSE(parse_cpu_stats(r.nlh, s));
    }
    SECTION("an attribute of the wrong size") {
        Reply r(IPCTNL_MSG_CT_GET_STATS_CPU, 0);
        mnl_attr_put_u16(r.nlh, CTA_STATS_DROP, 1);
        CHECK_FALSE(parse_cpu_stats(r.nlh, s));
    }
    SECTION("an attribute running past the message") {
        Reply r = cpu_reply(0, 0);
        r.nlh->nlmsg_len -= 4;
        CHECK_FALSE(parse_cpu_stats(r.nlh, s));
    }
    SECTION("shorter than its header") {
        Reply r(IPCTNL_MSG_CT_GET_STATS_CPU, 0);
        r.nlh->nlmsg_len = sizeof(nlmsghdr) + 2;
        CHECK_FALSE(parse_cpu_stats(r.nlh, s));
    }
}

TEST_CASE("the global reply gives entries and maximum") {
    Reply r(IPCTNL_MSG_CT_GET_STATS, 0);
    r.u32(CTA_STATS_GLOBAL_ENTRIES, 1234).u32(CTA_STATS_GLOBAL_MAX_ENTRIES, 65536);
    std::optional<uint32_t> entries, max;
    REQUIRE(parse_global_stats(r.nlh, entries, max));
    CHECK(entries == 1234u);
    CHECK(max == 65536u);

    Reply old(IPCTNL_MSG_CT_GET_STATS, 0);
    old.u32(CTA_STATS_GLOBAL_ENTRIES, 3);  // kernels before 4.?: no maximum
    REQUIRE(parse_global_stats(old.nlh, entries, max));
    CHECK(entries == 3u);
    CHECK_FALSE(max.has_value());
}

TEST_CASE("sums over CPUs start at the kernel's values") {
    StatsAccumulator acc;
    CpuStats a, b;
    REQUIRE(parse_cpu_stats(cpu_reply(0, 10).nlh, a));
    REQUIRE(parse_cpu_stats(cpu_reply(1, 20).nlh, b));
    acc.add(a);
    acc.add(b);
    CHECK(acc.total(CtStat::found) == 11 + 21);
    CHECK(acc.total(CtStat::chaintoolong) == 20 + 30);
    REQUIRE(acc.cpus().size() == 2);
    CHECK(acc.cpus()[1].total[static_cast<std::size_t>(CtStat::found)] == 21);
}

TEST_CASE("a 32-bit per-CPU counter that wraps never makes the total go back") {
    StatsAccumulator acc;
    acc.add(sample(0, 0xFFFFFFF0u));
    acc.add(sample(1, 5));
    CHECK(acc.total(CtStat::drop) == 0xFFFFFFF0ull + 5);
    acc.add(sample(0, 0x10u));  // wrapped: +0x20
    CHECK(acc.total(CtStat::drop) == 0xFFFFFFF0ull + 0x20 + 5);
    acc.add(sample(0, 0xFFFFFFFFu));  // and on, past 2^32 in total
    acc.add(sample(0, 3));
    CHECK(acc.total(CtStat::drop) == 0xFFFFFFF0ull + 0x20 + (0xFFFFFFFFull - 0x10) + 4 + 5);
    CHECK(acc.total(CtStat::drop) > 0x100000000ull);
}

TEST_CASE("the same sample twice (a repeated dump) adds nothing; a silent CPU keeps its total") {
    StatsAccumulator acc;
    acc.add(sample(0, 100));
    acc.add(sample(1, 50));
    acc.add(sample(1, 50));
    CHECK(acc.total(CtStat::drop) == 150);
    acc.add(sample(0, 110));  // cpu1 offline: no reply
    CHECK(acc.total(CtStat::drop) == 160);
}

TEST_CASE("an episode is logged when it starts or changes, and its end once") {
    Episode e;
    CHECK_FALSE(e.end());
    CHECK(e.start("table missing"));
    CHECK_FALSE(e.start("table missing"));
    CHECK(e.active());
    CHECK(e.start("permission denied"));
    CHECK(e.end());
    CHECK_FALSE(e.end());
    CHECK(e.start("table missing"));
}
