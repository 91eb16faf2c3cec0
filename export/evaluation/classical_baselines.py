"""Non-learned baselines of the evaluation: the sharpest single frame, and unsharp masking steered by the blur map."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from burstdeblur.export.data.sharpness import gradient_energy


def sharpest_frame(frames: np.ndarray) -> np.ndarray:
    """``[n, H, W, 3]`` -> the frame with the most gradient energy (Tenengrad)."""
    return frames[int(np.argmax([gradient_energy(f) for f in frames]))]


@dataclass(frozen=True)
class UnsharpConfig:
    """out = x + min(gain * map, max_amount) * (x - Gaussian_sigma(x)): sharpen where the map says blur."""
    gain: float = 20.0
    sigma: float = 1.5
    max_amount: float = 3.0

    @staticmethod
    def default() -> "UnsharpConfig":
        return UnsharpConfig()


def map_guided_unsharp(image: np.ndarray, blur_map: np.ndarray, config: UnsharpConfig) -> np.ndarray:
    """``[H, W, 3]`` uint8 + ``[H, W]`` unit-range map -> ``[H, W, 3]`` float in [0, 1]."""
    x = image.astype(np.float32) / 255.0
    detail = x - cv2.GaussianBlur(x, (0, 0), config.sigma)
    amount = np.minimum(np.float32(config.gain) * blur_map, np.float32(config.max_amount))[..., None]
    return np.clip(x + amount * detail, 0.0, 1.0)


def tune_unsharp(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], gains=(0.0, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0),
                 sigmas=(1.0, 1.5, 2.5)) -> tuple[UnsharpConfig, float]:
    """Grid search on (fused uint8, unit map, sharp uint8) training pairs: the config with the best mean MSE."""
    best = None
    for sigma in sigmas:
        for gain in gains:
            config = UnsharpConfig(gain=gain, sigma=sigma)
            mse = float(np.mean([np.mean((map_guided_unsharp(f, m, config) - s.astype(np.float32) / 255.0) ** 2)
                                 for f, m, s in pairs]))
            if best is None or mse < best[1]:
                best = (config, mse)
    return best
