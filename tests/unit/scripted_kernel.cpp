#include "scripted_kernel.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <endian.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

namespace scripted {

Kernel* g_kernel = nullptr;

nlmsghdr* Reply::message(uint16_t type, uint16_t flags, uint16_t res_id) {
    close();
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

void Reply::done() {
    nlmsghdr* nlh = message(NLMSG_DONE, NLM_F_MULTI);
    mnl_nlmsg_put_extra_header(nlh, sizeof(int));
}

void Reply::error(int32_t err) {
    nlmsghdr* nlh = message(NLMSG_ERROR, 0);
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = err;
}

void Reply::close() {
    if (last_ == std::string::npos) return;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes_.data() + last_);
    bytes_.resize(last_ + NLMSG_ALIGN(nlh->nlmsg_len));
    last_ = std::string::npos;
}

std::vector<char> Reply::take() {
    close();
    return std::move(bytes_);
}

uint16_t nft_msg(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

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

std::vector<char> flowtable_dump(int flowtables, bool interrupted, uint32_t portid, uint32_t seq) {
    Reply r(portid, seq);
    const uint16_t flags = NLM_F_MULTI | (interrupted ? NLM_F_DUMP_INTR : 0);
    for (int i = 0; i < flowtables; ++i) {
        nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWFLOWTABLE), flags);
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, "fw4");
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_NAME, ("ft" + std::to_string(i)).c_str());
    }
    nlmsghdr* done = r.message(NLMSG_DONE, flags);
    mnl_nlmsg_put_extra_header(done, sizeof(int));
    return r.take();
}

std::vector<char> counter_dump(const std::string& table, const std::vector<std::string>& names, uint16_t generation,
                               uint32_t portid, uint32_t seq) {
    Reply r(portid, seq);
    for (const auto& name : names) {
        nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWOBJ), NLM_F_MULTI, generation);
        mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, table.c_str());
        mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, name.c_str());
        mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
        nlattr* data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
        mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(100));
        mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(1));
        mnl_attr_nest_end(nlh, data);
    }
    r.done();
    return r.take();
}

}  // namespace scripted

using scripted::g_kernel;

extern "C" {

ssize_t __wrap_mnl_socket_sendto(const mnl_socket* nl, const void* buf, size_t len) {
    scripted::Kernel& k = *g_kernel;
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
    scripted::Kernel& k = *g_kernel;
    if (k.queued.empty()) {
        errno = EAGAIN;
        return -1;
    }
    const scripted::Queued q = std::move(k.queued.front());
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
