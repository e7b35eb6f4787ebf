// bench_read: the plugin's read path, measured side by side with today's Exec script and with the
// floor (a bare netlink dump loop), its scaling with the number of counters (attach mode), and
// 100,000 reads without growth. The plugin's glue runs in-process against tests/harness (the
// stand-in daemon), in a private network namespace (unshare), against the real kernel.
//
//   bench_read [--quick] [--section read|scale|soak|ctdump|all]
//
// Section ctdump (docs/diagnosis.md, "Counting through flow offloading"): what a ctnetlink dump of
// the conntrack table costs per read at 1,000 and 30,000 tracked connections, the candidate way to
// read the accounting of offloaded flows, beside the plugin's own read at the same table size.
//
// Prints figures; asserts only what cannot flake (exact counts, no fd growth) and exits 1 when
// one of those fails, 77 when it cannot run (not root).
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <arpa/inet.h>
#include <sched.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "harness/fake_collectd.h"
#include "nft/conntrack_stats.h"
#include "nft/netlink_socket.h"
#include "nft/table_queries.h"
#include "nft/ruleset_batch.h"

extern "C" void module_register(void);
extern char** environ;

namespace {

using fake_collectd::ConfigBlock;

bool g_failed = false;
void check(bool ok, const std::string& what) {
    if (!ok) {
        std::printf("FAIL: %s\n", what.c_str());
        g_failed = true;
    }
}

double now_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double children_cpu_ns() {
    rusage ru{};
    getrusage(RUSAGE_CHILDREN, &ru);
    return (static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Wall and CPU nanoseconds per operation, one sample per round.
struct Samples {
    std::vector<double> wall, cpu;
    void add(double w, double c) { wall.push_back(w); cpu.push_back(c); }
    double wall_med() const { return median(wall); }
    double cpu_med() const { return median(cpu); }
};

long rss_kib() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    std::fclose(f);
    return kib;
}

int open_fds() {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) ++n;
    closedir(d);
    return n - 3;  // ".", ".." and the directory's own fd
}

std::size_t heap_in_use() { return mallinfo2().uordblks; }

// ---------------------------------------------------------------------------------------------
// The plugin through the stand-in daemon.

constexpr const char* kPlugin = "conntrack_nft";

struct PluginRun {
    bool ok = false;
    PluginRun(bool conntrack_stats, bool manage, const std::string& table) {
        fake_collectd::reset();
        module_register();
        ConfigBlock block("Plugin", {kPlugin});
        block.add("ConntrackStats", conntrack_stats);
        if (!manage) block.add("Manage", false).add("Table", table);
        ok = fake_collectd::run_config(kPlugin, block) == 0 && fake_collectd::run_init(kPlugin) == 0 &&
             fake_collectd::log_count(LOG_ERR) == 0;
        if (!ok)
            for (const auto& l : fake_collectd::logs()) std::printf("  plugin log: %s\n", l.message.c_str());
    }
    ~PluginRun() { fake_collectd::run_shutdown(kPlugin); }
};

// Timed reads in batches; the stand-in's records are dropped between batches (outside the clock).
void time_plugin_reads(long reads, long batch, Samples& out, long& values_per_read) {
    double wall = 0, cpu = 0;
    values_per_read = 0;
    for (long done = 0; done < reads; done += batch) {
        const long n = std::min(batch, reads - done);
        fake_collectd::clear_records();
        const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        for (long i = 0; i < n; ++i) fake_collectd::run_read(kPlugin);
        wall += now_ns(CLOCK_MONOTONIC) - w0;
        cpu += now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
        values_per_read = static_cast<long>(fake_collectd::dispatched().size()) / n;
    }
    fake_collectd::clear_records();
    out.add(wall / static_cast<double>(reads), cpu / static_cast<double>(reads));
}

// ---------------------------------------------------------------------------------------------
// The floor: one socket, one prebuilt request, send, receive until DONE, count the messages.

class BareDump {
public:
    BareDump(uint8_t family, const std::string& table) {
        nl_ = mnl_socket_open(NETLINK_NETFILTER);
        if (!nl_ || mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) return;
        portid_ = mnl_socket_get_portid(nl_);
        req_.resize(MNL_SOCKET_BUFFER_SIZE);
        buf_.resize(64 * 1024);
        nftnl_obj* obj = nftnl_obj_alloc();
        nftnl_obj_set_str(obj, NFTNL_OBJ_TABLE, table.c_str());
        nftnl_obj_set_u32(obj, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(req_.data(), NFT_MSG_GETOBJ, family, NLM_F_DUMP, 0);
        nftnl_obj_nlmsg_build_payload(nlh, obj);
        nftnl_obj_free(obj);
    }
    ~BareDump() {
        if (nl_) mnl_socket_close(nl_);
    }
    BareDump(const BareDump&) = delete;
    BareDump& operator=(const BareDump&) = delete;
    // Returns the number of counters, -1 on error.
    long read() {
        auto* nlh = reinterpret_cast<nlmsghdr*>(req_.data());
        nlh->nlmsg_seq = ++seq_;
        if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -1;
        long count = 0;
        for (;;) {
            const ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
            if (n <= 0) return -1;
            const int rc = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq_, portid_, count_cb, &count);
            if (rc == MNL_CB_ERROR) return -1;
            if (rc == MNL_CB_STOP) return count;
        }
    }

private:
    static int count_cb(const nlmsghdr*, void* data) {
        ++*static_cast<long*>(data);
        return MNL_CB_OK;
    }
    mnl_socket* nl_ = nullptr;
    uint32_t portid_ = 0;
    uint32_t seq_ = 0;
    std::vector<char> req_, buf_;
};

void time_floor(BareDump& floor, long reads, Samples& out, long& count) {
    const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < reads; ++i) count = floor.read();
    out.add((now_ns(CLOCK_MONOTONIC) - w0) / static_cast<double>(reads),
            (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / static_cast<double>(reads));
}

// ---------------------------------------------------------------------------------------------
// Today's approach: one shell pipeline per interval, as tests/daemon/legacy_exec_script.sh runs
// it (without sudo, which would only add to it). Its output goes to /dev/null: the daemon's
// parsing of PUTVAL lines is not counted.

std::string script_command(const std::string& table) {
    return "PATH=/usr/sbin:/usr/bin:/sbin:/bin; nft list counters table ip " + table +
           " | awk -v h=router -v i=10 '$1 == \"counter\" { name = $2 } $1 == \"packets\" { printf "
           "\"PUTVAL \\\"%s/nftables-" + table + "/packets-%s\\\" interval=%s N:%s\\n\", h, name, i, $2 }'";
}

// Runs the pipeline once; stdout to `out_fd` (or /dev/null). Returns its exit status.
int run_script(const std::string& cmd, int out_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    else posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/bin/sh", &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// PUTVAL lines the pipeline prints.
long script_lines(const std::string& cmd) {
    char path[] = "/tmp/bench_read.XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    if (run_script(cmd, fd) != 0) {
        close(fd);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    long lines = 0;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    close(fd);
    return lines;
}

void time_script(const std::string& cmd, long runs, Samples& out) {
    const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), k0 = children_cpu_ns();
    for (long i = 0; i < runs; ++i) run_script(cmd, -1);
    const double wall = now_ns(CLOCK_MONOTONIC) - w0;
    const double cpu = (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) + (children_cpu_ns() - k0);
    out.add(wall / static_cast<double>(runs), cpu / static_cast<double>(runs));
}

// ---------------------------------------------------------------------------------------------
// Attach-mode tables of n named counters, made with one batch per 2,000 counters.

bool make_counter_table(const std::string& table, long n) {
    using namespace ctnft;
    NetlinkSocket sock;
    if (!sock.open()) return false;
    for (long start = 0; start < n || start == 0; start += 2000) {
        Batch batch(sock.next_seq());
        if (start == 0) add_table(batch, Family::ip, table, 0);
        for (long i = start; i < std::min(n, start + 2000); ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "counter_%05ld", i);
            nftnl_obj* obj = nftnl_obj_alloc();
            nftnl_obj_set_u32(obj, NFTNL_OBJ_FAMILY, NFPROTO_IPV4);
            nftnl_obj_set_str(obj, NFTNL_OBJ_TABLE, table.c_str());
            nftnl_obj_set_str(obj, NFTNL_OBJ_NAME, name);
            nftnl_obj_set_u32(obj, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
            nftnl_obj_set_u64(obj, NFTNL_OBJ_CTR_PKTS, static_cast<uint64_t>(i));
            nftnl_obj_set_u64(obj, NFTNL_OBJ_CTR_BYTES, static_cast<uint64_t>(i) * 100);
            nftnl_obj_nlmsg_build_payload(batch.add(NFT_MSG_NEWOBJ, NFPROTO_IPV4, NLM_F_CREATE, name), obj);
            nftnl_obj_free(obj);
        }
        if (Status s = sock.commit(batch); !s) {
            std::printf("FAIL: creating %s: %s\n", table.c_str(), s.message().c_str());
            return false;
        }
        if (n == 0) break;
    }
    return true;
}

void delete_table(const std::string& table) {
    using namespace ctnft;
    NetlinkSocket sock;
    if (!sock.open()) return;
    Batch batch(sock.next_seq());
    add_delete_table(batch, Family::ip, table);
    sock.commit(batch);
}

// ---------------------------------------------------------------------------------------------

struct Options {
    bool quick = false;
    std::string section = "all";
};

// The nft layer alone, on its own socket: what the plugin's read does before it dispatches.
void time_reader(long reads, Samples& counters, Samples& health, Samples& flowtables, Samples& both) {
    using namespace ctnft;
    NetlinkSocket sock;
    if (!sock.open()) return;
    CounterReader reader(Family::ip, "conntrack_stats");
    std::vector<CounterValue> values;
    std::size_t count = 0;
    bool missing = false;
    ConntrackStatsReader stats;
    ConntrackHealth h;
    uint32_t n = 0;
    for (int i = 0; i < 50; ++i) reader.read(sock, values, count, missing), stats.read(sock, h), count_flowtables(sock, n);
    auto timed = [&](Samples& out, auto&& op) {
        const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
        for (long i = 0; i < reads; ++i) op();
        out.add((now_ns(CLOCK_MONOTONIC) - w0) / static_cast<double>(reads),
                (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / static_cast<double>(reads));
    };
    timed(counters, [&] { reader.read(sock, values, count, missing); });
    timed(health, [&] { stats.read(sock, h); });
    timed(flowtables, [&] { count_flowtables(sock, n); });
    // What the plugin's read asks the kernel with ConntrackStats true (the flowtable count only
    // when the ruleset changed, which it does not here), without dispatching.
    timed(both, [&] { reader.read(sock, values, count, missing), stats.read(sock, h); });
    check(count == 18, "CounterReader reads 18 counters");
}

void section_read(const Options& o) {
    const int rounds = o.quick ? 2 : 9;
    const long reads = o.quick ? 300 : 3000;
    const long script_runs = o.quick ? 3 : 15;
    Samples floor_s, plugin_s, plugin_ct_s, script_s, reader_s, ct_s, flowtables_s, reader_ct_s;
    long values = 0, values_ct = 0, floor_count = 0, lines = 0;
    const std::string cmd = script_command("conntrack_stats");
    for (int r = 0; r < rounds; ++r) {
        {
            PluginRun p(false, true, "");
            check(p.ok, "the plugin starts (ConntrackStats false)");
            if (!p.ok) return;
            BareDump floor(NFPROTO_IPV4, "conntrack_stats");
            // Warm-up, then interleaved: floor, plugin, script.
            for (int i = 0; i < 50; ++i) floor.read(), fake_collectd::run_read(kPlugin);
            fake_collectd::clear_records();
            time_floor(floor, reads, floor_s, floor_count);
            time_plugin_reads(reads, 500, plugin_s, values);
            time_reader(reads, reader_s, ct_s, flowtables_s, reader_ct_s);
            if (r == 0) lines = script_lines(cmd);
            time_script(cmd, script_runs, script_s);
        }
        {
            PluginRun p(true, true, "");
            check(p.ok, "the plugin starts (ConntrackStats true)");
            if (!p.ok) return;
            for (int i = 0; i < 50; ++i) fake_collectd::run_read(kPlugin);
            time_plugin_reads(reads, 500, plugin_ct_s, values_ct);
        }
    }
    check(floor_count == 18, "the bare dump reads 18 counters (got " + std::to_string(floor_count) + ")");
    check(values == 18, "the plugin dispatches 18 values per read with ConntrackStats false (got " +
                            std::to_string(values) + ")");
    check(values_ct > 18, "the plugin dispatches more than 18 values per read with ConntrackStats true (got " +
                              std::to_string(values_ct) + ")");
    check(lines == 18, "the script prints 18 PUTVAL lines (got " + std::to_string(lines) + ")");

    const double fw = floor_s.wall_med(), fc = floor_s.cpu_med();
    std::printf("\n== (1) read path, 18 counters: medians of %d rounds; per round %ld reads each, %ld script runs\n",
                rounds, reads, script_runs);
    std::printf("%-46s %12s %12s %10s %10s\n", "what", "wall us", "cpu us", "wall/floor", "cpu/floor");
    auto row = [&](const char* what, const Samples& s) {
        std::printf("%-46s %12.2f %12.2f %10.2f %10.2f\n", what, s.wall_med() / 1e3, s.cpu_med() / 1e3,
                    s.wall_med() / fw, s.cpu_med() / fc);
    };
    row("floor: bare netlink dump, one socket", floor_s);
    row("nft layer: CounterReader::read (no dispatch)", reader_s);
    row("nft layer: counters + conntrack statistics", reader_ct_s);
    row("plugin read, ConntrackStats false", plugin_s);
    row("plugin read, ConntrackStats true", plugin_ct_s);
    row("today: sh -c 'nft list counters | awk'", script_s);
    std::printf("parts of ConntrackStats true: conntrack statistics (global get + per-CPU dump in one round trip) "
                "%.2f us; flowtable count (a dump, only when the ruleset generation moved) %.2f us\n",
                ct_s.wall_med() / 1e3, flowtables_s.wall_med() / 1e3);
    std::printf("values per read: %ld (ConntrackStats false), %ld (true)\n", values, values_ct);
    std::printf("RESULT read.plugin_vs_floor_wall %.2f\n", plugin_s.wall_med() / fw);
    std::printf("RESULT read.plugin_vs_floor_cpu %.2f\n", plugin_s.cpu_med() / fc);
    std::printf("RESULT read.plugin_ct_vs_floor_wall %.2f\n", plugin_ct_s.wall_med() / fw);
    std::printf("RESULT read.plugin_ct_vs_floor_cpu %.2f\n", plugin_ct_s.cpu_med() / fc);
    std::printf("RESULT read.reader_ct_vs_floor_cpu %.2f\n", reader_ct_s.cpu_med() / fc);
    std::printf("RESULT read.script_vs_plugin_cpu %.0f\n", script_s.cpu_med() / plugin_s.cpu_med());
    std::printf("RESULT read.script_vs_plugin_ct_cpu %.0f\n", script_s.cpu_med() / plugin_ct_s.cpu_med());
    std::printf("RESULT read.script_vs_plugin_wall %.0f\n", script_s.wall_med() / plugin_s.wall_med());
}

void section_scale(const Options& o) {
    const std::vector<long> sizes{10, 100, 1000, 10000};
    const int rounds = o.quick ? 1 : 5;
    const std::string table = "bench_scale";
    struct Row {
        Samples plugin, floor, script, reader;
        long values = -1, floor_count = -1;
        long heap_bytes = 0, rss_kib = 0;
    };
    std::vector<Row> rows(sizes.size());
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t k = 0; k < sizes.size(); ++k) {
            const long n = sizes[k];
            const long reads = o.quick ? std::max(3L, 2000 / n) : std::clamp(200000 / n, 20L, 2000L);
            Row& row = rows[k];
            delete_table(table);
            if (!make_counter_table(table, n)) {
                g_failed = true;
                return;
            }
            fake_collectd::clear_records();
            const std::size_t heap0 = heap_in_use();
            const long rss0 = rss_kib();
            {
                PluginRun p(false, false, table);
                check(p.ok, "the plugin attaches to " + std::to_string(n) + " counters");
                if (!p.ok) return;
                BareDump floor(NFPROTO_IPV4, table);
                fake_collectd::run_read(kPlugin);
                fake_collectd::clear_records();
                time_floor(floor, reads, row.floor, row.floor_count);
                time_plugin_reads(reads, std::max(1L, 20000 / n), row.plugin, row.values);
                {
                    using namespace ctnft;
                    NetlinkSocket sock;
                    sock.open();
                    CounterReader reader(Family::ip, table);
                    std::vector<CounterValue> v;
                    std::size_t count = 0;
                    bool missing = false;
                    reader.read(sock, v, count, missing);
                    const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
                    for (long i = 0; i < reads; ++i) reader.read(sock, v, count, missing);
                    row.reader.add((now_ns(CLOCK_MONOTONIC) - w0) / static_cast<double>(reads),
                                   (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / static_cast<double>(reads));
                }
                // What the plugin holds between reads (the stand-in's records dropped).
                if (r == 0) {
                    row.heap_bytes = static_cast<long>(heap_in_use()) - static_cast<long>(heap0);
                    row.rss_kib = rss_kib() - rss0;
                }
                if (!o.quick) time_script(script_command(table), n >= 10000 ? 2 : 5, row.script);
            }
        }
    }
    delete_table(table);
    std::printf("\n== (2) scale, attach mode (Manage false, ConntrackStats false): medians of %d rounds\n", rounds);
    std::printf("%8s %12s %12s %12s %12s %12s %12s %12s %10s %10s %10s %12s\n", "counters", "wall us", "cpu us",
                "ns/counter", "reader ns/c", "floor us", "floor cpu us", "floor ns/c", "x floor", "cpu x floor",
                "heap B/c", "nft+awk ms");
    for (std::size_t k = 0; k < sizes.size(); ++k) {
        const long n = sizes[k];
        Row& row = rows[k];
        check(row.values == n, "attach mode dispatches " + std::to_string(n) + " values per read (got " +
                                   std::to_string(row.values) + ")");
        check(row.floor_count == n, "the bare dump reads " + std::to_string(n) + " counters");
        const double w = row.plugin.wall_med();
        std::printf("%8ld %12.1f %12.1f %12.0f %12.0f %12.1f %12.1f %12.0f %10.2f %10.2f %10.0f %12s\n", n, w / 1e3,
                    row.plugin.cpu_med() / 1e3, w / static_cast<double>(n),
                    row.reader.wall_med() / static_cast<double>(n), row.floor.wall_med() / 1e3,
                    row.floor.cpu_med() / 1e3, row.floor.wall_med() / static_cast<double>(n),
                    w / row.floor.wall_med(), row.plugin.cpu_med() / row.floor.cpu_med(),
                    static_cast<double>(row.heap_bytes) / static_cast<double>(n),
                    row.script.wall.empty() ? "-" : std::to_string(row.script.wall_med() / 1e6).substr(0, 6).c_str());
        // Machine-readable, for the plot: n, plugin wall us, plugin cpu us, floor wall us, reader wall us.
        std::printf("SCALE %ld %.2f %.2f %.2f %.2f\n", n, w / 1e3, row.plugin.cpu_med() / 1e3,
                    row.floor.wall_med() / 1e3, row.reader.wall_med() / 1e3);
        std::printf("RESULT scale.%ld_plugin_vs_floor_wall %.2f\nRESULT scale.%ld_plugin_vs_floor_cpu %.2f\n", n,
                    w / row.floor.wall_med(), n, row.plugin.cpu_med() / row.floor.cpu_med());
    }
    std::printf("heap B/c: heap the plugin holds after its reads, per counter (names and values kept for reuse); "
                "RSS growth at 10000: %ld KiB\n", rows.back().rss_kib);
}

void section_soak(const Options& o) {
    const long reads = o.quick ? 3000 : 100000;
    PluginRun p(true, true, "");  // the default configuration: counters and conntrack statistics
    check(p.ok, "the plugin starts (defaults)");
    if (!p.ok) return;
    for (int i = 0; i < 1000; ++i) fake_collectd::run_read(kPlugin);
    fake_collectd::clear_records();
    const long rss0 = rss_kib();
    const int fds0 = open_fds();
    const std::size_t heap0 = heap_in_use();
    const double w0 = now_ns(CLOCK_MONOTONIC);
    long failed = 0;
    for (long i = 0; i < reads; ++i) {
        if (fake_collectd::run_read(kPlugin) != 0) ++failed;
        if (i % 1000 == 999) fake_collectd::clear_records();
    }
    fake_collectd::clear_records();
    const double secs = (now_ns(CLOCK_MONOTONIC) - w0) / 1e9;
    const long rss1 = rss_kib();
    const int fds1 = open_fds();
    const std::size_t heap1 = heap_in_use();
    std::printf("\n== (4) footprint: %ld reads with the default configuration (after 1000 warm-up reads), %.1f s\n",
                reads, secs);
    std::printf("RSS %ld -> %ld KiB (growth %ld KiB); open fds %d -> %d (growth %d); heap in use %zu -> %zu B "
                "(growth %ld B); failed reads %ld\n",
                rss0, rss1, rss1 - rss0, fds0, fds1, fds1 - fds0, heap0, heap1,
                static_cast<long>(heap1) - static_cast<long>(heap0), failed);
    std::printf("RESULT soak.reads %ld\nRESULT soak.rss_growth_kib %ld\nRESULT soak.fd_growth %d\n"
                "RESULT soak.heap_growth_bytes %ld\n",
                reads, rss1 - rss0, fds1 - fds0, static_cast<long>(heap1) - static_cast<long>(heap0));
    check(failed == 0, "every read succeeds");
    check(fds1 == fds0, "no open file descriptor is added by reads");
}


// ---------------------------------------------------------------------------------------------
// Section ctdump: the conntrack table over ctnetlink (candidate (a) of docs/diagnosis.md).

uint16_t ctnl(uint8_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg); }

