# Sourced by bin/demo and bin/test: exports JAVA_HOME pointing at a JDK 22+ and puts it first on PATH.
# Order: $JAVA_HOME if it is 22+, then the newest JDK 22+ under /usr/lib/jvm (and /opt, /usr/local).

jvmem_java_major() {
  # Prints the feature version of the java binary $1 (17, 22, 25, ...), or nothing.
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1 | sed 's/^1\.//'
}

jvmem_find_jdk() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(jvmem_java_major "$JAVA_HOME/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 22 ]; then
      printf '%s\n' "$JAVA_HOME"; return 0
    fi
  fi
  for candidate in /usr/lib/jvm/* /opt/*jdk* /opt/java/* /usr/local/*jdk*; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(jvmem_java_major "$candidate/bin/java")
    [ -n "$major" ] || continue
    if [ "$major" -ge 22 ] && [ "$major" -gt "$best_major" ]; then best="$candidate"; best_major="$major"; fi
  done
  [ -n "$best" ] && printf '%s\n' "$best"
}

JVMEM_JDK=$(jvmem_find_jdk || true)
if [ -z "$JVMEM_JDK" ]; then
  echo "jvmem: no JDK 22 or later found (JAVA_HOME=${JAVA_HOME:-unset}; looked under /usr/lib/jvm, /opt, /usr/local)." >&2
  echo "jvmem: install one (e.g. Temurin 25) or point JAVA_HOME at it." >&2
  exit 1
fi
export JAVA_HOME="$JVMEM_JDK"
export PATH="$JAVA_HOME/bin:$PATH"

if [ -z "${JVMEM_NO_MAVEN:-}" ] && ! command -v mvn >/dev/null 2>&1; then
  echo "jvmem: Apache Maven (mvn) is not on PATH; install it (apt-get install maven) and retry." >&2
  exit 1
fi
# Maven's own libraries touch sun.misc.Unsafe; keep JDK 24+ from warning about them on every build.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
