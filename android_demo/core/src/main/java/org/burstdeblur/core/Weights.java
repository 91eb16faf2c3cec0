package org.burstdeblur.core;

/** Per-frame fusion weights, as runtime/burst/weights.py: equal, or linear ramps over capture order. Sum to 1. */
public final class Weights {
    private Weights() {}

    public static double[] equal(int n) {
        checkN(n);
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1.0 / n);
        return w;
    }

    /** "rising" favours the last frame, "falling" the first: weights 1..n (or n..1) over their sum. */
    public static double[] temporal(int n, String direction) {
        checkN(n);
        boolean rising = "rising".equals(direction);
        if (!rising && !"falling".equals(direction)) {
            throw new IllegalArgumentException("temporal weights: direction '" + direction + "' is not rising or falling");
        }
        double sum = n * (n + 1) / 2.0;
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = (rising ? i + 1 : n - i) / sum;
        }
        return w;
    }

    static void checkN(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("a burst needs n >= 2 frames, got n=" + n);
        }
    }
}