nlmsghdr* ct_header(char* buf, uint8_t msg, uint16_t flags, uint32_t seq, uint8_t family) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = ctnl(msg);
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

void put_tuple(nlmsghdr* nlh, uint16_t type, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
    nlattr* t = mnl_attr_nest_start(nlh, type);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, t);
}

// Inserts n UDP entries (10.x -> 192.0.2.1:53, timeout one hour) with IPCTNL_MSG_CT_NEW, every
// tenth with IPS_ASSURED set (the stand-in for "offloaded": IPS_OFFLOAD cannot be set from user
// space). Returns false when the kernel refuses one.
bool insert_conntrack_entries(long first, long n) {
    mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return false;
    std::vector<char> buf(256 * 1024), rx((32 * 1024));
    uint32_t seq = 0;
    bool ok = true;
    for (long start = first; ok && start < first + n; start += 256) {
        const long end = std::min(first + n, start + 256);
        std::size_t off = 0;
        const uint32_t seq0 = seq + 1;
        for (long i = start; i < end; ++i) {
            const auto src = static_cast<uint32_t>(0x0a000000 + i);  // 10.0.0.0 + i
            const uint32_t dst = 0xc0000201;                        // 192.0.2.1
            const auto sport = static_cast<uint16_t>(1024 + i % 50000);
            nlmsghdr* nlh = ct_header(buf.data() + off, IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
                                      ++seq, AF_INET);
            put_tuple(nlh, CTA_TUPLE_ORIG, src, dst, sport, 53);
            put_tuple(nlh, CTA_TUPLE_REPLY, dst, src, 53, sport);
            mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(3600));
            if (i % 10 == 0) mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_ASSURED | IPS_SEEN_REPLY | IPS_CONFIRMED));
            off += NLMSG_ALIGN(nlh->nlmsg_len);
        }
        if (mnl_socket_sendto(nl, buf.data(), off) < 0) ok = false;
        long acks = 0;
        while (ok && acks < end - start) {
            const ssize_t got = mnl_socket_recvfrom(nl, rx.data(), rx.size());
            if (got <= 0) { ok = false; break; }
            int len = static_cast<int>(got);
            for (auto* h = reinterpret_cast<nlmsghdr*>(rx.data()); mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
                if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < seq0) continue;
                ++acks;
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
                if (err->error != 0) {
                    std::printf("FAIL: inserting conntrack entry: %s\n", std::strerror(-err->error));
                    ok = false;
                }
            }
        }
    }
    mnl_socket_close(nl);
    return ok;
}

