"""Image and map quality measures (NumPy/OpenCV): the demo, the benchmarks, evaluate and quantcheck use these.

SSIM follows Wang et al. 2004: 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
K2 = 0.03, on each channel, averaged over the valid (unpadded) window
positions and the channels - the usual choice of the deblurring literature.
"""
from __future__ import annotations

import math

import cv2
import numpy as np


def as_unit(image: np.ndarray) -> np.ndarray:
    """``[H, W, C]`` uint8 or float in [0, 1] -> float64 in [0, 1]."""
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 65535.0
    return image.astype(np.float64)


def psnr(x: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of ``x`` against ``reference`` (both in [0, 1] or uint), peak 1."""
    x, reference = as_unit(x), as_unit(reference)
    if x.shape != reference.shape:
        raise ValueError(f"psnr: shapes differ {x.shape} vs {reference.shape}")
    mse = float(np.mean((np.clip(x, 0, 1) - reference) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def ssim(x: np.ndarray, reference: np.ndarray) -> float:
    x, y = as_unit(x), as_unit(reference)
    if x.shape != y.shape:
        raise ValueError(f"ssim: shapes differ {x.shape} vs {y.shape}")
    x = np.clip(x, 0, 1)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    r = 5  # half the 11x11 window: only positions where the window fits
    values = []
    for ch in range(x.shape[2]):
        a, b = x[..., ch], y[..., ch]
        blur = lambda img: cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]  # noqa: E731
        mu_a, mu_b = blur(a), blur(b)
        var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
        cov = blur(a * b) - mu_a * mu_b
        s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
        values.append(float(s.mean()))
    return float(np.mean(values))


def map_errors(predicted: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and Pearson r of a ``[H, W]`` map against the true one (same scale)."""
    p, t = predicted.astype(np.float64).ravel(), true.astype(np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"map shapes differ {predicted.shape} vs {true.shape}")
    return {"mae": float(np.mean(np.abs(p - t))), "rmse": float(np.sqrt(np.mean((p - t) ** 2))),
            "pearson": pearson(p, t)}


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel() - a.mean(), b.astype(np.float64).ravel() - b.mean()
    denom = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return float(np.sum(a * b) / denom) if denom > 0 else float("nan")
