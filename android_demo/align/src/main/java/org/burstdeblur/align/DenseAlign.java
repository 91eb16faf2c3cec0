package org.burstdeblur.align;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.opencv.calib3d.Calib3d;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfFloat;
import org.opencv.core.MatOfPoint2f;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;
import org.opencv.video.DISOpticalFlow;
import org.opencv.video.Video;

/**
 * The burst path's dense alignment through OpenCV's Java API (the same API as OpenCV's Android SDK), as
 * runtime/burst/dense_align.py's plan_alignment with its default settings (plan factor 2).
 *
 * <p>Per frame against the reference, on the plan level (the luma block-averaged 2 x 2): phase correlation
 * as a start, a first DIS pass and a homography fitted to it by RANSAC, the identity kept unless the
 * homography lowers a truncated photometric cost, a Lucas-Kanade polish, a second DIS pass whose residual
 * flow is used only where the global warp leaves a difference beyond noise and the flow halves it. Output:
 * per frame a plan-level displacement map in full-resolution px (null for a frame used as shot), its
 * luma resampled to the reference and its coverage, which is what {@code RobustMerge} reads.
 */
public final class DenseAlign {
    static final int COARSE_SIDE = 400;
    static final int GRID_STEP = 8;
    static final double RANSAC_PX = 1.0;
    static final double IDENTITY_MARGIN = 0.002;
    static final int MAX_POINTS = 600;
    static final int GLOBAL_LEVEL_MIN_SIDE = 256;
    public static final String[] MODELS = {"reference", "identity", "homography"};

    public final int planWidth;
    public final int planHeight;
    public final float[][] disp; // [n][ph * pw * 2] or null
    public final float[][] lumas; // [n][ph * pw]
    public final boolean[][] valid; // [n][ph * pw]
    public final int[] models; // index into MODELS

    private DenseAlign(int pw, int ph, float[][] disp, float[][] lumas, boolean[][] valid, int[] models) {
        this.planWidth = pw;
        this.planHeight = ph;
        this.disp = disp;
        this.lumas = lumas;
        this.valid = valid;
        this.models = models;
    }

    /** Plan-level luma (8-bit levels, float) of an ARGB frame: OpenCV's 8-bit gray, then 2 x 2 block means. */
    public static Mat planLuma(int[] argb, int width, int height) {
        return planLuma(fullLuma(argb, width, height), width, height);
    }

    /** {@link #planLuma} of a full-resolution luma ({@link #fullLuma}); {@code luma} may be padded in place. */
    static Mat planLuma(Mat luma, int width, int height) {
        int pw = (width + 1) / 2;
        int ph = (height + 1) / 2;
        if (pw * 2 != width || ph * 2 != height) {
            Core.copyMakeBorder(luma, luma, 0, ph * 2 - height, 0, pw * 2 - width, Core.BORDER_REPLICATE);
        }
        Mat small = new Mat();
        Imgproc.resize(luma, small, new Size(pw, ph), 0, 0, Imgproc.INTER_AREA);
        return small;
    }

    /**
     * Mean Sobel energy gx^2 + gy^2 of a frame's full-resolution 8-bit luma ({@link #fullLuma};
     * dense_align.PlanViews full_energy): the sharpness the reference choice reads.
     */
    static double fullEnergy(Mat luma) {
        Mat gx = new Mat();
        Mat gy = new Mat();
        Imgproc.Sobel(luma, gx, CvType.CV_32F, 1, 0, 3);
        Imgproc.Sobel(luma, gy, CvType.CV_32F, 0, 1, 3);
        return (Core.norm(gx, Core.NORM_L2SQR) + Core.norm(gy, Core.NORM_L2SQR)) / luma.total();
    }

    /** Full-resolution luma (8-bit levels, float) of an ARGB frame: OpenCV's 8-bit gray. */
    static Mat fullLuma(int[] argb, int width, int height) {
        byte[] rgb = new byte[width * height * 3];
        for (int p = 0; p < argb.length; p++) {
            rgb[3 * p] = (byte) (argb[p] >>> 16);
            rgb[3 * p + 1] = (byte) (argb[p] >>> 8);
            rgb[3 * p + 2] = (byte) argb[p];
        }
        Mat color = new Mat(height, width, CvType.CV_8UC3);
        color.put(0, 0, rgb);
        Mat gray = new Mat();
        Imgproc.cvtColor(color, gray, Imgproc.COLOR_RGB2GRAY);
        Mat luma = new Mat();
        gray.convertTo(luma, CvType.CV_32F);
        return luma;
    }