// What a reader of offloaded flows does with each entry: its protocol, status and the packets
// of both directions (CTA_COUNTERS_ORIG/REPLY, present when accounting is on).
struct DumpTotals {
    long entries = 0, with_counters = 0, marked = 0;
    uint64_t packets = 0;
    uint32_t wanted_status = 0;
};

int nested_cb(const nlattr* attr, void* data) {
    auto** tb = static_cast<const nlattr**>(data);
    const int type = mnl_attr_get_type(attr);
    if (type <= CTA_MAX) tb[type] = attr;
    return MNL_CB_OK;
}

uint64_t counter_packets(const nlattr* counters) {
    const nlattr* tb[CTA_COUNTERS_MAX + 1] = {};
    if (mnl_attr_parse_nested(counters, nested_cb, tb) < 0 || !tb[CTA_COUNTERS_PACKETS]) return 0;
    if (mnl_attr_get_payload_len(tb[CTA_COUNTERS_PACKETS]) != 8) return 0;
    return be64toh(mnl_attr_get_u64(tb[CTA_COUNTERS_PACKETS]));
}

int ct_entry_cb(const nlmsghdr* nlh, void* data) {
    auto* t = static_cast<DumpTotals*>(data);
    const nlattr* tb[CTA_MAX + 1] = {};
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), nested_cb, tb) < 0) return MNL_CB_ERROR;
    ++t->entries;
    const uint32_t status = tb[CTA_STATUS] ? ntohl(mnl_attr_get_u32(tb[CTA_STATUS])) : 0;
    if (t->wanted_status && (status & t->wanted_status) != t->wanted_status) return MNL_CB_OK;
    ++t->marked;
    if (tb[CTA_COUNTERS_ORIG] && tb[CTA_COUNTERS_REPLY]) {
        ++t->with_counters;
        t->packets += counter_packets(tb[CTA_COUNTERS_ORIG]) + counter_packets(tb[CTA_COUNTERS_REPLY]);
    }
    return MNL_CB_OK;
}

