package org.burstdeblur.core;

import java.util.Arrays;

/**
 * The burst path's robust, sharpness-aware merge and its blur-degree map on aligned frames, as
 * runtime/burst/robust_merge.py and runtime/burst/aligned_fusion.py.
 *
 * <p>Inputs are what the alignment hands over: the aligned frames at full resolution as unrounded RGB
 * samples in 8-bit units ({@code float[w * h * 3]} each, interleaved: what a float bicubic remap gives;
 * the reference is its own samples) and, at plan resolution (half size, rounded up), each aligned frame's luma in
 * 8-bit levels and its coverage. Weights are decided at plan resolution and upsampled bilinearly
 * (pixel-centre convention, border replicated, as {@code cv2.resize} with fx = fy = 2):
 *
 * <pre>
 *   w_i = r_i * s_i    r: agreement with the reference (mean |difference| over 4x4 plan px vs the noise)
 *                      s: (local gradient energy / the sharpest frame's, dead zone 0.95)^8, floor 1e-3
 *   m_i = s_i * covered
 *   fused = x_r + sum w_i (x_i - x_r) / sum w_i          map^2 = E_m[d^2] - E_m[d]^2 per channel
 * </pre>
 *
 * Float32 arithmetic in the order the Python runtime uses, so the two agree within 1 LSB / 1e-3.
 */
public final class RobustMerge {
    /** Merge settings (MergeConfig.default() of the Python runtime). */
    public static final int ROBUST_SCALE = 4;
    public static final float T1_SIGMAS = 1.25f;
    public static final float T1_FLOOR = 0.1f;
    public static final float T1_TYPICAL = 1.0f;
    public static final float T1_CAP_SIGMAS = 2.0f;
    public static final float T1_CAP_FLOOR = 1.0f;
    public static final float T2_FACTOR = 2.0f;
    public static final int SHARP_WINDOW = 9;
    public static final int SHARP_POWER_SQUARINGS = 3; // power 8
    public static final float SHARP_DEADZONE = 0.95f;
    public static final float MIN_AREA = 0.1f;

    public final int[] fusedArgb;
    /** The blur-degree map: weighted std under the map (sharpness) weights, in 8-bit units. */
    public final float[] blurRaw;
    /**
     * The map the nets are given: the same std under the merge weights, the spread of the samples each merged
     * pixel is made of (the Python runtime's residual_raw; aligned_fusion.py says why it differs).
     */
    public final float[] residualRaw;
    public final boolean[] used;
    public final float noiseSigmaPlan;

    private RobustMerge(int[] fusedArgb, float[] blurRaw, float[] residualRaw, boolean[] used, float noiseSigmaPlan) {
        this.fusedArgb = fusedArgb;
        this.blurRaw = blurRaw;
        this.residualRaw = residualRaw;
        this.used = used;
        this.noiseSigmaPlan = noiseSigmaPlan;
    }

