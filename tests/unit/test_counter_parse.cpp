// parse_counter_message with synthetic NFT_MSG_NEWOBJ messages built with libmnl, well-formed
// and not.
#include "catch.h"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <endian.h>
#include <string>
#include <string_view>
#include <vector>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/table_queries.h"

using namespace ctnft;

namespace {

constexpr uint64_t kPackets = 0x0000000123456789ULL;  // above 2^32
constexpr uint64_t kBytes = 0x00000abcdef01234ULL;    // above 2^32

// What to put into a message; each field can be left out or spoiled.
struct Message {
    uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ;
    bool table = true;
    bool name = true;
    std::string name_text = "tcp_conntrack_input_new";
    bool name_without_nul = false;
    bool obj_type = true;
    uint32_t obj_type_value = NFT_OBJECT_COUNTER;
    bool data = true;
    bool packets = true;
    bool bytes = true;
    bool packets_as_u32 = false;
    bool trailing_attributes = true;  // NFTA_OBJ_USE and NFTA_OBJ_HANDLE, as the kernel sends
};

class Buffer {
public:
    Buffer() : storage_(MNL_SOCKET_BUFFER_SIZE / sizeof(uint64_t) + 1, 0) {}
    char* data() { return reinterpret_cast<char*>(storage_.data()); }
    nlmsghdr* nlh() { return reinterpret_cast<nlmsghdr*>(data()); }
    std::size_t size() const { return storage_.size() * sizeof(uint64_t); }

private:
    std::vector<uint64_t> storage_;  // aligned for nlmsghdr
};

nlmsghdr* build(Buffer& buffer, const Message& m) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
    nlh->nlmsg_type = m.type;
    nlh->nlmsg_flags = NLM_F_MULTI;
    nlh->nlmsg_seq = 42;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = NFPROTO_IPV4;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(7);
    if (m.table) mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, "conntrack_stats");
    if (m.name) {
        if (m.name_without_nul)
            mnl_attr_put(nlh, NFTA_OBJ_NAME, m.name_text.size(), m.name_text.data());
        else
            mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, m.name_text.c_str());
    }
    if (m.obj_type) mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(m.obj_type_value));
    if (m.data) {
        nlattr* nest = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
        if (m.bytes) mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(kBytes));
        if (m.packets) {
            if (m.packets_as_u32)
                mnl_attr_put_u32(nlh, NFTA_COUNTER_PACKETS, htonl(5));
            else
                mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(kPackets));
        }
        mnl_attr_nest_end(nlh, nest);
    }
    if (m.trailing_attributes) {
        mnl_attr_put_u32(nlh, NFTA_OBJ_USE, htonl(1));
        mnl_attr_put_u64(nlh, NFTA_OBJ_HANDLE, htobe64(3));
    }
    return nlh;
}

bool parse(const nlmsghdr* nlh, std::string_view& name, uint64_t& packets, uint64_t& bytes) {
    return parse_counter_message(nlh, name, packets, bytes);
}

bool parse(const nlmsghdr* nlh) {
    std::string_view name;
    uint64_t packets = 0, bytes = 0;
    return parse_counter_message(nlh, name, packets, bytes);
}

// The attribute of `type` at the top level of the message.
nlattr* find_attr(nlmsghdr* nlh, uint16_t type) {
    // Walks the attributes as libmnl's mnl_attr_for_each does (the macro itself is C only).
    auto* attr = static_cast<nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    const auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)))) {
        if (mnl_attr_get_type(attr) == type) return attr;
        attr = mnl_attr_next(attr);
    }
    return nullptr;
}

}  // namespace

TEST_CASE("a counter message gives its name, packets and bytes") {
    Buffer buffer;
    Message m;
    nlmsghdr* nlh = build(buffer, m);
    std::string_view name;
    uint64_t packets = 0, bytes = 0;
    REQUIRE(parse(nlh, name, packets, bytes));
    CHECK(name == "tcp_conntrack_input_new");
    CHECK(packets == kPackets);
    CHECK(bytes == kBytes);
    // The name points into the message.
    CHECK(name.data() >= buffer.data());
    CHECK(name.data() + name.size() <= buffer.data() + nlh->nlmsg_len);
}

