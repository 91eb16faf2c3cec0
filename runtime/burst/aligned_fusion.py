"""Merge and blur-degree map of an aligned burst, streamed in strips of rows: no aligned copy of the burst.

For every strip, each used frame is resampled to the reference (its plan-level displacement upsampled
bilinearly, then a bicubic remap of the frame), its plan-level weights are upsampled the same way, and
seven running sums are kept per pixel (the reference's own samples x_r are the shift):

    d_i = x_i - x_r
    fused = x_r + sum_i w_i d_i / sum_i w_i                                   (merge weights w)
    D^2   = sum_i m_i d_i^2 / sum_i m_i - (sum_i m_i d_i / sum_i m_i)^2         (map weights m)
    R^2   = sum_i w_i d_i^2 / sum_i w_i - (sum_i w_i d_i / sum_i w_i)^2         (merge weights w)

which is formula (1)'s weighted standard deviation written around the reference: shifting by a sample
close to the mean keeps the one-pass form accurate in float32 (d is a few levels where frames agree),
unlike sum x^2 - (sum x)^2 on raw values. D is the blur-degree map of formula (1): it keeps local motion
and misalignment that the merge left out. R is the spread of the samples the merged pixel is actually made
of - the residual the nets are given: where the merge fell back to the reference alone (a moving object's
trail on a tripod) D is high but the merged pixel is the reference's, sharp, and sharpening it as blur cost
the burst path up to 5 dB on the independent bursts. Peak memory is the input burst, the outputs and a few strips;
the plan-level weights and displacements are a quarter of a frame each.
"""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.burst.dense_align import AlignmentPlan, row_grid, row_reach, upsample_rows, warp_rows
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import Fusion, map_channel_weights, run_strips
from burstdeblur.runtime.burst.robust_merge import MergeWeights
from burstdeblur.runtime.burst.weights import LUMA_RGB

STRIP_ROWS = 64  # rows per work item (a multiple of every plan factor): ~1.5 MB per accumulator at 1080p


