#!/usr/bin/env bash
# Sets up the host, builds Berth and runs its main job on embedded defaults. Until berthd lands that
# job is the bindings demo: a real busybox system container created, started, used and destroyed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$BERTH_ROOT/scripts/setup.sh"
use_jdk25
say "Building (tests skipped; ./scripts/test.sh runs them)"
mvn_berth -q -DskipTests install
say "Running the demo"
exec java -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED \
  -cp "$(berth_classpath lxc-bindings host-agent)" dev.berth.agent.BindingsDemo "$@"
