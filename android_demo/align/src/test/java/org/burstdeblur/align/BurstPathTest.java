package org.burstdeblur.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.burstdeblur.core.Golden;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.Core;
import org.opencv.core.Mat;

/**
 * BurstPath (what the app calls) against the Python runtime's process_burst with its defaults, on the
 * handheld burst of DenseAlignTest: the same sharpness per frame (relative 1e-4: the same Sobel and noise
 * estimator, float sums in another order), the same reference, a frame of another view refused as a
 * candidate, and the merged image and maps within the whole-path tolerance of DenseAlignTest (the OpenCV
 * versions differ, see there).
 */
class BurstPathTest {
    static final int W = DenseAlignTest.W;
    static final int H = DenseAlignTest.H;

    @BeforeAll
    static void loadOpenCv() {
        System.loadLibrary(Core.NATIVE_LIBRARY_NAME);
    }

    @Test
    void sharpnessAndReferenceMatchPython() throws IOException {
        int[][] frames = DenseAlignTest.frames();
        BurstPath.Views views = BurstPath.views(frames, W, H);
        Mat[] lumas = views.lumas;
        double[] energies = views.fullEnergies;
        float[] expected = Golden.floats("path_sharpness");
        for (int i = 0; i < frames.length; i++) {
            double s = BurstPath.sharpness(lumas[i], energies[i]);
            assertEquals(expected[i], s, 1e-4 * expected[i], "frame " + i);
        }
        assertEquals(Golden.ints("path_reference")[0], BurstPath.sharpestReference(lumas, energies));
    }

    @Test
    void aFrameOfAnotherViewIsNoCandidate() throws IOException {
        int[][] frames = DenseAlignTest.frames();
        int sharpest = Golden.ints("path_reference")[0];
        int[] turned = new int[W * H];
        for (int p = 0; p < W * H; p++) {
            turned[p] = frames[sharpest][W * H - 1 - p]; // 180 degrees: as sharp, another view
        }
        frames[sharpest] = turned;
        BurstPath.Views views = BurstPath.views(frames, W, H);
        Mat[] lumas = views.lumas;
        byte[] ok = Golden.bytes("path_mixed_consistent");
        boolean[] expected = new boolean[ok.length];
        for (int i = 0; i < ok.length; i++) {
            expected[i] = ok[i] != 0;
        }
        assertArrayEquals(expected, BurstPath.consistentFrames(lumas));
        assertTrue(!expected[sharpest], "the golden burst must refuse the turned frame");
        assertEquals(Golden.ints("path_mixed_reference")[0],
                BurstPath.sharpestReference(lumas, views.fullEnergies));
    }

    @Test
    void defaultBurstPathMatchesPython() throws IOException {
        BurstPath path = BurstPath.run(DenseAlignTest.frames(), W, H);
        assertEquals(Golden.ints("path_reference")[0], path.reference);
        int[] fused = Golden.ints("path_fused_argb");
        float[] blur = Golden.floats("path_blur");
        float[] residual = Golden.floats("path_residual");
        double se = 0;
        double blurDiff = 0;
        double residualDiff = 0;
        for (int p = 0; p < W * H; p++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                double d = ((path.merge.fusedArgb[p] >>> shift) & 0xFF) - ((fused[p] >>> shift) & 0xFF);
                se += d * d;
            }
            blurDiff += Math.abs(path.merge.blurRaw[p] - blur[p]) / (W * H);
            residualDiff += Math.abs(path.merge.residualRaw[p] - residual[p]) / (W * H);
        }
        double psnr = 10 * Math.log10(255.0 * 255.0 / (se / (3.0 * W * H)));
        System.out.printf("default burst path: PSNR %.2f dB vs Python, map mean |diff| %.4f, residual %.4f%n",
                psnr, blurDiff, residualDiff);
        assertTrue(psnr >= DenseAlignTest.BURST_PSNR_DB, "PSNR " + psnr);
        assertTrue(blurDiff <= DenseAlignTest.BURST_MAP_MEAN, "map mean difference " + blurDiff);
        assertTrue(residualDiff <= DenseAlignTest.BURST_MAP_MEAN, "residual mean difference " + residualDiff);
    }
}