// One dump of the conntrack table on a kept socket; with `status` set, the kernel (5.15 and
// later) sends only entries with all of those status bits (CTA_STATUS + CTA_STATUS_MASK), and the
// reader checks the bits again (older kernels ignore the filter and send everything).
class CtDump {
public:
    CtDump() {
        nl_ = mnl_socket_open(NETLINK_NETFILTER);
        if (!nl_ || mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) return;
        portid_ = mnl_socket_get_portid(nl_);
        req_.resize(MNL_SOCKET_BUFFER_SIZE);
        buf_.resize((32 * 1024));
    }
    ~CtDump() {
        if (nl_) mnl_socket_close(nl_);
    }
    CtDump(const CtDump&) = delete;
    CtDump& operator=(const CtDump&) = delete;
    bool read(uint32_t status, DumpTotals& t) {
        t = DumpTotals{};
        t.wanted_status = status;
        nlmsghdr* nlh = ct_header(req_.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, ++seq_, AF_INET);
        if (status) {
            mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
            mnl_attr_put_u32(nlh, CTA_STATUS_MASK, htonl(status));
        }
        if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return false;
        for (;;) {
            const ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
            if (n <= 0) return false;
            const int rc = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq_, portid_, ct_entry_cb, &t);
            if (rc == MNL_CB_ERROR) return false;
            if (rc == MNL_CB_STOP) return true;
        }
    }

