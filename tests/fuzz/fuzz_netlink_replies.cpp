// The whole conversation with a fake kernel: NetlinkSocket (sequence and port checks, dumps,
// interrupted dumps, error replies, batches' verdicts, replies larger than the receive buffer)
// and every callback that reads a reply, through the public entry points the plugin uses:
// ManagedTable::create/read/remove (table and chain queries, the generation reply, the rule
// check), CounterReader::read (attach mode), ConntrackStatsReader::read and count_flowtables.
//
// Linked with -Wl,--wrap=mnl_socket_sendto,--wrap=recv,--wrap=recvmmsg: nothing is ever sent to the real kernel
// (the socket is opened and bound, no more), and every datagram the code receives comes from the
// fuzz input. Input: a sequence of chunks, each [u16 length, little endian][u8 control][bytes].
// A chunk becomes receivable after the next request is sent; control bit 7 ends that request's
// replies. Control bit 0 rewrites every message's port id and sequence number to those the
// request expects (the fuzzer cannot guess a time-based sequence number); bits 1-2 pick which:
// the request's first, its last, its second to last (a batch's last message) or one past the
// last. Bit 3 reports the datagram as 64 KiB larger than it is (as MSG_TRUNC does for a reply
// larger than the receive buffer).
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <sys/socket.h>
#include <vector>

#include <libmnl/libmnl.h>

#include "nft/conntrack_stats.h"
#include "nft/managed_table.h"
#include "nft/table_queries.h"

namespace {

struct Chunk {
    uint8_t control;
    std::vector<char> bytes;
};

struct FakeKernel {
    std::deque<Chunk> pending;   // not yet answered
    std::deque<Chunk> queued;    // receivable now
    uint32_t portid = 0;
    std::vector<uint32_t> seqs;  // sequence numbers of the last request's messages
    std::size_t sends = 0;
};
FakeKernel* g_kernel = nullptr;

void parse_input(const uint8_t* data, std::size_t size, std::deque<Chunk>& out) {
    std::size_t i = 0;
    while (i + 3 <= size) {
        std::size_t len = static_cast<std::size_t>(data[i]) | (static_cast<std::size_t>(data[i + 1]) << 8);
        const uint8_t control = data[i + 2];
        i += 3;
        if (len > size - i) len = size - i;
        out.push_back({control, std::vector<char>(data + i, data + i + len)});
        i += len;
    }
}

uint32_t pick_seq(uint8_t control) {
    const auto& s = g_kernel->seqs;
    if (s.empty()) return 0;
    switch ((control >> 1) & 3) {
        case 0: return s.front();
        case 1: return s.back();
        case 2: return s.size() > 1 ? s[s.size() - 2] : s.front();  // a batch: its last message
        default: return s.back() + 1;
    }
}

}  // namespace

extern "C" {

ssize_t __wrap_mnl_socket_sendto(const mnl_socket* nl, const void* buf, size_t len) {
    FakeKernel& k = *g_kernel;
    k.portid = mnl_socket_get_portid(nl);
    k.seqs.clear();
    int left = static_cast<int>(len);
    for (auto* nlh = static_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
        k.seqs.push_back(nlh->nlmsg_seq);  // our own requests: well-formed
    ++k.sends;
    // The replies to this request become receivable.
    while (!k.pending.empty()) {
        Chunk c = std::move(k.pending.front());
        k.pending.pop_front();
        const bool last = c.control & 0x80;
        k.queued.push_back(std::move(c));
        if (last) break;
    }
    return static_cast<ssize_t>(len);
}

// One chunk as the kernel would hand it out: into buf (len bytes), returning the datagram's real
// length (MSG_TRUNC), also when it was cut.
static ssize_t deliver(Chunk c, void* buf, size_t len) {
    FakeKernel& k = *g_kernel;
    if (c.control & 1) {
        const uint32_t seq = pick_seq(c.control);
        int left = static_cast<int>(c.bytes.size());
        // Only whole, aligned headers are rewritten; what follows a malformed one stays as it is.
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(c.bytes.data());
             left >= static_cast<int>(sizeof(nlmsghdr)) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
             nlh->nlmsg_len <= static_cast<unsigned>(left);
             nlh = const_cast<nlmsghdr*>(mnl_nlmsg_next(nlh, &left))) {
            nlh->nlmsg_pid = k.portid;
            nlh->nlmsg_seq = seq;
        }
    }
    const std::size_t n = std::min(len, c.bytes.size());
    std::memcpy(buf, c.bytes.data(), n);
    if (c.control & 8) return static_cast<ssize_t>(c.bytes.size() + 65536);
    return static_cast<ssize_t>(c.bytes.size());  // MSG_TRUNC: the real size, also when cut
}

ssize_t __wrap_recv(int, void* buf, size_t len, int) {
    FakeKernel& k = *g_kernel;
    if (k.queued.empty()) {
        errno = EAGAIN;  // nothing queued, or (with a wait) the receive timeout
        return -1;
    }
    Chunk c = std::move(k.queued.front());
    k.queued.pop_front();
    return deliver(std::move(c), buf, len);
}

// As the kernel does with MSG_WAITFORONE: the first datagram (or the timeout), then whatever is queued.
int __wrap_recvmmsg(int, mmsghdr* msgs, unsigned int vlen, int, timespec*) {
    FakeKernel& k = *g_kernel;
    if (k.queued.empty()) {
        errno = EAGAIN;
        return -1;
    }
    unsigned int n = 0;
    for (; n < vlen && !k.queued.empty(); ++n) {
        Chunk c = std::move(k.queued.front());
        k.queued.pop_front();
        const iovec& iov = msgs[n].msg_hdr.msg_iov[0];
        msgs[n].msg_len = static_cast<unsigned int>(deliver(std::move(c), iov.iov_base, iov.iov_len));
    }
    return static_cast<int>(n);
}

}  // extern "C"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    FakeKernel kernel;
    g_kernel = &kernel;
    const uint8_t mode = data[0];
    parse_input(data + 1, size - 1, kernel.pending);

    std::vector<ctnft::CounterValue> values;
    std::size_t count = 0;
    if ((mode & 3) == 0) {
        // Manage false: the attach-mode read, then the conntrack statistics on the same socket.
        ctnft::NetlinkSocket sock;
        if (!sock.open()) return 0;
        ctnft::CounterReader reader(ctnft::Family::ip, "conntrack_stats");
        bool missing = false;
        for (int i = 0; i < 2; ++i) (void)reader.read(sock, values, count, missing);
        ctnft::ConntrackStatsReader stats;
        ctnft::ConntrackHealth health;
        for (int i = 0; i < 2; ++i) (void)stats.read(sock, health);
        uint32_t flowtables = 0;
        (void)ctnft::count_flowtables(sock, flowtables);
    } else {
        // Manage true: create, a few reads (each may repair), remove. Owner flag off (mode bit 2)
        // makes every read check the generation and the rules.
        ctnft::RulesetSpec spec;
        ctnft::ManagedTable table(spec, (mode & 8) != 0, (mode & 4) == 0);
        if (!table.open()) return 0;
        (void)table.create();
        std::string repaired;
        for (int i = 0; i < 3; ++i) (void)table.read(values, count, repaired);
        (void)table.remove();
    }
    if (count > values.size()) __builtin_trap();
    g_kernel = nullptr;
    return 0;
}
