// ctnft: the nft/ layer on the command line, for the kernel tests and for looking by hand.
//
//   ctnft render  [spec options]            print the ruleset as nft syntax
//   ctnft create  [spec options] [--keep] [--no-owner] [--hold]
//                                           create-or-replace the table; --hold keeps the owning
//                                           socket open until stdin closes or SIGTERM
//   ctnft dump    [--family F] [--table T]  "name packets bytes" per counter; exit 3 if missing
//   ctnft generation [--family F] [--table T]
//                                           the ruleset generation (low 16 bits) the counter
//                                           dump's replies carry, "none" without counters
//   ctnft info    [--family F] [--table T]  "exists flags owner"
//   ctnft delete  [--family F] [--table T]
//   ctnft ct-stats                          conntrack health as the plugin reads it: "entries N",
//                                           "max N", "<stat> TOTAL" per statistic the kernel
//                                           sends, "cpu<N> <stat> TOTAL", "flowtables N"
//   ctnft broken-rule [spec options]        commit the spec's ruleset with every "ct" expression
//                                           renamed "zz" (a kernel without that expression):
//                                           prints the error as the plugin reports it, exit 1
//   ctnft read    [spec options] [--no-owner] --count N [--every MS]
//                                           N reads through ManagedTable, MS apart (repairs as
//                                           the plugin does, printing "repaired: why")
// spec options: --family F --table T --hook H --protocol P --state S --priority N
//               --shape map|classic (default map: one map lookup per chain; classic: one rule per counter)
// (--hook/--protocol/--state repeatable; the first replaces the default list).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "nft/conntrack_stats.h"
#include "nft/managed_table.h"
#include "nft/render.h"
#include "nft/ruleset_batch.h"
#include "nft/table_queries.h"

using namespace ctnft;

