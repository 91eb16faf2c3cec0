plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "org.burstdeblur.demo"
    compileSdk = 35
    defaultConfig {
        applicationId = "org.burstdeblur.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    // The models are memory-mapped by LiteRT: they must stay uncompressed in the APK.
    androidResources { noCompress += "tflite" }
    sourceSets["main"].assets.srcDir(layout.buildDirectory.dir("generated/models"))
    // align/ is plain Java 8 against OpenCV's Java API (tested on the desktop by align/run_tests.sh); on the
    // phone it compiles into the app against the OpenCV Android AAR.
    sourceSets["main"].java.srcDir("../align/src/main/java")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

// The .tflite files and their manifest come from the project's exports (runtime/models), copied at build
// time instead of committed a second time.
val copyModels by tasks.registering(Copy::class) {
    from(rootDir.resolve("../runtime/models")) { include("*.256.*.tflite", "manifest.json") }
    into(layout.buildDirectory.dir("generated/models"))
}
tasks.named("preBuild") { dependsOn(copyModels) }

dependencies {
    implementation(project(":core"))
    implementation(libs.camerax.core)
    implementation(libs.camerax.camera2)
    implementation(libs.camerax.lifecycle)
    implementation(libs.camerax.view)
    implementation(libs.litert)
    implementation(libs.litert.gpu)
    implementation(libs.appcompat)
    implementation(libs.opencv)
}
