// Decimal text of a number, for messages. std::to_string is a function of the C++ runtime library
// (not of its headers); this is not, so the plugin built with CONNTRACK_NFT_MINIMAL_RUNTIME needs no
// C++ runtime library on the router.
#pragma once

#include <cstdio>
#include <string>
#include <type_traits>

namespace ctnft {

template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
std::string dec(T value) {
    char buf[24];
    int n;
    if constexpr (std::is_signed_v<T>)
        n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
    else
        n = std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(value));
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace ctnft
