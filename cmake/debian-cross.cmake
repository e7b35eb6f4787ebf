# What every Debian cross toolchain file shares: Debian's cross compilers and the target's
# multiarch libraries. The including file sets CMAKE_SYSTEM_PROCESSOR, _triple (the compilers'
# prefix) and _multiarch (Debian's library folder name for the same ABI).
set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_triple}-g++)

# Multiarch: the target's libraries live in /usr/lib/<multiarch>, headers are shared.
# pkg-config must only see the target's .pc files, never the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${_multiarch}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_LIBRARY_ARCHITECTURE ${_multiarch})

# Programs run on the build machine; libraries and headers are the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
