#include "nft/table_queries.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"

namespace ctnft {
namespace {

int counter_attr_cb(const nlattr* attr, void* data) {
    const nlattr** tb = static_cast<const nlattr**>(data);
    const int type = mnl_attr_get_type(attr);
    if (type > NFTA_COUNTER_MAX) return MNL_CB_OK;
    if ((type == NFTA_COUNTER_BYTES || type == NFTA_COUNTER_PACKETS) && mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
        return MNL_CB_ERROR;
    tb[type] = attr;
    return MNL_CB_OK;
}

bool obj_attr_valid(const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
        case NFTA_OBJ_NAME:
        case NFTA_OBJ_TABLE: return mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0;
        case NFTA_OBJ_TYPE: return mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
        case NFTA_OBJ_DATA: return mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0;
        default: return true;
    }
}

int hook_attr_cb(const nlattr* attr, void* data) {
    const nlattr** tb = static_cast<const nlattr**>(data);
    const int type = mnl_attr_get_type(attr);
    if (type <= NFTA_HOOK_MAX) tb[type] = attr;
    return MNL_CB_OK;
}

// A NUL-terminated string attribute (or none, when optional).
bool string_attr(const nlattr* attr, bool optional = false) {
    if (!attr) return optional;
    return mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0;
}
bool u32_attr(const nlattr* attr, bool optional = false) {
    if (!attr) return optional;
    return mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
}
// Only after string_attr: the terminator lies inside the attribute.
std::string attr_string(const nlattr* attr) { return mnl_attr_get_str(attr); }

// Table and chain replies are parsed here, not with nftnl_table/chain_nlmsg_parse: libnftnl
// calls exit() on an attribute of an unexpected type ("kernel ABI is broken"), which would end
// collectd. A malformed reply is an error of this read instead.
int parse_table_cb(const nlmsghdr* nlh, void* data) {
    if (!nlh) return MNL_CB_OK;
    auto* info = static_cast<TableInfo*>(data);
    const nlattr* tb[NFTA_TABLE_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWTABLE), tb, NFTA_TABLE_MAX)) return MNL_CB_ERROR;
    if (!string_attr(tb[NFTA_TABLE_NAME]) || !u32_attr(tb[NFTA_TABLE_FLAGS], true) ||
        !u32_attr(tb[NFTA_TABLE_OWNER], true))
        return MNL_CB_ERROR;
    info->exists = true;
    info->flags = tb[NFTA_TABLE_FLAGS] ? ntohl(mnl_attr_get_u32(tb[NFTA_TABLE_FLAGS])) : 0;
    info->owner = tb[NFTA_TABLE_OWNER] ? ntohl(mnl_attr_get_u32(tb[NFTA_TABLE_OWNER])) : 0;
    return MNL_CB_OK;
}

struct ChainDump {
    const std::string* table;
    std::vector<ChainInfo>* chains;
};

int parse_chain_cb(const nlmsghdr* nlh, void* data) {
    auto* dump = static_cast<ChainDump*>(data);
    if (!nlh) {
        dump->chains->clear();
        return MNL_CB_OK;
    }
    const nlattr* tb[NFTA_CHAIN_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWCHAIN), tb, NFTA_CHAIN_MAX)) return MNL_CB_ERROR;
    if (!string_attr(tb[NFTA_CHAIN_TABLE], true) || !string_attr(tb[NFTA_CHAIN_NAME], true) ||
        !string_attr(tb[NFTA_CHAIN_TYPE], true))
        return MNL_CB_ERROR;
    if (!tb[NFTA_CHAIN_TABLE] || !tb[NFTA_CHAIN_NAME] || *dump->table != attr_string(tb[NFTA_CHAIN_TABLE]))
        return MNL_CB_OK;
    ChainInfo info;
    info.name = attr_string(tb[NFTA_CHAIN_NAME]);
    if (tb[NFTA_CHAIN_HOOK]) {
        const nlattr* hook[NFTA_HOOK_MAX + 1] = {};
        if (mnl_attr_validate(tb[NFTA_CHAIN_HOOK], MNL_TYPE_NESTED) < 0 ||
            !parse_attrs(mnl_attr_get_payload(tb[NFTA_CHAIN_HOOK]), mnl_attr_get_payload_len(tb[NFTA_CHAIN_HOOK]),
                         hook_attr_cb, hook))
            return MNL_CB_ERROR;
        if (!u32_attr(hook[NFTA_HOOK_HOOKNUM], true) || !u32_attr(hook[NFTA_HOOK_PRIORITY], true))
            return MNL_CB_ERROR;
        info.base = hook[NFTA_HOOK_HOOKNUM] != nullptr;
        if (info.base) {
            info.hook = ntohl(mnl_attr_get_u32(hook[NFTA_HOOK_HOOKNUM]));
            if (hook[NFTA_HOOK_PRIORITY])
                info.priority = static_cast<int32_t>(ntohl(mnl_attr_get_u32(hook[NFTA_HOOK_PRIORITY])));
            if (tb[NFTA_CHAIN_TYPE]) info.type = attr_string(tb[NFTA_CHAIN_TYPE]);
        }
    }
    dump->chains->push_back(std::move(info));
    return MNL_CB_OK;
}

