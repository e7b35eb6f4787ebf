#!/usr/bin/env python3
"""scripts/show_rates.py (the demo's rates table): the columns and rows keep one order whatever
order collectd's values arrive in, each value lands in its own cell, a read is shown once it is
complete. Run by CTest as unit.show_rates:  python3 tests/unit/test_show_rates.py"""
import itertools
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import show_rates  # noqa: E402

PROTOS, HOOKS, STATES = ("tcp", "udp"), ("input", "fwd", "output"), ("new", "established", "invalid")


def putval(stamp, counter, value):
    return f"PUTVAL router/nftables-conntrack_stats/packets-{counter} interval=2.000 {stamp}:{value}\n"


def read_lines(stamp, values):
    return [putval(stamp, c, v) for c, v in values]


def parse(text):
    """(header states, {row: [cells]}, row order) of one table's text."""
    lines = text.strip("\n").split("\n")
    header = lines[1].split()
    rows, order = {}, []
    for line in lines[2:]:
        name, cells = line[:16].strip(), line[16:].split()
        rows[name] = cells
        order.append(name)
    return header, rows, order


class Columns(unittest.TestCase):
    def all_counters(self):
        # A distinct value per counter: a value in the wrong cell shows.
        return [(f"{p}_conntrack_{h}_{s}", float(10 * i + 1))
                for i, (p, h, s) in enumerate(itertools.product(PROTOS, HOOKS, STATES))]

    def test_fixed_order_for_any_arrival_order(self):
        values = self.all_counters()
        rng = random.Random(22)
        orders = [values, list(reversed(values))] + [rng.sample(values, len(values)) for _ in range(48)]
        for n, order in enumerate(orders):
            texts = list(show_rates.tables(read_lines(1700000000 + n, order)))
            self.assertEqual(len(texts), 1)
            header, rows, row_order = parse(texts[0])
            self.assertEqual(header, ["new", "established", "invalid"], f"arrival order {n}")
            self.assertEqual(row_order, [f"{p} {h}" for p in PROTOS for h in HOOKS], f"arrival order {n}")
            for c, v in values:
                p, _, h, s = c.split("_")
                self.assertEqual(rows[f"{p} {h}"][STATES.index(s)], f"{v:.1f}", f"{c}, arrival order {n}")

    def test_other_states_after_the_three(self):
        # "untracked" (a state the plugin does not count today) and "related" follow, by name.
        order = [("tcp_conntrack_fwd_untracked", 1), ("tcp_conntrack_fwd_invalid", 2),
                 ("tcp_conntrack_fwd_related", 3), ("tcp_conntrack_fwd_established", 4),
                 ("tcp_conntrack_fwd_new", 5)]
        header, rows, _ = parse(next(show_rates.tables(read_lines(1, order))))
        self.assertEqual(header, ["new", "established", "invalid", "related", "untracked"])
        self.assertEqual(rows["tcp fwd"], ["5.0", "4.0", "2.0", "3.0", "1.0"])

    def test_missing_cell_and_first_read(self):
        # The first read has no rate yet (NaN: "..."); a counter absent from a read shows "-".
        order = [("udp_conntrack_fwd_established", "nan"), ("tcp_conntrack_fwd_new", "nan")]
        header, rows, row_order = parse(next(show_rates.tables(read_lines(1, order))))
        self.assertEqual(header, ["new", "established"])
        self.assertEqual(row_order, ["tcp fwd", "udp fwd"])
        self.assertEqual(rows["tcp fwd"], ["...", "-"])
        self.assertEqual(rows["udp fwd"], ["-", "..."])

    def test_other_names_last_and_other_lines_ignored(self):
        lines = ["collectd: plugin loaded\n", putval(1, "bytes_total", 7),
                 "PUTVAL router/conntrack_nft/percent-used interval=2.000 1:3\n",
                 putval(1, "udp_conntrack_input_new", 2), putval(1, "icmp_conntrack_fwd_new", 1)]
        _, rows, row_order = parse(next(show_rates.tables(lines)))
        self.assertEqual(row_order, ["udp input", "icmp fwd", "bytes_total"])
        self.assertEqual(rows["bytes_total"], ["-", "7.0"])

    def test_a_read_is_shown_once_complete(self):
        values = self.all_counters()
        first = read_lines(10, values)
        second = read_lines(12, list(reversed(values)))
        shown = []
        it = show_rates.tables(iter(first + second))
        # The first read is shown when the second begins; from then on a read is shown as soon as
        # it has as many values as the largest read so far (without waiting for the next one).
        shown.append(next(it))
        shown.append(next(it))
        self.assertRaises(StopIteration, next, it)
        self.assertIn("packets/s", shown[1])
        self.assertEqual(parse(shown[0])[0], parse(shown[1])[0])

    def test_interleaved_reads(self):
        # collectd's write threads: the last values of one read arrive after the next read began
        # (seen in the demo: a straggler made a table of its own with the single column "new").
        values = self.all_counters()
        rng = random.Random(7)
        reads = [read_lines(100 + 2 * n, rng.sample(values, len(values))) for n in range(6)]
        lines = list(reads[0])
        for n in range(1, 6):
            # the previous read's last 3 values come after the first 4 of this read
            late = lines[-3:]
            del lines[-3:]
            lines += reads[n][:4] + late + reads[n][4:]
        texts = list(show_rates.tables(lines))
        self.assertEqual(len(texts), 6, "one table per read")
        stamps = [t.strip("\n").split("\n")[0] for t in texts]
        self.assertEqual(stamps, sorted(stamps), "tables in the order of the reads")
        for n, text in enumerate(texts):
            header, rows, row_order = parse(text)
            self.assertEqual(header, ["new", "established", "invalid"], f"read {n}")
            self.assertEqual(row_order, [f"{p} {h}" for p in PROTOS for h in HOOKS], f"read {n}")
            if n == 0:
                continue  # the first read is shown when the second begins: its stragglers are left out
            for c, v in values:
                p, _, h, s = c.split("_")
                self.assertEqual(rows[f"{p} {h}"][STATES.index(s)], f"{v:.1f}", f"{c}, read {n}")


if __name__ == "__main__":
    unittest.main()