    /**
     * Align ARGB frames to {@code frames[reference]}.
     *
     * @param noiseSigma8 noise std of the reference's full-resolution luma, 8-bit levels
     */
    public static DenseAlign align(int[][] frames, int width, int height, int reference, double noiseSigma8) {
        Mat[] small = new Mat[frames.length];
        for (int i = 0; i < frames.length; i++) {
            small[i] = planLuma(frames[i], width, height);
        }
        return align(small, width, height, reference, noiseSigma8);
    }

    /** {@link #align} from the frames' plan-level lumas ({@link #planLuma}; not changed), when the caller has them. */
    public static DenseAlign align(Mat[] small, int width, int height, int reference, double noiseSigma8) {
        int n = small.length;
        int pw = (width + 1) / 2;
        int ph = (height + 1) / 2;
        Mat refSmall = u8(small[reference]);
        double cs = Math.min(1.0, COARSE_SIDE / (double) Math.max(pw, ph));
        Mat refCoarse = cs < 1 ? resizeArea(refSmall, cs) : refSmall;
        refCoarse = lowpass(refCoarse);
        MatOfPoint2f points = texturedPoints(refSmall);
        double tau = 3.0 * noiseSigma8 / Math.max(1.0, 1.0 / cs / 0.5) + 6.0;
        int g = Math.min(pw, ph) >= GLOBAL_LEVEL_MIN_SIDE ? 2 : 1;
        Mat refLevel = g > 1 ? resizeTo(refSmall, (pw + 1) / 2, (ph + 1) / 2) : refSmall;
        Mat toPlan = mat3(g, 0, (g - 1) / 2.0, 0, g, (g - 1) / 2.0);
        Mat fromPlan = toPlan.inv();
        Point[] pts = points.toArray();
        float[][] disp = new float[n][];
        float[][] lumas = new float[n][];
        boolean[][] valid = new boolean[n][];
        int[] models = new int[n];
        for (int i = 0; i < n; i++) {
            lumas[i] = floats(small[i]);
            valid[i] = new boolean[pw * ph];
            Arrays.fill(valid[i], true);
            if (i == reference) {
                models[i] = 0;
                continue;
            }
            DISOpticalFlow dis = DISOpticalFlow.create(DISOpticalFlow.PRESET_ULTRAFAST); // fresh per frame
            Mat frameSmall = u8(small[i]);
            Mat coarse = lowpass(cs < 1 ? resizeTo(frameSmall, refCoarse.cols(), refCoarse.rows()) : frameSmall);
            double[] shift = phaseShift(refCoarse, coarse, cs);
            Mat level = g > 1 ? resizeTo(frameSmall, refLevel.cols(), refLevel.rows()) : frameSmall;
            Mat flow = new Mat();
            dis.calc(refLevel, warp(level, mat3(1, 0, shift[0] / g, 0, 1, shift[1] / g)), flow);
            Core.add(flow, new Scalar(shift[0] / g, shift[1] / g), flow);
            Point[] levelPts = new Point[pts.length];
            for (int k = 0; k < pts.length; k++) {
                levelPts[k] = new Point(Math.floor(pts[k].x / g), Math.floor(pts[k].y / g));
            }
            Mat homLevel = fitHomography(levelPts, flow);
            double costId = truncatedCost(refCoarse, coarse, Mat.eye(3, 3, CvType.CV_64F), tau);
            Mat glob = Mat.eye(3, 3, CvType.CV_64F);
            models[i] = 1;
            if (homLevel != null) {
                Mat homSmall = mul(mul(toPlan, homLevel), fromPlan);
                Mat scale = mat3(cs, 0, 0, 0, cs, 0);
                double costH = truncatedCost(refCoarse, coarse, mul(mul(scale, homSmall), scale.inv()), tau);
                if (costH < costId - IDENTITY_MARGIN) {
                    models[i] = 2;
                    glob = homSmall;
                }
            }
            Mat warped = frameSmall;
            if (models[i] == 2) {
                warped = warp(frameSmall, glob);
                Mat polish = trackHomography(refSmall, warped, points);
                if (polish != null) {
                    glob = mul(glob, polish);
                    warped = warp(frameSmall, glob);
                }
            }
            Mat residual = new Mat();
            dis.calc(refSmall, warped, residual);
            Mat grid = grid(pw, ph);
            Mat dGlob = boxMean(absDiff(warped, refSmall));
            Mat localWarped = new Mat();
            Mat gridPlus = new Mat();
            Core.add(grid, residual, gridPlus);
            Imgproc.remap(warped, localWarped, gridPlus, new Mat(), Imgproc.INTER_LINEAR, Core.BORDER_REPLICATE);
            float[] dg = floats(dGlob);
            float[] dl = floats(boxMean(absDiff(localWarped, refSmall)));
            float tLocal = (float) (3.0 * noiseSigma8 + 6.0);
            boolean[] local = new boolean[pw * ph];
            boolean anyLocal = false;
            for (int p = 0; p < local.length; p++) {
                local[p] = dg[p] > tLocal && dl[p] < 0.5f * dg[p];
                anyLocal |= local[p];
            }
            float[] map;
            if (models[i] == 1 && !anyLocal) {
                map = floats(grid);
            } else {
                Mat mapMat = new Mat();
                Core.perspectiveTransform(grid, mapMat, glob);
                map = floats(mapMat);
                float[] res = floats(residual);
                for (int p = 0; p < local.length; p++) {
                    if (local[p]) {
                        map[2 * p] += res[2 * p];
                        map[2 * p + 1] += res[2 * p + 1];
                    }
                }
                Mat m = new Mat(ph, pw, CvType.CV_32FC2);
                m.put(0, 0, map);
                Mat resampled = new Mat();
                Imgproc.remap(small[i], resampled, m, new Mat(), Imgproc.INTER_CUBIC, Core.BORDER_REPLICATE);
                lumas[i] = floats(resampled);
                float[] gr = floats(grid);
                disp[i] = new float[map.length];
                for (int q = 0; q < map.length; q++) {
                    disp[i][q] = (map[q] - gr[q]) * 2.0f;
                }
            }
            valid[i] = coverage(map, pw, ph);
        }
        return new DenseAlign(pw, ph, disp, lumas, valid, models);
    }

