#!/usr/bin/env bash
# Container lifecycle through Berth's liblxc bindings vs the lxc-* tools, interleaved, in one run.
# Usage: bench/lifecycle.sh [iterations=40] [warmup=5]      (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: it creates containers"
use_jdk25
if [ ! -d "$BERTH_ROOT/bench/target/classes/dev" ]; then
  say "Building"
  mvn_berth -q -DskipTests install -pl bench -am
fi
exec java -XX:+UseSerialGC -Xmx128m --enable-native-access=ALL-UNNAMED -cp "$(berth_classpath lxc-bindings bench)" dev.berth.bench.LifecycleBench "$@"