private:
    mnl_socket* nl_ = nullptr;
    uint32_t portid_ = 0;
    uint32_t seq_ = 0;
    std::vector<char> req_, buf_;
};

bool write_file(const char* path, const char* text) {
    const int fd = ::open(path, O_WRONLY);
    if (fd < 0) return false;
    const auto len = static_cast<ssize_t>(std::strlen(text));
    const bool ok = ::write(fd, text, static_cast<size_t>(len)) == len;
    ::close(fd);
    return ok;
}

void section_ctdump(const Options& o) {
    // This process is in its own network namespace (main): the sysctl is that namespace's.
    if (!write_file("/proc/sys/net/netfilter/nf_conntrack_acct", "1")) {
        check(false, "nf_conntrack_acct=1 in the benchmark's namespace");
        return;
    }
    const std::vector<long> sizes = o.quick ? std::vector<long>{1000} : std::vector<long>{1000, 30000};
    const int rounds = o.quick ? 1 : 5;
    PluginRun p(true, true, "");  // the default configuration: its table, conntrack statistics
    check(p.ok, "the plugin starts (defaults)");
    if (!p.ok) return;
    std::printf("\n== (6) ctnetlink dump of the conntrack table (candidate for offloaded flows), medians of %d rounds\n",
                rounds);
    long buckets = -1, max_entries = -1;
    if (FILE* f = std::fopen("/proc/sys/net/netfilter/nf_conntrack_buckets", "r")) {
        if (std::fscanf(f, "%ld", &buckets) != 1) buckets = -1;
        std::fclose(f);
    }
    if (FILE* f = std::fopen("/proc/sys/net/netfilter/nf_conntrack_max", "r")) {
        if (std::fscanf(f, "%ld", &max_entries) != 1) max_entries = -1;
        std::fclose(f);
    }
    // A dump walks every bucket of the (global) hash table, whatever the namespace holds.
    std::printf("conntrack hash table: %ld buckets (nf_conntrack_buckets), nf_conntrack_max %ld\n", buckets,
                max_entries);
    std::printf("RESULT ctdump.buckets %ld\n", buckets);
    std::printf("%8s  %-58s %10s %10s %9s\n", "entries", "what", "wall us", "cpu us", "x plugin");
    long inserted = 0;
    for (const long n : sizes) {
        if (!insert_conntrack_entries(inserted, n - inserted)) {
            check(false, "inserting " + std::to_string(n) + " conntrack entries");
            return;
        }
        inserted = n;
        const long reads = o.quick ? 20 : std::max(20L, 200000 / n);
        Samples plugin_s, full_s, none_s, tenth_s, reader_s, health_s, flow_s, both_s;
        DumpTotals full, none, tenth;
        CtDump dump;
        for (int r = 0; r < rounds; ++r) {
            time_reader(reads, reader_s, health_s, flow_s, both_s);
            fake_collectd::clear_records();
            long values = 0;
            time_plugin_reads(reads, 100, plugin_s, values);
            auto timed = [&](Samples& out, uint32_t status, DumpTotals& t) {
                dump.read(status, t);
                const double w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
                bool ok = true;
                for (long i = 0; i < reads; ++i) ok = dump.read(status, t) && ok;
                out.add((now_ns(CLOCK_MONOTONIC) - w0) / static_cast<double>(reads),
                        (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / static_cast<double>(reads));
                check(ok, "every ctnetlink dump succeeds");
            };
            timed(full_s, 0, full);
            timed(none_s, IPS_OFFLOAD, none);
            timed(tenth_s, IPS_ASSURED, tenth);
        }
        check(full.entries == n && full.with_counters == n,
              "the full dump returns " + std::to_string(n) + " entries with counters (got " +
                  std::to_string(full.entries) + ", " + std::to_string(full.with_counters) + " with counters)");
        check(none.entries == 0, "the dump filtered on IPS_OFFLOAD returns nothing here (got " +
                                     std::to_string(none.entries) + ")");
        check(tenth.entries == n / 10 && tenth.marked == n / 10,
              "the dump filtered on IPS_ASSURED returns the tenth marked (" + std::to_string(n / 10) + ", got " +
                  std::to_string(tenth.entries) + ")");
        const double pw = plugin_s.wall_med();
        auto row = [&](const char* what, const Samples& s) {
            std::printf("%8ld  %-58s %10.1f %10.1f %9.1f\n", n, what, s.wall_med() / 1e3, s.cpu_med() / 1e3,
                        s.wall_med() / pw);
        };
        row("plugin read today (defaults, through the stand-in)", plugin_s);
        row("nft layer today: counters + conntrack statistics", both_s);
        row("ctnetlink dump, every entry (kernel < 5.15, or all offloaded)", full_s);
        row("ctnetlink dump, kernel filter IPS_OFFLOAD, none match", none_s);
        row("ctnetlink dump, kernel filter, a tenth match", tenth_s);
        std::printf("RESULT ctdump.%ld_plugin_wall_us %.1f\nRESULT ctdump.%ld_full_wall_us %.1f\n"
                    "RESULT ctdump.%ld_full_cpu_us %.1f\nRESULT ctdump.%ld_filtered_none_wall_us %.1f\n"
                    "RESULT ctdump.%ld_filtered_tenth_wall_us %.1f\n",
                    n, pw / 1e3, n, full_s.wall_med() / 1e3, n, full_s.cpu_med() / 1e3, n, none_s.wall_med() / 1e3,
                    n, tenth_s.wall_med() / 1e3);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") o.quick = true;
        else if (a == "--section" && i + 1 < argc) o.section = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_read [--quick] [--section read|scale|soak|ctdump|all]\n");
            return 2;
        }
    }
    if (unshare(CLONE_NEWNET) != 0) {
        std::printf("SKIP: needs root (CAP_SYS_ADMIN) for a private network namespace: %s\n", std::strerror(errno));
        return 77;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    if (o.section == "all" || o.section == "read") section_read(o);
    if (o.section == "all" || o.section == "scale") section_scale(o);
    if (o.section == "all" || o.section == "soak") section_soak(o);
    if (o.section == "all" || o.section == "ctdump") section_ctdump(o);
    if (g_failed) {
        std::printf("bench_read: FAILED\n");
        return 1;
    }
    return 0;
}
