package org.burstdeblur.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The burst path's robust merge and map against the Python runtime (golden files from make_golden.py). */
class RobustMergeTest {
    static final int N = 6;
    static final int H = 61;
    static final int W = 90;
    static final int PH = 31;
    static final int PW = 45;
    static final int REF = 2;

    static float[][] split(float[] all, int size) {
        float[][] out = new float[N][size];
        for (int i = 0; i < N; i++) {
            System.arraycopy(all, i * size, out[i], 0, size);
        }
        return out;
    }

    static float[][] lumas() throws IOException {
        float[] all = ParityTest.floats("merge_lumas");
        float[][] out = new float[N][PW * PH];
        for (int i = 0; i < N; i++) {
            System.arraycopy(all, i * PW * PH, out[i], 0, PW * PH);
        }
        return out;
    }

    static boolean[][] valid() throws IOException {
        ByteBuffer b = ParityTest.read("merge_valid");
        boolean[][] out = new boolean[N][PW * PH];
        for (int i = 0; i < N; i++) {
            for (int p = 0; p < PW * PH; p++) {
                out[i][p] = b.get() != 0;
            }
        }
        return out;
    }

    @Test
    void mergeAndMapMatchPython() throws IOException {
        float[][] aligned = split(ParityTest.floats("merge_aligned_rgb"), W * H * 3);
        RobustMerge m = RobustMerge.merge(aligned, lumas(), valid(), W, H, REF);
        assertEquals(ParityTest.floats("merge_sigma_plan")[0], m.noiseSigmaPlan, 1e-4f);
        ByteBuffer used = ParityTest.read("merge_used");
        for (int i = 0; i < N; i++) {
            assertEquals(used.get() != 0, m.used[i], "frame " + i);
        }
        assertTrue(ParityTest.maxLsb(m.fusedArgb, ParityTest.ints("merge_fused_argb")) <= 1);
        float err = ParityTest.maxAbs(m.blurRaw, ParityTest.floats("merge_blur"));
        assertTrue(err <= 1e-3f, "map differs by " + err);
        float residualErr = ParityTest.maxAbs(m.residualRaw, ParityTest.floats("merge_residual"));
        assertTrue(residualErr <= 1e-3f, "residual map differs by " + residualErr);
        // The merge is not the plain mean: the reference and sharper frames count more.
        int[][] rounded = new int[N][W * H];
        for (int i = 0; i < N; i++) {
            for (int p = 0; p < W * H; p++) {
                int argb = 0xFF000000;
                for (int c = 0; c < 3; c++) {
                    argb |= Math.min(255, Math.max(0, Math.round(aligned[i][3 * p + c]))) << (16 - 8 * c);
                }
                rounded[i][p] = argb;
            }
        }
        int[] plain = Fusion.equal(rounded, W, H, REF).fusedArgb;
        assertTrue(ParityTest.maxLsb(m.fusedArgb, plain) > 1);
    }

    @Test
    void aFrameThatAgreesNowhereIsDropped() throws IOException {
        float[][] aligned = split(ParityTest.floats("merge_aligned_rgb"), W * H * 3);
        float[][] lumas = lumas();
        java.util.Arrays.fill(aligned[4], 0.0f);
        java.util.Arrays.fill(lumas[4], 0.0f);
        RobustMerge m = RobustMerge.merge(aligned, lumas, valid(), W, H, REF);
        assertFalse(m.used[4]);
        RobustMerge without = RobustMerge.merge(aligned, lumas, valid(), W, H, REF);
        assertArrayEquals(m.fusedArgb, without.fusedArgb);
        // A dropped black frame leaves no dark trace: the result stays within a few levels of the golden merge.
        assertTrue(ParityTest.maxLsb(m.fusedArgb, ParityTest.ints("merge_fused_argb")) < 40);
    }

    @Test
    void mismatchedPlanIsRefused() throws IOException {
        float[][] aligned = split(ParityTest.floats("merge_aligned_rgb"), W * H * 3);
        assertThrows(IllegalArgumentException.class,
                () -> RobustMerge.merge(aligned, lumas(), valid(), W + 2, H, REF));
        assertThrows(IllegalArgumentException.class, () -> RobustMerge.merge(aligned, lumas(), valid(), W, H, N));
    }
}
