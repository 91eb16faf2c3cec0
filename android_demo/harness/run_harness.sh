#!/usr/bin/env bash
# Compile core/ + the harness (javac --release 8) and run the burst path through libLiteRt.so.
#   run_harness.sh LIBLITERT MODELS WORKDIR        (JNA from Debian: apt-get install libjna-java)
set -euo pipefail
cd "$(dirname "$0")"
JNA=${JNA:-/usr/share/java/jna.jar}
[ -f "$JNA" ] || { echo "missing $JNA: apt-get install libjna-java" >&2; exit 2; }
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
javac --release 8 -d "$BUILD/core" $(find ../core/src/main/java -name '*.java')
javac --release 8 -Xlint:all -d "$BUILD/harness" -cp "$BUILD/core:$JNA" $(find src/main/java -name '*.java')
java -cp "$BUILD/core:$BUILD/harness:$JNA" org.burstdeblur.harness.BurstHarness "$@"
