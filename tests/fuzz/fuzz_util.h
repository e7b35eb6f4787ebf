// Shared by the fuzz targets: the fuzz input as the receive buffer holds a kernel datagram, and
// the walk over its messages exactly as NetlinkSocket::run_request does it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include <libmnl/libmnl.h>

#include "nft/netlink_attrs.h"

namespace ctnft_fuzz {

// A heap copy of exactly `size` bytes, aligned for nlmsghdr: AddressSanitizer reports any read
// past the datagram's end (the real receive buffer is 64 KiB and would hide it).
class Datagram {
public:
    // operator new[] aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16), enough for nlmsghdr. The
    // copy is padded with zeros to 4 bytes, as a real datagram (libmnl and libnftnl read up to
    // the aligned end of the last message), and not a byte more.
    Datagram(const uint8_t* data, std::size_t size)
        : size_(size), bytes_(new char[size == 0 ? 4 : (size + 3) & ~std::size_t{3}]()) {
        if (size) std::memcpy(bytes_.get(), data, size);
    }
    const char* data() const { return bytes_.get(); }
    std::size_t size() const { return size_; }

private:
    std::size_t size_;
    std::unique_ptr<char[]> bytes_;
};

// Calls f(nlh) for every message of the datagram that run_request would hand to a callback.
template <typename F>
void for_each_message(const Datagram& d, F&& f) {
    int left = static_cast<int>(d.size());
    // The same walk as NetlinkSocket's.
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(d.data()); ctnft::message_fits(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
        if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;  // DONE, ERROR, NOOP, OVERRUN: the socket's own
        f(nlh);
    }
}

}  // namespace ctnft_fuzz
