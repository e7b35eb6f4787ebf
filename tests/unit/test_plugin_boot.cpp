// The plugin's callbacks, run by the in-process stand-in for collectd (tests/harness), against a
// scripted kernel (scripted_kernel.h): what a router meets at boot, when collectd starts while the
// firewall loads its ruleset. A passing failure at init (a timeout, a ruleset changing under
// every dump) must not stop the plugin for good: collectd 5.12 unregisters the read callback of a
// failed init. A lasting one (no CAP_NET_ADMIN) must.
// Before catch.h: it takes collectd's logging macros out of the way of Catch's INFO.
#include "harness/fake_collectd.h"

#include "catch.h"

#include <cerrno>
#include <deque>
#include <string>
#include <vector>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/model.h"
#include "scripted_kernel.h"

extern "C" void module_register(void);

using namespace scripted;
using fake_collectd::ConfigBlock;

namespace {

constexpr const char* kName = "conntrack_nft";

// How the scripted kernel answers the table lookup that starts every creation.
enum class Lookup { silent, interrupted_dumps, absent };

struct Boot {
    std::deque<Lookup> lookups;  // one per table lookup, then `absent` for good
    int batch_error = 0;         // the batch's verdict: 0 or -errno on its begin message
    int batches = 0;
    std::vector<std::string> counters;

    std::vector<std::vector<char>> answer(const nlmsghdr* req, uint32_t portid) {
        const uint8_t msg = static_cast<uint8_t>(req->nlmsg_type & 0xff);
        Reply r(portid, req->nlmsg_seq);
        if (req->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
            ++batches;
            if (batch_error == 0) return {batch_ack(req, portid)};
            r.error(batch_error);
            return {r.take()};
        }
        if (msg == NFT_MSG_GETTABLE) {
            const Lookup how = lookups.empty() ? Lookup::absent : lookups.front();
            if (!lookups.empty()) lookups.pop_front();
            if (how == Lookup::silent) return {};  // the socket's wait for an answer runs out
            if (how == Lookup::interrupted_dumps) {
                // The table exists (fw4 reloading around it); its chains are then dumped.
                nlmsghdr* nlh = r.message(nft_msg(NFT_MSG_NEWTABLE), 0);
                mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "conntrack_stats");
                return {r.take()};
            }
            r.error(-ENOENT);
            return {r.take()};
        }
        if (msg == NFT_MSG_GETCHAIN) {
            // The ruleset changes under every dump while the firewall loads.
            r.message(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR);
            return {r.take()};
        }
        if (msg == NFT_MSG_GETOBJ) return {counter_dump("conntrack_stats", counters, 1, portid, req->nlmsg_seq)};
        return {};
    }
};

struct Session {
    Kernel kernel;
    Use use{kernel};
    Boot boot;
    Session() {
        for (const auto& rule : ctnft::counting_rules(ctnft::RulesetSpec{})) boot.counters.push_back(rule.counter);
        kernel.respond = [this](const nlmsghdr* req, uint32_t portid) { return boot.answer(req, portid); };
        fake_collectd::reset();
        fake_collectd::set_interval(TIME_T_TO_CDTIME_T(1));
        module_register();
        ConfigBlock block("Plugin", {kName});
        block.add("ConntrackStats", false);
        REQUIRE(fake_collectd::run_config(kName, block) == 0);
    }
    ~Session() {
        fake_collectd::run_shutdown(kName);
        fake_collectd::reset();
    }
};

std::size_t count_logs(int severity, const std::string& part) {
    std::size_t n = 0;
    for (const auto& line : fake_collectd::logs(severity)) n += line.message.find(part) != std::string::npos;
    return n;
}

std::size_t packets_dispatched() {
    std::size_t n = 0;
    for (const auto& v : fake_collectd::dispatched()) n += v.type == "packets";
    return n;
}

}  // namespace

TEST_CASE("a table lookup that times out at init is tried again at the next read") {
    Session s;
    s.boot.lookups = {Lookup::silent, Lookup::silent};
    CHECK(fake_collectd::run_init(kName) == 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 0);
    CHECK(count_logs(LOG_WARNING, "cannot create table ip conntrack_stats yet: ") == 1);
    // Still no answer at the first read: nothing read, nothing new logged, and no back-off.
    CHECK(fake_collectd::run_read(kName) == 0);
    CHECK(packets_dispatched() == 0);
    CHECK(count_logs(LOG_WARNING, "conntrack_stats") + count_logs(LOG_ERR, "conntrack_stats") == 1);
    // Then the kernel answers: the table is made and read.
    CHECK(fake_collectd::run_read(kName) == 0);
    CHECK(s.boot.batches == 1);
    CHECK(packets_dispatched() == 18);
    CHECK(count_logs(LOG_INFO, "created table ip conntrack_stats with 18 counters") == 1);
    CHECK(count_logs(LOG_INFO, "reading table ip conntrack_stats works again") == 1);
}

TEST_CASE("dumps interrupted at every try while the firewall loads do not stop the plugin") {
    Session s;
    s.boot.lookups = {Lookup::interrupted_dumps};
    CHECK(fake_collectd::run_init(kName) == 0);
    CHECK(fake_collectd::log_count(LOG_ERR) == 0);
    CHECK(count_logs(LOG_WARNING, "the ruleset changed during every attempt to read it") == 1);
    CHECK(fake_collectd::run_read(kName) == 0);
    CHECK(packets_dispatched() == 18);
}

TEST_CASE("a lasting failure at init stops the plugin, with one error") {
    Session s;
    s.boot.batch_error = -EPERM;
    CHECK(fake_collectd::run_init(kName) != 0);
    REQUIRE(fake_collectd::log_count(LOG_ERR) == 1);
    CHECK(count_logs(LOG_ERR, "cannot create table ip conntrack_stats: ") == 1);
    CHECK(count_logs(LOG_ERR, "CAP_NET_ADMIN") == 1);
}
