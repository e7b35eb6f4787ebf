# Building for 32-bit x86 (i386) with Debian's cross toolchain and multiarch libraries, to prove
# the code on a 32-bit ABI (4-byte long and size_t, 4-byte aligned u64 in structs, 32-bit time_t)
# like the 32-bit MIPS and ARM routers most users run, while the binaries still run natively
# here (scripts/test-i386.sh):
#   apt-get install g++-i686-linux-gnu libnftnl-dev:i386 libmnl-dev:i386 libstdc++6:i386
#   (after dpkg --add-architecture i386 && apt-get update)
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-i686-linux-gnu.cmake ...
# (g++-multilib's -m32 would do too, but it conflicts with the aarch64 cross compilers.)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(_triple i686-linux-gnu)
# Debian's multiarch name for the same ABI.
set(_multiarch i386-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
