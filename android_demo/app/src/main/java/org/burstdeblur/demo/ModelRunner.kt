package org.burstdeblur.demo

import android.content.Context
import org.burstdeblur.align.BurstPath
import org.burstdeblur.core.Tensors
import org.burstdeblur.core.Tiling
import org.json.JSONObject
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

/**
 * The burst path on the phone: align/ BurstPath (the sharpest frame as reference, dense alignment through
 * OpenCV, the robust sharpness-aware merge of core/ RobustMerge, the blur-degree map and the residual map the
 * nets read), then the SFT and deblur INT8 graphs run per 256 px tile (core/ Tiling). GPU delegate when the device supports it, else NNAPI,
 * else CPU threads; [device] says which one took the graphs.
 */
class ModelRunner(context: Context) : AutoCloseable {
    private val manifest = JSONObject(context.assets.open("manifest.json").bufferedReader().readText())
    private val gpu: GpuDelegate? = if (CompatibilityList().isDelegateSupportedOnThisDevice) GpuDelegate() else null
    val device: String
    private val sft: Interpreter
    private val deblur: Interpreter
    private val tiling = Tiling(TILE, TILE / 16, TILE / 16)

    init {
        val options = Interpreter.Options()
        device = when {
            gpu != null -> { options.addDelegate(gpu); "GPU delegate" }
            android.os.Build.VERSION.SDK_INT >= 27 -> { options.setUseNNAPI(true); "NNAPI" }
            else -> { options.setNumThreads(4); "CPU, 4 threads (XNNPACK)" }
        }
        sft = Interpreter(map(context, "sft.$TILE.int8.tflite"), options)
        deblur = Interpreter(map(context, "deblur.$TILE.int8.tflite"), options)
    }

    private fun map(context: Context, name: String): ByteBuffer {
        val fd = context.assets.openFd(name)  // uncompressed asset: memory-mapped, not copied
        return FileInputStream(fd.fileDescriptor).channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
    }

    /** (scale, zero point) of every int8 tensor, by "file/inputs/0", read from the manifest once. */
    private val quantization: Map<String, Pair<Float, Int>> = buildMap {
        val files = manifest.getJSONArray("files")
        for (i in 0 until files.length()) {
            val e = files.getJSONObject(i)
            for (kind in listOf("inputs", "outputs")) {
                val specs = e.getJSONArray(kind)
                for (k in 0 until specs.length()) {
                    val q = specs.getJSONObject(k).optJSONObject("quantization") ?: continue
                    put("${e.getString("file")}/$kind/$k", q.getDouble("scale").toFloat() to q.getInt("zero_point"))
                }
            }
        }
    }

    private fun quant(file: String, kind: String, index: Int): Pair<Float, Int> =
        quantization["$file/$kind/$index"] ?: error("$file $kind $index has no int8 quantization in the manifest")

    class Result(val fused: IntArray, val blurRaw: FloatArray, val deblurred: IntArray, val reference: Int,
                 val millis: Map<String, Long>)

    fun run(frames: Array<IntArray>, width: Int, height: Int): Result {
        val t0 = System.nanoTime()
        val path = BurstPath.run(frames, width, height)
        val merge = path.merge
        val t1 = System.nanoTime()
        val image = Tensors.argbToFloat(merge.fusedArgb)
        val input = FloatArray(width * height * 4)  // RGB + unit-range map, tiled together
        for (p in 0 until width * height) {
            System.arraycopy(image, 3 * p, input, 4 * p, 3)
            // The nets read the spread of the samples each merged pixel is made of (the Python burst path's
            // residual_raw), in unit range: std / (full scale / 2).
            input[4 * p + 3] = merge.residualRaw[p] / 127.5f
        }
        val out = tiling.run(input, width, height, 4, 3) { tile -> runTile(tile) }
        val t2 = System.nanoTime()
        return Result(merge.fusedArgb, merge.blurRaw, Tensors.floatToArgb(out), path.reference,
            mapOf("burst" to (t1 - t0) / 1_000_000, "nets" to (t2 - t1) / 1_000_000))
    }

    private fun runTile(tile: FloatArray): FloatArray {
        val n = TILE * TILE
        val rgb = FloatArray(n * 3)
        val map = FloatArray(n)
        for (p in 0 until n) { System.arraycopy(tile, 4 * p, rgb, 3 * p, 3); map[p] = tile[4 * p + 3] }
        val sftFile = "sft.$TILE.int8.tflite"
        val deblurFile = "deblur.$TILE.int8.tflite"
        val (ms, mz) = quant(sftFile, "inputs", 0)
        val delta = ByteBuffer.allocateDirect(n / 64 * CHANNELS).order(ByteOrder.nativeOrder())
        val beta = ByteBuffer.allocateDirect(n / 64 * CHANNELS).order(ByteOrder.nativeOrder())
        sft.runForMultipleInputsOutputs(arrayOf(ByteBuffer.wrap(Tensors.quantize(map, ms, mz))), mapOf(0 to delta, 1 to beta))
        // SFT outputs feed the deblur graph: requantize when the two graphs chose different scales.
        val (ds, dz) = quant(sftFile, "outputs", 0); val (bs, bz) = quant(sftFile, "outputs", 1)
        val (dis, diz) = quant(deblurFile, "inputs", 1); val (bis, biz) = quant(deblurFile, "inputs", 2)
        val (is_, iz) = quant(deblurFile, "inputs", 0)
        val inputs = arrayOf<Any>(ByteBuffer.wrap(Tensors.quantize(rgb, is_, iz)),
            ByteBuffer.wrap(Tensors.quantize(Tensors.dequantize(bytes(delta), ds, dz), dis, diz)),
            ByteBuffer.wrap(Tensors.quantize(Tensors.dequantize(bytes(beta), bs, bz), bis, biz)))
        val output = ByteBuffer.allocateDirect(n * 3).order(ByteOrder.nativeOrder())
        deblur.runForMultipleInputsOutputs(inputs, mapOf(0 to output))
        val (os, oz) = quant(deblurFile, "outputs", 0)
        return Tensors.dequantize(bytes(output), os, oz)
    }

    private fun bytes(buffer: ByteBuffer): ByteArray { buffer.rewind(); return ByteArray(buffer.remaining()).also { buffer.get(it) } }

    override fun close() { sft.close(); deblur.close(); gpu?.close() }

    companion object {
        const val TILE = 256
        const val CHANNELS = 96  // deblur net bottleneck width (DeblurConfig.default)
    }
}