    /**
     * A frame resampled to the reference along its plan-level displacement (upsampled bilinearly x2, as the
     * Python runtime's strips): unrounded RGB samples in 8-bit units, {@code float[width * height * 3]},
     * bicubic, border replicated; the frame's own samples when it did not move ({@code disp == null}).
     */
    public float[] resample(int[] argb, float[] frameDisp, int width, int height) {
        float[] rgb = rgb8(argb);
        if (frameDisp == null) {
            return rgb;
        }
        Mat small = new Mat(planHeight, planWidth, CvType.CV_32FC2);
        small.put(0, 0, frameDisp);
        Mat up = new Mat();
        Imgproc.resize(small, up, new Size(), 2, 2, Imgproc.INTER_LINEAR);
        Mat map = new Mat();
        Core.add(up.submat(0, height, 0, width), grid(width, height), map);
        Mat frame = new Mat(height, width, CvType.CV_32FC3);
        frame.put(0, 0, rgb);
        Mat out = new Mat();
        Imgproc.remap(frame, out, map, new Mat(), Imgproc.INTER_CUBIC, Core.BORDER_REPLICATE);
        out.get(0, 0, rgb);
        return rgb;
    }

    /** ARGB pixels -> {@code float[3 * pixels]} RGB samples in 8-bit units. */
    public static float[] rgb8(int[] argb) {
        float[] rgb = new float[argb.length * 3];
        for (int p = 0; p < argb.length; p++) {
            rgb[3 * p] = (argb[p] >>> 16) & 0xFF;
            rgb[3 * p + 1] = (argb[p] >>> 8) & 0xFF;
            rgb[3 * p + 2] = argb[p] & 0xFF;
        }
        return rgb;
    }

