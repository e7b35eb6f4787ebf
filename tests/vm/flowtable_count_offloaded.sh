#!/usr/bin/env bash
# tests/vm/flowtable.sh with the offload probe on, in the configuration of the report of a
# doubled WARNING (Interval 1, KeepTable, ConntrackStats, ReportBytes, CountOffloaded): one
# flowtable added once still gives one WARNING and one notification, and the probe follows it.
export FLOWTABLE_OPTIONS='  KeepTable true
  ConntrackStats true
  ReportBytes true
  CountOffloaded true'
source "$(dirname "$0")/flowtable.sh"
