# Building for 32-bit ARM (armhf: ARMv7-A, hard float) with Debian's cross toolchain and
# multiarch libraries: a 32-bit router CPU's ABI (ipq40xx's Cortex-A7 class: 4-byte long and
# size_t, 8-byte aligned u64 in structs, strict alignment rules). The binaries run in the VM lab's
# armhf guest (tests/vm, Debian's linux-image-armmp under qemu-system-arm -M virt):
#   apt-get install g++-arm-linux-gnueabihf libnftnl-dev:armhf libmnl-dev:armhf
#   (after dpkg --add-architecture armhf && apt-get update; tests/vm/prepare.sh armhf does it)
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake ...
set(CMAKE_SYSTEM_PROCESSOR arm)
set(_triple arm-linux-gnueabihf)
set(_multiarch arm-linux-gnueabihf)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
