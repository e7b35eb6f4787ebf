#!/usr/bin/env python3
"""Reads collectd csv-writer lines (StoreRates true) on stdin and prints, per read, a table of
packets per second: rows are protocol and hook, columns are conntrack states. Used by run.sh.

Rows and columns keep one order whatever order the values arrive in (collectd dispatches them in
no fixed order): columns new, established, invalid, then any other state by name; rows tcp, udp,
then other protocols by name, each with input, fwd, output, then other hooks by name; counters
whose names are not protocol_conntrack_hook_state last, by name."""
import sys
import time

STATES = ("new", "established", "invalid")
PROTOCOLS = ("tcp", "udp")
HOOKS = ("input", "fwd", "output")


def cell(counter):
    """tcp_conntrack_fwd_new -> ("tcp fwd", "new"); other names get a row of their own."""
    parts = counter.split("_")
    if len(parts) == 4 and parts[1] == "conntrack":
        return f"{parts[0]} {parts[2]}", parts[3]
    return counter, "packets"


def rank(known, name):
    """Known names in their fixed order, then the others by name."""
    return (known.index(name), "") if name in known else (len(known), name)


def state_key(state):
    return rank(STATES, state)


def row_key(row):
    parts = row.split(" ")
    if len(parts) != 2:  # a counter of another name: after every protocol row
        return (1, row, (0, ""))
    return (0, rank(PROTOCOLS, parts[0]), rank(HOOKS, parts[1]))


def table(stamp, values):
    """The text of one read's table (values: counter name -> packets/s, NaN for "no rate yet")."""
    cells = {cell(counter): value for counter, value in values.items()}
    rows = sorted({row for row, _ in cells}, key=row_key)
    states = sorted({state for _, state in cells}, key=state_key)
    lines = [f"\n{time.strftime('%H:%M:%S', time.localtime(stamp))}  packets/s",
             " " * 16 + "".join(f"{s:>14}" for s in states)]
    for row in rows:
        text = []
        for s in states:
            v = cells.get((row, s))
            text.append("-" if v is None else "..." if v != v else f"{v:.1f}")
        lines.append(f"{row:<16}" + "".join(f"{t:>14}" for t in text))
    return "\n".join(lines)


def tables(lines):
    """One table's text per read, from csv-writer lines, in the order of the reads.

    collectd writes through several write threads, so the lines of one read may interleave with
    the next read's. A read is shown once it has as many values as the reads before it had (the
    first read: once the second begins), or once two newer reads have begun; a value that comes
    after its read was shown is left out of the tables (it still counts for the size of a read)."""
    pending, names, shown_upto = {}, {}, None  # names: stamp -> counters seen, shown or not

    def expected(stamp):
        return max((len(n) for t, n in names.items() if t < stamp), default=0)

    def ready(stamp):
        newer = sum(1 for t in names if t > stamp)
        want = expected(stamp)
        return (want and len(pending[stamp]) >= want) or newer >= 2 or (newer and not want)

    for line in lines:
        f = line.split()
        if len(f) != 4 or f[0] != "PUTVAL" or "/packets-" not in f[1]:
            continue
        stamp, _, value = f[3].partition(":")
        try:
            stamp, value = float(stamp), float(value)
        except ValueError:
            continue
        counter = f[1].split("/packets-", 1)[1]
        names.setdefault(stamp, set()).add(counter)
        if shown_upto is not None and stamp <= shown_upto:
            continue  # its read was shown already
        pending.setdefault(stamp, {})[counter] = value
        due = [t for t in sorted(pending) if ready(t)]
        if due:  # that read and every older one
            for t in sorted(pending):
                if t > due[-1]:
                    break
                yield table(t, pending.pop(t))
                shown_upto = t
            for t in sorted(names)[:-8]:  # enough to know how many values a read has
                del names[t]
    for t in sorted(pending):
        yield table(t, pending[t])


def main():
    for text in tables(sys.stdin):
        print(text, flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C ends run.sh: no traceback
        pass
    except BrokenPipeError:  # the reader went away (run.sh stopping)
        pass
