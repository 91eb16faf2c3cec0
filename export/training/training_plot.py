"""A small loss / validation plot drawn with OpenCV (no plotting library in the training stack)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.io.image_io import encode_png


def _panel(xs: list[float], ys: list[float], title: str, log: bool, size=(420, 300)) -> np.ndarray:
    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    values = np.log10(np.maximum(ys, 1e-12)) if log else np.asarray(ys, float)
    lo, hi = float(values.min()), float(values.max())
    hi = hi if hi > lo else lo + 1e-9
    x0, y0, x1, y1 = 50, 30, w - 15, h - 35
    cv2.rectangle(img, (x0, y0), (x1, y1), (180, 180, 180), 1)
    span = max(xs[-1] - xs[0], 1)
    points = [(int(x0 + (x - xs[0]) / span * (x1 - x0)), int(y1 - (v - lo) / (hi - lo) * (y1 - y0)))
              for x, v in zip(xs, values)]
    for p, q in zip(points[:-1], points[1:]):
        cv2.line(img, p, q, (200, 60, 20), 2, cv2.LINE_AA)
    for p in points:
        cv2.circle(img, p, 3, (200, 60, 20), -1, cv2.LINE_AA)
    label = (lambda v: f"{10 ** v:.2e}") if log else (lambda v: f"{v:.3f}")
    cv2.putText(img, title, (x0, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, label(hi), (2, y0 + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, label(lo), (2, y1), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"step {int(xs[0])}..{int(xs[-1])}", (x0, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                cv2.LINE_AA)
    return img


def plot_history(history: list[dict], path: Path, stage: int) -> None:
    steps = [h["step"] for h in history]
    panels = [_panel(steps, [h["loss"] for h in history], f"stage {stage} training loss", log=True)]
    if stage == 1:
        panels.append(_panel(steps, [h["map_pearson"] for h in history], "val: map Pearson r", log=False))
    else:
        panels.append(_panel(steps, [h["psnr"] for h in history], "val: PSNR dB (output)", log=False))
    Path(path).write_bytes(encode_png(np.concatenate(panels, axis=1)))
