#include "nft/netlink_socket.h"
#include "nft/text.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"

namespace ctnft {
namespace {

// Requests built one at a time (a get or a dump): names of at most 256 bytes and a few numbers.
constexpr std::size_t kMaxRequest = 8192;
// Netlink dumps fill at most 32 KiB per datagram (the kernel caps its dump buffers there);
// larger replies are reported, not cut. Up to kSlots datagrams are read with one recvmmsg: a
// dump's data and its DONE, or a get's reply, a dump's data and its DONE.
constexpr std::size_t kSlot = 32 * 1024;
constexpr std::size_t kSlots = 3;
constexpr std::size_t kReceiveBuffer = kSlot * kSlots;
// Replies to a big batch or dump wait here; acks beyond it would be lost (ENOBUFS).
constexpr int kSocketBuffer = 1 << 20;
constexpr int kMaxDumpRetries = 3;

}  // namespace

Batch::Batch(uint32_t first_seq) : begin_seq_(first_seq), seq_(first_seq) {
    buf_.resize(kFixedRoom);
    nftnl_batch_begin(buf_.data(), seq_++);
    used_ = NLMSG_ALIGN(reinterpret_cast<nlmsghdr*>(buf_.data())->nlmsg_len);
}

void Batch::account_pending() {
    if (!pending_) return;
    // A builder that wrote past its room has a wrong bound: a bug, never sent.
    if (pending_->nlmsg_len > pending_room_ && error_.empty())
        error_ = messages_.back().what + ": the message takes " + dec(pending_->nlmsg_len) + " bytes, more than the " +
                 dec(pending_room_) + " its builder counted";
    used_ += NLMSG_ALIGN(pending_->nlmsg_len);
    pending_ = nullptr;
}

nlmsghdr* Batch::add(uint16_t type, uint16_t family, uint16_t flags, std::string what, std::size_t room) {
    account_pending();
    buf_.resize(used_ + room);
    const uint32_t seq = seq_++;
    last_offset_ = used_;
    pending_room_ = room;
    pending_ = nftnl_nlmsg_build_hdr(buf_.data() + used_, type, family, flags, seq);
    messages_.push_back({seq, type, std::move(what), used_});
    return pending_;
}

void Batch::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
}

Status Batch::finish() {
    account_pending();
    if (!error_.empty()) return Status::error("building the nf_tables transaction: " + error_, EMSGSIZE);
    // Only the last message asks for an ack: the kernel reports errors for every message anyway,
    // and one ack per message would flood the receive buffer on large batches.
    if (!messages_.empty()) reinterpret_cast<nlmsghdr*>(buf_.data() + last_offset_)->nlmsg_flags |= NLM_F_ACK;
    buf_.resize(used_ + kFixedRoom);
    nftnl_batch_end(buf_.data() + used_, seq_++);
    used_ += NLMSG_ALIGN(reinterpret_cast<nlmsghdr*>(buf_.data() + used_)->nlmsg_len);
    return {};
}

Status NetlinkSocket::open(int timeout_ms) {
    close();
    // Close-on-exec: a child another plugin forks must not keep this socket, and with it the
    // kernel's owner flag on our table after collectd is gone.
    MnlSocketPtr sock(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!sock) return Status::error(std::string("opening a netlink socket: ") + std::strerror(errno), errno);
    if (mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return Status::error(std::string("binding the netlink socket: ") + std::strerror(errno), errno);

    const int fd = mnl_socket_get_fd(sock.get());
    timeval tv{};
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // Best effort: FORCE needs CAP_NET_ADMIN, the plain option is capped by rmem_max.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    // Acks without a copy of the request: smaller replies.
    int one = 1;
    mnl_socket_setsockopt(sock.get(), NETLINK_CAP_ACK, &one, sizeof one);
    // Errors then say which attribute the kernel refused (a rule's expression, for one): best effort.
    mnl_socket_setsockopt(sock.get(), NETLINK_EXT_ACK, &one, sizeof one);

    portid_ = mnl_socket_get_portid(sock.get());
    seq_ = static_cast<uint32_t>(time(nullptr));
    buf_.resize(kReceiveBuffer);
    request_.resize(kMaxRequest);
    clean_ = true;
    sock_ = std::move(sock);
    return {};
}

void NetlinkSocket::close() { sock_.reset(); }

Status NetlinkSocket::send(const void* data, std::size_t size) {
    if (!sock_) return Status::error("netlink socket is not open", EBADF);
    const ssize_t sent = mnl_socket_sendto(sock_.get(), data, size);
    if (sent < 0) return Status::error(std::string("sending to the kernel: ") + std::strerror(errno), errno);
    if (static_cast<std::size_t>(sent) != size) return Status::error("sending to the kernel: short write", EIO);
    return {};
}

Status NetlinkSocket::receive(std::size_t& size, bool wait) {
    const int fd = mnl_socket_get_fd(sock_.get());
    // MSG_TRUNC makes the kernel return the real length, so an oversized reply is seen, not cut.
    const ssize_t n = recv(fd, buf_.data(), buf_.size(), MSG_TRUNC | (wait ? 0 : MSG_DONTWAIT));
    if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK)
            return Status::error(wait ? "no answer from the kernel in time" : "nothing queued",
                                 wait ? ETIMEDOUT : EAGAIN);
        return Status::error(std::string("receiving from the kernel: ") + std::strerror(err), err);
    }
    if (static_cast<std::size_t>(n) > buf_.size()) {
        drain();
        return Status::error("a reply of " + dec(n) + " bytes is larger than the receive buffer (" +
                                 dec(buf_.size()) + ")",
                             EMSGSIZE);
    }
    size = static_cast<std::size_t>(n);
    return {};
}

