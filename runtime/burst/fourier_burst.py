"""Fourier Burst Accumulation (Delbracio & Sapiro, CVPR 2015) of aligned frames: a classical baseline.

Each frequency of the result is a weighted average of that frequency in the
frames, with weights |F_i|^p / sum_j |F_j|^p from the Gaussian-smoothed
Fourier magnitudes (averaged over the colour channels, so the channels get
the same weights): a frame blurred along one direction keeps the
frequencies across it, and the accumulation picks each frequency from the
frames where it survived. p = 11 as in the paper; the smoothing sigma is
min(H, W) / 50 frequency bins.
"""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError


def fourier_burst_accumulation(frames: np.ndarray, p: float = 11.0, max_value: float = 255.0) -> np.ndarray:
    """``[n, H, W, C]`` aligned frames -> ``[H, W, C]`` float32 in [0, max_value]."""
    if frames.ndim != 4 or frames.shape[0] < 1:
        raise BurstError(f"FBA needs [n, H, W, C] frames, got shape {frames.shape}")
    n, h, w, c = frames.shape
    x = frames.astype(np.float32)
    spectra = np.fft.rfft2(x, axes=(1, 2))  # [n, H, W//2+1, C] complex64
    mag = np.abs(spectra).mean(axis=3)  # [n, H, W//2+1]
    sigma = min(h, w) / 50.0
    # Smooth on the full (centred) spectrum so the kernel does not wrap wrongly at the rfft edge.
    weights = np.empty_like(mag)
    for i in range(n):
        full = np.fft.fftshift(np.abs(np.fft.fft2(x[i].mean(axis=2))))
        smooth = np.fft.ifftshift(cv2.GaussianBlur(full.astype(np.float32), (0, 0), sigma) if sigma > 0 else full)
        weights[i] = smooth[:, : w // 2 + 1]
    # Normalise by the largest magnitude first: |F|^11 overflows float32 otherwise.
    weights = weights / np.maximum(weights.max(axis=0, keepdims=True), 1e-12)
    weights = weights.astype(np.float64) ** p
    weights /= np.maximum(weights.sum(axis=0, keepdims=True), 1e-300)
    merged = np.sum(spectra * weights[..., None].astype(np.float32), axis=0)  # [H, W//2+1, C]
    out = np.fft.irfft2(merged, s=(h, w), axes=(0, 1))
    return np.clip(out, 0, max_value).astype(np.float32)