    /** Inside the plan, one plan px of margin taken off (3 x 3 erosion, border replicated). */
    static boolean[] coverage(float[] map, int pw, int ph) {
        boolean[] inside = new boolean[pw * ph];
        for (int p = 0; p < inside.length; p++) {
            float x = map[2 * p];
            float y = map[2 * p + 1];
            inside[p] = x >= 0 && x <= pw - 1 && y >= 0 && y <= ph - 1;
        }
        boolean[] out = new boolean[inside.length];
        for (int y = 0; y < ph; y++) {
            for (int x = 0; x < pw; x++) {
                boolean all = true;
                for (int dy = -1; dy <= 1 && all; dy++) {
                    for (int dx = -1; dx <= 1 && all; dx++) {
                        int yy = Math.min(ph - 1, Math.max(0, y + dy));
                        int xx = Math.min(pw - 1, Math.max(0, x + dx));
                        all = inside[yy * pw + xx];
                    }
                }
                out[y * pw + x] = all;
            }
        }
        return out;
    }

    static MatOfPoint2f texturedPoints(Mat gray) {
        Mat eig = new Mat();
        Imgproc.cornerMinEigenVal(gray, eig, 7);
        List<Point> pts = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        float[] e = floats(eig);
        for (int y = GRID_STEP / 2; y < gray.rows(); y += GRID_STEP) {
            for (int x = GRID_STEP / 2; x < gray.cols(); x += GRID_STEP) {
                pts.add(new Point(x, y));
                scores.add(e[y * gray.cols() + x]);
            }
        }
        if (pts.size() < 8) {
            return new MatOfPoint2f(pts.toArray(new Point[0]));
        }
        double threshold = percentile(scores, 50.0);
        List<Point> keep = new ArrayList<>();
        for (int k = 0; k < pts.size(); k++) {
            if (scores.get(k) >= threshold) {
                keep.add(pts.get(k));
            }
        }
        if (keep.size() > MAX_POINTS) { // evenly thinned, as np.linspace(0, size - 1, MAX_POINTS).astype(int)
            List<Point> thin = new ArrayList<>();
            for (int k = 0; k < MAX_POINTS; k++) {
                thin.add(keep.get((int) ((double) k * (keep.size() - 1) / (MAX_POINTS - 1))));
            }
            keep = thin;
        }
        return new MatOfPoint2f(keep.toArray(new Point[0]));
    }

