#!/usr/bin/env python3
"""Reads collectd csv-writer lines (StoreRates true) on stdin and prints, per read, a table of
packets per second: rows are protocol and hook, columns are conntrack states. Used by run.sh."""
import sys
import time


def cell(counter):
    """tcp_conntrack_fwd_new -> ("tcp fwd", "new"); other names get a row of their own."""
    parts = counter.split("_")
    if len(parts) == 4 and parts[1] == "conntrack":
        return f"{parts[0]} {parts[2]}", parts[3]
    return counter, "packets"


def show(stamp, values):
    rows, states, table = [], [], {}
    for counter, value in values.items():
        row, state = cell(counter)
        rows += [row] if row not in rows else []
        states += [state] if state not in states else []
        table[row, state] = value
    print(f"\n{time.strftime('%H:%M:%S', time.localtime(stamp))}  packets/s")
    print(" " * 16 + "".join(f"{s:>14}" for s in states))
    for row in rows:
        cells = [table.get((row, s)) for s in states]
        text = ["-" if v is None else "..." if v != v else f"{v:.1f}" for v in cells]
        print(f"{row:<16}" + "".join(f"{t:>14}" for t in text))
    sys.stdout.flush()


def main():
    current, values, per_read = None, {}, 0
    for line in sys.stdin:
        f = line.split()
        if len(f) != 4 or f[0] != "PUTVAL" or "/packets-" not in f[1]:
            continue
        stamp, _, value = f[3].partition(":")
        try:
            stamp, value = float(stamp), float(value)
        except ValueError:
            continue
        if stamp != current and values:  # a new read began before the last one was shown
            show(current, values)
            values = {}
        current = stamp
        values[f[1].split("/packets-", 1)[1]] = value
        if len(values) == per_read:  # all of this read is here: show it without waiting
            show(current, values)
            values = {}
        per_read = max(per_read, len(values))
    if values:
        show(current, values)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C ends run.sh: no traceback
        pass
