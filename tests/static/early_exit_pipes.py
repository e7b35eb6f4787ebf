#!/usr/bin/env python3
"""Fails on a pipeline whose consumer can exit before its producer has finished writing:
`producer | grep -q` (also -l, -m, --quiet, --max-count, --files-with-matches) or
`producer | head` (but not `head -n -N`, which reads everything). Under `set -o pipefail`
the producer then dies of SIGPIPE and the pipeline fails or not depending on scheduling: a
test that flakes on a busy machine. Write `grep -q PAT <<< "$(producer)"` or
`producer > file; grep -q PAT file` instead.

  early_exit_pipes.py ROOT         the self-test, then every shell script under ROOT (exit 1 on a finding)
  early_exit_pipes.py --self-test  only shows that the check finds the pattern and passes the fixes

A line that must keep such a pipe says why in a trailing `# early-exit-ok: <why>`. Quoted text is
checked too, on purpose: `sh -c "producer | grep -q x"` is the same pipeline one shell later.
"""
import os
import re
import sys

SKIP_DIRS = {".git", "node_modules", "__pycache__"}
CONSUMER = re.compile(r"(?<![|])\|&?(?![|])\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(grep|egrep|fgrep|head)\b([^|;&)]*)")
GREP_EARLY = re.compile(r"(?:^|\s)(?:-(?!-)[A-Za-z]*[qlm]|--quiet|--silent|--max-count|--files-with-matches)")
HEAD_READS_ALL = re.compile(r"(?:^|\s)-[nc]\s*-\d")


def strip_comment(line):
    """The line without its trailing comment; quotes are respected."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;"):
            return line[:i]
    return line


def logical_lines(text):
    """(first line number, joined text) with backslash and trailing-pipe continuations joined."""
    pending, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        if "early-exit-ok:" in raw:
            raw = ""
        line = strip_comment(raw).rstrip()
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        if re.search(r"(?<![|])\|$", line):
            pending += line + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def findings(text):
    for n, line in logical_lines(text):
        for m in CONSUMER.finditer(line):
            tool, args = m.group(1), m.group(2)
            if tool == "head":
                if not HEAD_READS_ALL.search(args):
                    yield n, m.group(0).strip()
            elif GREP_EARLY.search(args):
                yield n, m.group(0).strip()


def is_shell(path):
    if path.endswith(".sh"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and re.search(rb"\b(ba|da)?sh\b", first) is not None


def check_tree(root):
    bad = 0
    checked = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and not d.startswith("build")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not is_shell(path):
                continue
            checked += 1
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, what in findings(f.read()):
                    print(f"{os.path.relpath(path, root)}:{n}: early-exit consumer in a pipeline: {what}")
                    bad += 1
    print(f"early_exit_pipes: {checked} shell scripts checked, {bad} finding(s)")
    return bad == 0 and checked > 0


SELF_TEST_BAD = [
    'ldd "$so" | grep -q libasan',
    "dpkg --print-foreign-architectures | grep -qx arm64 || x=1",
    "x=$(dpkg -L collectd-core | grep '/csv.so$' | head -1)",
    "sed -n p f | head -n 1",
    "ls d | grep -q .",
    'wait_for 15 sh -c "ctnft info | grep -q \'^0 \'"',
    "producer |\n    grep -m1 x",
    "producer | grep --quiet x",
    "producer |& grep -l x",
    "a | FOO=1 grep -q x",
]
SELF_TEST_GOOD = [
    'grep -q libasan <<< "$(ldd "$so")"',
    'grep -q x file',
    "a || grep -q x file",
    "sort -n | head -n -1 | awk '{ print $2 }'",
    "jq -r '.nftables[] | select(.counter) | .counter'",
    "producer | grep -v x | sort",
    "producer | grep -E '^x' > out",
    "ldd so | grep -q x  # early-exit-ok: the producer's status is ignored",
    "# producer | grep -q x",
]


def self_test():
    ok = True
    for s in SELF_TEST_BAD:
        if not list(findings(s)):
            print(f"self-test: NOT found in {s!r}")
            ok = False
    for s in SELF_TEST_GOOD:
        f = list(findings(s))
        if f:
            print(f"self-test: wrongly found {f} in {s!r}")
            ok = False
    print(f"self-test: {len(SELF_TEST_BAD)} bad and {len(SELF_TEST_GOOD)} good samples: "
          + ("as expected" if ok else "FAILED"))
    return ok


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(0 if self_test() else 1)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(0 if self_test() and check_tree(sys.argv[1]) else 1)
