"""Pixel-wise weighted fusion of a burst and its blur-degree map (patent formula (1)).

For every pixel the n co-located samples x_i with weights w_i (sum 1) give

    fused(x, y) = sum_i w_i x_i                              (the target image)
    D(x, y)     = sqrt(sum_i w_i (x_i - fused)^2)            (blur degree)

which for equal weights is the population standard deviation of formula (1).
Colour frames are reduced to one map either per channel then averaged
('channel-mean', or 'channel-luma' with BT.601 channel weights) or as the
standard deviation of the luma ('gray'). Alpha never enters the map.

Speed: the image is processed in strips of rows small enough to stay in cache,
on a few threads (NumPy releases the GIL). Equal weights on integer frames take
an exact integer path: S = sum x_i and Q = sum x_i^2 are accumulated without
rounding, and n^2 * var = n*Q - S^2 (>= 0 by Cauchy-Schwarz) is exact, so the
only rounding is the final square root. Other weights take a two-pass float
path (mean first, then squared deviations), which avoids the cancellation of
the one-pass E[x^2] - E[x]^2 form in float32.

This module imports NumPy only.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.weights import LUMA_RGB, normalize_weights

MAP_MODES = ("channel-mean", "channel-luma", "gray")
DEFAULT_STRIP_ROWS = 24  # ~2.2 MB of integer scratch per thread at 1080p RGB: under one frame for 2 threads
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()
# Scratch buffers live per worker thread and the workers live as long as the
# process, so repeated fusions (a camera preview, a benchmark) reuse them
# instead of faulting in fresh pages each call.
_SCRATCH = threading.local()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="burstdeblur-fusion")
        return _POOLS[workers]


def parallel_map(fn, items, threads: int | None) -> list:
    """``[fn(x) for x in items]`` on ``threads`` workers (default min(4, CPUs); 1 runs in this thread).
    For independent items only (frames, strips, row bands): the result never depends on the thread count.
    OpenCV and NumPy release the GIL, so threads run in parallel."""
    workers = threads if threads is not None else min(4, os.cpu_count() or 1)
    if workers <= 1:
        return [fn(x) for x in items]
    return list(_pool(workers).map(fn, items))


def run_strips(run_strip, height: int, strip_rows: int, threads: int | None) -> None:
    """``run_strip(y0)`` for every strip of rows (see parallel_map)."""
    parallel_map(run_strip, range(0, height, strip_rows), threads)


@dataclass(frozen=True)
class Fusion:
    fused: np.ndarray  # [H, W, C], input dtype (float32 for float input)
    blur_raw: np.ndarray  # [H, W] float32, standard deviation in input sample units
    coverage: np.ndarray | None  # [H, W] uint16 frames used per pixel; None = all n everywhere
    # [H, W] float32: the weighted std under the *merge* weights, when they differ from the map's (the robust
    # merge): the spread of the samples each merged pixel is made of. None = the same as blur_raw.
    residual_raw: np.ndarray | None = None


def map_channel_weights(channels: int, map_mode: str) -> np.ndarray:
    """Weights of the colour channels in the map (alpha excluded)."""
    if map_mode not in MAP_MODES:
        raise BurstError(f"unknown blur-map mode {map_mode!r}; choose one of {', '.join(MAP_MODES)}")
    if channels == 1:
        return np.ones(1)
    if map_mode == "channel-luma":
        return np.array(LUMA_RGB)
    return np.full(3, 1.0 / 3.0)


def fuse_and_blur_map(
    frames: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    map_mode: str = "channel-mean",
    valid: np.ndarray | None = None,
    strip_rows: int = DEFAULT_STRIP_ROWS,
    threads: int | None = None,
) -> Fusion:
    """Fuse ``[n, H, W, C]`` frames and compute the per-pixel blur-degree map.

    Args:
        frames: ``[n, H, W, C]`` uint8, uint16 or float32/float64, n >= 2, C in {1, 3, 4}.
        weights: None for equal weights, ``[n]`` per-frame or ``[n, H, W]`` per-pixel
            weights (normalised here).
        map_mode: 'channel-mean', 'channel-luma' or 'gray'.
        valid: optional ``[n, H, W]`` bool: which frames cover each pixel (after
            registration). Pixels not covered by every frame are fused from the
            frames that cover them, with their weights renormalised, and counted
            in ``Fusion.coverage``; pixels no frame covers get 0 in both outputs.
        strip_rows: rows per work item.
        threads: worker threads; default min(4, cpu count).
    Returns:
        Fusion with the fused image ``[H, W, C]`` and the raw map ``[H, W]``.
    """
    _check_frames(frames)
    n, h, w, c = frames.shape
    cw = map_channel_weights(c, map_mode)
    gray = map_mode == "gray" and c >= 3
    if weights is not None:
        weights = normalize_weights(weights, n, (h, w))
    if valid is not None and valid.shape != (n, h, w):
        raise BurstError(f"valid mask has shape {valid.shape}, expected {(n, h, w)}")
    if strip_rows < 1:
        raise BurstError(f"strip_rows must be >= 1, got {strip_rows}")

    out_dtype = frames.dtype if frames.dtype in (np.uint8, np.uint16) else np.dtype(np.float32)
    fused = np.empty((h, w, c), out_dtype)  # [H, W, C]
    blur = np.empty((h, w), np.float32)  # [H, W]
    # uint16 sums of uint8 frames hold n <= 256 (255 * 257 = 65535); beyond, take the float path.
    integer_path = weights is None and not gray and (frames.dtype == np.uint16 or (frames.dtype == np.uint8 and n <= 256))

    def run_strip(y0: int) -> None:
        y1 = min(h, y0 + strip_rows)
        if integer_path:
            _strip_equal_integer(frames[:, y0:y1], fused[y0:y1], blur[y0:y1], cw, _SCRATCH)
        else:
            strip_w = _strip_weights(weights, n, y0, y1)
            mean, bmap = weighted_stats(frames[:, y0:y1], strip_w, cw, gray)
            _store_mean(mean, fused[y0:y1])
            blur[y0:y1] = bmap

    run_strips(run_strip, h, strip_rows, threads)

    coverage = None
    if valid is not None:
        coverage = valid.sum(axis=0, dtype=np.uint16)  # [H, W]
        _fuse_partially_covered(frames, weights, valid, coverage, cw, gray, fused, blur)
    return Fusion(fused=fused, blur_raw=blur, coverage=coverage)


def _check_frames(frames: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4:
        shape = getattr(frames, "shape", None)
        raise BurstError(f"frames must be an array [n, H, W, C], got shape {shape}")
    n, h, w, c = frames.shape
    if n < 2:
        raise BurstError(f"a burst needs n >= 2 frames, got n={n}")
    if h == 0 or w == 0:
        raise BurstError(f"zero-sized frames: H={h}, W={w}")
    if c not in (1, 3, 4):
        raise BurstError(f"frames have {c} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)")
    if frames.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise BurstError(f"frames have dtype {frames.dtype}; expected uint8, uint16 or float")


def _buffers(scratch: threading.local, shape: tuple[int, ...], dtype: np.dtype) -> tuple[np.ndarray, ...]:
    key = (shape, dtype)
    if getattr(scratch, "key", None) != key:
        if dtype == np.uint8:
            sum_t, sq_t, acc_t, flt_t = np.uint16, np.uint16, np.uint32, np.float32
        else:  # uint16: x^2 needs 32 bits, n*Q needs 64
            sum_t, sq_t, acc_t, flt_t = np.uint32, np.uint32, np.uint64, np.float64
        scratch.bufs = (np.empty(shape, sum_t), np.empty(shape, acc_t), np.empty(shape, sq_t),
                        np.empty(shape, acc_t), np.empty(shape, flt_t))
        scratch.key = key
    return scratch.bufs


def _strip_equal_integer(s: np.ndarray, fused: np.ndarray, blur: np.ndarray,
                         cw: np.ndarray, scratch: threading.local) -> None:
    """Exact equal-weight statistics of an integer strip ``[n, r, W, C]``."""
    n = s.shape[0]
    total, sumsq, square, total_sq, flt = _buffers(scratch, s.shape[1:], s.dtype)
    np.sum(s, axis=0, dtype=total.dtype, out=total)  # S  [r, W, C]
    sumsq[...] = 0
    for i in range(n):  # Q = sum x_i^2, one frame at a time to stay in cache
        np.multiply(s[i], s[i], out=square, dtype=square.dtype)
        np.add(sumsq, square, out=sumsq)
    # n^2 var = n Q - S^2, exact in integers and never negative.
    np.multiply(total, total, out=total_sq, dtype=total_sq.dtype)
    # fused = round-half-up(S / n). Bursts of 2^k frames (4, 8: the usual phone
    # bursts) take an add and shift in place on S, which is no longer needed;
    # other n go through float, whose cast truncates after adding 0.5.
    if n & (n - 1) == 0 and total.dtype == np.uint16:  # n <= 256: 255 n + n/2 fits 16 bits
        np.add(total, n // 2, out=total)
        np.right_shift(total, n.bit_length() - 1, out=total)
        fused[...] = total
    else:
        np.multiply(total, 1.0 / n, out=flt)
        flt += 0.5
        fused[...] = flt
    np.multiply(sumsq, n, out=sumsq)
    np.subtract(sumsq, total_sq, out=sumsq)
    flt[...] = sumsq
    np.sqrt(flt, out=flt)  # n * std per channel  [r, W, C]
    # Explicit channel adds into the output: a reduction over a length-3 last
    # axis is ~10x slower, and temporaries would cost memory and time.
    if len(cw) == 1:
        np.multiply(flt[..., 0], cw[0] / n, out=blur)
        return
    if not np.all(cw == cw[0]):
        np.multiply(flt, cw / cw[0], out=flt)
    np.add(flt[..., 0], flt[..., 1], out=blur)
    for k in range(2, len(cw)):
        np.add(blur, flt[..., k], out=blur)
    np.multiply(blur, cw[0] / n, out=blur)


def _strip_weights(weights: np.ndarray | None, n: int, y0: int, y1: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    if weights.ndim == 1:
        return weights
    return weights[:, y0:y1]  # [n, r, W]


def weighted_stats(x: np.ndarray, w: np.ndarray, cw: np.ndarray, gray: bool) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass weighted mean and blur map of ``[n, ..., C]`` samples.

    Args:
        x: ``[n, ..., C]`` samples of any dtype.
        w: ``[n]`` or ``[n, ...]`` weights summing to one over n.
        cw: colour-channel weights of the map.
        gray: map from the std of BT.601 luma instead of per-channel stds.
    Returns:
        mean ``[..., C]`` (float) and map ``[...]`` float32.
    """
    ct = np.float32 if x.dtype == np.uint8 else np.float64
    n = x.shape[0]
    w = np.asarray(w, ct).reshape(w.shape + (1,) * (x.ndim - np.ndim(w)))  # broadcastable to x
    mean = np.zeros(x.shape[1:], ct)  # [..., C]
    for i in range(n):
        mean += w[i] * x[i].astype(ct)
    if gray:
        coeffs = np.asarray(LUMA_RGB, ct)
        y_mean = mean[..., :3] @ coeffs
        var = np.zeros(x.shape[1:-1], ct)
        for i in range(n):
            dev = x[i, ..., :3].astype(ct) @ coeffs - y_mean
            var += w[i][..., 0] * dev * dev
        return mean, np.sqrt(var).astype(np.float32)
    var = np.zeros(x.shape[1:], ct)
    for i in range(n):
        dev = x[i].astype(ct) - mean
        var += w[i] * dev * dev
    std = np.sqrt(var)
    bmap = std[..., 0] * cw[0]
    for k in range(1, len(cw)):
        bmap += std[..., k] * cw[k]
    return mean, bmap.astype(np.float32)


