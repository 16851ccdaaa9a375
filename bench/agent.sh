#!/usr/bin/env bash
# berthd end to end vs the lxc-* tools, in one run: issue 4's benchmarks (a)-(f) with their targets.
# Usage: bench/agent.sh [reps=20] [running=100] [debian-reps=5]   (root; builds first if needed)
# The Debian image comes from the shared test image cache (/var/cache/berth-test/images) and is
# built there (about a minute) if missing.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: it creates containers"
use_jdk25
if [ ! -f "$BERTH_ROOT/host-agent/target/classpath.txt" ] || [ ! -f "$BERTH_ROOT/bench/target/classpath.txt" ]; then
  say "Building"
  mvn_berth -q -DskipTests install
fi
exec java -XX:+UseSerialGC -Xmx256m --enable-native-access=ALL-UNNAMED -Dberth.root="$BERTH_ROOT" \
  -cp "$BERTH_ROOT/bench/target/classes:$(cat "$BERTH_ROOT/bench/target/classpath.txt")" dev.berth.bench.AgentBench "$@"
