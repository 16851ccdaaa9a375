#!/usr/bin/env bash
# berthd end to end vs the lxc-* tools, in one run: issue 4's benchmarks (a)-(f) with their targets.
# Usage: bench/agent.sh [reps=20] [running=100] [debian-reps=5]   (root; builds first if needed)
# The Debian image comes from the shared test image cache (/var/cache/berth-test/images) and is
# built there (about a minute) if missing.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
run_bench AgentBench "$@"
