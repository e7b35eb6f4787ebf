#!/usr/bin/env bash
# The project's versioned source tarball, as openwrt/packages takes a package (PKG_SOURCE and
# PKG_HASH): dist/conntrack-nft-<version>.tar.gz from the committed tree (git archive: every
# entry carries the commit's time, owner root, fixed modes; gzip -n: no name or time), so the
# same commit gives the same bytes. Prints the file and its sha256 (the Makefile's PKG_HASH).
#   scripts/dist.sh [COMMIT]     (default HEAD; uncommitted changes are not in it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
version=$(git -C "$root" show "$rev:CMakeLists.txt" | sed -n 's/^project(conntrack_nft VERSION \([0-9.]*\).*/\1/p')
[ -n "$version" ] || { echo "dist: no project(VERSION) in $rev:CMakeLists.txt" >&2; exit 1; }
name=conntrack-nft-$version
out=${DIST_DIR:-$root/dist}
mkdir -p "$out"
git -C "$root" archive --format=tar --prefix="$name/" "$rev" | gzip -9n > "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
echo "$out/$name.tar.gz $(sha256sum "$out/$name.tar.gz" | cut -d' ' -f1)"
