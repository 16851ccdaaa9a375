# Shared by Berth's scripts: find JDK 25 and Maven, say what is done. Source it; do not run it.

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

BERTH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# JDK 25: $BERTH_JAVA_HOME, else a JAVA_HOME that is 25, else the first JDK 25 under /usr/lib/jvm.
find_jdk25() {
  local candidate
  for candidate in "${BERTH_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/*25*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    # The JDK's release file says its version without starting a JVM (launchers start fast).
    if grep -qE '^JAVA_VERSION="25([."]|$)' "$candidate/release" 2>/dev/null \
        || { [ ! -f "$candidate/release" ] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "25'; }; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

use_jdk25() {
  JAVA_HOME=$(find_jdk25) || die "JDK 25 not found. Install one under /usr/lib/jvm (Temurin 25) or set BERTH_JAVA_HOME."
  export JAVA_HOME
  export PATH="$JAVA_HOME/bin:$PATH"
}

mvn_berth() {
  # Maven 3.8 on JDK 25 warns about its own use of sun.misc.Unsafe; that noise is not ours.
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  (cd "$BERTH_ROOT" && mvn -B -ntp "$@")
}

# The class path of the built modules that a launcher needs (no Maven at run time).
berth_classpath() {
  local cp="" module
  for module in "$@"; do
    cp="$cp:$BERTH_ROOT/$module/target/classes"
  done
  echo "${cp#:}"
}

# Runs one of bench/'s whole-process benchmarks (dev.berth.bench.CLASS) as root, building first if needed.
run_bench() {
  local main=$1
  shift
  [ "$(id -u)" = 0 ] || die "run as root: it creates containers"
  use_jdk25
  if [ ! -f "$BERTH_ROOT/host-agent/target/classpath.txt" ] || [ ! -f "$BERTH_ROOT/bench/target/classpath.txt" ]; then
    say "Building"
    mvn_berth -q -DskipTests install
  fi
  exec java -XX:+UseSerialGC -Xmx256m --enable-native-access=ALL-UNNAMED -Dberth.root="$BERTH_ROOT" \
    -cp "$BERTH_ROOT/bench/target/classes:$(cat "$BERTH_ROOT/bench/target/classpath.txt")" "dev.berth.bench.$main" "$@"
}