// Netlink aligns attributes to 4 bytes only; a u64 payload sits 8-byte aligned only when the
// kernel adds NFTA_COUNTER_PAD, which it does not on every architecture. A reader that loads a
// u64 through a pointer cast traps on strict-alignment CPUs (MIPS, older ARM: most routers) and
// is reported by UBSan's alignment check (the sanitizer pass) here.
TEST_CASE("u64 counter values are read exactly at 4- and 8-byte aligned offsets") {
    bool seen[2] = {false, false};
    // Names of 1..8 characters move the nested attributes through both alignments.
    for (std::size_t length = 1; length <= 8; ++length) {
        Buffer buffer;
        Message m;
        m.name_text = std::string(length, 'c');
        nlmsghdr* nlh = build(buffer, m);
        nlattr* data = find_attr(nlh, NFTA_OBJ_DATA);
        REQUIRE(data != nullptr);
        const auto offset = reinterpret_cast<uintptr_t>(mnl_attr_get_payload(data)) + sizeof(nlattr);
        seen[offset % 8 == 0] = true;
        std::string_view name;
        uint64_t packets = 0, bytes = 0;
        REQUIRE(parse(nlh, name, packets, bytes));
        CHECK(name == m.name_text);
        CHECK(packets == kPackets);
        CHECK(bytes == kBytes);
    }
    CHECK(seen[0]);  // a first u64 payload at 4 mod 8
    CHECK(seen[1]);  // and at 0 mod 8
}

TEST_CASE("a counter message with the least the parser needs") {
    Buffer buffer;
    Message m;
    m.table = false;
    m.trailing_attributes = false;
    m.name_text = "x";
    std::string_view name;
    uint64_t packets = 0, bytes = 0;
    REQUIRE(parse(build(buffer, m), name, packets, bytes));
    CHECK(name == "x");
    CHECK(packets == kPackets);
    CHECK(bytes == kBytes);
}

TEST_CASE("a counter message with zero and maximal values") {
    Buffer buffer;
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ;
    mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
    mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, "c");
    mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
    nlattr* nest = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
    mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(0));
    mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(UINT64_MAX));
    mnl_attr_nest_end(nlh, nest);
    std::string_view name;
    uint64_t packets = 1, bytes = 0;
    REQUIRE(parse(nlh, name, packets, bytes));
    CHECK(packets == 0);
    CHECK(bytes == UINT64_MAX);
}

