#!/usr/bin/env bash
# JMH: loading 1,000 typical profiles (target: under 1 s in all). Usage: bench/profiles.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
use_jdk25
say "Building"
mvn_berth -q -DskipTests install -pl bench -am
exec java -cp "$BERTH_ROOT/bench/target/classes:$(cat "$BERTH_ROOT/bench/target/classpath.txt")" dev.berth.bench.ProfileLoadBench
