#!/usr/bin/env bash
# Sets up the host, builds Berth and runs its main job on embedded defaults: berthd, the host agent
# (state in /var/lib/berth, socket /run/berth/berth.sock), driven once by the berth CLI to show it
# works: a busybox system container launched, listed, used and deleted. berthd keeps running after.
# Options: --foreground   run berthd in this terminal instead (Ctrl-C stops it; no demo).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$BERTH_ROOT/scripts/setup.sh"
use_jdk25
say "Building (tests skipped; ./scripts/test.sh runs them)"
mvn_berth -q -DskipTests install
if [ "${1:-}" = "--foreground" ]; then
  say "Running berthd in the foreground"
  exec "$BERTH_ROOT/bin/berthd"
fi
berth="$BERTH_ROOT/bin/berth"
socket=/run/berth/berth.sock
if "$berth" --socket "$socket" version >/dev/null 2>&1; then
  say "berthd already runs on $socket"
else
  mkdir -p /var/log/berth
  say "Starting berthd (log: /var/log/berth/berthd.log)"
  nohup "$BERTH_ROOT/bin/berthd" >>/var/log/berth/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    "$berth" --socket "$socket" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$berth" --socket "$socket" version >/dev/null || die "berthd did not come up; see /var/log/berth/berthd.log"
fi
"$berth" --socket "$socket" version
demo="demo-$$"
say "berth launch $demo"
"$berth" --socket "$socket" launch "$demo"
say "berth list"
"$berth" --socket "$socket" list
say "berth exec $demo -- uname -a"
"$berth" --socket "$socket" exec "$demo" -- uname -a
say "berth delete $demo"
"$berth" --socket "$socket" delete "$demo"
say "berthd is running. Try: bin/berth --help, bin/berth launch web1, bin/berth list (stop it: pkill -f dev.berth.agent.Berthd)"
