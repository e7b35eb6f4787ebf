// The offload probe's pure parts: flowtable replies parsed and merged, the chains' priorities
// around the flowtables, counter names, and the tally that turns ahead/behind counters into
// totals that never go back.
#include "catch.h"

#include <limits>
#include <vector>

#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/flowtable.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/netlink_socket.h"
#include "nft/offload_probe.h"

using namespace ctnft;

namespace {

// A NEWFLOWTABLE message as the kernel sends it, built with libnftnl.
struct FlowtableReply {
    std::vector<uint64_t> storage = std::vector<uint64_t>(1024, 0);
    nlmsghdr* nlh = nullptr;
    FlowtableReply(const char* table, const char* name, int32_t prio, std::vector<const char*> devices) {
        nftnl_flowtable* f = nftnl_flowtable_alloc();
        nftnl_flowtable_set_str(f, NFTNL_FLOWTABLE_TABLE, table);
        nftnl_flowtable_set_str(f, NFTNL_FLOWTABLE_NAME, name);
        nftnl_flowtable_set_u32(f, NFTNL_FLOWTABLE_HOOKNUM, NF_NETDEV_INGRESS);
        nftnl_flowtable_set_s32(f, NFTNL_FLOWTABLE_PRIO, prio);
        devices.push_back(nullptr);
        nftnl_flowtable_set_array(f, NFTNL_FLOWTABLE_DEVICES, devices.data());
        nlh = nftnl_nlmsg_build_hdr(reinterpret_cast<char*>(storage.data()), NFT_MSG_NEWFLOWTABLE, NFPROTO_INET,
                                    NLM_F_MULTI, 1);
        nftnl_flowtable_nlmsg_build_payload(nlh, f);
        nftnl_flowtable_free(f);
    }
};

// A flowtable reply built by hand, for what libnftnl would not build: device names of any length,
// any number of them.
std::vector<uint64_t> hostile_reply(const std::vector<std::string>& devices) {
    std::vector<uint64_t> storage(64 * 1024, 0);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(reinterpret_cast<char*>(storage.data()), NFT_MSG_NEWFLOWTABLE, NFPROTO_INET,
                                          NLM_F_MULTI, 1);
    mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, "fw4");
    mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_NAME, "ft");
    nlattr* hook = mnl_attr_nest_start(nlh, NFTA_FLOWTABLE_HOOK);
    mnl_attr_put_u32(nlh, NFTA_FLOWTABLE_HOOK_NUM, htonl(NF_NETDEV_INGRESS));
    mnl_attr_put_u32(nlh, NFTA_FLOWTABLE_HOOK_PRIORITY, htonl(0));
    nlattr* devs = mnl_attr_nest_start(nlh, NFTA_FLOWTABLE_HOOK_DEVS);
    for (const auto& d : devices) mnl_attr_put_strz(nlh, NFTA_DEVICE_NAME, d.c_str());
    mnl_attr_nest_end(nlh, devs);
    mnl_attr_nest_end(nlh, hook);
    return storage;
}

std::vector<std::string> device_names(std::size_t n, std::size_t length = 15) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string name = "d" + std::to_string(i);
        name.resize(length, 'x');
        out.push_back(name);
    }
    return out;
}

}  // namespace

TEST_CASE("a flowtable reply beyond the kernel's limits is malformed") {
    FlowtableInfo f;
    // The most the kernel holds: 255 devices of 15 characters.
    auto ok = hostile_reply(device_names(kMaxHookDevices));
    REQUIRE(parse_flowtable_message(reinterpret_cast<const nlmsghdr*>(ok.data()), f));
    CHECK(f.devices.size() == kMaxHookDevices);
    auto many = hostile_reply(device_names(kMaxHookDevices + 1));
    CHECK_FALSE(parse_flowtable_message(reinterpret_cast<const nlmsghdr*>(many.data()), f));
    auto long_name = hostile_reply({std::string(16, 'x')});  // IFNAMSIZ with its NUL: 15 characters
    CHECK_FALSE(parse_flowtable_message(reinterpret_cast<const nlmsghdr*>(long_name.data()), f));
    auto huge_name = hostile_reply({std::string(9000, 'x')});
    CHECK_FALSE(parse_flowtable_message(reinterpret_cast<const nlmsghdr*>(huge_name.data()), f));
}

// The probe's chains name every device: each message is built within the room its builder
// counted (AddressSanitizer, in the sanitizer pass, sees any byte past it).
TEST_CASE("the probe for the most devices a chain can hook is built within its room") {
    Flowtables all;
    FlowtableInfo f;
    f.devices = device_names(kMaxHookDevices);
    all.add(f);
    Batch batch(1);
    add_offload_probe(batch, std::string(63, 't'), all, 0);
    REQUIRE(batch.finish().ok());
    CHECK(batch.size() > kMaxHookDevices * 2 * 16);
}

