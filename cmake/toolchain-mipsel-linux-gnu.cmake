# Building for 32-bit little-endian MIPS (mipsel: MIPS32r2, Debian's FPXX hard-float ABI) with
# Debian's cross toolchain and multiarch libraries: ramips's CPU family (OpenWrt's mipsel_24kc is
# soft float with musl: scripts/cross-musl.sh ramips). The binaries run in the VM lab's mipsel
# guest (tests/vm, Debian's linux-image-4kc-malta under qemu-system-mipsel -M malta -cpu 24Kc; the
# guest kernel emulates the FPU the 24Kc lacks):
#   apt-get install g++-mipsel-linux-gnu libnftnl-dev:mipsel libmnl-dev:mipsel
#   (after dpkg --add-architecture mipsel && apt-get update; tests/vm/prepare.sh mipsel does it)
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mipsel-linux-gnu.cmake ...
set(CMAKE_SYSTEM_PROCESSOR mipsel)
set(_triple mipsel-linux-gnu)
set(_multiarch mipsel-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
