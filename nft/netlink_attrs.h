// Strict reading of the attributes in kernel replies: every parser of the nft layer goes
// through here, so a reply whose attributes do not exactly fill it is malformed everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

namespace ctnft {

// Whether the next message of a received datagram with `left` bytes to go fits in them. Unlike
// mnl_nlmsg_ok, which compares (int)nlmsg_len and so takes a length of 2^31 or more for a
// negative one, and the walk then reads far past the datagram.
inline bool message_fits(const nlmsghdr* nlh, int left) {
    return left >= static_cast<int>(sizeof(nlmsghdr)) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
           nlh->nlmsg_len <= static_cast<unsigned>(left);
}

// Attribute helpers inlined into the parsers (libmnl's are calls through the PLT, on every
// attribute of every reply); each check is exactly libmnl's.
inline uint16_t attr_type(const nlattr* attr) { return attr->nla_type & NLA_TYPE_MASK; }
inline uint16_t attr_payload_len(const nlattr* attr) { return static_cast<uint16_t>(attr->nla_len - MNL_ATTR_HDRLEN); }
inline const char* attr_payload(const nlattr* attr) { return reinterpret_cast<const char*>(attr) + MNL_ATTR_HDRLEN; }
// mnl_attr_validate(attr, MNL_TYPE_U32 / U64 / NUL_STRING / NESTED) == 0
inline bool attr_is_u32(const nlattr* attr) { return attr_payload_len(attr) == 4; }
inline bool attr_is_u64(const nlattr* attr) { return attr_payload_len(attr) == 8; }
inline bool attr_is_nul_string(const nlattr* attr) {
    const uint16_t len = attr_payload_len(attr);
    return len > 0 && attr_payload(attr)[len - 1] == '\0';
}
inline bool attr_is_nested(const nlattr* attr) {
    const uint16_t len = attr_payload_len(attr);
    return len == 0 || len >= MNL_ATTR_HDRLEN;
}

// Walks the attributes in [start, start + len), passing each to f (which returns false to
// refuse it). False when f refuses one, or when the attributes do not exactly fill len: one
// running past the end is malformed, where mnl_attr_parse would stop there silently.
template <typename F>
inline bool walk_attrs(const void* start, std::size_t len, F&& f) {
    auto* attr = static_cast<const nlattr*>(start);
    int left = static_cast<int>(len);
    // mnl_attr_ok
    while (left >= static_cast<int>(sizeof(nlattr)) && attr->nla_len >= sizeof(nlattr) &&
           static_cast<int>(attr->nla_len) <= left) {
        if (!f(attr)) return false;
        left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
        attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(attr) + MNL_ALIGN(attr->nla_len));
    }
    return left == 0;
}

// walk_attrs with a libmnl-style callback (MNL_CB_OK to go on).
bool parse_attrs(const void* start, std::size_t len, mnl_attr_cb_t cb, void* data);

// The attributes after the nfgenmsg header of a message of type `type`, indexed by attribute
// type (types above max are ignored). False for another type, a short message, or a malformed
// stream. Checking each attribute's own type and length is left to the caller.
inline bool message_attrs(const nlmsghdr* nlh, uint16_t type, const nlattr** tb, uint16_t max) {
    if (nlh->nlmsg_type != type || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg))) return false;
    const std::size_t offset = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    return walk_attrs(reinterpret_cast<const char*>(nlh) + offset, nlh->nlmsg_len - offset, [&](const nlattr* attr) {
        const uint16_t t = attr_type(attr);
        if (t <= max) tb[t] = attr;
        return true;
    });
}

// The name of the expression the kernel refused in one of our batch messages: from the error
// reply's extended ack (NLMSGERR_ATTR_OFFS, the offset of the refused attribute in `request`)
// when it points at a rule's expression. Empty when the reply says nothing usable. `request` is
// the refused message as we sent it, with `room` bytes of the batch from there on.
std::string refused_expression(const nlmsghdr* error, const char* request, std::size_t room);

// The nlmsg_type of an nf_tables message NFT_MSG_<msg>.
constexpr uint16_t nft_type(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

}  // namespace ctnft
