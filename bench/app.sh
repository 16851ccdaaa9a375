#!/usr/bin/env bash
# The app container's cost on top of crun (issue 7, acceptance 5): a launch with an app to healthy vs
# the same launch without one, vs crun run of the unpacked bundle by hand; and app restarts.
# Usage: bench/app.sh [reps=15]   (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
run_bench AppBench "$@"
