#!/usr/bin/env bash
# Compile the alignment (javac --release 8, against OpenCV's Java API) and run its JUnit 5 test against the
# Python runtime's golden files. Needs: apt-get install default-jdk-headless junit5 libopencv-java
# (Debian's OpenCV 4.6 bindings: the same Java API as OpenCV's Android SDK).
set -euo pipefail
cd "$(dirname "$0")"
JUNIT=${JUNIT:-/usr/share/java/junit-platform-console-standalone.jar}
OPENCV_JAR=${OPENCV_JAR:-/usr/share/java/opencv.jar}
OPENCV_LIB=${OPENCV_LIB:-/usr/lib/jni}
[ -f "$JUNIT" ] || { echo "missing $JUNIT: apt-get install junit5" >&2; exit 2; }
[ -f "$OPENCV_JAR" ] || { echo "missing $OPENCV_JAR: apt-get install libopencv-java" >&2; exit 2; }
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
javac --release 8 -Xlint:all -Werror -sourcepath src/main/java:../core/src/main/java -d "$BUILD/main" -cp "$OPENCV_JAR" $(find src/main/java ../core/src/main/java -name '*.java')
javac --release 8 -sourcepath src/test/java -d "$BUILD/test" -cp "$BUILD/main:$OPENCV_JAR:$JUNIT" $(find src/test/java -name '*.java') ../core/src/test/java/org/burstdeblur/core/Golden.java
java -Djava.library.path="$OPENCV_LIB" -Dgolden=../core/golden -jar "$JUNIT" \
    --class-path "$BUILD/main:$BUILD/test:$OPENCV_JAR" --scan-class-path --disable-banner --details=tree \
    --fail-if-no-tests
