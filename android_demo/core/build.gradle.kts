// Plain Java 8, no android.* imports: the same sources CI compiles with javac --release 8 (run_tests.sh).
plugins { `java-library` }
java {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}
