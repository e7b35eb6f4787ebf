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
    std::optional<uint16_t> generation;
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
    // The ruleset generation's low 16 bits (nft_base_seq), as every nf_tables dump reply has them.
    dump->generation = ntohs(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->res_id);
    auto& values = *dump->values;
    if (dump->count == values.size()) values.emplace_back();
    CounterValue& v = values[dump->count++];
    // Names rarely change between reads: compare instead of copying (no write to the string).
    if (v.name != name) v.name.assign(name);
    v.packets = packets;
    v.bytes = bytes;
    return MNL_CB_OK;
}

}  // namespace

bool parse_counter_message(const nlmsghdr* nlh, std::string_view& name, uint64_t& packets, uint64_t& bytes) {
    // Runs once per counter per read: the checks of obj_attr_valid and counter_attr_cb, inlined.
    const nlattr* tb[NFTA_OBJ_MAX + 1] = {};
    if (!message_attrs(nlh, nft_type(NFT_MSG_NEWOBJ), tb, NFTA_OBJ_MAX)) return false;
    if ((tb[NFTA_OBJ_TABLE] && !attr_is_nul_string(tb[NFTA_OBJ_TABLE])) || !tb[NFTA_OBJ_NAME] ||
        !attr_is_nul_string(tb[NFTA_OBJ_NAME]) || !tb[NFTA_OBJ_TYPE] || !attr_is_u32(tb[NFTA_OBJ_TYPE]) ||
        !tb[NFTA_OBJ_DATA] || !attr_is_nested(tb[NFTA_OBJ_DATA]))
        return false;
    uint32_t type = 0;
    std::memcpy(&type, attr_payload(tb[NFTA_OBJ_TYPE]), sizeof type);
    if (ntohl(type) != NFT_OBJECT_COUNTER) return false;
    const nlattr* ctr[NFTA_COUNTER_MAX + 1] = {};
    if (!walk_attrs(attr_payload(tb[NFTA_OBJ_DATA]), attr_payload_len(tb[NFTA_OBJ_DATA]), [&](const nlattr* attr) {
            const uint16_t t = attr_type(attr);
            if (t > NFTA_COUNTER_MAX) return true;
            if ((t == NFTA_COUNTER_BYTES || t == NFTA_COUNTER_PACKETS) && !attr_is_u64(attr)) return false;
            ctr[t] = attr;
            return true;
        }))
        return false;
    if (!ctr[NFTA_COUNTER_PACKETS] || !ctr[NFTA_COUNTER_BYTES]) return false;
    const char* str = attr_payload(tb[NFTA_OBJ_NAME]);
    // A NUL-terminated string attribute: the terminator lies inside the attribute.
    name = std::string_view(str, strnlen(str, attr_payload_len(tb[NFTA_OBJ_NAME])));
    if (name.empty()) return false;
    std::memcpy(&packets, attr_payload(ctr[NFTA_COUNTER_PACKETS]), sizeof packets);
    std::memcpy(&bytes, attr_payload(ctr[NFTA_COUNTER_BYTES]), sizeof bytes);
    packets = be64toh(packets);
    bytes = be64toh(bytes);
    return true;
}

Status get_table(NetlinkSocket& sock, Family family, const std::string& table, TableInfo& info) {
    info = TableInfo{};
    TablePtr t(nftnl_table_alloc());
    if (!t) return Status::error("out of memory", ENOMEM);
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
    if (!c) return Status::error("out of memory", ENOMEM);
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
    ObjPtr obj(nftnl_obj_alloc());
    if (!obj) return;  // read() then says out of memory
    request_.resize(MNL_SOCKET_BUFFER_SIZE);
    nftnl_obj_set_str(obj.get(), NFTNL_OBJ_TABLE, table_.c_str());
    nftnl_obj_set_u32(obj.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(request_.data(), NFT_MSG_GETOBJ, nfproto(family_), NLM_F_DUMP, 0);
    nftnl_obj_nlmsg_build_payload(nlh, obj.get());
}

Status CounterReader::read(NetlinkSocket& sock, std::vector<CounterValue>& values, std::size_t& count, bool& missing) {
    missing = false;
    if (request_.empty()) return Status::error("out of memory", ENOMEM);
    auto* nlh = reinterpret_cast<nlmsghdr*>(request_.data());
    nlh->nlmsg_seq = sock.next_seq();
    CounterDump dump{&values, 0, std::nullopt};
    Status s = sock.dump(nlh, counter_cb, &dump);
    count = dump.count;
    generation_ = dump.generation;
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