    /**
     * Merge aligned frames.
     *
     * @param frames aligned frames, {@code [n][width * height * 3]} RGB samples in 8-bit units
     * @param lumas plan-level lumas of the aligned frames, {@code [n][pw * ph]} with pw = ceil(width / 2)
     * @param valid plan-level coverage, {@code [n][pw * ph]}
     * @param reference index of the reference frame (never resampled: its samples are whole levels)
     */
    public static RobustMerge merge(float[][] frames, float[][] lumas, boolean[][] valid, int width, int height,
                                    int reference) {
        int n = frames.length;
        Weights.checkN(n);
        int pw = (width + 1) / 2;
        int ph = (height + 1) / 2;
        int plan = pw * ph;
        if (lumas.length != n || valid.length != n) {
            throw new IllegalArgumentException("need one plan luma and coverage per frame");
        }
        for (int i = 0; i < n; i++) {
            if (frames[i].length != width * height * 3 || lumas[i].length != plan || valid[i].length != plan) {
                throw new IllegalArgumentException("frame " + i + " does not match " + width + "x" + height
                        + " (plan " + pw + "x" + ph + ")");
            }
        }
        if (reference < 0 || reference >= n) {
            throw new IllegalArgumentException("reference frame " + reference + " is outside 0.." + (n - 1));
        }
        // Noise from the reference at full resolution (plan-level texture would inflate it), halved for the
        // 2 x 2 block means of the plan level, as process_burst does.
        float s = noiseSigma(gray8(frames[reference]), width, height) * 0.5f;
        // Window mean |x_i - x_r| of every other frame first: the threshold is raised to the median of the
        // best-agreeing frame (every 2nd row and column of its covered plan px), as robust_merge.py does, so
        // spatially correlated noise that the Laplacian estimate misses does not refuse every frame.
        float[][] diffs = new float[n][];
        float[] absDiff = new float[plan];
        float typical = Float.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (i == reference) {
                continue;
            }
            for (int p = 0; p < plan; p++) {
                absDiff[p] = Math.abs(lumas[i][p] - lumas[reference][p]);
            }
            diffs[i] = boxMean(absDiff, pw, ph, ROBUST_SCALE);
            typical = Math.min(typical, sampledMedian(diffs[i], valid[i], pw, ph));
        }
        float t1 = T1_SIGMAS * 1.128f * s + T1_FLOOR;
        if (!Float.isInfinite(typical)) {
            float cap = T1_CAP_SIGMAS * 1.128f * s + T1_CAP_FLOOR;
            t1 = Math.max(t1, Math.min(T1_TYPICAL * typical, cap));
        }
        float t2 = T2_FACTOR * t1;
        float noiseEnergy = 64.0f * s * s;
        float[][] sharp = new float[n][];
        for (int i = 0; i < n; i++) {
            sharp[i] = sharpnessEnergy(lumas[i], pw, ph);
            float add = (float) (8.0 * noiseEnergy + 1e-3);
            for (int p = 0; p < plan; p++) {
                sharp[i][p] += add;
            }
        }
        for (int p = 0; p < plan; p++) {
            float max = sharp[0][p];
            for (int i = 1; i < n; i++) {
                max = Math.max(max, sharp[i][p]);
            }
            float denom = max * SHARP_DEADZONE;
            for (int i = 0; i < n; i++) {
                float r = Math.min(sharp[i][p] / denom, 1.0f);
                for (int k = 0; k < SHARP_POWER_SQUARINGS; k++) {
                    r = r * r;
                }
                sharp[i][p] = Math.max(r, 1e-3f);
            }
        }
        float[][] w = new float[n][plan];
        float[][] m = new float[n][plan];
        boolean[] used = new boolean[n];
        for (int i = 0; i < n; i++) {
            long agree = 0;
            long cover = 0;
            float[] robust;
            if (i == reference) {
                robust = new float[plan];
                Arrays.fill(robust, 1.0f);
            } else {
                robust = diffs[i];
                for (int p = 0; p < plan; p++) {
                    robust[p] = Math.min(Math.max((t2 - robust[p]) / (t2 - t1), 0.0f), 1.0f);
                }
            }
            for (int p = 0; p < plan; p++) {
                if (!valid[i][p]) {
                    robust[p] = 0.0f;
                } else {
                    cover++;
                    if (robust[p] >= 0.5f) {
                        agree++;
                    }
                }
                w[i][p] = robust[p] * sharp[i][p];
                m[i][p] = valid[i][p] ? sharp[i][p] : 0.0f;
            }
            float fraction = cover > 0 ? (float) agree / cover : 0.0f;
            used[i] = i == reference || fraction >= MIN_AREA;
        }
        return fuse(frames, w, m, used, width, height, pw, ph, reference, s);
    }

    /** Median of {@code values} at the covered px of every 2nd row and column (NumPy's median: the mean of
     *  the two middle values for an even count); +inf when none is covered. */
    static float sampledMedian(float[] values, boolean[] valid, int pw, int ph) {
        int count = 0;
        float[] sample = new float[((pw + 1) / 2) * ((ph + 1) / 2)];
        for (int y = 0; y < ph; y += 2) {
            for (int x = 0; x < pw; x += 2) {
                if (valid[y * pw + x]) {
                    sample[count++] = values[y * pw + x];
                }
            }
        }
        if (count == 0) {
            return Float.POSITIVE_INFINITY;
        }
        Arrays.sort(sample, 0, count);
        int mid = count / 2;
        return count % 2 == 1 ? sample[mid] : (sample[mid - 1] + sample[mid]) / 2.0f;
    }

    private static RobustMerge fuse(float[][] frames, float[][] w, float[][] m, boolean[] used, int width, int height,
                                    int pw, int ph, int reference, float sigma) {
        int n = frames.length;
        int size = width * height;
        float[] sumW = upsample(w[reference], pw, ph, width, height);
        float[] sumM = upsample(m[reference], pw, ph, width, height);
        float[] accWd = new float[size * 3];
        float[] accMd = new float[size * 3];
        float[] accMdd = new float[size * 3];
        float[] accWdd = new float[size * 3];
        float[] ref = frames[reference];
        for (int i = 0; i < n; i++) {
            if (i == reference || !used[i]) {
                continue;
            }
            float[] wi = upsample(w[i], pw, ph, width, height);
            float[] mi = upsample(m[i], pw, ph, width, height);
            float[] x = frames[i];
            for (int p = 0; p < size; p++) {
                for (int c = 0; c < 3; c++) {
                    int q = 3 * p + c;
                    float d = x[q] - ref[q];
                    float wd = d * wi[p];
                    accWd[q] += wd;
                    accWdd[q] += wd * d;
                    float md = d * mi[p];
                    accMd[q] += md;
                    accMdd[q] += md * d;
                }
                sumW[p] += wi[p];
                sumM[p] += mi[p];
            }
        }
        int[] fused = new int[size];
        float[] blur = new float[size];
        float[] residual = new float[size];
        for (int p = 0; p < size; p++) {
            int out = 0xFF000000;
            float invW = 1.0f / sumW[p];
            float invM = 1.0f / sumM[p];
            float stdSum = 0.0f;
            float residualSum = 0.0f;
            for (int c = 0; c < 3; c++) {
                int q = 3 * p + c;
                // Round half up, saturated: bicubic resampling may overshoot the range at hard edges.
                float mean = accWd[q] * invW + ref[q] + 0.5f;
                out |= Math.min(255, Math.max(0, (int) mean)) << (16 - 8 * c);
                float md = accMd[q] * invM;
                float var = accMdd[q] * invM - md * md;
                stdSum += (float) Math.sqrt(Math.max(var, 0.0f)) / 3.0f;
                float wd = accWd[q] * invW;
                float wvar = accWdd[q] * invW - wd * wd;
                residualSum += (float) Math.sqrt(Math.max(wvar, 0.0f)) / 3.0f;
            }
            fused[p] = out;
            blur[p] = stdSum;
            residual[p] = residualSum;
        }
        return new RobustMerge(fused, blur, residual, used, sigma);
    }

    /** BT.601 luma in whole 8-bit levels with OpenCV's fixed-point coefficients (cvtColor RGB2GRAY). */
    public static float[] gray8(float[] rgb) {
        float[] out = new float[rgb.length / 3];
        for (int p = 0; p < out.length; p++) {
            int r = Math.round(rgb[3 * p]);
            int g = Math.round(rgb[3 * p + 1]);
            int b = Math.round(rgb[3 * p + 2]);
            out[p] = (r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14;
        }
        return out;
    }

    /** Noise std of a luma (Immerkaer 1996, median form; a regular quarter of large images). */
    public static float noiseSigma(float[] luma, int w, int h) {
        if (w < 3 || h < 3) {
            return 0.0f;
        }
        int iw = w - 2;
        int ih = h - 2;
        int step = (long) iw * ih > (1 << 17) ? 2 : 1;
        int cols = (iw + step - 1) / step;
        int rows = (ih + step - 1) / step;
        float[] lap = new float[cols * rows];
        int k = 0;
        for (int y = 1; y < h - 1; y += step) {
            for (int x = 1; x < w - 1; x += step) {
                float v = luma[(y - 1) * w + x - 1] - 2 * luma[(y - 1) * w + x] + luma[(y - 1) * w + x + 1]
                        - 2 * luma[y * w + x - 1] + 4 * luma[y * w + x] - 2 * luma[y * w + x + 1]
                        + luma[(y + 1) * w + x - 1] - 2 * luma[(y + 1) * w + x] + luma[(y + 1) * w + x + 1];
                lap[k++] = Math.abs(v);
            }
        }
        Arrays.sort(lap);
        int mid = lap.length / 2;
        double median = lap.length % 2 == 1 ? lap[mid] : 0.5 * ((double) lap[mid - 1] + lap[mid]);
        return (float) (median / (6.0 * 0.6745));
    }

    /** Sobel (3x3) gradient energy summed over SHARP_WINDOW x SHARP_WINDOW (box mean), reflect-101 borders. */
    static float[] sharpnessEnergy(float[] luma, int w, int h) {
        float[] e = new float[w * h];
        for (int y = 0; y < h; y++) {
            int ym = reflect101(y - 1, h);
            int yp = reflect101(y + 1, h);
            for (int x = 0; x < w; x++) {
                int xm = reflect101(x - 1, w);
                int xp = reflect101(x + 1, w);
                float gx = (luma[ym * w + xp] - luma[ym * w + xm]) + 2 * (luma[y * w + xp] - luma[y * w + xm])
                        + (luma[yp * w + xp] - luma[yp * w + xm]);
                float gy = (luma[yp * w + xm] - luma[ym * w + xm]) + 2 * (luma[yp * w + x] - luma[ym * w + x])
                        + (luma[yp * w + xp] - luma[ym * w + xp]);
                e[y * w + x] = gx * gx + gy * gy;
            }
        }
        return boxMean(e, w, h, SHARP_WINDOW);
    }

    /** Normalised k x k box filter with reflect-101 borders (cv2.blur's default); anchor at the centre. */
    static float[] boxMean(float[] src, int w, int h, int k) {
        int before = k / 2;
        float[] out = new float[w * h];
        double[] row = new double[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int j = -before; j < k - before; j++) {
                    acc += src[y * w + reflect101(x + j, w)];
                }
                row[y * w + x] = acc;
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int j = -before; j < k - before; j++) {
                    acc += row[reflect101(y + j, h) * w + x];
                }
                out[y * w + x] = (float) (acc / ((double) k * k));
            }
        }
        return out;
    }

    /** Bilinear x2 upsampling of a plan map to width x height (cv2.resize fx = fy = 2, cropped). */
    static float[] upsample(float[] src, int pw, int ph, int width, int height) {
        float[] out = new float[width * height];
        int[] x0 = new int[width];
        float[] fx = new float[width];
        taps(width, pw, x0, fx);
        int[] y0 = new int[height];
        float[] fy = new float[height];
        taps(height, ph, y0, fy);
        float[] r0 = new float[width];
        float[] r1 = new float[width];
        for (int y = 0; y < height; y++) {
            horizontal(src, y0[y] * pw, pw, x0, fx, r0);
            horizontal(src, Math.min(y0[y] + 1, ph - 1) * pw, pw, x0, fx, r1);
            float f = fy[y];
            for (int x = 0; x < width; x++) {
                out[y * width + x] = r0[x] * (1 - f) + r1[x] * f;
            }
        }
        return out;
    }

    /** Source index and fraction of each output position (pixel centres; clamped at the borders as OpenCV). */
    private static void taps(int n, int srcN, int[] index, float[] frac) {
        for (int i = 0; i < n; i++) {
            float f = (i + 0.5f) * 0.5f - 0.5f;
            int s = (int) Math.floor(f);
            f -= s;
            if (s < 0) {
                s = 0;
                f = 0;
            }
            if (s >= srcN - 1) {
                s = srcN - 1;
                f = 0;
            }
            index[i] = s;
            frac[i] = f;
        }
    }

    private static void horizontal(float[] src, int offset, int pw, int[] x0, float[] fx, float[] out) {
        for (int x = 0; x < out.length; x++) {
            int a = x0[x];
            int b = Math.min(a + 1, pw - 1);
            out[x] = src[offset + a] * (1 - fx[x]) + src[offset + b] * fx[x];
        }
    }

    static int reflect101(int i, int n) {
        if (n == 1) {
            return 0;
        }
        while (i < 0 || i >= n) {
            i = i < 0 ? -i : 2 * n - 2 - i;
        }
        return i;
    }
}
