package org.burstdeblur.align;

import java.util.Arrays;
import org.burstdeblur.core.RobustMerge;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The phone's burst path in one call, as the Python runtime's {@code process_burst} with its defaults:
 * the sharpest consistent frame as reference, dense alignment ({@link DenseAlign}), bicubic resampling of
 * every frame, the robust sharpness-aware merge and both maps ({@link RobustMerge}).
 *
 * <p>The reference choice is runtime/burst/reference_frame.py: noise-corrected Sobel energy of each frame's
 * plan-level luma; frames whose blurred 48 px thumbnail is far from the burst's per-pixel median thumbnail
 * (another scene, all black) are not candidates; ties go to the frame nearest the middle.
 */
public final class BurstPath {
    public static final int THUMB_SIDE = 48;

    public final int reference;
    public final double noiseSigma8;
    public final DenseAlign alignment;
    public final RobustMerge merge;

    private BurstPath(int reference, double noiseSigma8, DenseAlign alignment, RobustMerge merge) {
        this.reference = reference;
        this.noiseSigma8 = noiseSigma8;
        this.alignment = alignment;
        this.merge = merge;
    }

    /** The burst path with the sharpest consistent frame as reference. */
    public static BurstPath run(int[][] frames, int width, int height) {
        return run(frames, width, height, sharpestReference(planLumas(frames, width, height)));
    }

    /** The burst path with a given reference frame. */
    public static BurstPath run(int[][] frames, int width, int height, int reference) {
        if (reference < 0 || reference >= frames.length) {
            throw new IllegalArgumentException("reference frame " + reference + " is outside 0.."
                    + (frames.length - 1));
        }
        double sigma8 = noiseSigma8(frames[reference], width, height);
        DenseAlign a = DenseAlign.align(frames, width, height, reference, sigma8);
        float[][] aligned = new float[frames.length][];
        for (int i = 0; i < frames.length; i++) {
            aligned[i] = a.resample(frames[i], a.disp[i], width, height);
        }
        return new BurstPath(reference, sigma8, a, RobustMerge.merge(aligned, a.lumas, a.valid, width, height,
                reference));
    }

    /** Noise std of a frame's full-resolution 8-bit luma (Immerkaer, median form), as process_burst measures it. */
    public static double noiseSigma8(int[] argb, int width, int height) {
        return RobustMerge.noiseSigma(RobustMerge.gray8(DenseAlign.rgb8(argb)), width, height);
    }

    /** Plan-level lumas of the frames as shot ({@link DenseAlign#planLuma}). */
    public static Mat[] planLumas(int[][] frames, int width, int height) {
        Mat[] out = new Mat[frames.length];
        for (int i = 0; i < frames.length; i++) {
            out[i] = DenseAlign.planLuma(frames[i], width, height);
        }
        return out;
    }

    /** Noise-corrected gradient energy of a plan-level luma (reference_frame.frame_sharpness). */
    public static double sharpness(Mat small) {
        Mat gx = new Mat();
        Mat gy = new Mat();
        Imgproc.Sobel(small, gx, CvType.CV_32F, 1, 0, 3);
        Imgproc.Sobel(small, gy, CvType.CV_32F, 0, 1, 3);
        Core.multiply(gx, gx, gx);
        Core.multiply(gy, gy, gy);
        Core.add(gx, gy, gx);
        float[] luma = new float[(int) small.total()];
        small.get(0, 0, luma);
        double sigma = RobustMerge.noiseSigma(luma, small.cols(), small.rows());
        return Math.max(Core.mean(gx).val[0] - 64.0 * sigma * sigma, 0.0);
    }

    /** Per frame: its blurred thumbnail is near the burst's median thumbnail (reference_frame.consistent_frames). */
    public static boolean[] consistentFrames(Mat[] lumas) {
        int n = lumas.length;
        int h = lumas[0].rows();
        int w = lumas[0].cols();
        double scale = (double) THUMB_SIDE / Math.max(h, w);
        // Python's round() rounds half to even, as Math.rint does.
        Size size = new Size(Math.max(4, Math.rint(w * scale)), Math.max(4, Math.rint(h * scale)));
        int count = (int) (size.width * size.height);
        float[][] thumbs = new float[n][count];
        for (int i = 0; i < n; i++) {
            Mat t = new Mat();
            Imgproc.resize(lumas[i], t, size, 0, 0, Imgproc.INTER_AREA);
            Imgproc.GaussianBlur(t, t, new Size(0, 0), 1.5);
            t.get(0, 0, thumbs[i]);
        }
        double[] dist = new double[n];
        double[] column = new double[n];
        for (int p = 0; p < count; p++) {
            for (int i = 0; i < n; i++) {
                column[i] = thumbs[i][p];
            }
            double median = median(column);
            for (int i = 0; i < n; i++) {
                dist[i] += Math.abs(thumbs[i][p] - median) / count;
            }
        }
        double typical = median(dist);
        boolean[] ok = new boolean[n];
        for (int i = 0; i < n; i++) {
            ok[i] = dist[i] <= 3.0 * typical + 4.0;
        }
        return ok;
    }

    /** The sharpest consistent frame; among equals the one nearest the middle (reference_frame.choose_reference). */
    public static int sharpestReference(Mat[] lumas) {
        int n = lumas.length;
        boolean[] ok = consistentFrames(lumas);
        int best = -1;
        double bestSharp = 0;
        for (int i = 0; i < n; i++) {
            if (!ok[i]) {
                continue;
            }
            double s = sharpness(lumas[i]);
            if (best < 0 || s > bestSharp || (s == bestSharp && Math.abs(i - n / 2) < Math.abs(best - n / 2))) {
                best = i;
                bestSharp = s;
            }
        }
        return best < 0 ? n / 2 : best;
    }

    /** Median as NumPy takes it (the mean of the middle two for an even count); {@code v} is not changed. */
    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }
}
