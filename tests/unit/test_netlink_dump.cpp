// NetlinkSocket's handling of dumps the kernel marks as interrupted (NLM_F_DUMP_INTR), with the
// socket's syscalls wrapped (-Wl,--wrap): the kernel cannot be made to interrupt a dump on
// demand, so each test scripts the datagrams it answers with.
#include "catch.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <algorithm>
#include <fcntl.h>
#include <unistd.h>
#include <libnftnl/table.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include <arpa/inet.h>
#include <endian.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/conntrack_stats.h"
#include "scripted_kernel.h"
#include "nft/managed_table.h"
#include "nft/netlink_socket.h"
#include "nft/ruleset_batch.h"

using namespace scripted;

namespace {

// Scripted answers to flowtable dumps, one per request, in order.
struct Answer {
    int flowtables;
    bool interrupted;
};
void answer_flowtable_dumps(Kernel& k, std::deque<Answer> answers) {
    k.respond = [answers](const nlmsghdr* req, uint32_t portid) mutable {
        std::vector<std::vector<char>> out;
        if (answers.empty()) return out;
        out.push_back(flowtable_dump(answers.front().flowtables, answers.front().interrupted, portid, req->nlmsg_seq));
        answers.pop_front();
        return out;
    };
}

}  // namespace


TEST_CASE("an interrupted dump is read again from a clean slate") {
    Kernel kernel;
    Use use(kernel);
    answer_flowtable_dumps(kernel, {{1, true}, {2, false}});
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    uint32_t count = 99;
    const ctnft::Status s = ctnft::count_flowtables(sock, count);
    CHECK(s.ok());
    CHECK(count == 2);  // not 1 + 2
    CHECK(kernel.requests == 2);
}

// A partial result would be a flowtable count of 0 while fw4 reloads: offloading reported off,
// then on again (a second WARNING and notification).
TEST_CASE("a dump interrupted every time is an error, never a partial result") {
    Kernel kernel;
    Use use(kernel);
    answer_flowtable_dumps(kernel, {{0, true}, {0, true}, {0, true}, {1, false}});
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    uint32_t count = 0;
    const ctnft::Status s = ctnft::count_flowtables(sock, count);
    CHECK_FALSE(s.ok());
    CHECK(s.code() == EINTR);
    CHECK(s.message() == "flowtables: the ruleset changed during every attempt to read it; the next read tries again");
    CHECK(kernel.requests == 3);
    // The socket is usable for the next read.
    CHECK(ctnft::count_flowtables(sock, count).ok());
    CHECK(count == 1);
}

// An error reply carries -errno; INT_MIN cannot be negated (signed overflow), and a positive
// number is no errno: both are a malformed reply, never undefined behaviour.
TEST_CASE("an error reply of INT_MIN or a positive number is a protocol error") {
    for (int32_t bad : {std::numeric_limits<int32_t>::min(), 5}) {
        Kernel kernel;
        Use use(kernel);
        kernel.respond = [bad](const nlmsghdr* req, uint32_t portid) {
            Reply r(portid, req->nlmsg_seq);
            r.error(bad);
            return std::vector<std::vector<char>>{r.take()};
        };
        ctnft::NetlinkSocket sock;
        REQUIRE(sock.open(200));
        uint32_t count = 0;
        const ctnft::Status s = ctnft::count_flowtables(sock, count);
        CHECK_FALSE(s.ok());
        CHECK(s.code() == EPROTO);
        }
}

// A batch numbers its messages from the number it was given (begin, each message, end): a later
// request must not reuse one of them, or a late reply to the batch answers it.
TEST_CASE("requests after a batch do not reuse the batch's sequence numbers") {
    Kernel kernel;
    Use use(kernel);
    kernel.respond = [](const nlmsghdr* req, uint32_t portid) {
        std::vector<std::vector<char>> out;
        if (req->nlmsg_type == NFNL_MSG_BATCH_BEGIN) out.push_back(batch_ack(req, portid));
        else out.push_back(flowtable_dump(0, false, portid, req->nlmsg_seq));
        return out;
    };
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    ctnft::Batch batch(sock.next_seq());
    ctnft::add_table(batch, ctnft::Family::ip, "t", 0);
    ctnft::add_delete_table(batch, ctnft::Family::ip, "t");
    ctnft::add_table(batch, ctnft::Family::ip, "t", 0);
    REQUIRE(sock.commit(batch).ok());
    const std::vector<uint32_t> batch_seqs = kernel.sent_seqs;
    REQUIRE(batch_seqs.size() == 5);  // begin, three messages, end
    uint32_t count = 0;
    REQUIRE(ctnft::count_flowtables(sock, count).ok());
    const uint32_t next = kernel.sent_seqs.back();
    for (uint32_t seq : batch_seqs) CHECK(seq != next);
}

// ENOBUFS from recv says replies were lost, not that none are left: what is queued behind it is
// drained too before the next conversation.
TEST_CASE("the socket drains past ENOBUFS before a transaction") {
    Kernel kernel;
    Use use(kernel);
    kernel.respond = [](const nlmsghdr* req, uint32_t portid) {
        return std::vector<std::vector<char>>{batch_ack(req, portid)};
    };
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    // Left over from an earlier conversation: an overrun, then a stale reply.
    kernel.queued.push_back({{}, ENOBUFS});
    {
        Reply stale(sock.portid(), 1);
        stale.error(-EEXIST);
        kernel.queued.push_back({stale.take(), 0});
    }
    ctnft::Batch batch(sock.next_seq());
    ctnft::add_table(batch, ctnft::Family::ip, "t", 0);
    CHECK(sock.commit(batch).ok());
    CHECK(kernel.queued_at_last_send == 0);
}

