// collectd's plugin API for C++: its headers have no extern "C" guards, and their path differs
// between installed headers (Debian collectd-dev) and a build tree (OpenWrt).
#pragma once

extern "C" {
#ifdef CONNTRACK_NFT_COLLECTD_TREE
#include "collectd.h"
#include "plugin.h"
#else
#include "collectd/core/daemon/collectd.h"
#include "collectd/core/daemon/plugin.h"
#endif
}
