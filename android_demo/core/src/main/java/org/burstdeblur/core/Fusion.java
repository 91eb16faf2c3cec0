package org.burstdeblur.core;

/**
 * Pixel-wise weighted fusion of a burst and its blur-degree map (patent formula (1)), as runtime/burst/fusion.py.
 *
 * <p>Frames are Android ARGB_8888 pixels ({@code int[w * h]}, row-major). For every pixel and colour channel
 * the n samples x_i with weights w_i (sum 1) give fused = sum w_i x_i, rounded half up to 8 bits, and
 * std = sqrt(sum w_i (x_i - fused)^2) with the unrounded mean; the map is the mean of the three channel
 * stds ("channel-mean"), in raw 8-bit units (divide by 127.5 for the nets' unit range). Alpha is copied
 * from the reference frame and never enters the map. Equal weights use exact integer sums like the
 * Python runtime, so both agree to the last bit of the rounding.
 */
public final class Fusion {
    public final int[] fusedArgb;
    public final float[] blurRaw;
    public final int width;
    public final int height;

    private Fusion(int[] fusedArgb, float[] blurRaw, int width, int height) {
        this.fusedArgb = fusedArgb;
        this.blurRaw = blurRaw;
        this.width = width;
        this.height = height;
    }

    /** Equal weights: exact integer statistics (n^2 var = n Q - S^2). */
    public static Fusion equal(int[][] frames, int width, int height, int reference) {
        int n = check(frames, width, height, reference);
        int size = width * height;
        int[] fused = new int[size];
        float[] blur = new float[size];
        for (int p = 0; p < size; p++) {
            double stdSum = 0.0;
            int out = frames[reference][p] & 0xFF000000;
            for (int shift = 16; shift >= 0; shift -= 8) {
                long s = 0;
                long q = 0;
                for (int i = 0; i < n; i++) {
                    int x = (frames[i][p] >>> shift) & 0xFF;
                    s += x;
                    q += (long) x * x;
                }
                long mean = (2 * s + n) / (2L * n); // round half up of s / n
                out |= (int) mean << shift;
                stdSum += Math.sqrt((double) (n * q - s * s)) / n;
            }
            fused[p] = out;
            blur[p] = (float) (stdSum / 3.0);
        }
        return new Fusion(fused, blur, width, height);
    }

    /** Any per-frame weights (normalised here): two-pass float statistics. */
    public static Fusion weighted(int[][] frames, double[] weights, int width, int height, int reference) {
        int n = check(frames, width, height, reference);
        if (weights.length != n) {
            throw new IllegalArgumentException(weights.length + " weights given for " + n + " frames");
        }
        double total = 0;
        for (double v : weights) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("weights must be finite and >= 0, got " + v);
            }
            total += v;
        }
        if (total <= 0) {
            throw new IllegalArgumentException("weights sum to zero");
        }
        int size = width * height;
        int[] fused = new int[size];
        float[] blur = new float[size];
        for (int p = 0; p < size; p++) {
            double stdSum = 0.0;
            int out = frames[reference][p] & 0xFF000000;
            for (int shift = 16; shift >= 0; shift -= 8) {
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += weights[i] / total * ((frames[i][p] >>> shift) & 0xFF);
                }
                double var = 0;
                for (int i = 0; i < n; i++) {
                    double d = ((frames[i][p] >>> shift) & 0xFF) - mean;
                    var += weights[i] / total * d * d;
                }
                out |= Math.min(255, (int) Math.floor(mean + 0.5)) << shift;
                stdSum += Math.sqrt(var);
            }
            fused[p] = out;
            blur[p] = (float) (stdSum / 3.0);
        }
        return new Fusion(fused, blur, width, height);
    }

    private static int check(int[][] frames, int width, int height, int reference) {
        Weights.checkN(frames.length);
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("zero-sized frames: " + width + "x" + height);
        }
        for (int i = 0; i < frames.length; i++) {
            if (frames[i].length != width * height) {
                throw new IllegalArgumentException("frame " + i + " has " + frames[i].length + " pixels, expected "
                        + width * height);
            }
        }
        if (reference < 0 || reference >= frames.length) {
            throw new IllegalArgumentException("reference frame " + reference + " is outside 0.." + (frames.length - 1));
        }
        return frames.length;
    }
}
