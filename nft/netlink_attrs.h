// Strict reading of the attributes in kernel replies: every parser of the nft layer goes
// through here, so a reply whose attributes do not exactly fill it is malformed everywhere.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Walks the attributes in [start, start + len), passing each to cb. False when cb refuses one,
// or when the attributes do not exactly fill len: one running past the end is malformed, where
// mnl_attr_parse would stop there silently.
bool parse_attrs(const void* start, std::size_t len, mnl_attr_cb_t cb, void* data);

// The attributes after the nfgenmsg header of a message of type `type`, indexed by attribute
// type (types above max are ignored). False for another type, a short message, or a malformed
// stream. Checking each attribute's own type and length is left to the caller.
bool message_attrs(const nlmsghdr* nlh, uint16_t type, const nlattr** tb, uint16_t max);

// The nlmsg_type of an nf_tables message NFT_MSG_<msg>.
constexpr uint16_t nft_type(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

}  // namespace ctnft