TEST_CASE("a probe for more devices than a chain can hook is refused before it is sent") {
    Flowtables all;
    for (int t = 0; t < 2; ++t) {
        FlowtableInfo f;
        f.devices = device_names(200);
        for (auto& d : f.devices) d[0] = static_cast<char>('a' + t);
        all.add(f);
    }
    REQUIRE(all.devices.size() == 400);
    Batch batch(1);
    add_offload_probe(batch, "conntrack_stats", all, 0);
    const Status s = batch.finish();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("400 devices") != std::string::npos);
}

TEST_CASE("a flowtable reply of fw4's shape is parsed") {
    FlowtableReply r("fw4", "ft", 0, {"br-lan", "eth1"});
    FlowtableInfo f;
    REQUIRE(parse_flowtable_message(r.nlh, f));
    CHECK(f.table == "fw4");
    CHECK(f.name == "ft");
    CHECK(f.priority == 0);
    CHECK(f.devices == std::vector<std::string>{"br-lan", "eth1"});
}

TEST_CASE("a negative priority survives parsing") {
    FlowtableReply r("t", "f", -150, {"wan"});
    FlowtableInfo f;
    REQUIRE(parse_flowtable_message(r.nlh, f));
    CHECK(f.priority == -150);
}

TEST_CASE("other messages and truncated ones are not flowtables") {
    FlowtableReply r("fw4", "ft", 0, {"eth0"});
    FlowtableInfo f;
    r.nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ);
    CHECK_FALSE(parse_flowtable_message(r.nlh, f));
    FlowtableReply bare("fw4", "ft", 0, {"eth0"});
    bare.nlh->nlmsg_len = NLMSG_HDRLEN + 4;  // the nfgenmsg only: no name, no table
    CHECK_FALSE(parse_flowtable_message(bare.nlh, f));
}

namespace {

// Attribute layout of a NEWFLOWTABLE reply, to break it on purpose.
struct RawFlowtable {
    std::vector<uint64_t> storage = std::vector<uint64_t>(256, 0);
    nlmsghdr* nlh;
    RawFlowtable() {
        nlh = nftnl_nlmsg_build_hdr(reinterpret_cast<char*>(storage.data()), NFT_MSG_NEWFLOWTABLE, NFPROTO_INET,
                                    NLM_F_MULTI, 1);
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_TABLE, "fw4");
        mnl_attr_put_strz(nlh, NFTA_FLOWTABLE_NAME, "ft");
    }
};

}  // namespace

// libnftnl's own parser calls exit() on such replies (found by fuzz_flowtable_message): ours
// refuses them and collectd goes on.
TEST_CASE("malformed flowtable replies are refused and not fatal") {
    FlowtableInfo f;
    f.name = "before";
    SECTION("a device name without its terminator") {
        RawFlowtable r;
        nlattr* hook = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK);
        nlattr* devs = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK_DEVS);
        mnl_attr_put(r.nlh, NFTA_DEVICE_NAME, 4, "eth0");
        mnl_attr_nest_end(r.nlh, devs);
        mnl_attr_nest_end(r.nlh, hook);
        CHECK_FALSE(parse_flowtable_message(r.nlh, f));
    }
    SECTION("a priority of two bytes") {
        RawFlowtable r;
        nlattr* hook = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK);
        mnl_attr_put_u16(r.nlh, NFTA_FLOWTABLE_HOOK_PRIORITY, 1);
        mnl_attr_nest_end(r.nlh, hook);
        CHECK_FALSE(parse_flowtable_message(r.nlh, f));
    }
    SECTION("a device list running past its nest") {
        RawFlowtable r;
        nlattr* hook = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK);
        nlattr* devs = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK_DEVS);
        mnl_attr_put_strz(r.nlh, NFTA_DEVICE_NAME, "eth0");
        mnl_attr_nest_end(r.nlh, devs);
        mnl_attr_nest_end(r.nlh, hook);
        devs->nla_len += 4;
        CHECK_FALSE(parse_flowtable_message(r.nlh, f));
    }
    SECTION("a table name without its terminator") {
        RawFlowtable r;
        reinterpret_cast<char*>(mnl_nlmsg_get_payload_offset(r.nlh, sizeof(nfgenmsg)))[MNL_ATTR_HDRLEN + 3] = 'x';
        CHECK_FALSE(parse_flowtable_message(r.nlh, f));
    }
    CHECK(f.name == "before");  // a refused reply leaves the result alone
}

TEST_CASE("unknown attributes and empty device names are skipped") {
    RawFlowtable r;
    mnl_attr_put_u32(r.nlh, 200, 7);
    nlattr* hook = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK);
    mnl_attr_put_u32(r.nlh, NFTA_FLOWTABLE_HOOK_PRIORITY, htonl(static_cast<uint32_t>(-10)));
    nlattr* devs = mnl_attr_nest_start(r.nlh, NFTA_FLOWTABLE_HOOK_DEVS);
    mnl_attr_put_strz(r.nlh, NFTA_DEVICE_NAME, "");
    mnl_attr_put_strz(r.nlh, NFTA_DEVICE_NAME, "lan1");
    mnl_attr_put_u32(r.nlh, 9, 0);
    mnl_attr_nest_end(r.nlh, devs);
    mnl_attr_nest_end(r.nlh, hook);
    FlowtableInfo f;
    REQUIRE(parse_flowtable_message(r.nlh, f));
    CHECK(f.table == "fw4");
    CHECK(f.priority == -10);
    CHECK(f.devices == std::vector<std::string>{"lan1"});
}

