#!/usr/bin/env bash
# Runs the agent's no-root tests (tag no-root: the logic behind the in-memory FakeRuntime) as an
# unprivileged user, to prove they need neither root nor liblxc: a clone of this checkout and a copy
# of the Maven repository it was built with, owned by that user, in a scratch directory removed after.
# Usage: scripts/test-no-root.sh [user=nobody]   (run as root, after the modules are installed)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_jdk25
user=${1:-nobody}
repo=${BERTH_M2_REPO:-$HOME/.m2/repository}
scratch=$(mktemp -d /tmp/berth-no-root.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
git clone -q "$BERTH_ROOT" "$scratch/src"
# the working tree as it is, uncommitted changes included
(cd "$BERTH_ROOT" && git ls-files -m -o --exclude-standard -z | xargs -0 -r cp --parents -t "$scratch/src" 2>/dev/null || true)
cp -r "$repo" "$scratch/m2"
mkdir -p "$scratch/home"
chown -R "$user" "$scratch"
chmod 755 "$scratch"
say "Running the no-root tests as $user"
cd "$scratch/src"
runuser -u "$user" -- env HOME="$scratch/home" JAVA_HOME="$JAVA_HOME" PATH="$JAVA_HOME/bin:/usr/bin:/bin" \
  MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" \
  mvn -B -q -o -Dmaven.repo.local="$scratch/m2" -pl host-agent test -Dgroups=no-root
classes=$(ls host-agent/target/surefire-reports/TEST-*.xml | wc -l)
failed=$( (grep -l -E '<(failure|error)' host-agent/target/surefire-reports/TEST-*.xml || true) | wc -l)
say "$classes test classes passed as $user (of $(grep -rl '@Test' host-agent/src/test/java | wc -l) in host-agent)"
[ "$failed" -eq 0 ]