    /** NumPy's default (linear) percentile. */
    static double percentile(List<Float> values, double q) {
        float[] v = new float[values.size()];
        for (int k = 0; k < v.length; k++) {
            v[k] = values.get(k);
        }
        Arrays.sort(v);
        double pos = q / 100.0 * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(v.length - 1, lo + 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    static Mat fitHomography(Point[] pts, Mat flow) {
        if (pts.length < 8) {
            return null;
        }
        Point[] dst = new Point[pts.length];
        float[] f = new float[2];
        for (int k = 0; k < pts.length; k++) {
            flow.get((int) pts[k].y, (int) pts[k].x, f);
            dst[k] = new Point(pts[k].x + f[0], pts[k].y + f[1]);
        }
        return robustHomography(pts, dst);
    }

    static Mat trackHomography(Mat ref, Mat frame, MatOfPoint2f points) {
        if (points.rows() < 8) {
            return null;
        }
        MatOfPoint2f moved = new MatOfPoint2f();
        MatOfByte status = new MatOfByte();
        MatOfFloat err = new MatOfFloat();
        Video.calcOpticalFlowPyrLK(ref, frame, points, moved, status, err, new Size(15, 15), 2);
        byte[] ok = status.toArray();
        Point[] src = points.toArray();
        Point[] dst = moved.toArray();
        List<Point> a = new ArrayList<>();
        List<Point> b = new ArrayList<>();
        for (int k = 0; k < ok.length; k++) {
            if (ok[k] == 1) {
                a.add(src[k]);
                b.add(dst[k]);
            }
        }
        if (a.size() < 8) {
            return null;
        }
        return robustHomography(a.toArray(new Point[0]), b.toArray(new Point[0]));
    }

    /** RANSAC (1 px, 500 iterations, confidence 0.995) then least squares on the inliers. */
    static Mat robustHomography(Point[] src, Point[] dst) {
        MatOfPoint2f s = new MatOfPoint2f(src);
        MatOfPoint2f d = new MatOfPoint2f(dst);
        Mat mask = new Mat();
        Mat hom = Calib3d.findHomography(s, d, Calib3d.RANSAC, RANSAC_PX, mask, 500, 0.995);
        if (hom.empty() || Core.countNonZero(mask) < 8) {
            return null;
        }
        byte[] m = new byte[(int) mask.total()];
        mask.get(0, 0, m);
        List<Point> a = new ArrayList<>();
        List<Point> b = new ArrayList<>();
        for (int k = 0; k < m.length; k++) {
            if (m[k] != 0) {
                a.add(src[k]);
                b.add(dst[k]);
            }
        }
        Mat polished = Calib3d.findHomography(new MatOfPoint2f(a.toArray(new Point[0])),
                new MatOfPoint2f(b.toArray(new Point[0])), 0);
        return polished.empty() ? hom : polished;
    }

    static double[] phaseShift(Mat ref, Mat frame, double cs) {
        Mat window = new Mat();
        Imgproc.createHanningWindow(window, ref.size(), CvType.CV_32F);
        double[] response = new double[1];
        Point p = Imgproc.phaseCorrelate(ref.clone(), frame.clone(), window, response);
        if (response[0] < 0.05 || Double.isNaN(p.x + p.y) || Double.isInfinite(p.x + p.y)) {
            return new double[] {0, 0};
        }
        return new double[] {p.x / cs, p.y / cs};
    }

    static double truncatedCost(Mat ref, Mat frame, Mat hom, double tau) {
        Mat warped = new Mat();
        Imgproc.warpPerspective(frame, warped, hom, ref.size(), Imgproc.INTER_LINEAR | Imgproc.WARP_INVERSE_MAP,
                Core.BORDER_REPLICATE);
        float[] a = floats(warped);
        float[] b = floats(ref);
        double sum = 0;
        for (int p = 0; p < a.length; p++) {
            float d = (a[p] - b[p]) / (float) tau;
            sum += Math.min(d * d, 1.0f);
        }
        return sum / a.length;
    }

    static Mat warp(Mat image, Mat hom) {
        Mat out = new Mat();
        Imgproc.warpPerspective(image, out, hom, image.size(), Imgproc.INTER_LINEAR | Imgproc.WARP_INVERSE_MAP,
                Core.BORDER_REPLICATE);
        return out;
    }

    static Mat lowpass(Mat gray) {
        Mat f = new Mat();
        gray.convertTo(f, CvType.CV_32F);
        Mat out = new Mat();
        Imgproc.GaussianBlur(f, out, new Size(0, 0), 1.5);
        return out;
    }

    static Mat absDiff(Mat a, Mat b) {
        Mat d = new Mat();
        Core.absdiff(a, b, d);
        return d;
    }

    static Mat boxMean(Mat src) {
        Mat out = new Mat();
        int k = 2 * GRID_STEP + 1;
        Imgproc.boxFilter(src, out, CvType.CV_32F, new Size(k, k));
        return out;
    }

    static Mat u8(Mat luma) {
        Mat out = new Mat();
        Core.convertScaleAbs(luma, out);
        return out;
    }

    static Mat resizeArea(Mat src, double f) {
        Mat out = new Mat();
        Imgproc.resize(src, out, new Size(), f, f, Imgproc.INTER_AREA);
        return out;
    }

    static Mat resizeTo(Mat src, int w, int h) {
        Mat out = new Mat();
        Imgproc.resize(src, out, new Size(w, h), 0, 0, Imgproc.INTER_AREA);
        return out;
    }

    static Mat grid(int w, int h) {
        float[] g = new float[w * h * 2];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                g[2 * (y * w + x)] = x;
                g[2 * (y * w + x) + 1] = y;
            }
        }
        Mat m = new Mat(h, w, CvType.CV_32FC2);
        m.put(0, 0, g);
        return m;
    }

    static Mat mat3(double a, double b, double c, double d, double e, double f) {
        Mat m = Mat.eye(3, 3, CvType.CV_64F);
        m.put(0, 0, a, b, c, d, e, f, 0, 0, 1);
        return m;
    }

    static Mat mul(Mat a, Mat b) {
        Mat out = new Mat();
        Core.gemm(a, b, 1.0, new Mat(), 0.0, out);
        return out;
    }

    static float[] floats(Mat m) {
        Mat f = m;
        if (m.depth() != CvType.CV_32F) {
            f = new Mat();
            m.convertTo(f, CvType.CV_32F);
        }
        float[] out = new float[(int) (f.total() * f.channels())];
        f.get(0, 0, out);
        return out;
    }
}