Status NetlinkSocket::receive_many(std::size_t* sizes, std::size_t& count) {
    const int fd = mnl_socket_get_fd(sock_.get());
    iovec iov[kSlots];
    mmsghdr msgs[kSlots] = {};
    for (std::size_t i = 0; i < kSlots; ++i) {
        iov[i] = {buf_.data() + i * kSlot, kSlot};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // Waits (up to the receive timeout) for the first datagram only, then takes what is queued: a
    // dump's DONE is queued while the kernel hands out the datagram before it, so one call
    // usually carries a whole small dump. MSG_TRUNC: the real length, so an oversized reply is
    // seen, not cut.
    const int n = recvmmsg(fd, msgs, kSlots, MSG_TRUNC | MSG_WAITFORONE, nullptr);
    if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) return Status::error("no answer from the kernel in time", ETIMEDOUT);
        return Status::error(std::string("receiving from the kernel: ") + std::strerror(err), err);
    }
    count = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < count; ++i) {
        sizes[i] = msgs[i].msg_len;
        if (sizes[i] > kSlot) {
            drain();
            return Status::error("a reply of " + dec(sizes[i]) + " bytes is larger than the receive buffer (" +
                                     dec(kSlot) + ")",
                                 EMSGSIZE);
        }
    }
    return {};
}

void NetlinkSocket::drain() {
    const int fd = mnl_socket_get_fd(sock_.get());
    for (;;) {
        if (recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC) >= 0) continue;
        // ENOBUFS says replies were lost to a full buffer, not that none are left.
        if (errno != ENOBUFS && errno != EINTR) break;
    }
    clean_ = true;
}

// The errno of an error reply: the kernel sends -errno; anything else (a positive number,
// INT_MIN, whose negation overflows) is a malformed reply.
static int reply_errno(const nlmsgerr* e) {
    if (e->error == 0) return 0;
    if (e->error < 0 && e->error > -4096) return -e->error;
    return EPROTO;
}

Status NetlinkSocket::commit(Batch& batch, uint16_t* refused_type) {
    uint16_t ignored = kNoMessage;
    if (!refused_type) refused_type = &ignored;
    *refused_type = kNoMessage;
    if (Status s = batch.finish(); !s) return s;
    // The batch numbered its messages from the number it was given: later requests start past them.
    seq_ = batch.next_seq();
    // Replies to an earlier request that timed out must not be read as this batch's verdict.
    drain();
    // Batches are rare: the next request drains whatever this one leaves queued.
    clean_ = false;
    if (Status s = send(batch.data(), batch.size()); !s) return s;

    const auto& messages = batch.messages();
    const uint32_t last_seq = messages.empty() ? batch.begin_seq() : messages.back().seq;
    Status first_error;
    // The kernel processes a batch inside sendmsg(), so every reply is queued before we read:
    // the last message's ack (it alone carries NLM_F_ACK) closes the conversation, and an error
    // on the batch-begin sequence number is all there is when the whole batch was refused.
    bool wait = true;
    for (;;) {
        std::size_t size = 0;
        Status r = receive(size, wait);
        if (!r) {
            if (!first_error.ok()) return first_error;
            // The kernel had processed the batch: only its verdict was lost.
            if (r.code() == ENOBUFS)
                return Status::error("nf_tables transaction: the kernel's replies were lost to a full receive buffer, "
                                     "so whether it applied the batch is unknown; the next read checks the table",
                                     ENOBUFS);
            return Status::error(explain_kernel_error(r.code(), kNoMessage, "nf_tables transaction"), r.code());
        }
        wait = false;
        int left = static_cast<int>(size);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data()); message_fits(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_pid != portid_ || nlh->nlmsg_type != NLMSG_ERROR) continue;
            if (nlh->nlmsg_seq < batch.begin_seq() || nlh->nlmsg_seq > last_seq) continue;
            if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) continue;
            const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            const int err = reply_errno(e);
            if (err != 0 && first_error.ok()) {
                const Batch::Message* refused = nullptr;
                for (const auto& m : messages)
                    if (m.seq == nlh->nlmsg_seq) refused = &m;
                *refused_type = refused ? refused->type : kNoMessage;
                if (refused) {
                    const std::string expr = refused_expression(nlh, batch.data() + refused->offset,
                                                                batch.size() - refused->offset);
                    first_error = Status::error(explain_kernel_error(err, refused->type, refused->what, expr), err);
                } else {
                    first_error = Status::error(explain_kernel_error(err, kNoMessage, "nf_tables transaction"), err);
                }
            }
            if (nlh->nlmsg_seq == batch.begin_seq() && err != 0) return first_error;
            if (nlh->nlmsg_seq == last_seq) return first_error;
        }
    }
}

