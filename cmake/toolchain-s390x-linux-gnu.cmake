# Building for s390x (64-bit big-endian) with Debian's cross toolchain and multiarch libraries, to
# prove every netlink parser and the map's key layout on a big-endian CPU. The binaries run in the
# VM lab's s390x guest (tests/vm, Debian's s390x kernel under qemu-system-s390x):
#   apt-get install g++-s390x-linux-gnu libnftnl-dev:s390x libmnl-dev:s390x
#   (after dpkg --add-architecture s390x && apt-get update; tests/vm/prepare.sh s390x does it)
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-s390x-linux-gnu.cmake ...
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(_triple s390x-linux-gnu)
set(_multiarch s390x-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
