"""Bursts from real videos: shot-cut detection and windows of n consecutive frames inside one shot.

A cut is a frame whose content does not follow from the previous one. For each
consecutive pair the score combines a colour-histogram distance (robust to
motion: the same scene keeps its colours) and the mean absolute difference of
small gray thumbnails (robust to two shots of similar colours). A frame is a
cut when its score is both above an absolute floor and several times the
median score of its neighbourhood, so fast pans (high scores for many frames
in a row) are not mistaken for cuts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import to_rgb


@dataclass(frozen=True)
class CutConfig:
    floor: float = 0.25  # minimum score of a cut
    ratio: float = 4.0  # a cut scores this many times the local median
    window: int = 9  # frames on each side for the local median

    @staticmethod
    def default() -> "CutConfig":
        return CutConfig()


@dataclass(frozen=True)
class Shot:
    start: int  # first frame
    end: int  # one past the last frame

    @property
    def length(self) -> int:
        return self.end - self.start


def _signature(frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).ravel()  # [128]
    hist /= max(float(hist.sum()), 1.0)
    thumb = cv2.resize(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
    return hist, thumb.astype(np.float32) / 255.0


def _open(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise BurstError(f"{path}: cannot open as a video")
    return capture


def cut_scores(path: str | Path) -> np.ndarray:
    """``[frames]`` score of each frame against the previous one (0 for the first)."""
    path = Path(path)
    capture = _open(path)
    scores, previous = [], None
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            signature = _signature(frame)
            if previous is None:
                scores.append(0.0)
            else:
                hist_distance = 0.5 * float(np.abs(signature[0] - previous[0]).sum())  # total variation, 0..1
                thumb_distance = float(np.abs(signature[1] - previous[1]).mean())  # 0..1
                scores.append(hist_distance + 2.0 * thumb_distance)
            previous = signature
    finally:
        capture.release()
    if not scores:
        raise BurstError(f"{path}: no frame could be decoded")
    return np.asarray(scores)


def detect_cuts(scores: np.ndarray, config: CutConfig = CutConfig()) -> list[int]:
    """Frame indices that start a new shot (never 0)."""
    cuts = []
    for i in range(1, len(scores)):
        lo, hi = max(1, i - config.window), min(len(scores), i + config.window + 1)
        neighbours = np.delete(scores[lo:hi], i - lo)
        local = float(np.median(neighbours)) if neighbours.size else 0.0
        if scores[i] >= config.floor and scores[i] >= config.ratio * local:
            cuts.append(i)
    return cuts


def video_shots(path: str | Path, config: CutConfig = CutConfig()) -> tuple[list[Shot], int]:
    """The shots of a video and its frame count."""
    scores = cut_scores(path)
    bounds = [0, *detect_cuts(scores, config), len(scores)]
    return [Shot(a, b) for a, b in zip(bounds[:-1], bounds[1:])], len(scores)


def burst_windows(shots: list[Shot], n: int, end: int | None = None) -> list[tuple[int, int]]:
    """Every (shot index, start) whose n frames lie inside one shot and before frame ``end``."""
    windows = []
    for k, shot in enumerate(shots):
        last = shot.end if end is None else min(shot.end, end)
        windows += [(k, s) for s in range(shot.start, last - n + 1)]
    return windows


def read_windows(path: str | Path, starts: list[int], n: int) -> dict[int, np.ndarray]:
    """``{start: [n, H, W, 3] uint8 RGB}`` for each start, decoding the video once in order."""
    path = Path(path)
    wanted = sorted(set(starts))
    if not wanted:
        return {}
    capture = _open(path)
    out: dict[int, np.ndarray] = {}
    buffer: list[np.ndarray] = []
    needed = {i for s in wanted for i in range(s, s + n)}
    try:
        for index in range(wanted[-1] + n):
            # grab() decodes without converting or copying: frames outside every window cost less.
            if not capture.grab():
                raise BurstError(f"{path}: video has only {index} frames; a window of n={n} from "
                                 f"start={wanted[-1]} needs {wanted[-1] + n}")
            if index not in needed:
                continue
            ok, frame = capture.retrieve()
            if not ok:
                raise BurstError(f"{path}: frame {index} cannot be decoded")
            buffer = [*buffer, to_rgb(frame, f"{path}#{index}")][-n:]
            start = index - n + 1
            if start in wanted and len(buffer) == n:
                out[start] = np.stack(buffer)  # [n, H, W, 3]
    finally:
        capture.release()
    return out
