# The Debian package, built by CPack from the same install rules as `cmake --install`:
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=MinSizeRel -DCONNTRACK_NFT_TESTS=OFF
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
# (docs/install.md; tests/packaging/debian_package.sh runs exactly that.)
# Upstream ships no debian/ directory: a distribution's maintainer writes their own, and one here
# would only clash with it; CPack keeps one list of files (the install rules) for both paths.
set(CPACK_PACKAGE_NAME conntrack-nft)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "conntrack-nft")
set(CPACK_PACKAGE_CONTACT "conntrack-nft maintainers <maintainers@conntrack-nft.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "collectd plugin: nftables conntrack counters and conntrack health")
set(CPACK_PACKAGE_DESCRIPTION
"conntrack_nft.so creates its own nftables table with named counters and reports packets
(and bytes) per protocol, hook and conntrack state (new, established, invalid, ...) over
netlink, plus the kernel's conntrack statistics (entries, fill, drops). No nft process, no
shell, no sudo. The example configuration in /etc/collectd/collectd.conf.d/ is not loaded
until it is copied to conntrack_nft.conf.")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)    # a Debian package installs under /usr, whatever the tree's prefix
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                    # conntrack-nft_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies computed by dpkg-shlibdeps from the plugin's ELF (libnftnl, libmnl,
# libstdc++, libc); collectd itself is the daemon that dlopens the plugin, so it is named here,
# at the major.minor of the headers the plugin was compiled against (its plugin ABI).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
string(REGEX MATCH "^[0-9]+\\.[0-9]+" _cv "${Collectd_VERSION}")
if(_cv)
  string(REGEX MATCH "[0-9]+$" _minor "${_cv}")
  string(REGEX MATCH "^[0-9]+" _major "${_cv}")
  math(EXPR _next "${_minor} + 1")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "collectd-core (>= ${_cv}), collectd-core (<< ${_major}.${_next})")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "collectd-core")
endif()
# The package `collectd` carries the /etc/collectd/collectd.conf that includes collectd.conf.d.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "collectd")
# The example under /etc is a conffile: dpkg keeps a user's edits on upgrade.
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles"
     "/etc/collectd/collectd.conf.d/conntrack_nft.conf.example\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The package's files beyond the plugin and its types.db (plugin/CMakeLists.txt).
install(FILES plugin/conntrack_nft.conf.example DESTINATION /etc/collectd/collectd.conf.d)
set(_docdir "${CMAKE_INSTALL_DATADIR}/doc/${CPACK_PACKAGE_NAME}")
if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/docs")  # the OpenWrt build copies only the sources
  # docs/ is installed flat beside README.md (docs/performance.md links performance.txt and .png).
  file(GLOB _docs "${CMAKE_CURRENT_SOURCE_DIR}/docs/*.md" "${CMAKE_CURRENT_SOURCE_DIR}/docs/*.png"
       "${CMAKE_CURRENT_SOURCE_DIR}/docs/*.txt")
  # README.md links to docs/x.md; beside them, its installed copy links to x.md. (cmake runs again
  # when README.md changes.) tests/packaging/debian_package.sh checks that every relative link of
  # the installed README and docs resolves in the installed tree.
  file(READ "${CMAKE_CURRENT_SOURCE_DIR}/README.md" _readme)
  string(REPLACE "](docs/" "](" _readme "${_readme}")
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/README.md" "${_readme}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/README.md")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/debian/README.md" ${_docs} DESTINATION ${_docdir})
  install(DIRECTORY docs/grafana docs/pictures DESTINATION ${_docdir}
          FILES_MATCHING PATTERN "*.json" PATTERN "*.png")
  # Debian's copyright file: the licence's text in the machine-readable format.
  file(READ "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE" _license)
  string(REGEX REPLACE "\n\n" "\n.\n" _license "${_license}")
  string(REGEX REPLACE "\n" "\n " _license "${_license}")
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/copyright"
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: conntrack-nft

Files: *
Copyright: conntrack-nft contributors
License: GPL-2
 ${_license}
")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/debian/copyright" DESTINATION ${_docdir})
endif()

include(CPack)
