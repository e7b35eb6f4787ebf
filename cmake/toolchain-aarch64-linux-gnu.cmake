# Cross-compiling for 64-bit ARM routers (OpenWrt's aarch64_cortex-a53 / aarch64_generic
# targets: mediatek filogic, mvebu cortexa53, rockchip, bcm27xx/bcm2711 ...) with Debian's cross
# toolchain and multiarch libraries:
#   apt-get install g++-aarch64-linux-gnu libnftnl-dev:arm64 libmnl-dev:arm64
#   (after dpkg --add-architecture arm64 && apt-get update)
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake ...
# This is for checking that the code builds for a router; packages for OpenWrt are built with
# its SDK (openwrt-feed/), which brings its own toolchain and musl.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(_triple aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_triple}-g++)

# Multiarch: the target's libraries live in /usr/lib/aarch64-linux-gnu, headers are shared.
# pkg-config must only see the target's .pc files, never the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${_triple}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_LIBRARY_ARCHITECTURE ${_triple})

# Programs run on the build machine; libraries and headers are the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