// A message builder states its room; a message that outgrows it is never sent.
TEST_CASE("a batch refuses a message larger than its builder counted") {
    ctnft::Batch batch(1);
    nlmsghdr* nlh = batch.add(NFT_MSG_NEWTABLE, NFPROTO_IPV4, 0, "table ip big", 64);
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, std::string(100, 'x').c_str());  // within the guard, past the room
    const ctnft::Status s = batch.finish();
    CHECK_FALSE(s.ok());
    CHECK(s.code() == EMSGSIZE);
    CHECK(s.message().find("table ip big") != std::string::npos);
}

namespace {

// An nf_tables ruleset as the scripted kernel shows it to ManagedTable::read: the table's 18
// counters, a generation, and how many rules the table holds.
struct Ruleset {
    uint32_t generation = 5;
    std::size_t rules = 3;  // the map shape: one rule per chain
    // Something flushes the table while the plugin checks its rules: the generation moves after
    // the rule dump was answered.
    bool flush_during_check = false;
    std::vector<std::string> counters;
    int table_gets = 0;
};

std::vector<std::vector<char>> answer_ruleset(Ruleset& rs, const nlmsghdr* req, uint32_t portid) {
    Reply r(portid, req->nlmsg_seq);
    const uint8_t msg = static_cast<uint8_t>(req->nlmsg_type & 0xff);
    if (msg == NFT_MSG_GETOBJ) {
        return {counter_dump("conntrack_stats", rs.counters, static_cast<uint16_t>(rs.generation), portid, req->nlmsg_seq)};
    } else if (msg == NFT_MSG_GETGEN) {
        nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWGEN), 0);
        mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(rs.generation));
    } else if (msg == NFT_MSG_GETRULE) {
        for (std::size_t i = 0; i < rs.rules; ++i) {
            nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWRULE), NLM_F_MULTI, static_cast<uint16_t>(rs.generation));
            mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "conntrack_stats");
            r.close();
        }
        r.done();
        if (rs.flush_during_check) {
            rs.flush_during_check = false;
            rs.rules = 0;
            ++rs.generation;
        }
    } else {
        // A repair starts with a table lookup: refused here, the test only asks whether one began.
        ++rs.table_gets;
        r.error(-EPERM);
    }
    return {r.take()};
}

}  // namespace

// The generation verified is the one read before the rules were checked: a flush between the
// check and a second generation read is seen at the next read, not missed until some unrelated
// ruleset change.
TEST_CASE("a flush while the rules are checked is repaired at the next read") {
    Kernel kernel;
    Use use(kernel);
    Ruleset rs;
    ctnft::RulesetSpec spec;
    for (const auto& rule : ctnft::counting_rules(spec)) rs.counters.push_back(rule.counter);
    REQUIRE(rs.counters.size() == 18);
    kernel.respond = [&rs](const nlmsghdr* req, uint32_t portid) { return answer_ruleset(rs, req, portid); };
    ctnft::ManagedTable table(spec, false, /*owner_flag=*/false);
    REQUIRE(table.open());
    std::vector<ctnft::CounterValue> values;
    std::size_t count = 0;
    std::string repaired;
    rs.flush_during_check = true;
    REQUIRE(table.read(values, count, repaired).ok());
    CHECK(repaired.empty());
    CHECK(count == 18);
    // The flush happened: the next read must find the rules gone and start a repair.
    const ctnft::Status s = table.read(values, count, repaired);
    CHECK(repaired == "the table's rules were removed by someone else");
    CHECK(rs.table_gets == 1);
    CHECK_FALSE(s.ok());  // the scripted kernel refuses the repair itself
}

// A child that another plugin forks must not inherit the socket: it would keep the kernel's
// owner flag on our table alive after collectd is gone.
TEST_CASE("the netlink socket is closed on exec") {
    auto sockets = [] {
        std::vector<int> fds;
        for (int fd = 0; fd < 1024; ++fd) {
            char link[64] = {};
            const std::string path = "/proc/self/fd/" + std::to_string(fd);
            if (readlink(path.c_str(), link, sizeof link - 1) > 0 && std::string(link).rfind("socket:", 0) == 0)
                fds.push_back(fd);
        }
        return fds;
    };
    const std::vector<int> before = sockets();
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    int checked = 0;
    for (int fd : sockets()) {
        if (std::find(before.begin(), before.end(), fd) != before.end()) continue;
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        ++checked;
    }
    CHECK(checked == 1);
}

namespace {
bool g_fail_table_alloc = false;
}
extern "C" nftnl_table* __real_nftnl_table_alloc();
extern "C" nftnl_table* __wrap_nftnl_table_alloc() { return g_fail_table_alloc ? nullptr : __real_nftnl_table_alloc(); }

// libnftnl's allocators return NULL when memory runs out: the batch is not sent, and nothing
// dereferences the NULL.
TEST_CASE("a libnftnl allocation that fails leaves a batch that is never sent") {
    ctnft::Batch batch(1);
    g_fail_table_alloc = true;
    ctnft::add_table(batch, ctnft::Family::ip, "t", 0);
    g_fail_table_alloc = false;
    const ctnft::Status s = batch.finish();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("out of memory") != std::string::npos);
}