def _store_mean(mean: np.ndarray, out: np.ndarray) -> None:
    if out.dtype.kind == "u":
        out[...] = mean + 0.5  # round half up; the cast truncates
    else:
        out[...] = mean


def _fuse_partially_covered(frames: np.ndarray, weights: np.ndarray | None, valid: np.ndarray,
                             coverage: np.ndarray, cw: np.ndarray, gray: bool,
                             fused: np.ndarray, blur: np.ndarray) -> None:
    """Recompute pixels that not every frame covers from the frames that do.

    Registration leaves a border that some warped frames do not reach; averaging
    their black fill into the result would darken the border and fake blur there.
    """
    n = frames.shape[0]
    ys, xs = np.nonzero(coverage < n)  # [k]
    if ys.size == 0:
        return
    # A window without the reference frame can leave pixels no frame covers:
    # those get fused 0 and map 0, and callers exclude them via coverage == 0.
    empty = coverage[ys, xs] == 0
    fused[ys[empty], xs[empty]] = 0
    blur[ys[empty], xs[empty]] = 0
    ys, xs = ys[~empty], xs[~empty]
    if ys.size == 0:
        return
    base = np.full((n, ys.size), 1.0 / n) if weights is None else (
        np.repeat(weights[:, None], ys.size, axis=1) if weights.ndim == 1 else weights[:, ys, xs])
    w = base * valid[:, ys, xs]  # [n, k]
    total = w.sum(axis=0)
    if np.any(total <= 0):
        raise BurstError("at some border pixels every covering frame has weight 0")
    w = w / total
    mean, bmap = weighted_stats(frames[:, ys, xs, :].astype(np.float64), w, cw, gray)
    sub = np.empty((ys.size, frames.shape[3]), fused.dtype)
    _store_mean(mean, sub)
    fused[ys, xs] = sub
    blur[ys, xs] = bmap
