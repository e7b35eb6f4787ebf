// NetlinkSocket's handling of dumps the kernel marks as interrupted (NLM_F_DUMP_INTR), with the
// socket's syscalls wrapped (-Wl,--wrap): the kernel cannot be made to interrupt a dump on
// demand, so each test scripts the datagrams it answers with.
#include "catch.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
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
#include "nft/managed_table.h"
#include "nft/netlink_socket.h"
#include "nft/ruleset_batch.h"

namespace {

// One datagram the kernel queues, or an error recv() reports once in its place (ENOBUFS: replies
// were lost to a full receive buffer).
struct Queued {
    std::vector<char> bytes;
    int error = 0;
};

// Answers requests as a script says: respond(request, portid) returns the datagrams the kernel
// queues for it. Unanswered requests queue nothing.
struct ScriptedKernel {
    std::function<std::vector<std::vector<char>>(const nlmsghdr*, uint32_t)> respond;
    std::deque<Queued> queued;
    int requests = 0;
    std::size_t queued_at_last_send = 0;  // what was still queued when the last request went out
    std::vector<uint32_t> sent_seqs;      // every message's sequence number, in order
};
ScriptedKernel* g_kernel = nullptr;

// Builds reply messages back to back into one datagram.
class Reply {
public:
    explicit Reply(uint32_t portid, uint32_t seq) : portid_(portid), seq_(seq) {}
    nlmsghdr* message(uint16_t type, uint16_t flags, uint16_t res_id = 0) {
        const std::size_t at = bytes_.size();
        bytes_.resize(at + 16384);
        nlmsghdr* nlh = mnl_nlmsg_put_header(bytes_.data() + at);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        nlh->nlmsg_seq = seq_;
        nlh->nlmsg_pid = portid_;
        if (type >= NLMSG_MIN_TYPE) {
            auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
            nfg->nfgen_family = NFPROTO_IPV4;
            nfg->version = NFNETLINK_V0;
            nfg->res_id = htons(res_id);
        }
        last_ = at;
        return nlh;
    }
    void done() {
        nlmsghdr* nlh = message(NLMSG_DONE, NLM_F_MULTI);
        mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    }
    void error(int32_t err) {
        nlmsghdr* nlh = message(NLMSG_ERROR, 0);
        auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
        e->error = err;
    }
    std::vector<char> take() {
        close();
        return std::move(bytes_);
    }
    void close() {
        if (last_ == std::string::npos) return;
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes_.data() + last_);
        bytes_.resize(last_ + NLMSG_ALIGN(nlh->nlmsg_len));
        last_ = std::string::npos;
    }

private:
    uint32_t portid_, seq_;
    std::vector<char> bytes_;
    std::size_t last_ = std::string::npos;
};

uint16_t nft_msg(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

// The flowtable dump of the interrupted-dump tests: `flowtables` messages, then DONE.
std::vector<char> flowtable_dump(int flowtables, bool interrupted, uint32_t portid, uint32_t seq) {
    Reply r(portid, seq);
    const uint16_t flags = NLM_F_MULTI | (interrupted ? NLM_F_DUMP_INTR : 0);
    for (int i = 0; i < flowtables; ++i) {
        nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWFLOWTABLE), flags);
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, "fw4");
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_NAME, ("ft" + std::to_string(i)).c_str());
        r.close();
    }
    nlmsghdr* done = r.message(NLMSG_DONE, flags);
    mnl_nlmsg_put_extra_header(done, sizeof(int));
    return r.take();
}

// The kernel's verdict on a whole batch: the ack of the message that asked for one (the last).
std::vector<char> batch_ack(const nlmsghdr* begin, uint32_t portid) {
    int left = 1 << 16;
    uint32_t acked = 0;
    for (auto* m = begin; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
        if (m->nlmsg_flags & NLM_F_ACK) acked = m->nlmsg_seq;
        if (m->nlmsg_type == NFNL_MSG_BATCH_END) break;
    }
    Reply r(portid, acked);
    r.error(0);
    return r.take();
}

// Scripted answers to flowtable dumps, one per request, in order.
struct Answer {
    int flowtables;
    bool interrupted;
};
void answer_flowtable_dumps(ScriptedKernel& k, std::deque<Answer> answers) {
    k.respond = [answers](const nlmsghdr* req, uint32_t portid) mutable {
        std::vector<std::vector<char>> out;
        if (answers.empty()) return out;
        out.push_back(flowtable_dump(answers.front().flowtables, answers.front().interrupted, portid, req->nlmsg_seq));
        answers.pop_front();
        return out;
    };
}

}  // namespace

