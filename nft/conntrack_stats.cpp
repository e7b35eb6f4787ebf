#include "nft/conntrack_stats.h"

#include <arpa/inet.h>
#include <cerrno>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include "nft/kernel_errors.h"
#include "nft/netlink_attrs.h"

namespace ctnft {
namespace {

// CTA_STATS_* attribute of each statistic (SEARCHED, NEW, IGNORE, DELETE, DELETE_LIST are dead
// since kernel 4.9 and left out).
constexpr std::array<uint16_t, kCtStatCount> kAttr{
    CTA_STATS_FOUND, CTA_STATS_INVALID, CTA_STATS_INSERT, CTA_STATS_INSERT_FAILED, CTA_STATS_DROP,
    CTA_STATS_EARLY_DROP, CTA_STATS_ERROR, CTA_STATS_SEARCH_RESTART, 14 /* CTA_STATS_CLASH_RESOLVE */,
    15 /* CTA_STATS_CHAIN_TOOLONG */};
constexpr uint16_t kMaxAttr = 15;

// The reply's attributes up to max, each a u32.
bool u32_attrs(const nlmsghdr* nlh, uint16_t type, const nlattr** tb, uint16_t max) {
    if (!message_attrs(nlh, type, tb, max)) return false;
    for (uint16_t t = 0; t <= max; ++t)
        if (tb[t] && mnl_attr_validate(tb[t], MNL_TYPE_U32) < 0) return false;
    return true;
}

uint16_t ctnl_type(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg); }

nlmsghdr* build_request(char* buf, uint8_t msg, uint16_t flags, uint32_t seq) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = ctnl_type(msg);
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

int cpu_cb(const nlmsghdr* nlh, void* data) {
    auto* acc = static_cast<StatsAccumulator*>(data);
    if (!nlh) return MNL_CB_OK;  // a repeated dump: the accumulator takes the samples again
    CpuStats sample;
    if (!parse_cpu_stats(nlh, sample)) return MNL_CB_ERROR;
    acc->add(sample);
    return MNL_CB_OK;
}

int global_cb(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<ConntrackHealth*>(data);
    if (!nlh) return MNL_CB_OK;
    return parse_global_stats(nlh, out->entries, out->max_entries) ? MNL_CB_OK : MNL_CB_ERROR;
}

int count_cb(const nlmsghdr* nlh, void* data) {
    auto* count = static_cast<uint32_t*>(data);
    if (!nlh) *count = 0;
    else if (nlh->nlmsg_type == nft_type(NFT_MSG_NEWFLOWTABLE)) ++*count;
    return MNL_CB_OK;
}

}  // namespace

std::string_view to_string(CtStat stat) {
    static constexpr std::array<std::string_view, kCtStatCount> names{
        "found", "invalid", "insert", "insert_failed", "drop", "early_drop", "error", "search_restart",
        "clash_resolve", "chaintoolong"};
    return names[static_cast<std::size_t>(stat)];
}

bool parse_cpu_stats(const nlmsghdr* nlh, CpuStats& out) {
    const nlattr* tb[kMaxAttr + 1] = {};
    if (!u32_attrs(nlh, ctnl_type(IPCTNL_MSG_CT_GET_STATS_CPU), tb, kMaxAttr)) return false;
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    out = CpuStats{};
    out.cpu = ntohs(nfg->res_id);
    for (std::size_t i = 0; i < kCtStatCount; ++i) {
        if (!tb[kAttr[i]]) continue;
        out.present[i] = true;
        out.value[i] = ntohl(mnl_attr_get_u32(tb[kAttr[i]]));
    }
    return true;
}

bool parse_global_stats(const nlmsghdr* nlh, std::optional<uint32_t>& entries, std::optional<uint32_t>& max) {
    const nlattr* tb[CTA_STATS_GLOBAL_MAX + 1] = {};
    if (!u32_attrs(nlh, ctnl_type(IPCTNL_MSG_CT_GET_STATS), tb, CTA_STATS_GLOBAL_MAX)) return false;
    entries.reset();
    max.reset();
    if (tb[CTA_STATS_GLOBAL_ENTRIES]) entries = ntohl(mnl_attr_get_u32(tb[CTA_STATS_GLOBAL_ENTRIES]));
    if (tb[CTA_STATS_GLOBAL_MAX_ENTRIES]) max = ntohl(mnl_attr_get_u32(tb[CTA_STATS_GLOBAL_MAX_ENTRIES]));
    return true;
}

void StatsAccumulator::add(const CpuStats& sample) {
    Cpu* cpu = nullptr;
    for (auto& c : cpus_)
        if (c.cpu == sample.cpu) cpu = &c;
    if (!cpu) {
        cpus_.push_back(Cpu{sample.cpu, sample.value, {}});
        for (std::size_t i = 0; i < kCtStatCount; ++i) cpus_.back().total[i] = sample.value[i];
    } else {
        for (std::size_t i = 0; i < kCtStatCount; ++i) {
            // Unsigned 32-bit subtraction is the increase modulo 2^32, also across a wrap.
            cpu->total[i] += static_cast<uint32_t>(sample.value[i] - cpu->last[i]);
            cpu->last[i] = sample.value[i];
        }
    }
    for (std::size_t i = 0; i < kCtStatCount; ++i) present_[i] = present_[i] || sample.present[i];
}

uint64_t StatsAccumulator::total(CtStat stat) const {
    uint64_t sum = 0;
    for (const auto& c : cpus_) sum += c.total[static_cast<std::size_t>(stat)];
    return sum;
}

Status ConntrackStatsReader::read(NetlinkSocket& sock, ConntrackHealth& out) {
    // One round trip: the global get (entries, maximum) and the per-CPU dump in one datagram. The
    // get goes first: the kernel answers it at once, then starts the dump (one dump at a time).
    char* buf = sock.request_buffer();
    nlmsghdr* global = build_request(buf, IPCTNL_MSG_CT_GET_STATS, 0, sock.next_seq());
    nlmsghdr* cpus = build_request(buf + NLMSG_ALIGN(global->nlmsg_len), IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_DUMP,
                                   sock.next_seq());
    out.entries.reset();
    out.max_entries.reset();
    // A dump the kernel repeats (NLM_F_DUMP_INTR) feeds each CPU twice: harmless, as a sample
    // adds only its increase since the last one.
    const NetlinkSocket::Handler handlers[] = {{global_cb, &out}, {cpu_cb, &accumulator_}};
    const std::size_t size = NLMSG_ALIGN(global->nlmsg_len) + cpus->nlmsg_len;
    if (Status s = sock.exchange(buf, size, handlers, 2); !s)
        return Status::error(explain_ctnetlink_error(s.code(), "conntrack statistics"), s.code());
    out.stats = &accumulator_;
    return {};
}

Status count_flowtables(NetlinkSocket& sock, uint32_t& count) {
    count = 0;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(sock.request_buffer(), NFT_MSG_GETFLOWTABLE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                          sock.next_seq());
    if (Status s = sock.dump(nlh, count_cb, &count); !s)
        return Status::error(explain_kernel_error(s.code(), kNoMessage, "flowtables"), s.code());
    return {};
}

}  // namespace ctnft