TEST_CASE("flowtables merge: devices sorted and once, priorities from lowest to highest") {
    Flowtables all;
    CHECK(all.count == 0);
    all.add(FlowtableInfo{"fw4", "ft", 0, {"eth1", "br-lan"}});
    all.add(FlowtableInfo{"x", "ft2", -10, {"eth1", "wan"}});
    CHECK(all.count == 2);
    CHECK(all.devices == std::vector<std::string>{"br-lan", "eth1", "wan"});
    CHECK(all.min_priority == -10);
    CHECK(all.max_priority == 0);
    CHECK(probe_ahead_priority(all) == -11);
    CHECK(probe_behind_priority(all) == 1);

    Flowtables one;
    one.add(FlowtableInfo{"fw4", "ft", 5, {"eth0"}});
    CHECK(one.min_priority == 5);  // not the default 0
    CHECK(probe_ahead_priority(one) == 4);
    CHECK(probe_behind_priority(one) == 6);
}

TEST_CASE("the probe's priorities saturate at the ends of int32") {
    Flowtables f;
    f.add(FlowtableInfo{"t", "a", std::numeric_limits<int32_t>::min(), {"x"}});
    f.add(FlowtableInfo{"t", "b", std::numeric_limits<int32_t>::max(), {"x"}});
    CHECK(probe_ahead_priority(f) == std::numeric_limits<int32_t>::min());
    CHECK(probe_behind_priority(f) == std::numeric_limits<int32_t>::max());
}

TEST_CASE("names: the probe's counters and what the plugin dispatches") {
    CHECK(probe_counter(Protocol::tcp, true) == "tcp_ahead");
    CHECK(probe_counter(Protocol::udp, false) == "udp_behind");
    CHECK(offloaded_counter_name(Protocol::tcp) == "tcp_conntrack_fwd_offloaded");
    CHECK(offloaded_counter_name(Protocol::udp) == "udp_conntrack_fwd_offloaded");
}

TEST_CASE("the tally is ahead minus behind, per protocol") {
    OffloadTally t;
    CHECK(t.total(Protocol::tcp) == 0);
    t.sample(Protocol::tcp, 1000, 40);
    t.sample(Protocol::udp, 800, 8);
    CHECK(t.total(Protocol::tcp) == 960);
    CHECK(t.total(Protocol::udp) == 792);
    t.sample(Protocol::tcp, 1500, 41);
    CHECK(t.total(Protocol::tcp) == 1459);
}

TEST_CASE("the tally never goes back: a packet counted behind after ahead was read") {
    OffloadTally t;
    t.sample(Protocol::tcp, 100, 10);
    t.sample(Protocol::tcp, 100, 12);  // two packets reached the behind chain since
    CHECK(t.total(Protocol::tcp) == 90);
    t.sample(Protocol::tcp, 100, 110);  // behind above ahead: never negative
    CHECK(t.total(Protocol::tcp) == 90);
    t.sample(Protocol::tcp, 220, 112);
    CHECK(t.total(Protocol::tcp) == 108);
}

// `nft reset counters` zeroes the probe's counters: the total goes on from where it was, not
// flat until the new difference passes the old one.
TEST_CASE("the tally continues after the probe's counters were reset") {
    OffloadTally t;
    t.sample(Protocol::tcp, 1000, 0);
    t.sample(Protocol::tcp, 10, 0);   // reset, then 10 more
    CHECK(t.total(Protocol::tcp) == 1010);
    t.sample(Protocol::tcp, 500, 0);
    CHECK(t.total(Protocol::tcp) == 1500);
    t.sample(Protocol::udp, 50, 20);
    t.sample(Protocol::udp, 60, 5);   // behind went back: reset too
    CHECK(t.total(Protocol::udp) == 30 + 55);
}

TEST_CASE("a probe made again continues the totals from where they were") {
    OffloadTally t;
    t.sample(Protocol::tcp, 500, 100);
    t.sample(Protocol::udp, 50, 0);
    t.restart();  // new devices: the new probe's counters start from zero
    CHECK(t.total(Protocol::tcp) == 400);
    t.sample(Protocol::tcp, 30, 10);
    t.sample(Protocol::udp, 0, 0);
    CHECK(t.total(Protocol::tcp) == 420);
    CHECK(t.total(Protocol::udp) == 50);
    t.restart();
    t.restart();  // twice in a row adds nothing twice
    CHECK(t.total(Protocol::tcp) == 420);
}
