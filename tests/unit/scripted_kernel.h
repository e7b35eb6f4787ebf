// A scripted kernel for tests: the netlink socket's syscalls wrapped (-Wl,--wrap=mnl_socket_sendto,
// --wrap=recv, --wrap=recvmmsg), each request answered as the test's script says. The kernel
// cannot be made to interrupt a dump, time out or send a malformed reply on demand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

namespace scripted {

// One datagram the kernel queues, or an error recv() reports once in its place (ENOBUFS: replies
// were lost to a full receive buffer).
struct Queued {
    std::vector<char> bytes;
    int error = 0;
};

// Answers requests as a script says: respond(request, portid) returns the datagrams the kernel
// queues for it. Unanswered requests queue nothing (the socket then times out).
struct Kernel {
    std::function<std::vector<std::vector<char>>(const nlmsghdr*, uint32_t)> respond;
    std::deque<Queued> queued;
    int requests = 0;
    std::size_t queued_at_last_send = 0;  // what was still queued when the last request went out
    std::vector<uint32_t> sent_seqs;      // every message's sequence number, in order
};
// The kernel the wrapped syscalls talk to while a test runs (Use sets and clears it).
extern Kernel* g_kernel;
struct Use {
    explicit Use(Kernel& k) { g_kernel = &k; }
    ~Use() { g_kernel = nullptr; }
};

// Builds reply messages back to back into one datagram.
class Reply {
public:
    Reply(uint32_t portid, uint32_t seq) : portid_(portid), seq_(seq) {}
    // An nf_tables message (type >= NLMSG_MIN_TYPE gets an nfgenmsg with res_id, the generation).
    nlmsghdr* message(uint16_t type, uint16_t flags, uint16_t res_id = 0);
    void done();
    void error(int32_t err);  // -errno, 0 for an ack
    // Ends the message being built (its length aligned).
    void close();
    std::vector<char> take();

private:
    uint32_t portid_, seq_;
    std::vector<char> bytes_;
    std::size_t last_ = std::string::npos;
};

uint16_t nft_msg(uint8_t msg);
// The kernel's verdict on a whole batch: the ack of the message that asked for one (the last).
std::vector<char> batch_ack(const nlmsghdr* begin, uint32_t portid);
// A flowtable dump: `flowtables` messages, then DONE, all marked interrupted or not.
std::vector<char> flowtable_dump(int flowtables, bool interrupted, uint32_t portid, uint32_t seq);
// A counter dump of table `table`: one NEWOBJ per name (1 packet, 100 bytes), then DONE.
std::vector<char> counter_dump(const std::string& table, const std::vector<std::string>& names, uint16_t generation,
                               uint32_t portid, uint32_t seq);

}  // namespace scripted
