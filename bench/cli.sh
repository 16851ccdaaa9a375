#!/usr/bin/env bash
# berth's start-up and `berth list` with N running containers vs `lxc-ls -f` on the same containers,
# whole processes, interleaved in one run (issue 6, acceptance 4: berth list under 250 ms wall).
# Usage: bench/cli.sh [containers=100] [reps=10]   (root; builds first if needed)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: it creates containers"
use_jdk25
count=${1:-100}
reps=${2:-10}
if [ ! -f "$BERTH_ROOT/cli/target/classpath.txt" ] || [ ! -f "$BERTH_ROOT/host-agent/target/classpath.txt" ]; then
  say "Building"
  mvn_berth -q -DskipTests install
fi
dir=$(mktemp -d /var/tmp/berth-clibench-XXXXXX)
socket="$dir/berth.sock"
lxcpath="$dir/containers"
berth() { "$BERTH_ROOT/bin/berth" --socket "$socket" "$@"; }
agent=""
cleanup() {
  set +e
  if [ -S "$socket" ]; then
    names=$(berth list --names 2>/dev/null)
    [ -n "$names" ] && berth -q delete --force $names >/dev/null
  fi
  [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
"$BERTH_ROOT/bin/berthd" --state-dir "$dir/state" --lxcpath "$lxcpath" --socket "$socket" --bridge none >"$dir/berthd.log" 2>&1 &
agent=$!
for _ in $(seq 1 100); do [ -S "$socket" ] && break; sleep 0.1; done
berth version >/dev/null 2>&1 || berth version >/dev/null  # the first run also writes the CDS archive
say "Launching $count busybox containers (4 at a time)"
seq 1 "$count" | xargs -P 4 -I{} "$BERTH_ROOT/bin/berth" --socket "$socket" -q launch "cb{}"
running=$(lxc-ls -P "$lxcpath" --running | wc -w)
[ "$running" = "$count" ] || die "only $running of $count containers run"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
b_list=(); raw_list=(); b_version=(); b_names=()
for _ in $(seq 1 "$reps"); do
  t=$(date +%s%N); berth list >/dev/null; b_list+=("$(ms "$t")")
  t=$(date +%s%N); lxc-ls -f -P "$lxcpath" >/dev/null; raw_list+=("$(ms "$t")")
  t=$(date +%s%N); berth --version >/dev/null; b_version+=("$(ms "$t")")
  t=$(date +%s%N); berth list --names >/dev/null; b_names+=("$(ms "$t")")
done
bl=$(printf '%s\n' "${b_list[@]}" | median)
rl=$(printf '%s\n' "${raw_list[@]}" | median)
bv=$(printf '%s\n' "${b_version[@]}" | median)
bn=$(printf '%s\n' "${b_names[@]}" | median)
verdict=$([ "$bl" -lt 250 ] && echo MET || echo "NOT MET")
echo
echo "== berth CLI, $count running containers, $reps interleaved runs, medians (wall, whole process) =="
printf '%-40s %6s ms\n' "berth --version (start-up alone)" "$bv"
printf '%-40s %6s ms\n' "berth list --names (one request)" "$bn"
printf '%-40s %6s ms   lxc-ls -f %6s ms   ratio %s   target < 250 ms: %s  (LXD lxc list 410-430 ms)\n' \
  "berth list (table, recursion=1)" "$bl" "$rl" "$(awk -v a="$bl" -v b="$rl" 'BEGIN {printf "%.2f", a / b}')" "$verdict"
