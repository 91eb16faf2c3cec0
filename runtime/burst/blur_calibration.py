"""Choosing n from an expected global blur value (patent claim 4).

The global blur of a fused image grows with the number of frames fused. From
bursts of n_max frames we measure the global blur of every window of n
consecutive frames for n = 2..n_max, fit the relation global_blur = a + b * n
by least squares and save it. For a target value we invert the fit to get n,
then pick, inside an actual n_max burst, the window of n frames whose global
blur is closest to the target.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.io.output_set import write_file_atomically
from burstdeblur.runtime.burst.blur_map import global_blur, scale_map
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fusion import fuse_and_blur_map


@dataclass(frozen=True)
class BlurCalibration:
    n_values: tuple[int, ...]
    mean_global_blur: tuple[float, ...]  # unit range, averaged over windows and bursts
    intercept: float
    slope: float
    r2: float
    n_max: int
    bursts: int
    windows: int

    def predict(self, n: int) -> float:
        return self.intercept + self.slope * n

    def n_for(self, target: float) -> int:
        """The n whose predicted global blur is nearest ``target`` (unit range)."""
        if self.slope <= 0:
            raise BurstError(f"calibration has slope {self.slope:.3g}: blur does not grow with n, so n cannot be chosen from it")
        lo, hi = self.predict(2), self.predict(self.n_max)
        half_step = self.slope / 2
        if not lo - half_step <= target <= hi + half_step:
            raise BurstError(f"target global blur {target} is outside the calibrated range "
                             f"[{lo:.4f}, {hi:.4f}] (n = 2..{self.n_max})")
        return int(round((target - self.intercept) / self.slope))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        write_file_atomically(path, self.to_json().encode())

    @staticmethod
    def load(path: str | Path) -> "BlurCalibration":
        try:
            data = json.loads(Path(path).read_text())
            return BlurCalibration(**{**data, "n_values": tuple(data["n_values"]),
                                      "mean_global_blur": tuple(data["mean_global_blur"])})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise BurstError(f"{path}: not a blur calibration file ({exc})") from exc


def window_blur(frames: np.ndarray, max_value: float, start: int, n: int,
                valid: np.ndarray | None = None) -> float:
    """Global blur (unit range) of the fusion of ``frames[start:start+n]``."""
    sub_valid = None if valid is None else valid[start:start + n]
    fusion = fuse_and_blur_map(frames[start:start + n], valid=sub_valid)
    full = None if fusion.coverage is None else fusion.coverage == n
    return global_blur(scale_map(fusion.blur_raw, max_value, "unit"), full)


def window_table(frames: np.ndarray, max_value: float, n: int, valid: np.ndarray | None = None) -> list[float]:
    """Global blur of every window of n consecutive frames, by start index."""
    return [window_blur(frames, max_value, s, n, valid) for s in range(frames.shape[0] - n + 1)]


def calibrate(bursts: Sequence[tuple[np.ndarray, float, np.ndarray | None]], n_max: int) -> BlurCalibration:
    """Fit global blur against n from ``(frames [n_max', H, W, C], max_value, valid)`` bursts."""
    if n_max < 3:
        raise BurstError(f"calibration needs n_max >= 3 to fit a line, got {n_max}")
    if not bursts:
        raise BurstError("calibration needs at least one burst")
    for frames, _, _ in bursts:
        if frames.shape[0] < n_max:
            raise BurstError(f"a calibration burst has {frames.shape[0]} frames, fewer than n_max={n_max}")
    xs, ys = [], []
    per_n: dict[int, list[float]] = {n: [] for n in range(2, n_max + 1)}
    jobs = [(b, n) for b in range(len(bursts)) for n in range(2, n_max + 1)]
    for b, n in tqdm(jobs, desc="calibrating", unit="n", leave=False, disable=None):
        frames, max_value, valid = bursts[b]
        for value in window_table(frames[:n_max], max_value, n, None if valid is None else valid[:n_max]):
            xs.append(n)
            ys.append(value)
            per_n[n].append(value)
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid ** 2)) / ss_tot if ss_tot > 0 else 0.0
    return BlurCalibration(n_values=tuple(per_n), mean_global_blur=tuple(float(np.mean(v)) for v in per_n.values()),
                           intercept=float(intercept), slope=float(slope), r2=r2, n_max=n_max,
                           bursts=len(bursts), windows=len(xs))


def choose_window(frames: np.ndarray, max_value: float, calibration: BlurCalibration, target: float,
                  valid: np.ndarray | None = None) -> tuple[int, int, float]:
    """Pick (n, start, achieved global blur) for ``target`` inside an n_max burst."""
    n = calibration.n_for(target)
    if n > frames.shape[0]:
        raise BurstError(f"target global blur {target} needs n={n} frames, the burst has {frames.shape[0]}")
    table = window_table(frames, max_value, n, valid)
    start = int(np.argmin(np.abs(np.asarray(table) - target)))
    return n, start, table[start]
