#!/usr/bin/env bash
# Removes what a killed test left behind: namespaces named ctnft<PID>-* whose test process
# <PID> is gone (a test killed by CTest's timeout cannot run its own cleanup), and every process
# still running inside them. Tests of a live process are left alone. Run by CTest after all
# tests (fixture "namespaces"); safe to run any time.
for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
    pid=$(sed -nE 's/^ctnft([0-9]+)-.*/\1/p' <<< "$ns")
    [ -n "$pid" ] || continue
    kill -0 "$pid" 2>/dev/null && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null && echo "sweep: removed $ns (test process $pid is gone)"
done
exit 0
