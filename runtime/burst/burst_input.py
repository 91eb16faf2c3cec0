"""Loading a burst: a folder of frames, a window of a video, or an in-memory array.

All frames end up in one ``[n, H, W, C]`` array of one dtype. Frames whose size
differs from the reference frame's are resampled to it (patent: up/down-sampling
before pixel-level synthesis) and listed in ``Burst.resampled``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import IMAGE_EXTENSIONS, decode_image, open_image, to_rgb
from burstdeblur.runtime.io.native_messages import native_stderr
from burstdeblur.runtime.io.pixel_budget import check_burst

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
MAX_FRAMES = 256  # a burst beyond this is a mistake (a whole video?), not a burst


@dataclass(frozen=True)
class Burst:
    frames: np.ndarray  # [n, H, W, C] uint8 | uint16 | float32
    max_value: float  # full-scale sample value: 255, 65535 or 1.0
    names: tuple[str, ...]  # one label per frame (file name or "video.mp4#123")
    source: str
    resampled: tuple[int, ...] = ()  # indices of frames resampled to the reference size
    ignored: tuple[str, ...] = field(default=())  # non-image files seen in a folder

    @property
    def n(self) -> int:
        return self.frames.shape[0]


def default_reference(n: int) -> int:
    return n // 2


def load_burst(path: str | Path, start: int = 0, n: int | None = None, reference: int | None = None) -> Burst:
    """Load a folder of frames or a video file; ``start``/``n`` select a window."""
    path = Path(path)
    if path.is_dir():
        return load_folder(path, start, n, reference)
    if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS:
        return load_video(path, start, n if n is not None else 5, reference)
    if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
        raise BurstError(f"{path}: a single image is not a burst (n >= 2 frames needed); give a folder or a video")
    if not path.exists():
        raise BurstError(f"{path}: no such file or folder")
    raise BurstError(f"{path}: not a folder of frames or a video ({', '.join(VIDEO_EXTENSIONS)})")


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def list_frames(folder: Path) -> tuple[list[Path], tuple[str, ...]]:
    """The frame files of a folder in natural order (frame2 before frame10), and the names ignored."""
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: _natural_key(p.name))
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    if not images:
        raise BurstError(f"{folder}: no PNG/JPEG/TIFF frames in this folder")
    return images, tuple(p.name for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS)


def load_folder(folder: Path, start: int = 0, n: int | None = None, reference: int | None = None) -> Burst:
    images, ignored = list_frames(folder)
    selected = _window(images, start, n, f"{folder} has {len(images)} frames")
    # Every header is read and the whole burst checked against the pixel budget before any decoding.
    encoded = [open_image(p) for p in selected]
    ref = encoded[default_reference(len(encoded)) if reference is None else reference].header \
        if reference is None or 0 <= reference < len(encoded) else encoded[0].header
    check_burst(len(encoded), ref.width, ref.height, str(folder))
    frames = []
    for i in range(len(encoded)):
        frames.append(decode_image(encoded[i]))
        encoded[i] = None  # the compressed bytes are not needed once decoded
    return _assemble(frames, [p.name for p in selected], str(folder), reference, ignored)


def _window(items: Sequence, start: int, n: int | None, what: str) -> Sequence:
    if start < 0:
        raise BurstError(f"start frame must be >= 0, got {start}")
    if n is not None:
        _check_n(n)
        if start + n > len(items):
            raise BurstError(f"{what}; a window of n={n} from start={start} needs {start + n}")
        return items[start:start + n]
    if start >= len(items):
        raise BurstError(f"{what}; start={start} is past the end")
    return items[start:]


def _check_n(n: int) -> None:
    if n < 2:
        raise BurstError(f"a burst needs n >= 2 frames, got n={n}")
    if n > MAX_FRAMES:
        raise BurstError(f"n={n} frames is more than the {MAX_FRAMES} a burst may have")


def load_video(path: Path, start: int, n: int, reference: int | None = None) -> Burst:
    """Read frames ``start .. start+n-1`` of a video (decoded in order: seeking is not frame-exact).

    The frame size from the container is checked against the pixel budget before any frame is
    decoded; anything FFmpeg reports while decoding the window (a frame cut short, a damaged
    packet) makes the video an error instead of a silently different burst.
    """
    _check_n(n)
    if start < 0:
        raise BurstError(f"start frame must be >= 0, got {start}")
    with native_stderr():  # a file that is no video makes FFmpeg print its probing errors
        capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise BurstError(f"{path}: cannot open as a video")
    try:
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        check_burst(n, width, height, str(path))
        with native_stderr():  # frames before the window are skipped, damaged or not
            for index in range(start):
                if not capture.grab():
                    raise BurstError(f"{path}: video has only {index} frames; start={start} is past the end")
        frames, names = [], []
        with native_stderr() as messages:
            for index in range(start, start + n):
                ok, frame = capture.read()
                if not ok:
                    break
                frames.append(to_rgb(frame, f"{path}#{index}"))
                names.append(f"{path.name}#{index}")
    finally:
        capture.release()
    if messages.lines:
        raise BurstError(f"{path}: corrupt video data in frames {start}-{start + n - 1} ({messages.lines[0]})")
    if len(frames) < n:
        raise BurstError(f"{path}: video has only {start + len(frames)} frames; a window of n={n} from "
                         f"start={start} needs {start + n}")
    return _assemble(frames, names, str(path), reference, ())


def from_array(frames: np.ndarray, max_value: float | None = None, names: Sequence[str] | None = None,
               source: str = "array") -> Burst:
    """Wrap an in-memory ``[n, H, W, C]`` (or ``[n, H, W]`` gray) burst after checking it.

    uint8 and uint16 are full-scale 255 and 65535; float frames must be finite and
    within [0, max_value] (default 1.0) - out-of-range values are an error, not clipped.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4:
        raise BurstError(f"burst array must be [n, H, W, C] or [n, H, W], got shape {frames.shape}")
    n, h, w, c = frames.shape
    _check_n(n)
    if h == 0 or w == 0:
        raise BurstError(f"zero-sized frames in burst array of shape {frames.shape}")
    if c not in (1, 3, 4):
        raise BurstError(f"burst array has {c} channels; expected 1, 3 or 4")
    if frames.dtype == np.uint8:
        limit = 255.0
    elif frames.dtype == np.uint16:
        limit = 65535.0
    elif frames.dtype in (np.float32, np.float64):
        if not np.all(np.isfinite(frames)):
            bad = np.argwhere(~np.isfinite(frames))[0]
            raise BurstError(f"burst array contains NaN or infinity (first at index {tuple(int(i) for i in bad)})")
        limit = 1.0 if max_value is None else float(max_value)
        lo, hi = float(frames.min()), float(frames.max())
        if lo < 0 or hi > limit:
            raise BurstError(f"float burst values span [{lo}, {hi}], outside [0, {limit}]; pass max_value or rescale")
        frames = frames.astype(np.float32, copy=False)
    else:
        raise BurstError(f"burst array dtype {frames.dtype} is not supported; use uint8, uint16 or float32")
    if max_value is not None and frames.dtype.kind == "u" and max_value != limit:
        raise BurstError(f"max_value={max_value} does not match dtype {frames.dtype} (full scale {limit})")
    check_burst(n, w, h, source)
    labels = tuple(names) if names is not None else tuple(f"{source}[{i}]" for i in range(n))
    if len(labels) != n:
        raise BurstError(f"{len(labels)} names for {n} frames")
    return Burst(frames=frames, max_value=limit, names=labels, source=source)