def fuse_aligned(frames: np.ndarray, plan: AlignmentPlan, merged: MergeWeights, *, map_mode: str = "channel-mean",
                 strip_rows: int = STRIP_ROWS, threads: int | None = None) -> Fusion:
    """Fuse ``[n, H, W, C]`` frames as shot along ``plan`` with the plan-level ``merged`` weights.

    Returns:
        Fusion: ``fused`` ``[H, W, C]`` (input dtype; float32 for float input), ``blur_raw`` ``[H, W]`` float32
        (weighted std in sample units, map weights), ``residual_raw`` ``[H, W]`` float32 (the same under the
        merge weights), ``coverage`` ``[H, W]`` uint16 (frames with a positive merge weight at each pixel).
    """
    n, h, w, c = frames.shape
    if plan.size != (h, w) or merged.both.shape[:3] != (n,) + plan.small_size:
        raise BurstError(f"plan {plan.size} / weights {merged.both.shape} do not fit frames {frames.shape}")
    if strip_rows < 1:
        raise BurstError(f"strip_rows must be >= 1, got {strip_rows}")
    k = plan.factor
    cw = np.asarray(map_channel_weights(c, map_mode), np.float32)
    gray = map_mode == "gray" and c >= 3
    to_luma = np.asarray(LUMA_RGB, np.float32).reshape(1, 3)
    ref = plan.reference
    others = [i for i in range(n) if merged.used[i] and i != ref]
    out_dtype = frames.dtype if frames.dtype in (np.uint8, np.uint16) else np.dtype(np.float32)
    if frames.dtype == np.float64:
        frames = frames.astype(np.float32)  # OpenCV resamples float32, not float64
    fused = np.empty((h, w, c), out_dtype)  # [H, W, C]
    blur = np.empty((h, w), np.float32)  # [H, W]
    residual = np.empty((h, w), np.float32)  # [H, W]
    coverage = np.empty((h, w), np.uint16)  # [H, W]
    mc = 1 if gray or c == 1 else 3  # channels the map reads
    same_channels = not gray and c in (1, 3)  # the map reads d itself (no luma, no alpha dropped)
    top = float(np.iinfo(out_dtype).max) if out_dtype.kind == "u" else 0.0

    def map_part(d: np.ndarray) -> np.ndarray:  # [r, W, C] float32 -> [r, W, mc] (or [r, W] when mc = 1)
        if gray:
            return cv2.transform(np.ascontiguousarray(d[..., :3]), to_luma)
        if c == 1:
            return d
        return d if c == 3 else np.ascontiguousarray(d[..., :3])

    def spread(x: np.ndarray, channels: int) -> np.ndarray:  # [r, W] -> [r, W, channels] (or [r, W])
        return x if channels == 1 else cv2.merge([x] * channels)

    reach = {i: None if plan.disp[i] is None else row_reach(plan.disp[i]) for i in others}

    def run_strip(y0: int) -> None:
        y1 = min(h, y0 + strip_rows)
        x_ref = frames[ref, y0:y1]
        x_ref = x_ref.reshape(y1 - y0, w, c) if c > 1 else x_ref.reshape(y1 - y0, w)  # [r, W, C] or [r, W]
        wm = upsample_rows(merged.both[ref], k, y0, y1, w)  # [r, W, 2]
        sum_w = np.ascontiguousarray(wm[..., 0])  # [r, W]
        sum_m = np.ascontiguousarray(wm[..., 1])
        count = (sum_w > 0).astype(np.uint16)  # [r, W]
        acc_wd = np.zeros(x_ref.shape, np.float32)  # [r, W, C]
        acc_md = np.zeros(x_ref.shape[:2] + ((mc,) if mc > 1 else ()), np.float32)  # [r, W, mc]
        acc_mdd = np.zeros_like(acc_md)
        # sum w d over the map's channels: the merge's own sum when the map reads every channel as it is
        acc_wdm = acc_wd if same_channels else np.zeros_like(acc_md)
        acc_wdd = np.zeros_like(acc_md)
        grid = row_grid(y0, y1, w) if others else None  # [r, W, 2]
        for i in others:
            wm = upsample_rows(merged.both[i], k, y0, y1, w)  # [r, W, 2]
            wi, mi = cv2.split(wm)  # [r, W] each
            xi = warp_rows(frames[i], plan.disp[i], k, y0, y1, grid, reach[i])
            d = cv2.subtract(xi.reshape(x_ref.shape), x_ref, dtype=cv2.CV_32F)  # [r, W, C]
            wd = cv2.multiply(d, spread(wi, c))  # [r, W, C]
            cv2.accumulate(wd, acc_wd)
            dm = map_part(d)
            md = cv2.multiply(dm, spread(mi, mc))
            cv2.accumulate(md, acc_md)
            cv2.accumulateProduct(md, dm, acc_mdd)
            wdm = map_part(wd)  # the map's channels of w d (map_part is linear)
            if not same_channels:
                cv2.accumulate(wdm, acc_wdm)
            cv2.accumulateProduct(wdm, dm, acc_wdd)
            cv2.accumulate(wi, sum_w)
            cv2.accumulate(mi, sum_m)
            count += wi > 0
        mean = cv2.multiply(acc_wd, spread(cv2.divide(1.0, sum_w), c))  # [r, W, C]
        mean = cv2.add(mean, x_ref, dtype=cv2.CV_32F)
        if out_dtype.kind == "u":
            mean += 0.5  # round half up; the cast truncates
            # Bicubic resampling may overshoot the range a little at hard edges: saturate, as an 8-bit remap would.
            np.clip(mean, 0, top, out=mean)
        fused[y0:y1] = mean.reshape(y1 - y0, w, c)
        for out, s1, s2, total in ((blur, acc_md, acc_mdd, sum_m), (residual, acc_wdm, acc_wdd, sum_w)):
            inv = spread(cv2.divide(1.0, total), mc)
            e1 = cv2.multiply(s1, inv)  # E[d]
            var = cv2.multiply(s2, inv)  # E[d^2]
            var -= cv2.multiply(e1, e1)
            std = cv2.sqrt(cv2.max(var, 0.0))  # [r, W, mc] or [r, W]
            out[y0:y1] = std if mc == 1 else cv2.transform(std, cw.reshape(1, 3)).reshape(y1 - y0, w)
        coverage[y0:y1] = count

    strip_rows = max(k, strip_rows - strip_rows % k)  # strips start on plan rows
    run_strips(run_strip, h, strip_rows, threads)
    return Fusion(fused=fused, blur_raw=blur, coverage=coverage, residual_raw=residual)
