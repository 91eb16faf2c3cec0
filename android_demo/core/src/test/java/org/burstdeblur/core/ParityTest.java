package org.burstdeblur.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The Java core against golden files written by the Python runtime (android_demo/make_golden.py). */
class ParityTest {
    static final int N = 4;
    static final int H = 32;
    static final int W = 40;

    static ByteBuffer read(String name) throws IOException {
        return Golden.read(name);
    }

    static int[] ints(String name) throws IOException {
        return Golden.ints(name);
    }

    static float[] floats(String name) throws IOException {
        return Golden.floats(name);
    }

    static int[][] frames() throws IOException {
        int[] all = ints("frames_argb");
        int[][] frames = new int[N][W * H];
        for (int i = 0; i < N; i++) {
            System.arraycopy(all, i * W * H, frames[i], 0, W * H);
        }
        return frames;
    }

    /** Max difference over channels of two ARGB images, in 8-bit steps. */
    static int maxLsb(int[] a, int[] b) {
        int worst = 0;
        for (int p = 0; p < a.length; p++) {
            for (int shift = 0; shift <= 24; shift += 8) {
                worst = Math.max(worst, Math.abs(((a[p] >>> shift) & 0xFF) - ((b[p] >>> shift) & 0xFF)));
            }
        }
        return worst;
    }

    static float maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    @Test
    void equalWeightFusionMatchesPython() throws IOException {
        Fusion f = Fusion.equal(frames(), W, H, 2);
        assertEquals(0, maxLsb(f.fusedArgb, ints("fused_equal_argb")));  // exact integer path on both sides
        assertTrue(maxAbs(f.blurRaw, floats("blur_equal")) < 1e-4f);
    }

    @Test
    void risingWeightFusionMatchesPython() throws IOException {
        Fusion f = Fusion.weighted(frames(), Weights.temporal(N, "rising"), W, H, 2);
        assertTrue(maxLsb(f.fusedArgb, ints("fused_rising_argb")) <= 1);
        assertTrue(maxAbs(f.blurRaw, floats("blur_rising")) < 1e-3f);
        // Equal weights through the float path agree with the exact path.
        Fusion e = Fusion.weighted(frames(), Weights.equal(N), W, H, 2);
        assertTrue(maxLsb(e.fusedArgb, ints("fused_equal_argb")) <= 1);
        assertTrue(maxAbs(e.blurRaw, floats("blur_equal")) < 1e-3f);
    }

    @Test
    void int8CodesMatchPython() throws IOException {
        byte[] expected = new byte[W * H * 3];
        read("reference_int8").get(expected);
        byte[] got = Tensors.argbToInt8(frames()[2], 1f / 255f, -128);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], "code " + i);
        }
        // An 8-bit pixel enters the INT8 graph as exactly value - 128, and reads back unchanged.
        int[] back = Tensors.floatToArgb(Tensors.dequantize(got, 1f / 255f, -128));
        for (int i = 0; i < back.length; i++) {
            int x = frames()[2][i];
            int expectedPixel = x | 0xFF000000;
            assertEquals(expectedPixel, back[i]);
            assertEquals(((x >>> 16) & 0xFF) - 128, got[3 * i]);
        }
    }

    static float[] box3(float[] t, int size, int c) {
        float[] out = new float[t.length];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                for (int k = 0; k < c; k++) {
                    float s = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            int yy = y + dy;
                            int xx = x + dx;
                            if (yy >= 0 && yy < size && xx >= 0 && xx < size) {
                                s += t[(yy * size + xx) * c + k];
                            }
                        }
                    }
                    out[(y * size + x) * c + k] = s / 9f;
                }
            }
        }
        return out;
    }

    @Test
    void tilingMatchesPython() throws IOException {
        Tiling tiling = new Tiling(32, 4, 4);
        float[] out = tiling.run(floats("tiling_input"), 72, 56, 3, 3, t -> box3(t, 32, 3));
        assertTrue(maxAbs(out, floats("tiling_box3")) < 1e-5f);
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Fusion.equal(new int[1][4], 2, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> Fusion.equal(new int[2][3], 2, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> new Tiling(60, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> Weights.temporal(3, "sideways"));
        assertThrows(IllegalArgumentException.class, () -> Tensors.quantize(new float[1], 0f, 0));
    }
}