def _assemble(frames: list[np.ndarray], names: list[str], source: str, reference: int | None,
              ignored: tuple[str, ...]) -> Burst:
    n = len(frames)
    _check_n(n)
    ref = default_reference(n) if reference is None else reference
    if not 0 <= ref < n:
        raise BurstError(f"reference frame {ref} is outside 0..{n - 1}")
    ref_frame = frames[ref]
    for frame, name in zip(frames, names):
        if frame.dtype != ref_frame.dtype:
            raise BurstError(f"{name}: {frame.dtype} samples, but reference {names[ref]} has {ref_frame.dtype}")
        if frame.shape[2] != ref_frame.shape[2]:
            raise BurstError(f"{name}: {frame.shape[2]} channels, but reference {names[ref]} has {ref_frame.shape[2]}")
    h, w, c = ref_frame.shape
    check_burst(n, w, h, source)
    stack = np.empty((n, h, w, c), ref_frame.dtype)  # [n, H, W, C]
    resampled = []
    for i, frame in enumerate(frames):
        if frame.shape[:2] != (h, w):
            shrink = frame.shape[0] * frame.shape[1] > h * w
            frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            frame = frame.reshape(h, w, c)
            resampled.append(i)
        stack[i] = frame
    max_value = 255.0 if stack.dtype == np.uint8 else 65535.0
    return Burst(frames=stack, max_value=max_value, names=tuple(names), source=source,
                 resampled=tuple(resampled), ignored=ignored)
