#!/usr/bin/env bash
# The app container's cost on top of crun (issue 7, acceptance 5): a launch with an app to healthy vs
# the same launch without one, vs crun run of the unpacked bundle by hand; and app restarts.
# Usage: bench/app.sh [reps=15]   (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: it creates containers"
use_jdk25
if [ ! -f "$BERTH_ROOT/host-agent/target/classpath.txt" ] || [ ! -f "$BERTH_ROOT/bench/target/classpath.txt" ]; then
  say "Building"
  mvn_berth -q -DskipTests install
fi
exec java -XX:+UseSerialGC -Xmx256m --enable-native-access=ALL-UNNAMED -Dberth.root="$BERTH_ROOT" \
  -cp "$BERTH_ROOT/bench/target/classes:$(cat "$BERTH_ROOT/bench/target/classpath.txt")" dev.berth.bench.AppBench "$@"
