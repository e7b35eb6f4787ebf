#!/usr/bin/env bash
# The minimal-runtime .so (CONNTRACK_NFT_MINIMAL_RUNTIME=ON) must load where no C++ runtime
# library is installed (a router without libstdcpp): no NEEDED C++ library and no undefined
# symbol of one (libstdc++/libc++ functions, __cxa_*/__gxx_* ABI support, the unwinder).
# std::to_string in the plugin once left _ZNSt3__19to_stringEj undefined: collectd's dlopen
# would have failed on the router. Used by CTest (packaging.runtime_symbols, g++ tree) and by
# scripts/cross-musl.sh (zig/libc++).
#   runtime_symbols.sh PLUGIN.so [READELF]
set -euo pipefail
so=${1:?usage: runtime_symbols.sh PLUGIN.so [READELF]}
readelf=${2:-readelf}
[ -f "$so" ] || { echo "FAIL: no $so"; exit 1; }
failed=0
needed=$("$readelf" -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
if [[ "$needed" == *c++* || "$needed" == *stdc++* ]]; then
    echo "FAIL: needs a shared C++ runtime: $needed"; failed=1
else
    echo "ok: needs no shared C++ runtime ($needed)"
fi
# (MIPS readelf adds a "[MIPS PIC]" column to some rows: dropped before counting fields.
# __cxa_atexit and __cxa_finalize are the C library's: glibc and musl have them.)
undef=$("$readelf" --dyn-syms -W "$so" | sed 's/\[[^]]*\]//g' |
    awk '$7 == "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' | sort -u)
[ -n "$undef" ] || { echo "FAIL: no undefined symbol at all in $so: not read right"; exit 1; }
cxx=$(grep -E '^(_Z|__cxa_|__gxx_|_Unwind_)' <<< "$undef" | grep -v -x -E '__cxa_(atexit|finalize)' | tr '\n' ' ' || true)
if [ -n "$cxx" ]; then
    echo "FAIL: undefined C++ runtime symbols: $cxx"; failed=1
else
    echo "ok: no undefined C++ runtime symbol ($(wc -l <<< "$undef") undefined, all C library, libnftnl, libmnl or collectd)"
fi
exit $failed
