#!/usr/bin/env bash
# Compile the core with javac --release 8 and run its JUnit 5 tests with the console launcher.
# Needs: apt-get install default-jdk-headless junit5  (the runner jar comes from Debian's junit5 package).
set -euo pipefail
cd "$(dirname "$0")"
JUNIT=${JUNIT:-/usr/share/java/junit-platform-console-standalone.jar}
[ -f "$JUNIT" ] || { echo "missing $JUNIT: apt-get install junit5" >&2; exit 2; }
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
javac --release 8 -Xlint:all -Werror -d "$BUILD/main" $(find src/main/java -name '*.java')
javac --release 8 -d "$BUILD/test" -cp "$BUILD/main:$JUNIT" $(find src/test/java -name '*.java')
java -Dgolden=golden -jar "$JUNIT" --class-path "$BUILD/main:$BUILD/test" --scan-class-path --disable-banner \
    --details=summary --fail-if-no-tests