struct CounterDump {
    std::vector<CounterValue>* values;
    std::size_t count;
};

int counter_cb(const nlmsghdr* nlh, void* data) {
    auto* dump = static_cast<CounterDump*>(data);
    if (!nlh) {
        dump->count = 0;
        return MNL_CB_OK;
    }
    std::string_view name;
    uint64_t packets = 0, bytes = 0;
    if (!parse_counter_message(nlh, name, packets, bytes)) return MNL_CB_ERROR;
    auto& values = *dump->values;
    if (dump->count == values.size()) values.emplace_back();
    CounterValue& v = values[dump->count++];
    v.name.assign(name);  // reuses the string's storage from the last read
    v.packets = packets;
    v.bytes = bytes;
    return MNL_CB_OK;
}

}  // namespace

bool parse_counter_message(const nlmsghdr* nlh, std::string_view& name, uint64_t& packets, uint64_t& bytes) {
    const nlattr* tb[NFTA_OBJ_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWOBJ), tb, NFTA_OBJ_MAX)) return false;
    for (uint16_t t = 0; t <= NFTA_OBJ_MAX; ++t)
        if (tb[t] && !obj_attr_valid(tb[t])) return false;
    if (!tb[NFTA_OBJ_NAME] || !tb[NFTA_OBJ_TYPE] || !tb[NFTA_OBJ_DATA]) return false;
    if (ntohl(mnl_attr_get_u32(tb[NFTA_OBJ_TYPE])) != NFT_OBJECT_COUNTER) return false;
    const nlattr* ctr[NFTA_COUNTER_MAX + 1] = {};
    if (!parse_attrs(mnl_attr_get_payload(tb[NFTA_OBJ_DATA]), mnl_attr_get_payload_len(tb[NFTA_OBJ_DATA]),
                     counter_attr_cb, ctr))
        return false;
    if (!ctr[NFTA_COUNTER_PACKETS] || !ctr[NFTA_COUNTER_BYTES]) return false;
    const char* str = mnl_attr_get_str(tb[NFTA_OBJ_NAME]);
    // MNL_TYPE_NUL_STRING guarantees the terminator lies inside the attribute.
    name = std::string_view(str, strnlen(str, mnl_attr_get_payload_len(tb[NFTA_OBJ_NAME])));
    if (name.empty()) return false;
    packets = be64toh(mnl_attr_get_u64(ctr[NFTA_COUNTER_PACKETS]));
    bytes = be64toh(mnl_attr_get_u64(ctr[NFTA_COUNTER_BYTES]));
    return true;
}

Status get_table(NetlinkSocket& sock, Family family, const std::string& table, TableInfo& info) {
    info = TableInfo{};
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(sock.request_buffer(), NFT_MSG_GETTABLE, nfproto(family), 0, sock.next_seq());
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    Status s = sock.query(nlh, parse_table_cb, &info);
    if (!s && s.code() == ENOENT) return {};
    if (!s) return Status::error(explain_kernel_error(s.code(), kNoMessage, describe_table(family, table)), s.code());
    return {};
}

Status list_chains(NetlinkSocket& sock, Family family, const std::string& table, std::vector<ChainInfo>& chains) {
    chains.clear();
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(sock.request_buffer(), NFT_MSG_GETCHAIN, nfproto(family), NLM_F_DUMP, sock.next_seq());
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    ChainDump dump{&table, &chains};
    Status s = sock.dump(nlh, parse_chain_cb, &dump);
    if (!s) return Status::error(explain_kernel_error(s.code(), kNoMessage, "chains of " + describe_table(family, table)), s.code());
    return {};
}

CounterReader::CounterReader(Family family, std::string table) : family_(family), table_(std::move(table)) {
    // Built once: each read only renews the sequence number.
    request_.resize(MNL_SOCKET_BUFFER_SIZE);
    ObjPtr obj(nftnl_obj_alloc());
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table_.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(request_.data(), NFT_MSG_GETOBJ, nfproto(family_), NLM_F_DUMP, 0);
    nftnl_obj_nlmsg_build_payload(nlh, obj.get());
}

Status CounterReader::read(NetlinkSocket& sock, std::vector<CounterValue>& values, std::size_t& count, bool& missing) {
    missing = false;
    auto* nlh = reinterpret_cast<nlmsghdr*>(request_.data());
    nlh->nlmsg_seq = sock.next_seq();
    CounterDump dump{&values, 0};
    Status s = sock.dump(nlh, counter_cb, &dump);
    count = dump.count;
    if (!s) return Status::error(explain_kernel_error(s.code(), kNoMessage, "counters of " + describe_table(family_, table_)),
                                 s.code());
    if (count == 0) {
        // The kernel answers a dump of a table it does not have with nothing, not ENOENT.
        TableInfo info;
        if (Status t = get_table(sock, family_, table_, info); !t) return t;
        missing = !info.exists;
    }
    return {};
}

}  // namespace ctnft