extern "C" {

ssize_t __wrap_mnl_socket_sendto(const mnl_socket* nl, const void* buf, size_t len) {
    ScriptedKernel& k = *g_kernel;
    ++k.requests;
    k.queued_at_last_send = k.queued.size();
    int left = static_cast<int>(len);
    for (auto* nlh = static_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
        k.sent_seqs.push_back(nlh->nlmsg_seq);
    if (k.respond)
        for (auto& d : k.respond(static_cast<const nlmsghdr*>(buf), mnl_socket_get_portid(nl)))
            k.queued.push_back({std::move(d), 0});
    return static_cast<ssize_t>(len);
}

ssize_t __wrap_recv(int, void* buf, size_t len, int) {
    ScriptedKernel& k = *g_kernel;
    if (k.queued.empty()) {
        errno = EAGAIN;
        return -1;
    }
    const Queued q = std::move(k.queued.front());
    k.queued.pop_front();
    if (q.error) {
        errno = q.error;
        return -1;
    }
    std::memcpy(buf, q.bytes.data(), std::min(len, q.bytes.size()));
    return static_cast<ssize_t>(q.bytes.size());
}

int __wrap_recvmmsg(int fd, mmsghdr* msgs, unsigned int vlen, int, timespec*) {
    if (vlen == 0) return 0;
    const iovec& iov = msgs[0].msg_hdr.msg_iov[0];
    const ssize_t n = __wrap_recv(fd, iov.iov_base, iov.iov_len, 0);
    if (n < 0) return -1;
    msgs[0].msg_len = static_cast<unsigned int>(n);
    return 1;
}

}  // extern "C"

TEST_CASE("an interrupted dump is read again from a clean slate") {
    ScriptedKernel kernel;
    g_kernel = &kernel;
    answer_flowtable_dumps(kernel, {{1, true}, {2, false}});
    ctnft::NetlinkSocket sock;
    REQUIRE(sock.open(200));
    uint32_t count = 99;
    const ctnft::Status s = ctnft::count_flowtables(sock, count);
    CHECK(s.ok());
    CHECK(count == 2);  // not 1 + 2
    CHECK(kernel.requests == 2);
    g_kernel = nullptr;
}

// A partial result would be a flowtable count of 0 while fw4 reloads: offloading reported off,
// then on again (a second WARNING and notification).
TEST_CASE("a dump interrupted every time is an error, never a partial result") {
    ScriptedKernel kernel;
    g_kernel = &kernel;
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
    g_kernel = nullptr;
}

// An error reply carries -errno; INT_MIN cannot be negated (signed overflow), and a positive
// number is no errno: both are a malformed reply, never undefined behaviour.
TEST_CASE("an error reply of INT_MIN or a positive number is a protocol error") {
    for (int32_t bad : {std::numeric_limits<int32_t>::min(), 5}) {
        ScriptedKernel kernel;
        g_kernel = &kernel;
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
        g_kernel = nullptr;
    }
}

// A batch numbers its messages from the number it was given (begin, each message, end): a later
// request must not reuse one of them, or a late reply to the batch answers it.
TEST_CASE("requests after a batch do not reuse the batch's sequence numbers") {
    ScriptedKernel kernel;
    g_kernel = &kernel;
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
    g_kernel = nullptr;
}

// ENOBUFS from recv says replies were lost, not that none are left: what is queued behind it is
// drained too before the next conversation.
TEST_CASE("the socket drains past ENOBUFS before a transaction") {
    ScriptedKernel kernel;
    g_kernel = &kernel;
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
    g_kernel = nullptr;
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
        for (const auto& name : rs.counters) {
            nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWOBJ), NLM_F_MULTI, static_cast<uint16_t>(rs.generation));
            mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, "conntrack_stats");
            mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, name.c_str());
            mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
            nlattr* data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
            mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(100));
            mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(1));
            mnl_attr_nest_end(nlh, data);
            r.close();
        }
        r.done();
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
    ScriptedKernel kernel;
    g_kernel = &kernel;
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
    g_kernel = nullptr;
}
