package org.burstdeblur.align;

import java.util.Arrays;
import org.burstdeblur.core.RobustMerge;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The phone's burst path in one call, as the Python runtime's {@code process_burst} with its defaults:
 * the sharpest consistent frame as reference, dense alignment ({@link DenseAlign}), bicubic resampling of
 * every frame, the robust sharpness-aware merge and both maps ({@link RobustMerge}).
 *
 * <p>The reference choice is runtime/burst/reference_frame.py: noise-corrected Sobel energy of each frame's
 * full-resolution luma; frames whose blurred 48 px thumbnail stays far from the others' once shifted onto
 * them by phase correlation (another scene, all black, pure noise) are not candidates; ties go to the frame
 * nearest the middle.
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
        Views views = views(frames, width, height);
        return run(frames, width, height, sharpestReference(views.lumas, views.fullEnergies), views.lumas);
    }

    /** The burst path with a given reference frame. */
    public static BurstPath run(int[][] frames, int width, int height, int reference) {
        if (reference < 0 || reference >= frames.length) {
            throw new IllegalArgumentException("reference frame " + reference + " is outside 0.."
                    + (frames.length - 1));
        }
        return run(frames, width, height, reference, null);
    }

    /** {@code lumas}: the frames' plan-level lumas when the reference choice made them, else null. */
    private static BurstPath run(int[][] frames, int width, int height, int reference, Mat[] lumas) {
        double sigma8 = noiseSigma8(frames[reference], width, height);
        DenseAlign a = lumas == null ? DenseAlign.align(frames, width, height, reference, sigma8)
                : DenseAlign.align(lumas, width, height, reference, sigma8);
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

    /** What the reference choice reads of the frames as shot (dense_align.PlanViews). */
    public static final class Views {
        public final Mat[] lumas; // plan-level lumas ({@link DenseAlign#planLuma})
        public final double[] fullEnergies; // full-resolution gradient energies ({@link DenseAlign#fullEnergy})

        Views(Mat[] lumas, double[] fullEnergies) {
            this.lumas = lumas;
            this.fullEnergies = fullEnergies;
        }
    }

    /** Plan-level lumas and full-resolution energies, one 8-bit gray conversion per frame. */
    public static Views views(int[][] frames, int width, int height) {
        Mat[] lumas = new Mat[frames.length];
        double[] energies = new double[frames.length];
        for (int i = 0; i < frames.length; i++) {
            Mat full = DenseAlign.fullLuma(frames[i], width, height);
            energies[i] = DenseAlign.fullEnergy(full);
            lumas[i] = DenseAlign.planLuma(full, width, height);
        }
        return new Views(lumas, energies);
    }

    /**
     * Noise-corrected full-resolution gradient energy (reference_frame.frame_sharpness): the frame's mean
     * Sobel energy less 64 (2 s)^2, s the noise std of its plan-level luma (a 2 x 2 block mean halves it).
     */
    public static double sharpness(Mat small, double fullEnergy) {
        float[] luma = new float[(int) small.total()];
        small.get(0, 0, luma);
        double sigma = 2.0 * RobustMerge.noiseSigma(luma, small.cols(), small.rows());
        return Math.max(fullEnergy - 64.0 * sigma * sigma, 0.0);
    }

    /**
     * Per frame: its blurred thumbnail, shifted onto each other frame's by phase correlation, is near them
     * in the median (reference_frame.consistent_frames).
     */
    public static boolean[] consistentFrames(Mat[] lumas) {
        int n = lumas.length;
        int h = lumas[0].rows();
        int w = lumas[0].cols();
        double scale = (double) THUMB_SIDE / Math.max(h, w);
        // Python's round() rounds half to even, as Math.rint does.
        Size size = new Size(Math.max(4, Math.rint(w * scale)), Math.max(4, Math.rint(h * scale)));
        Mat[] thumbs = new Mat[n];
        for (int i = 0; i < n; i++) {
            thumbs[i] = new Mat();
            Imgproc.resize(lumas[i], thumbs[i], size, 0, 0, Imgproc.INTER_AREA);
            Imgproc.GaussianBlur(thumbs[i], thumbs[i], new Size(0, 0), 1.5);
        }
        double[][] pair = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                pair[i][j] = pair[j][i] = shiftedDistance(thumbs[i], thumbs[j]);
            }
        }
        double[] dist = new double[n];
        for (int i = 0; i < n && n > 1; i++) {
            double[] others = new double[n - 1];
            for (int j = 0, k = 0; j < n; j++) {
                if (j != i) {
                    others[k++] = pair[i][j];
                }
            }
            dist[i] = median(others);
        }
        double typical = median(dist);
        boolean[] ok = new boolean[n];
        for (int i = 0; i < n; i++) {
            ok[i] = dist[i] <= 3.0 * typical + 4.0;
        }
        return ok;
    }

    /** Mean |a - b shifted onto a| over the part both cover (reference_frame._shifted_distance). */
    static double shiftedDistance(Mat a, Mat b) {
        int th = a.rows();
        int tw = a.cols();
        Mat window = new Mat();
        Imgproc.createHanningWindow(window, new Size(tw, th), CvType.CV_32F);
        Point shift = Imgproc.phaseCorrelate(a.clone(), b.clone(), window);
        int mx = (int) Math.ceil(Math.abs(shift.x)) + 1;
        int my = (int) Math.ceil(Math.abs(shift.y)) + 1;
        Mat diff = new Mat();
        if (!Double.isFinite(shift.x + shift.y) || 2 * mx >= tw - 4 || 2 * my >= th - 4) {
            Core.absdiff(a, b, diff);
            return Core.mean(diff).val[0];
        }
        Mat moved = new Mat();
        Mat m = new Mat(2, 3, CvType.CV_32F);
        m.put(0, 0, 1, 0, shift.x, 0, 1, shift.y);
        Imgproc.warpAffine(b, moved, m, new Size(tw, th), Imgproc.INTER_LINEAR | Imgproc.WARP_INVERSE_MAP,
                Core.BORDER_REPLICATE);
        Core.absdiff(a, moved, diff);
        return Core.mean(diff.submat(my, th - my, mx, tw - mx)).val[0];
    }

    /** The sharpest consistent frame; among equals the one nearest the middle (reference_frame.choose_reference). */
    public static int sharpestReference(Mat[] lumas, double[] fullEnergies) {
        int n = lumas.length;
        boolean[] ok = consistentFrames(lumas);
        int best = -1;
        double bestSharp = 0;
        for (int i = 0; i < n; i++) {
            if (!ok[i]) {
                continue;
            }
            double s = sharpness(lumas[i], fullEnergies[i]);
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
