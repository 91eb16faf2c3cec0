package org.burstdeblur.demo

import android.Manifest
import android.graphics.Bitmap
import android.os.Bundle
import android.widget.Button
import android.widget.ImageView
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.ImageAnalysis
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.core.content.ContextCompat
import org.opencv.android.OpenCVLoader
import java.util.concurrent.Executors

/** Preview frames go into a ring buffer; "Capture" aligns, merges and deblurs the last n, showing the merged
 * frame, its blur-degree map and the result. */
class MainActivity : AppCompatActivity() {
    private val buffer = BurstBuffer(BURST)
    private val worker = Executors.newSingleThreadExecutor()
    private lateinit var runner: ModelRunner

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        // The alignment (align/ DenseAlign) calls OpenCV's Java API: its native library ships in the AAR.
        check(OpenCVLoader.initLocal()) { "OpenCV's native library did not load" }
        runner = ModelRunner(this)
        findViewById<TextView>(R.id.status).text = "models on: ${runner.device}"
        registerForActivityResult(androidx.activity.result.contract.ActivityResultContracts.RequestPermission()) { ok ->
            if (ok) startCamera()
        }.launch(Manifest.permission.CAMERA)
        findViewById<Button>(R.id.capture).setOnClickListener { worker.execute { deblurBurst() } }
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val analysis = ImageAnalysis.Builder()
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .build()
            analysis.setAnalyzer(worker) { image ->
                val bitmap = image.toBitmap()
                val pixels = IntArray(bitmap.width * bitmap.height)
                bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
                buffer.add(pixels, bitmap.width, bitmap.height)
                image.close()
            }
            future.get().bindToLifecycle(this, androidx.camera.core.CameraSelector.DEFAULT_BACK_CAMERA, analysis)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun deblurBurst() {
        val frames = buffer.snapshot() ?: return
        val w = buffer.width
        val h = buffer.height
        val result = runner.run(frames, w, h)
        val heat = IntArray(w * h) { p ->
            val v = (result.blurRaw[p] / 127.5f * 4f).coerceIn(0f, 1f)  // 0.25 of full scale = hottest
            val c = (v * 255).toInt()
            (0xFF shl 24) or (c shl 16) or ((255 - c) / 3 shl 8) or (255 - c)
        }
        runOnUiThread {
            findViewById<ImageView>(R.id.fused).setImageBitmap(Bitmap.createBitmap(result.fused, w, h, Bitmap.Config.ARGB_8888))
            findViewById<ImageView>(R.id.map).setImageBitmap(Bitmap.createBitmap(heat, w, h, Bitmap.Config.ARGB_8888))
            findViewById<ImageView>(R.id.result).setImageBitmap(Bitmap.createBitmap(result.deblurred, w, h, Bitmap.Config.ARGB_8888))
            findViewById<TextView>(R.id.status).text =
                "models on: ${runner.device} - reference frame ${result.reference}, align + merge " +
                    "${result.millis["burst"]} ms, nets ${result.millis["nets"]} ms"
        }
    }

    override fun onDestroy() { super.onDestroy(); worker.shutdown(); runner.close() }

    companion object { const val BURST = 4 }
}
