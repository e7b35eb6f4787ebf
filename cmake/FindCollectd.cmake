# Finds collectd's plugin headers.
#
# Two layouts:
#  - installed headers (Debian collectd-dev): <prefix>/include/collectd/core/daemon/plugin.h,
#    used as "collectd/core/daemon/plugin.h" next to <prefix>/include/collectd/liboconfig;
#  - a collectd source/build tree (OpenWrt's $(BUILD_DIR)/collectd-5.12.0), given as
#    -DCOLLECTD_SOURCE_DIR=...: src/daemon/plugin.h, src/liboconfig/oconfig.h and the generated
#    src/config.h.
# Sets Collectd_FOUND, Collectd_VERSION and the imported target Collectd::Headers. The plugin code includes
# "collectd_api.h", which picks the right include form from CONNTRACK_NFT_COLLECTD_TREE.

set(COLLECTD_SOURCE_DIR "" CACHE PATH "collectd source/build tree (layout of OpenWrt's build dir)")

if(COLLECTD_SOURCE_DIR)
  # The tree is a build directory on the build machine, not part of the target's sysroot:
  # NO_CMAKE_FIND_ROOT_PATH, or a cross build that re-roots includes (OpenWrt's cmake.mk sets
  # CMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY) would look for it under the staging dir.
  find_path(Collectd_PLUGIN_DIR daemon/plugin.h PATHS "${COLLECTD_SOURCE_DIR}/src"
            NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  find_path(Collectd_CONFIG_DIR config.h PATHS "${COLLECTD_SOURCE_DIR}/src" "${COLLECTD_SOURCE_DIR}"
            NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  if(NOT Collectd_CONFIG_DIR AND EXISTS "${COLLECTD_SOURCE_DIR}/src/daemon/plugin.h")
    message(WARNING "COLLECTD_SOURCE_DIR=${COLLECTD_SOURCE_DIR} has no src/config.h: run collectd's "
                    "./configure in it first (OpenWrt: build the collectd package first)")
  endif()
  set(_collectd_dirs "${Collectd_PLUGIN_DIR}" "${Collectd_PLUGIN_DIR}/daemon" "${Collectd_CONFIG_DIR}")
  set(_collectd_tree ON)
  set(_collectd_required Collectd_PLUGIN_DIR Collectd_CONFIG_DIR)
else()
  find_path(Collectd_INCLUDE_DIR collectd/core/daemon/plugin.h)
  set(_collectd_dirs "${Collectd_INCLUDE_DIR}" "${Collectd_INCLUDE_DIR}/collectd/core"
                     "${Collectd_INCLUDE_DIR}/collectd/core/daemon" "${Collectd_INCLUDE_DIR}/collectd")
  set(_collectd_tree OFF)
  set(_collectd_required Collectd_INCLUDE_DIR)
endif()

# The version of the headers (config.h's PACKAGE_VERSION, "5.12.0.git" in Debian's): the Debian
# package depends on a collectd of the same major.minor, whose plugin ABI these headers describe.
foreach(_h "${Collectd_INCLUDE_DIR}/collectd/core/config.h" "${Collectd_CONFIG_DIR}/config.h")
  if(EXISTS "${_h}")
    file(STRINGS "${_h}" _collectd_version_line REGEX "^#define PACKAGE_VERSION \"")
    string(REGEX REPLACE ".*\"([0-9]+(\\.[0-9]+)*).*" "\\1" Collectd_VERSION "${_collectd_version_line}")
    break()
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Collectd REQUIRED_VARS ${_collectd_required} VERSION_VAR Collectd_VERSION)

if(Collectd_FOUND AND NOT TARGET Collectd::Headers)
  add_library(Collectd::Headers INTERFACE IMPORTED)
  # collectd's headers need config.h (HAVE_CONFIG_H) for FP_LAYOUT and friends.
  set_target_properties(Collectd::Headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_collectd_dirs}"
    INTERFACE_COMPILE_DEFINITIONS "HAVE_CONFIG_H;$<$<BOOL:${_collectd_tree}>:CONNTRACK_NFT_COLLECTD_TREE>")
endif()
