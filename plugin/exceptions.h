// Catch-all blocks at the C boundary that also compile without exceptions.
// With exceptions (every build but the minimal-runtime one), each collectd callback catches
// everything (in practice std::bad_alloc) so that nothing crosses into collectd. Built with
// CONNTRACK_NFT_MINIMAL_RUNTIME (-fno-exceptions: no C++ runtime library on the router), nothing is
// thrown: the plugin's operator new logs and aborts when memory runs out (plugin/min_runtime.cpp),
// as a C plugin's failed malloc check would end the same way on a router with overcommit.
#pragma once

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define CTNFT_TRY try
#define CTNFT_CATCH_ALL catch (...)
#else
#define CTNFT_TRY if (true)
#define CTNFT_CATCH_ALL else
#endif