TEST_CASE("a message of another type is not a counter") {
    Buffer buffer;
    Message m;
    for (uint16_t type : {uint16_t((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE),
                          uint16_t((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELOBJ),
                          uint16_t((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ),
                          uint16_t((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN),
                          uint16_t((NFNL_SUBSYS_CTNETLINK << 8) | NFT_MSG_NEWOBJ), uint16_t(NFT_MSG_NEWOBJ),
                          uint16_t(NLMSG_ERROR), uint16_t(NLMSG_DONE)}) {
        INFO(type);
        m.type = type;
        CHECK_FALSE(parse(build(buffer, m)));
    }
}

TEST_CASE("an object that is not a counter is rejected") {
    Buffer buffer;
    Message m;
    m.obj_type_value = NFT_OBJECT_QUOTA;
    CHECK_FALSE(parse(build(buffer, m)));
    m.obj_type_value = 0;
    CHECK_FALSE(parse(build(buffer, m)));
    m.obj_type_value = 0x01000000;  // NFT_OBJECT_COUNTER in the wrong byte order
    CHECK_FALSE(parse(build(buffer, m)));
}

TEST_CASE("a counter message without a required attribute is rejected") {
    Buffer buffer;
    Message m;
    SECTION("no name") { m.name = false; }
    SECTION("no object type") { m.obj_type = false; }
    SECTION("no data") { m.data = false; }
    SECTION("no packets") { m.packets = false; }
    SECTION("no bytes") { m.bytes = false; }
    CHECK_FALSE(parse(build(buffer, m)));
}

TEST_CASE("a name without its NUL terminator is rejected") {
    Buffer buffer;
    Message m;
    m.name_without_nul = true;
    CHECK_FALSE(parse(build(buffer, m)));
    // The same bytes with the terminator are fine.
    m.name_without_nul = false;
    CHECK(parse(build(buffer, m)));
}

TEST_CASE("an empty name is rejected") {
    Buffer buffer;
    Message m;
    m.name_text = "";
    CHECK_FALSE(parse(build(buffer, m)));
}

TEST_CASE("a name attribute of zero length is rejected") {
    Buffer buffer;
    Message m;
    m.name_text = "";
    m.name_without_nul = true;
    CHECK_FALSE(parse(build(buffer, m)));
}

TEST_CASE("attributes of the wrong size are rejected") {
    Buffer buffer;
    SECTION("packets as 32 bits") {
        Message m;
        m.packets_as_u32 = true;
        CHECK_FALSE(parse(build(buffer, m)));
    }
    SECTION("object type as 16 bits") {
        Message m;
        m.obj_type = false;
        nlmsghdr* nlh = build(buffer, m);
        mnl_attr_put_u16(nlh, NFTA_OBJ_TYPE, htons(NFT_OBJECT_COUNTER));
        CHECK_FALSE(parse(nlh));
    }
    SECTION("data not nested") {
        Message m;
        m.data = false;
        nlmsghdr* nlh = build(buffer, m);
        mnl_attr_put(nlh, NFTA_OBJ_DATA, 1, "x");
        CHECK_FALSE(parse(nlh));
    }
}

TEST_CASE("a message shorter than its nfgenmsg header is rejected") {
    Buffer buffer;
    Message m;
    nlmsghdr* nlh = build(buffer, m);
    for (uint32_t len : {uint32_t(sizeof(nlmsghdr)), uint32_t(sizeof(nlmsghdr) + 1),
                         uint32_t(sizeof(nlmsghdr) + sizeof(nfgenmsg) - 1)}) {
        INFO(len);
        nlh->nlmsg_len = len;
        CHECK_FALSE(parse(nlh));
    }
}

TEST_CASE("a message of only its headers is rejected") {
    Buffer buffer;
    Message m;
    nlmsghdr* nlh = build(buffer, m);
    nlh->nlmsg_len = static_cast<uint32_t>(mnl_nlmsg_size(sizeof(nfgenmsg)));
    CHECK_FALSE(parse(nlh));
}

TEST_CASE("an attribute running past the end of the message is rejected") {
    Buffer buffer;
    Message m;
    m.trailing_attributes = false;
    SECTION("the message ends inside the counter data") {
        nlmsghdr* nlh = build(buffer, m);
        nlh->nlmsg_len -= 8;  // cuts off the end of NFTA_COUNTER_PACKETS
        CHECK_FALSE(parse(nlh));
    }
    SECTION("the data attribute claims more than the message holds") {
        nlmsghdr* nlh = build(buffer, m);
        nlattr* data = find_attr(nlh, NFTA_OBJ_DATA);
        REQUIRE(data != nullptr);
        data->nla_len = static_cast<uint16_t>(data->nla_len + 64);
        CHECK_FALSE(parse(nlh));
    }
    SECTION("the name attribute claims more than the message holds") {
        nlmsghdr* nlh = build(buffer, m);
        nlattr* name = find_attr(nlh, NFTA_OBJ_NAME);
        REQUIRE(name != nullptr);
        name->nla_len = 0xfff0;
        CHECK_FALSE(parse(nlh));
    }
    SECTION("a counter attribute claims more than its nest holds") {
        nlmsghdr* nlh = build(buffer, m);
        nlattr* data = find_attr(nlh, NFTA_OBJ_DATA);
        REQUIRE(data != nullptr);
        auto* first = static_cast<nlattr*>(mnl_attr_get_payload(data));
        first->nla_len = static_cast<uint16_t>(first->nla_len + 16);
        CHECK_FALSE(parse(nlh));
    }
    SECTION("an attribute shorter than its own header") {
        nlmsghdr* nlh = build(buffer, m);
        nlattr* name = find_attr(nlh, NFTA_OBJ_NAME);
        REQUIRE(name != nullptr);
        name->nla_len = 2;
        CHECK_FALSE(parse(nlh));
    }
}
