// The one place that talks netlink to nf_tables (and ctnetlink): requests, dumps and atomic
// batches on a single socket, with sequence numbers and port ids checked and a bounded wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "nft/nftnl_ptr.h"
#include "nft/status.h"

namespace ctnft {

// Room a message needs, as its builder counts it before building: libnftnl and libmnl write
// without bounds, so each builder states an upper bound and the batch checks it was kept.
// kFixedRoom holds a message's headers and every fixed-size attribute our builders write (a
// classic rule's six expressions take about 330 bytes); the strings and lists are added.
constexpr std::size_t kFixedRoom = 1024;
constexpr std::size_t attr_room(std::size_t payload) { return MNL_ATTR_HDRLEN + MNL_ALIGN(payload); }
inline std::size_t string_room(const std::string& s) { return attr_room(s.size() + 1); }

// One atomic nf_tables transaction under construction.
class Batch {
public:
    explicit Batch(uint32_t first_seq);

    // Starts the next message and returns its header; build the payload into it before the next
    // call, in at most `room` bytes (header included). `what` names the object for error messages
    // ("table ip conntrack_stats").
    nlmsghdr* add(uint16_t type, uint16_t family, uint16_t flags, std::string what, std::size_t room = kFixedRoom);
    // A builder could not make its message (out of memory): the batch is not sent.
    void fail(std::string why);

    struct Message {
        uint32_t seq;
        uint16_t type;
        std::string what;
        std::size_t offset;  // where the message starts in data()
    };
    const std::vector<Message>& messages() const { return messages_; }
    uint32_t begin_seq() const { return begin_seq_; }
    // Closes the batch; data() and size() are then the bytes to send. An error when a message
    // outgrew its room or a builder failed: nothing may be sent then.
    Status finish();
    const char* data() const { return buf_.data(); }
    std::size_t size() const { return used_; }
    uint32_t next_seq() const { return seq_; }

private:
    void account_pending();
    std::vector<char> buf_;
    std::size_t used_ = 0;
    std::size_t last_offset_ = 0;
    nlmsghdr* pending_ = nullptr;
    std::size_t pending_room_ = 0;
    std::string error_;
    uint32_t begin_seq_;
    uint32_t seq_;
    std::vector<Message> messages_;
};

class NetlinkSocket {
public:
    using Callback = int (*)(const nlmsghdr* nlh, void* data);  // MNL_CB_OK / MNL_CB_STOP / MNL_CB_ERROR

    NetlinkSocket() = default;
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;

    // Opens a NETLINK_NETFILTER socket; every wait for the kernel ends after timeout_ms.
    Status open(int timeout_ms = 2000);
    void close();
    bool is_open() const { return static_cast<bool>(sock_); }
    uint32_t portid() const { return portid_; }
    // A request's sequence number. A batch takes one per message from there on: commit() moves
    // the counter past them, so that no later request shares a number with the batch.
    uint32_t next_seq() { return seq_++; }

    // Sends the batch and waits for the kernel's verdict. On failure the kernel has rolled the
    // whole batch back; the status names the refused object and what to do about it, and
    // refused_type (when given) is the NFT_MSG_* of the refused message, kNoMessage for the whole batch.
    Status commit(Batch& batch, uint16_t* refused_type = nullptr);

    // Sends a dump request (NLM_F_DUMP set by the caller) and passes every reply to cb until the
    // kernel says done. A dump the kernel marks as interrupted is repeated: cb is then called
    // once with nullptr, to drop what it collected, before the replies start again. Interrupted
    // three times: an EINTR error, never a mix of two rulesets.
    Status dump(const nlmsghdr* request, Callback cb, void* data);

    // Sends a single get request (no NLM_F_ACK) and passes its one reply to cb.
    Status query(const nlmsghdr* request, Callback cb, void* data);

    // Several requests in one datagram, one round trip: `size` bytes of messages built back to
    // back (each a get or a dump), handlers[i] for the i-th. Returns when every request is
    // answered (a get's reply, a dump's DONE, or an error: the first one is returned). At most one
    // dump, and it must come last: the kernel runs one dump per socket at a time, and answers the
    // gets before it while it is running. An interrupted dump repeats the whole exchange.
    struct Handler {
        Callback cb;
        void* data;
    };
    static constexpr std::size_t kMaxExchange = 4;
    Status exchange(const char* requests, std::size_t size, const Handler* handlers, std::size_t count);

    // A reusable scratch buffer for building requests.
    char* request_buffer() { return request_.data(); }

private:
    Status send(const void* data, std::size_t size);
    // Receives one datagram into buf_; `wait` false returns EAGAIN at once when nothing is queued.
    Status receive(std::size_t& size, bool wait);
    // Receives one datagram or more (whatever is queued once the first is there) into slots of
    // buf_; sizes[0..count) are their lengths.
    Status receive_many(std::size_t* sizes, std::size_t& count);
    Status run_requests(const char* requests, std::size_t size, const Handler* handlers, std::size_t count,
                        bool& interrupted);
    void drain();

    MnlSocketPtr sock_;
    uint32_t portid_ = 0;
    uint32_t seq_ = 0;
    std::vector<char> buf_;
    std::vector<char> request_;
    // Nothing from an earlier conversation can be queued: the next request need not drain.
    bool clean_ = true;
};

}  // namespace ctnft
