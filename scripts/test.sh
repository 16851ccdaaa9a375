#!/usr/bin/env bash
# Sets up the host, then builds Berth and runs the whole test suite against real liblxc and real
# containers. Fails if the tests leave any container, monitor process, bridge or cgroup behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$BERTH_ROOT/scripts/setup.sh"
use_jdk25

had_default_bridge=no
[ -e /sys/class/net/berthbr0 ] && had_default_bridge=yes

say "Building and testing (mvn verify)"
status=0
mvn_berth verify "$@" || status=$?

if [ $status -eq 0 ]; then
  # The logic tests must need neither root nor liblxc: run them again as a user who has neither.
  "$BERTH_ROOT/scripts/test-no-root.sh" nobody || status=$?
fi

say "Checking that the tests left nothing behind"
leaks=()
for dir in /var/tmp/berth-test/*/; do
  [ -d "$dir" ] && leaks+=("test lxcpath $dir")
done
if pgrep -f '^\[lxc monitor\] /var/tmp/berth-test' >/dev/null; then
  leaks+=("lxc monitor processes: $(pgrep -fa '^\[lxc monitor\] /var/tmp/berth-test' | tr '\n' ';')")
fi
for link in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^bt[a-z0-9]{4}b[0-9]+$' || true); do
  leaks+=("bridge $link")
done
if [ "$had_default_bridge" = no ] && [ -e /sys/class/net/berthbr0 ]; then
  leaks+=("bridge berthbr0 (the agent's default: tests must use a bridge of their own)")
  ip link del berthbr0 || true
fi
for cg in $(find /sys/fs/cgroup -maxdepth 3 -type d \( -name 'lxc.monitor.bt????-*' -o -name 'lxc.payload.bt????-*' \) 2>/dev/null); do
  leaks+=("cgroup $cg")
done
if [ ${#leaks[@]} -gt 0 ]; then
  printf 'LEAKED: %s\n' "${leaks[@]}" >&2
  [ $status -ne 0 ] || status=1
else
  say "Nothing left behind"
fi
exit $status
