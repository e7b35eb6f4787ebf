#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): well-formed kernel
replies as Linux sends them, built here by hand from the uapi constants, and a few configuration
trees. Deterministic; run it again after changing it:  python3 tests/fuzz/make_corpus.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI = 2
NLA_F_NESTED = 0x8000
NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_NFTABLES = 1, 10
NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWGEN, NFT_MSG_NEWOBJ, NFT_MSG_NEWFLOWTABLE = 0, 3, 6, 15, 18, 22
IPCTNL_MSG_CT_GET_STATS_CPU, IPCTNL_MSG_CT_GET_STATS = 4, 5
NFPROTO_IPV4 = 2
ENOENT = 2


def align(n):
    return (n + 3) & ~3


def attr(kind, payload):
    data = struct.pack("<HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (align(len(data)) - len(data))


def u32(kind, v):
    return attr(kind, struct.pack(">I", v))


def u64(kind, v):
    return attr(kind, struct.pack(">Q", v))


def string(kind, s):
    return attr(kind, s.encode() + b"\0")


def nested(kind, *attrs):
    return attr(kind | NLA_F_NESTED, b"".join(attrs))


def msg(mtype, payload=b"", family=NFPROTO_IPV4, res_id=0, flags=NLM_F_MULTI, seq=0, pid=0, nfgen=True):
    body = (struct.pack("<BBH", family, 0, res_id) if nfgen else b"") + payload
    return struct.pack("<IHHII", 16 + len(body), mtype, flags, seq, pid) + body


def done():
    return msg(NLMSG_DONE, struct.pack("<i", 0), nfgen=False)


def error(err):
    # With NETLINK_CAP_ACK the kernel echoes only the request's header.
    return msg(NLMSG_ERROR, struct.pack("<i", -err) + struct.pack("<IHHII", 20, 0, 0, 0, 0), flags=0, nfgen=False)


def nft(t):
    return (NFNL_SUBSYS_NFTABLES << 8) | t


def counter(name, packets, bytes_, table="conntrack_stats", handle=1):
    return msg(nft(NFT_MSG_NEWOBJ),
               string(1, table) + string(2, name) + u32(3, 1) +
               nested(4, u64(1, bytes_), u64(2, packets)) + u32(5, 1) + u64(6, handle))


def cpu_stats(cpu, values, with_new=True):
    # CTA_STATS_*: FOUND 2, INVALID 4, INSERT 8, INSERT_FAILED 9, DROP 10, EARLY_DROP 11,
    # ERROR 12, SEARCH_RESTART 13, CLASH_RESOLVE 14, CHAIN_TOOLONG 15 (and dead SEARCHED 1 ...).
    kinds = [2, 4, 8, 9, 10, 11, 12, 13] + ([14, 15] if with_new else [])
    payload = b"".join(u32(k, v) for k, v in zip(kinds, values))
    return msg((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS_CPU, payload, family=0, res_id=struct.unpack("<H", struct.pack(">H", cpu))[0])


def global_stats(entries, maximum):
    return msg((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS, u32(1, entries) + u32(2, maximum), family=0, flags=0)


def generation(genid):
    return msg(nft(NFT_MSG_NEWGEN), u32(1, genid) + u32(2, 1234) + string(3, "collectd"), family=0, flags=0)


def table(flags=0, owner=None):
    p = string(1, "conntrack_stats") + u32(2, flags) + u32(3, 6) + u64(4, 7)
    if owner is not None:
        p += u32(7, owner)
    return msg(nft(NFT_MSG_NEWTABLE), p, flags=0)


def chain(name, hooknum, prio):
    return msg(nft(NFT_MSG_NEWCHAIN), string(1, "conntrack_stats") + u64(2, 1) + string(3, name) +
               nested(4, u32(1, hooknum), u32(2, prio & 0xffffffff)) + u32(5, 1) + u32(6, 1) + string(7, "filter"))


def rule(handle):
    return msg(nft(NFT_MSG_NEWRULE), string(1, "conntrack_stats") + string(2, "input_counter") + u64(3, handle))


CLASSIC = [f"{p}_conntrack_{h}_{s}" for p in ("tcp", "udp") for h in ("input", "output", "fwd")
           for s in ("new", "established", "invalid")]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- counter_message: datagrams of a counter dump
write("counter_message", "classic18", b"".join(counter(n, i * 1000 + 7, i * 150000 + 3, handle=i) for i, n in enumerate(CLASSIC)))
write("counter_message", "one_big_values", counter("tcp_conntrack_fwd_new", 0x123456789, 0xabcdef01234))
write("counter_message", "long_name_255", counter("c" * 255, 1, 2))
write("counter_message", "with_slash_and_done", counter("a/b", 5, 6) + counter("x_ok", 1, 1) + done())
write("counter_message", "max_values", counter("tcp_conntrack_input_new", 2**64 - 1, 2**64 - 1) + counter("udp", 0, 0))

# --- conntrack_stats: a per-CPU dump and the global reply
write("conntrack_stats", "two_cpus", cpu_stats(0, [10, 1, 20, 0, 0, 0, 2, 0, 3, 0]) + cpu_stats(1, [2**32 - 1] * 10) + done())
write("conntrack_stats", "old_kernel", cpu_stats(3, [1, 2, 3, 4, 5, 6, 7, 8], with_new=False) + done())
write("conntrack_stats", "global", global_stats(123, 262144))
write("conntrack_stats", "mixed", global_stats(0, 0) + cpu_stats(7, [5] * 10))


# --- flowtable_message: a flowtable dump (NFTA_FLOWTABLE_*: TABLE 1, NAME 2, HOOK 3 {NUM 1,
# PRIORITY 2, DEVS 3 {NFTA_DEVICE_NAME 1 ...}}, USE 4, HANDLE 5, FLAGS 7), as fw4 makes it
def flowtable(name, prio, devices, table="fw4", family=1):
    hook = nested(3, u32(1, 0), u32(2, prio & 0xffffffff), nested(3, *[string(1, d) for d in devices]))
    return msg(nft(NFT_MSG_NEWFLOWTABLE), string(1, table) + string(2, name) + hook + u32(4, 0) + u64(5, 3) +
               u32(7, 0), family=family)


write("flowtable_message", "fw4", flowtable("ft", 0, ["br-lan", "eth1"]) + done())
write("flowtable_message", "two_tables", flowtable("ft", 0, ["eth0", "wan"]) + flowtable("ft2", -10, ["eth0", "lan1"], table="x") + done())
write("flowtable_message", "no_devices", flowtable("ft", 5, []) + done())
write("flowtable_message", "no_hook", msg(nft(NFT_MSG_NEWFLOWTABLE), string(1, "fw4") + string(2, "ft")) + done())
# Beyond the kernel's limits (IFNAMSIZ, 255 devices): malformed, never built into a probe.
write("flowtable_message", "huge_device_name", flowtable("ft", 0, ["x" * 9000]) + done())
write("flowtable_message", "too_many_devices", flowtable("ft", 0, [f"d{i:013d}" for i in range(300)]) + done())
write("flowtable_message", "most_devices", flowtable("ft", 0, [f"d{i:014d}" for i in range(255)]) + done())


# --- netlink_replies: mode byte, then chunks [u16 len][u8 control][datagram]
def chunk(data, control=0x81):
    return struct.pack("<HB", len(data), control) + data


FIX_FIRST, FIX_BATCH_LAST_MSG = 0x81, 0x85
dump18 = b"".join(counter(n, i, i * 60) for i, n in enumerate(CLASSIC))
attach = bytes([0]) + b"".join([
    chunk(dump18 + done()),                                  # read 1
    chunk(dump18[:len(dump18) // 2 // 4 * 4], 0x01), chunk(done()),  # read 2, in two datagrams
    # conntrack statistics: one datagram carries the global get (first sequence number) and the
    # per-CPU dump (the last); their replies arrive as separate datagrams
    chunk(global_stats(5, 65536), 0x01), chunk(cpu_stats(0, [1] * 10) + cpu_stats(1, [2] * 10) + done(), 0x83),
    chunk(global_stats(6, 65536), 0x01), chunk(cpu_stats(0, [3] * 10), 0x03), chunk(done(), 0x83),
    chunk(msg(nft(NFT_MSG_NEWFLOWTABLE), string(1, "ft")) + done()),
])
write("netlink_replies", "attach_mode", attach)
write("netlink_replies", "attach_missing_table", bytes([0]) + chunk(done()) + chunk(error(ENOENT)) +
      chunk(done()) + chunk(table()) + chunk(error(1)))
write("netlink_replies", "attach_oversized", bytes([0]) + chunk(dump18 + done(), 0x89) + chunk(dump18 + done()))
managed = bytes([4]) + b"".join([
    chunk(error(ENOENT)),                         # create: get_table
    chunk(error(0), FIX_BATCH_LAST_MSG),          # the batch's ack
    chunk(generation(100)),                       # verified generation
    chunk(dump18 + done()),                       # read 1: counters
    chunk(generation(100)),                       #   generation unchanged
    chunk(dump18 + done()), chunk(generation(101)),  # read 2: generation moved
    chunk(b"".join(rule(i) for i in range(3)) + done()), chunk(generation(101)),  # rules: 3
    chunk(done()), chunk(error(ENOENT)),          # read 3: the table is gone -> repair
    chunk(error(ENOENT)), chunk(error(0), FIX_BATCH_LAST_MSG), chunk(generation(102)), chunk(dump18 + done()),
    chunk(table()), chunk(error(0), FIX_BATCH_LAST_MSG),  # remove
])
write("netlink_replies", "managed_unowned", managed)
write("netlink_replies", "managed_existing", bytes([1]) + b"".join([
    chunk(table(flags=1, owner=0)),
    chunk(chain("input_counter", 1, 0) + chain("output_counter", 3, 0) + chain("forward_counter", 2, 0) + chain("x", 0, -5) + done()),
    chunk(dump18 + done()),
    chunk(error(95), 0x83),                        # EOPNOTSUPP on the batch
    chunk(error(0), FIX_BATCH_LAST_MSG),
    chunk(dump18 + done()),
]))
write("netlink_replies", "managed_owned_elsewhere", bytes([1]) + chunk(table(flags=1, owner=4242)))
write("netlink_replies", "interrupted_dump", bytes([0]) + chunk(
    msg(nft(NFT_MSG_NEWOBJ), b"", flags=NLM_F_MULTI | 0x10)[:16] + done()) + chunk(dump18 + done()))


# --- plugin_config: the tree encoding of fuzz_plugin_config.cpp
KEYS = ["Table", "Family", "Manage", "Protocol", "Hook", "State", "Priority", "ReportBytes", "KeepTable",
        "OwnerFlag", "ConntrackStats", "PerCPU", "SampleInterval", "SampleCounter", "table", "SAMPLEINTERVAL",
        "Notifications", "FillThreshold", "CountOffloaded"]
WORDS = ["ip", "ip6", "inet", "tcp", "udp", "icmp", "icmpv6", "input", "output", "forward", "prerouting",
         "postrouting", "new", "established", "related", "invalid", "untracked", "true", "false",
         "conntrack_stats", "*_fwd_*", ""]
NUMBERS = [0, 1, -1, -199, -200]


def item(key, *values, children=None):
    out = bytes([KEYS.index(key)]) if key in KEYS else bytes([255, len(key)]) + key.encode()
    out += bytes([len(values)])
    for v in values:
        if isinstance(v, bool):
            out += bytes([4, int(v)])
        elif isinstance(v, str) and v in WORDS:
            out += bytes([0, WORDS.index(v)])
        elif isinstance(v, str):
            out += bytes([1, len(v)]) + v.encode()
        elif v in NUMBERS:
            out += bytes([2, NUMBERS.index(v)])
        else:
            out += bytes([3]) + struct.pack("<d", float(v))
    if children:
        out += bytes([0xf0, len(children)]) + b"".join(children)
    else:
        out += bytes([0])
    return out


write("plugin_config", "empty", b"")
write("plugin_config", "inet_forward", item("Family", "inet") + item("Protocol", "tcp", "udp", "icmp", "icmpv6") + item("Hook", "forward"))
write("plugin_config", "attach", item("Manage", False) + item("Table", "conntrack_stats") + item("Protocol", "tcp"))
write("plugin_config", "sampling", item("SampleInterval", 0.25) + item("SampleCounter", "*_fwd_*", "tcp_conntrack_fwd_invalid") + item("ReportBytes", "true"))
write("plugin_config", "everything", item("Table", "my_table") + item("Family", "ip6") + item("State", "new", "related") +
      item("Priority", -199) + item("KeepTable", True) + item("OwnerFlag", False) + item("ConntrackStats", False) + item("PerCPU", True))
write("plugin_config", "errors", item("Unknown", "x") + item("Priority", 1.5))
write("plugin_config", "notifications", item("Notifications", False) + item("FillThreshold", 92.5) +
      item("FillThreshold", "100") + item("FillThreshold", 0.5) + item("ConntrackStats", True))
write("plugin_config", "count_offloaded", item("CountOffloaded", False) + item("Manage", False) + item("Table", "t"))
write("plugin_config", "nested", item("Hook", children=[item("State", "new")]))
