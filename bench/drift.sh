#!/usr/bin/env bash
# The Puppet bridge's cost (issue 8, acceptance 5): a drift check through the agent vs the bare
# `puppet apply --noop` of the same manifest in the same container; one container, then 20 at once.
# Usage: bench/drift.sh [reps=5] [containers=20]   (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
run_bench DriftBench "$@"
