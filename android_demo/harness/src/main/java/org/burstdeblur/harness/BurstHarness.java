package org.burstdeblur.harness;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.burstdeblur.core.Fusion;
import org.burstdeblur.core.Tensors;
import org.burstdeblur.core.Tiling;

/**
 * The burst path as the Android app runs it, on a desktop: core/ fuses the frames and computes the blur map,
 * core/ tiles, and the shipped INT8 SFT and deblur graphs run through the LiteRT C API (libLiteRt.so).
 *
 * <pre>java -cp core:harness:jna.jar org.burstdeblur.harness.BurstHarness LIBLITERT MODELS WORKDIR</pre>
 *
 * WORKDIR holds frames.bin (n x h x w little-endian ARGB ints), frames.txt ("n h w tile") and quant.txt
 * (one "tensor scale zero_point" line per graph input/output, from the manifest); the harness writes
 * deblurred.bin (h x w ARGB ints).
 */
public final class BurstHarness {
    private BurstHarness() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: BurstHarness LIBLITERT MODELS WORKDIR");
            System.exit(2);
        }
        Path work = Paths.get(args[2]);
        String[] dims = new String(Files.readAllBytes(work.resolve("frames.txt")), "UTF-8").trim().split("\\s+");
        int n = Integer.parseInt(dims[0]);
        int h = Integer.parseInt(dims[1]);
        int w = Integer.parseInt(dims[2]);
        int tile = Integer.parseInt(dims[3]);
        Map<String, float[]> quant = new HashMap<>();
        List<String> lines = Files.readAllLines(work.resolve("quant.txt"));
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            quant.put(f[0], new float[] {Float.parseFloat(f[1]), Float.parseFloat(f[2])});
        }
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(work.resolve("frames.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        int[][] frames = new int[n][h * w];
        java.nio.IntBuffer ints = raw.asIntBuffer();
        for (int i = 0; i < n; i++) {
            ints.get(frames[i]); // Java 8: IntBuffer.position returns Buffer, so read sequentially
        }

        LiteRtC api = LiteRtC.load(args[0]);
        PointerByReference ref = new PointerByReference();
        CompiledGraph.check(api.LiteRtCreateEnvironment(0, null, ref), "environment");
        Pointer environment = ref.getValue();
        String models = args[1];
        try (CompiledGraph sft = new CompiledGraph(api, environment, models + "/sft." + tile + ".int8.tflite");
             CompiledGraph deblur = new CompiledGraph(api, environment, models + "/deblur." + tile + ".int8.tflite")) {
            Fusion fusion = Fusion.equal(frames, w, h, n / 2);
            float[] rgb = Tensors.argbToFloat(fusion.fusedArgb);
            float[] input = new float[h * w * 4]; // RGB in [0, 1] + the unit-range map, tiled together
            for (int p = 0; p < h * w; p++) {
                System.arraycopy(rgb, 3 * p, input, 4 * p, 3);
                input[4 * p + 3] = fusion.blurRaw[p] / 127.5f;
            }
            Tiling tiling = new Tiling(tile, tile / 16, tile / 16);
            float[] out = tiling.run(input, w, h, 4, 3, t -> runTile(t, tile, sft, deblur, quant));
            int[] argb = Tensors.floatToArgb(out);
            ByteBuffer result = ByteBuffer.allocate(argb.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            result.asIntBuffer().put(argb);
            Files.write(work.resolve("deblurred.bin"), result.array());
        } finally {
            api.LiteRtDestroyEnvironment(environment);
        }
        System.out.println("deblurred " + w + "x" + h + " burst of " + n + " through libLiteRt.so");
    }

    static float[] runTile(float[] t, int tile, CompiledGraph sft, CompiledGraph deblur, Map<String, float[]> q) {
        int px = tile * tile;
        float[] rgb = new float[px * 3];
        float[] map = new float[px];
        for (int p = 0; p < px; p++) {
            System.arraycopy(t, 4 * p, rgb, 3 * p, 3);
            map[p] = t[4 * p + 3];
        }
        sft.setInput(0, quantize(map, q.get("sft.in0")));
        sft.run();
        float[] delta = dequantize(sft.output(0), q.get("sft.out0"));
        float[] beta = dequantize(sft.output(1), q.get("sft.out1"));
        deblur.setInput(0, quantize(rgb, q.get("deblur.in0")));
        deblur.setInput(1, quantize(delta, q.get("deblur.in1")));
        deblur.setInput(2, quantize(beta, q.get("deblur.in2")));
        deblur.run();
        return dequantize(deblur.output(0), q.get("deblur.out0"));
    }

    static byte[] quantize(float[] x, float[] q) {
        return Tensors.quantize(x, q[0], (int) q[1]);
    }

    static float[] dequantize(byte[] codes, float[] q) {
        return Tensors.dequantize(codes, q[0], (int) q[1]);
    }
}
