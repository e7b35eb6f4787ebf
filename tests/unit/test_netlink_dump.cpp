// NetlinkSocket's handling of dumps the kernel marks as interrupted (NLM_F_DUMP_INTR), with the
// socket's syscalls wrapped (-Wl,--wrap): the kernel cannot be made to interrupt a dump on
// demand, so each test scripts the datagrams it answers with.
#include "catch.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <sys/socket.h>
#include <vector>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/conntrack_stats.h"
#include "nft/netlink_socket.h"

namespace {

// The answer to one request: flowtable messages, the dump marked interrupted or not.
struct Answer {
    int flowtables;
    bool interrupted;
};

struct ScriptedKernel {
    std::deque<Answer> answers;
    std::deque<std::vector<char>> queued;
    int requests = 0;
};
ScriptedKernel* g_kernel = nullptr;

std::vector<char> datagram(const Answer& a, uint32_t portid, uint32_t seq) {
    std::vector<char> out(4096);
    char* at = out.data();
    const uint16_t flags = NLM_F_MULTI | (a.interrupted ? NLM_F_DUMP_INTR : 0);
    for (int i = 0; i <= a.flowtables; ++i) {
        const bool done = i == a.flowtables;
        nlmsghdr* nlh = done ? mnl_nlmsg_put_header(at)
                             : nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWFLOWTABLE, NFPROTO_INET, flags, seq);
        if (done) {
            nlh->nlmsg_type = NLMSG_DONE;
            nlh->nlmsg_flags = flags;
            mnl_nlmsg_put_extra_header(nlh, sizeof(int));
        } else {
            mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, "fw4");
            mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_NAME, ("ft" + std::to_string(i)).c_str());
        }
        nlh->nlmsg_seq = seq;
        nlh->nlmsg_pid = portid;
        at += nlh->nlmsg_len;
    }
    out.resize(static_cast<std::size_t>(at - out.data()));
    return out;
}

}  // namespace

extern "C" {

ssize_t __wrap_mnl_socket_sendto(const mnl_socket* nl, const void* buf, size_t len) {
    ScriptedKernel& k = *g_kernel;
    ++k.requests;
    if (!k.answers.empty()) {
        k.queued.push_back(datagram(k.answers.front(), mnl_socket_get_portid(nl),
                                    static_cast<const nlmsghdr*>(buf)->nlmsg_seq));
        k.answers.pop_front();
    }
    return static_cast<ssize_t>(len);
}

ssize_t __wrap_recv(int, void* buf, size_t len, int) {
    ScriptedKernel& k = *g_kernel;
    if (k.queued.empty()) {
        errno = EAGAIN;
        return -1;
    }
    const std::vector<char> d = std::move(k.queued.front());
    k.queued.pop_front();
    std::memcpy(buf, d.data(), std::min(len, d.size()));
    return static_cast<ssize_t>(d.size());
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
    kernel.answers = {{1, true}, {2, false}};
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
    kernel.answers = {{0, true}, {0, true}, {0, true}, {1, false}};
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
