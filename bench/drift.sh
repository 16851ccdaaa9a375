#!/usr/bin/env bash
# The Puppet bridge's cost (issue 8, acceptance 5): a drift check through the agent vs the bare
# `puppet apply --noop` of the same manifest in the same container; one container, then 20 at once.
# Usage: bench/drift.sh [reps=5] [containers=20]   (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: it creates containers"
use_jdk25
if [ ! -f "$BERTH_ROOT/host-agent/target/classpath.txt" ] || [ ! -f "$BERTH_ROOT/bench/target/classpath.txt" ]; then
  say "Building"
  mvn_berth -q -DskipTests install
fi
exec java -XX:+UseSerialGC -Xmx256m --enable-native-access=ALL-UNNAMED -Dberth.root="$BERTH_ROOT" \
  -cp "$BERTH_ROOT/bench/target/classes:$(cat "$BERTH_ROOT/bench/target/classpath.txt")" dev.berth.bench.DriftBench "$@"
