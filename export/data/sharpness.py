"""Choosing the sharp label among a burst's frames (patent: the frame with the lowest mean blur).

Until a trained perception net exists, blur is measured by a gradient measure
(Tenengrad: mean squared Sobel magnitude of the luma): motion blur removes
high-frequency gradient energy, so the sharpest frame has the most. A scorer
that returns per-frame mean blur (lower = sharper), e.g. the perception net,
can be passed instead.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from burstdeblur.runtime.burst.weights import luma

BlurScorer = Callable[[np.ndarray], np.ndarray]  # [n, H, W, C] -> [n] mean blur, lower = sharper
LABEL_CHOICES = ("middle", "sharpest")


def luma_sobel(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 Sobel derivatives (gx, gy), each ``[H, W]`` float32, of a ``[H, W, C]`` frame's luma."""
    y = luma(frame)  # [H, W] float32
    return cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)


def gradient_energy(frame: np.ndarray) -> float:
    """Tenengrad of one ``[H, W, C]`` frame: mean of Sobel gx^2 + gy^2 on the luma."""
    gx, gy = luma_sobel(frame)
    return float(np.mean(gx * gx + gy * gy))


def gradient_blur_scores(frames: np.ndarray) -> np.ndarray:
    """``[n]`` blur scores from gradient energy (negated, so lower = sharper like a blur map)."""
    return -np.array([gradient_energy(f) for f in frames])


def label_frame(frames: np.ndarray, choice: str, reference: int, scorer: BlurScorer | None = None) -> int:
    """Index of the frame used as the sharp label: the middle one or the sharpest."""
    if choice == "middle":
        return reference
    if choice == "sharpest":
        scores = np.asarray((scorer or gradient_blur_scores)(frames), np.float64)
        if scores.shape != (frames.shape[0],):
            raise ValueError(f"blur scorer returned shape {scores.shape}, expected ({frames.shape[0]},)")
        return int(np.argmin(scores))
    raise ValueError(f"unknown sharp-label choice {choice!r}; choose one of {', '.join(LABEL_CHOICES)}")
