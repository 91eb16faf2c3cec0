package org.burstdeblur.core;

/**
 * Conversions between Android ARGB_8888 pixels and the models' NHWC tensors, as the Python runtime's
 * backend boundary (runtime/engine/backends.py): images enter as value / 255 in [0, 1]; int8 tensors hold
 * q = clamp(round(x / scale) + zeroPoint, -128, 127) with the scale and zero point from the model
 * manifest, and are read back as real = scale * (q - zeroPoint). Outputs are clamped to [0, 1] and
 * rounded half up to 8 bits.
 */
public final class Tensors {
    private Tensors() {}

    /** ARGB pixels -> NHWC float RGB in [0, 1], {@code [h * w * 3]}. */
    public static float[] argbToFloat(int[] argb) {
        float[] out = new float[argb.length * 3];
        for (int p = 0; p < argb.length; p++) {
            out[3 * p] = ((argb[p] >>> 16) & 0xFF) / 255f;
            out[3 * p + 1] = ((argb[p] >>> 8) & 0xFF) / 255f;
            out[3 * p + 2] = (argb[p] & 0xFF) / 255f;
        }
        return out;
    }

    /** Float values -> int8 codes with the tensor's scale and zero point (round half to even, like NumPy). */
    public static byte[] quantize(float[] values, float scale, int zeroPoint) {
        if (!(scale > 0)) {
            throw new IllegalArgumentException("quantization scale must be > 0, got " + scale);
        }
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            double q = Math.rint(values[i] / scale) + zeroPoint;
            out[i] = (byte) Math.max(-128, Math.min(127, q));
        }
        return out;
    }

    /** ARGB pixels -> NHWC int8 RGB for a graph whose image input has this scale / zero point. */
    public static byte[] argbToInt8(int[] argb, float scale, int zeroPoint) {
        return quantize(argbToFloat(argb), scale, zeroPoint);
    }

    public static float[] dequantize(byte[] codes, float scale, int zeroPoint) {
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = (codes[i] - zeroPoint) * scale;
        }
        return out;
    }

    /** NHWC float RGB (nominally [0, 1]) -> opaque ARGB pixels, clamped and rounded half up. */
    public static int[] floatToArgb(float[] rgb) {
        if (rgb.length % 3 != 0) {
            throw new IllegalArgumentException("RGB tensor length " + rgb.length + " is not a multiple of 3");
        }
        int[] out = new int[rgb.length / 3];
        for (int p = 0; p < out.length; p++) {
            out[p] = 0xFF000000 | to8(rgb[3 * p]) << 16 | to8(rgb[3 * p + 1]) << 8 | to8(rgb[3 * p + 2]);
        }
        return out;
    }

    static int to8(float v) {
        float c = Math.max(0f, Math.min(1f, v));
        return (int) Math.floor(c * 255f + 0.5f);
    }
}
