#!/usr/bin/env python3
"""Columns for gnuplot from a lab run kept with LAB_OUTPUT (values.log: collectd's csv lines with
raw counters; marks: "label epoch" lines).

  series.py DIR ID:rate|value ...   one row per time: seconds since the first read, then per
                                    identifier its rate per second between two reads (rate, at
                                    the middle of their span) or its value (value, at the read);
                                    "NaN" where there is none
  series.py DIR --marks             "label seconds" per mark, on the same time axis
"""
import re
import sys

LINE = re.compile(r"^PUTVAL (\S+) interval=[0-9.]+ ([0-9.]+):(\S+)$")


def main(argv):
    folder, wanted = argv[1], argv[2:]
    reads = {}  # identifier -> [(time, value)]
    with open(f"{folder}/values.log") as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                reads.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    t0 = min(t for series in reads.values() for t, _ in series)
    if wanted == ["--marks"]:
        with open(f"{folder}/marks") as f:
            for line in f:
                label, t = line.split()
                print(label, f"{float(t) - t0:.2f}")
        return 0
    columns, times = [], set()
    for w in wanted:
        ident, kind = w.rsplit(":", 1)
        series = reads.get(ident, [])
        if kind == "rate":
            # A rate belongs to the span between two reads: placed at its middle.
            col = {(t0_ + t1) / 2: (v1 - v0) / (t1 - t0_) for (t0_, v0), (t1, v1) in zip(series, series[1:]) if t1 > t0_}
        else:
            col = dict(series)
        columns.append(col)
        times.update(col)
    for t in sorted(times):
        row = [f"{t - t0:.2f}"] + [("NaN" if t not in c or c[t] != c[t] else f"{c[t]:.4f}") for c in columns]
        print(" ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