namespace {

int usage() {
    std::fprintf(stderr, "usage: ctnft render|create|dump|generation|info|delete|read [options] (see the source)\n");
    return 2;
}

int fail(const Status& s) {
    std::fprintf(stderr, "ctnft: %s\n", s.message().c_str());
    return 1;
}

template <typename E, typename Parse>
bool add(std::vector<E>& list, bool& seen, Parse parse, const char* text) {
    auto v = parse(text);
    if (!v) return false;
    if (!seen) list.clear();
    seen = true;
    list.push_back(*v);
    return true;
}

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const std::string cmd = argv[1];
    RulesetSpec spec;
    bool keep = false, hold = false, owner = true, seen_h = false, seen_p = false, seen_s = false;
    long count = 1, every_ms = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string opt = argv[i];
        const char* arg = i + 1 < argc ? argv[i + 1] : nullptr;
        bool ok = true;
        if (opt == "--keep") keep = true;
        else if (opt == "--hold") hold = true;
        else if (opt == "--no-owner") owner = false;
        else if (!arg) return usage();
        else if (opt == "--family") { auto f = parse_family(arg); ok = f.has_value(); if (ok) spec.family = *f; ++i; }
        else if (opt == "--table") { spec.table = arg; ++i; }
        else if (opt == "--hook") { ok = add(spec.hooks, seen_h, parse_hook, arg); ++i; }
        else if (opt == "--protocol") { ok = add(spec.protocols, seen_p, parse_protocol, arg); ++i; }
        else if (opt == "--state") { ok = add(spec.states, seen_s, parse_state, arg); ++i; }
        else if (opt == "--priority") { spec.priority = std::atoi(arg); ++i; }
        else if (opt == "--shape") { auto v = parse_rule_shape(arg); ok = v.has_value(); if (ok) spec.shape = *v; ++i; }
        else if (opt == "--count") { count = std::atol(arg); ++i; }
        else if (opt == "--every") { every_ms = std::atol(arg); ++i; }
        else return usage();
        if (!ok) {
            std::fprintf(stderr, "ctnft: %s: \"%s\" is not accepted\n", opt.c_str(), arg);
            return 2;
        }
    }

    if (cmd == "render") {
        if (Status s = validate(spec); !s) return fail(s);
        std::fputs(render_nft(spec).c_str(), stdout);
        return 0;
    }
    if (cmd == "create" || cmd == "read") {
        if (Status s = validate(spec); !s) return fail(s);
        ManagedTable table(spec, keep, owner);
        if (Status s = table.open(); !s) return fail(s);
        if (Status s = table.create(); !s) return fail(s);
        if (cmd == "read") {
            std::vector<CounterValue> values;
            std::size_t n = 0;
            std::string repaired;
            for (long i = 0; i < count; ++i) {
                if (Status s = table.read(values, n, repaired); !s) return fail(s);
                if (!repaired.empty()) std::printf("repaired: %s\n", repaired.c_str());
                std::fflush(stdout);
                if (every_ms > 0 && i + 1 < count) usleep(static_cast<useconds_t>(every_ms * 1000));
            }
            for (std::size_t i = 0; i < n; ++i)
                std::printf("%s %llu %llu\n", values[i].name.c_str(), (unsigned long long)values[i].packets,
                            (unsigned long long)values[i].bytes);
            return 0;
        }
        std::printf("created flags=%u portid=%u refused=%u adopted=%d\n", table.flags(), table.socket().portid(),
                    table.refused_flags(), table.adopted() ? 1 : 0);
        std::fflush(stdout);
        if (!hold) return 0;
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        char c;
        while (!g_stop && read(STDIN_FILENO, &c, 1) > 0) {
        }
        if (!keep)
            if (Status s = table.remove(); !s) return fail(s);
        return 0;
    }

    NetlinkSocket sock;
    if (Status s = sock.open(); !s) return fail(s);
    if (cmd == "broken-rule") {
        if (Status s = validate(spec); !s) return fail(s);
        Batch batch(sock.next_seq());
        add_table(batch, spec.family, spec.table, 0);
        add_ruleset(batch, spec);
        batch.finish();
        // The bytes as built: the test stands for a kernel that lacks an expression by renaming it.
        char* data = const_cast<char*>(batch.data());
        const nlattr name{7, NFTA_EXPR_NAME};  // host order, as the kernel reads it
        char ct[7];
        std::memcpy(ct, &name, sizeof name);
        std::memcpy(ct + sizeof name, "ct", 3);
        for (std::size_t i = 0; i + sizeof ct <= batch.size(); ++i)
            if (std::memcmp(data + i, ct, sizeof ct) == 0) std::memcpy(data + i + 4, "zz", 2);
        if (Status s = sock.commit(batch); !s) return fail(s);
        std::puts("committed");
        return 0;
    }
    if (cmd == "dump") {
        CounterReader reader(spec.family, spec.table);
        std::vector<CounterValue> values;
        std::size_t n = 0;
        bool missing = false;
        if (Status s = reader.read(sock, values, n, missing); !s) return fail(s);
        if (missing) {
            std::printf("missing\n");
            return 3;
        }
        for (std::size_t i = 0; i < n; ++i)
            std::printf("%s %llu %llu\n", values[i].name.c_str(), (unsigned long long)values[i].packets,
                        (unsigned long long)values[i].bytes);
        return 0;
    }
    if (cmd == "generation") {
        CounterReader reader(spec.family, spec.table);
        std::vector<CounterValue> values;
        std::size_t n = 0;
        bool missing = false;
        if (Status s = reader.read(sock, values, n, missing); !s) return fail(s);
        if (reader.generation()) std::printf("%u\n", static_cast<unsigned>(*reader.generation()));
        else std::printf("none\n");
        return 0;
    }
    if (cmd == "info") {
        TableInfo info;
        if (Status s = get_table(sock, spec.family, spec.table, info); !s) return fail(s);
        std::printf("%d %u %u\n", info.exists ? 1 : 0, info.flags, info.owner);
        return 0;
    }
    if (cmd == "ct-stats") {
        ConntrackStatsReader reader;
        ConntrackHealth health;
        uint32_t flowtables = 0;
        if (Status s = reader.read(sock, health); !s) return fail(s);
        if (Status s = count_flowtables(sock, flowtables); !s) return fail(s);
        if (health.entries) std::printf("entries %u\n", *health.entries);
        if (health.max_entries) std::printf("max %u\n", *health.max_entries);
        for (CtStat stat : kAllCtStats)
            if (health.stats->present(stat))
                std::printf("%s %llu\n", std::string(to_string(stat)).c_str(),
                            (unsigned long long)health.stats->total(stat));
        for (const auto& cpu : health.stats->cpus())
            for (CtStat stat : kAllCtStats)
                if (health.stats->present(stat))
                    std::printf("cpu%u %s %llu\n", cpu.cpu, std::string(to_string(stat)).c_str(),
                                (unsigned long long)cpu.total[static_cast<std::size_t>(stat)]);
        std::printf("flowtables %u\n", flowtables);
        return 0;
    }
    if (cmd == "delete") {
        Batch batch(sock.next_seq());
        add_delete_table(batch, spec.family, spec.table);
        if (Status s = sock.commit(batch); !s) return fail(s);
        return 0;
    }
    return usage();
}
