// The few C++ runtime functions the plugin needs when it is built with
// CONNTRACK_NFT_MINIMAL_RUNTIME (-fno-exceptions -fno-rtti, no C++ runtime library linked): the
// allocation functions, on malloc/free, and libc++'s abort handler. Not exported: the .so exports only
// module_register (exports.map), so collectd and other plugins keep their own operator new.
// Out of memory: a log line and abort(). Without exceptions there is nothing to unwind to; the
// glibc/Debian build (exceptions on) keeps catching std::bad_alloc at every callback instead.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "plugin/collectd_api.h"


namespace {
[[noreturn]] void out_of_memory(std::size_t size) {
    plugin_log(LOG_ERR, "conntrack_nft plugin: out of memory (%zu bytes); aborting", size);
    std::abort();
}
[[noreturn]] void fatal(const char* what) {
    plugin_log(LOG_ERR, "conntrack_nft plugin: %s; aborting", what);
    std::abort();
}
void* allocate(std::size_t size) {
    if (size == 0) size = 1;
    void* p = std::malloc(size);
    if (!p) out_of_memory(size);
    return p;
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#if defined(_LIBCPP_VERSION)
// libc++ declares std::string's members extern templates, defined in its library; instantiated
// here instead (section GC keeps what the plugin calls). libstdc++'s inline definitions need no
// such line.
template class std::basic_string<char>;
template std::string std::operator+ <char, std::char_traits<char>, std::allocator<char>>(const char*, const std::string&);

// libc++ calls this where it would throw (length_error, bad_optional_access...) when built
// without exceptions; a program may define it (libc++'s documented override point).
_LIBCPP_BEGIN_NAMESPACE_STD
void __libcpp_verbose_abort(const char* format, ...) {
    char message[256];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(message, sizeof message, format, ap);
    va_end(ap);
    plugin_log(LOG_ERR, "conntrack_nft plugin: %s; aborting", message);
    std::abort();
}
_LIBCPP_END_NAMESPACE_STD
#endif

#if defined(__GLIBCXX__)
// libstdc++ (GCC: OpenWrt's SDK, Debian) throws from these functions of its library, also for
// code compiled without exceptions; the plugin's own copies end the same way as libc++'s.
namespace std {
void __throw_bad_alloc() { out_of_memory(0); }
void __throw_bad_array_new_length() { fatal("bad array new length"); }
void __throw_bad_function_call() { fatal("bad function call"); }
void __throw_logic_error(const char* what) { fatal(what); }
void __throw_length_error(const char* what) { fatal(what); }
void __throw_out_of_range(const char* what) { fatal(what); }
void __throw_invalid_argument(const char* what) { fatal(what); }
void __throw_out_of_range_fmt(const char* format, ...) {
    // libstdc++'s format has only %s, %zu and %lu; the message is enough without the values.
    fatal(format);
}
}  // namespace std
#endif

extern "C" void __cxa_pure_virtual() { fatal("pure virtual call"); }