Status NetlinkSocket::run_requests(const char* requests, std::size_t size, const Handler* handlers,
                                   std::size_t count, bool& interrupted) {
    interrupted = false;
    struct State {
        uint32_t seq;
        bool dump;
        bool done;
    } state[kMaxExchange] = {};
    if (count == 0 || count > kMaxExchange) return Status::error("a malformed request", EINVAL);
    std::size_t n = 0;
    int left = static_cast<int>(size);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(requests); n < count && message_fits(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left))
        state[n++] = {nlh->nlmsg_seq, (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP, false};
    if (n != count) return Status::error("a malformed request", EINVAL);
    // A request that ended early (error, timeout, a dump stopped) may have left replies queued;
    // otherwise there is nothing to drain, and no syscall is spent on it.
    if (!clean_) drain();
    clean_ = false;
    if (Status s = send(requests, size); !s) return s;
    std::size_t open = n;
    Status first_error;
    for (;;) {
        std::size_t sizes[kSlots] = {};
        std::size_t datagrams = 0;
        if (Status r = receive_many(sizes, datagrams); !r) return r;
        for (std::size_t d = 0; d < datagrams; ++d) {
            left = static_cast<int>(sizes[d]);
            for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data() + d * kSlot); message_fits(nlh, left);
                 nlh = mnl_nlmsg_next(nlh, &left)) {
                // Anything not addressed to these requests (a late reply to a request that timed out) is skipped.
                if (nlh->nlmsg_pid != portid_) continue;
                std::size_t i = 0;
                while (i < n && (state[i].seq != nlh->nlmsg_seq || state[i].done)) ++i;
                if (i == n) continue;
                bool finished = false;
                if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
                if (nlh->nlmsg_type == NLMSG_DONE) {
                    finished = true;
                } else if (nlh->nlmsg_type == NLMSG_ERROR) {
                    finished = true;
                    Status err;
                    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
                        err = Status::error("a truncated error reply from the kernel", EPROTO);
                    } else {
                        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                        if (const int code = reply_errno(e)) err = Status::error(std::strerror(code), code);
                    }
                    if (!err && first_error.ok()) first_error = err;
                } else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
                    const int rc = handlers[i].cb(nlh, handlers[i].data);
                    if (rc == MNL_CB_ERROR) return Status::error("a malformed reply from the kernel", EPROTO);
                    finished = rc == MNL_CB_STOP || !state[i].dump;
                }
                if (!finished) continue;
                state[i].done = true;
                if (--open > 0) continue;
                // Every request is answered. Anything after it in what was received (which
                // would be a kernel's surprise), or a dump stopped early, leaves the socket
                // to be drained before the next request.
                const bool rest = mnl_nlmsg_next(nlh, &left) && (left > 0 || d + 1 < datagrams);
                const bool stopped = state[i].dump && nlh->nlmsg_type != NLMSG_DONE && nlh->nlmsg_type != NLMSG_ERROR;
                clean_ = !rest && !stopped && first_error.ok();
                return first_error;
            }
        }
    }
}

Status NetlinkSocket::exchange(const char* requests, std::size_t size, const Handler* handlers, std::size_t count) {
    if (!sock_) return Status::error("netlink socket is not open", EBADF);
    for (int attempt = 0;; ++attempt) {
        bool interrupted = false;
        Status s = run_requests(requests, size, handlers, count, interrupted);
        if (!s || !interrupted) return s;
        // What was collected mixes two rulesets (a flowtable count of 0 while fw4 reloads):
        // never hand it on as a result.
        if (attempt + 1 >= kMaxDumpRetries)
            return Status::error(explain_kernel_error(EINTR, kNoMessage, "dump"), EINTR);
        // The data changed under the dump: callers restart from a clean slate.
        for (std::size_t i = 0; i < count; ++i)
            if (handlers[i].cb(nullptr, handlers[i].data) == MNL_CB_ERROR)
                return Status::error("a malformed reply from the kernel", EPROTO);
    }
}

Status NetlinkSocket::dump(const nlmsghdr* request, Callback cb, void* data) {
    const Handler handler{cb, data};
    return exchange(reinterpret_cast<const char*>(request), request->nlmsg_len, &handler, 1);
}

Status NetlinkSocket::query(const nlmsghdr* request, Callback cb, void* data) {
    if (!sock_) return Status::error("netlink socket is not open", EBADF);
    bool interrupted = false;
    const Handler handler{cb, data};
    return run_requests(reinterpret_cast<const char*>(request), request->nlmsg_len, &handler, 1, interrupted);
}

}  // namespace ctnft
