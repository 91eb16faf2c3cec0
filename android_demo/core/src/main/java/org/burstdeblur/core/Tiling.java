package org.burstdeblur.core;

/**
 * Overlapping tiles with feathered blending, as runtime/engine/tiling.py: tile origins are multiples of 8; of
 * each tile's output, {@code margin} px along edges that border another tile are dropped and the next
 * {@code feather} px are blended linearly; images are padded by reflection up to tile + a multiple of 8
 * and cropped back. Works on NHWC float images {@code [h * w * c]}.
 */
public final class Tiling {
    public interface TileFunction {
        /** {@code [tile * tile * cIn]} -> {@code [tile * tile * cOut]}. */
        float[] run(float[] tile);
    }

    public static final int ALIGN = 8;
    public final int tile;
    public final int margin;
    public final int feather;

    public Tiling(int tile, int margin, int feather) {
        if (tile < ALIGN || tile % ALIGN != 0) {
            throw new IllegalArgumentException("tile size must be a positive multiple of 8, got " + tile);
        }
        if (margin < 0 || feather < 0 || 2 * (margin + feather) >= tile) {
            throw new IllegalArgumentException("margin " + margin + " + feather " + feather + " leave nothing of a "
                    + tile + " px tile");
        }
        this.tile = tile;
        this.margin = margin;
        this.feather = feather;
    }

    public int step() {
        return Math.max(ALIGN, (tile - 2 * margin - feather) / ALIGN * ALIGN);
    }

    public int[] origins(int length) {
        if (length <= tile) {
            return new int[] {0};
        }
        int last = length - tile;
        int count = (last + step() - 1) / step();
        int[] out = new int[count + 1];
        for (int i = 0; i < count; i++) {
            out[i] = i * step();
        }
        out[count] = last;
        return out;
    }

    float[] ramp(boolean startOpen, boolean endOpen) {
        float[] w = new float[tile];
        java.util.Arrays.fill(w, 1f);
        if (startOpen) {
            for (int i = 0; i < margin; i++) {
                w[i] = 0f;
            }
            for (int i = 0; i < feather; i++) {
                w[margin + i] = (i + 0.5f) / feather;
            }
        }
        if (endOpen) {
            for (int i = 0; i < margin; i++) {
                w[tile - 1 - i] = 0f;
            }
            for (int i = 0; i < feather; i++) {
                int k = tile - margin - feather + i;
                w[k] = Math.min(w[k], (feather - i - 0.5f) / feather);
            }
        }
        return w;
    }

    static int paddedSize(int length, int tile) {
        if (length <= tile) {
            return tile;
        }
        return tile + (length - tile + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** NumPy's "reflect" (edge not repeated) when the pad is shorter than the axis, else "symmetric". */
    static int mirror(int i, int length, boolean symmetric) {
        if (i < length) {
            return i;
        }
        if (symmetric) {
            int period = 2 * length;
            int k = i % period;
            return k < length ? k : period - 1 - k;
        }
        int period = 2 * (length - 1);
        int k = i % period;
        return k < length ? k : period - k;
    }

    public float[] run(float[] image, int width, int height, int cIn, int cOut, TileFunction fn) {
        if (image.length != width * height * cIn) {
            throw new IllegalArgumentException("image has " + image.length + " values, expected " + width * height * cIn);
        }
        int ph = paddedSize(height, tile);
        int pw = paddedSize(width, tile);
        boolean symmetric = ph - height >= height || pw - width >= width;
        int[] rows = origins(ph);
        int[] cols = origins(pw);
        float[] acc = new float[ph * pw * cOut];
        float[] weight = new float[ph * pw];
        float[] in = new float[tile * tile * cIn];
        for (int i = 0; i < rows.length; i++) {
            float[] wy = ramp(i > 0, i < rows.length - 1);
            for (int j = 0; j < cols.length; j++) {
                float[] wx = ramp(j > 0, j < cols.length - 1);
                for (int y = 0; y < tile; y++) {
                    int sy = mirror(rows[i] + y, height, symmetric);
                    for (int x = 0; x < tile; x++) {
                        int sx = mirror(cols[j] + x, width, symmetric);
                        System.arraycopy(image, (sy * width + sx) * cIn, in, (y * tile + x) * cIn, cIn);
                    }
                }
                float[] out = fn.run(in);
                if (out.length != tile * tile * cOut) {
                    throw new IllegalStateException("tile function returned " + out.length + " values, expected "
                            + tile * tile * cOut);
                }
                for (int y = 0; y < tile; y++) {
                    for (int x = 0; x < tile; x++) {
                        float w = wy[y] * wx[x];
                        int p = (rows[i] + y) * pw + cols[j] + x;
                        for (int c = 0; c < cOut; c++) {
                            acc[p * cOut + c] += out[(y * tile + x) * cOut + c] * w;
                        }
                        weight[p] += w;
                    }
                }
            }
        }
        float[] result = new float[width * height * cOut];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float w = weight[y * pw + x];
                if (!(w > 0f)) {
                    throw new IllegalStateException("tiling left pixel (" + x + ", " + y + ") uncovered");
                }
                for (int c = 0; c < cOut; c++) {
                    result[(y * width + x) * cOut + c] = acc[(y * pw + x) * cOut + c] / w;
                }
            }
        }
        return result;
    }
}
