"""Reading and encoding still images with OpenCV, in RGB(A) channel order.

OpenCV decodes a truncated JPEG into a partially grey image with only a console
warning, so completeness is checked on the raw bytes before decoding.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import BurstError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_DTYPES = (np.uint8, np.uint16)


def _check_complete(path: Path, data: bytes) -> None:
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg") and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise BurstError(f"{path}: truncated JPEG (no end-of-image marker)")
    if suffix == ".png" and b"IEND" not in data[-32:]:
        raise BurstError(f"{path}: truncated PNG (no IEND chunk)")


def read_image(path: str | Path) -> np.ndarray:
    """Read one frame as ``[H, W, C]`` uint8/uint16 with C in {1, 3, 4}, RGB(A) order."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BurstError(f"{path}: cannot read file ({exc.strerror})") from exc
    if not data:
        raise BurstError(f"{path}: empty file")
    _check_complete(path, data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise BurstError(f"{path}: not a decodable PNG/JPEG/TIFF image")
    if image.dtype not in SUPPORTED_DTYPES:
        raise BurstError(f"{path}: unsupported sample type {image.dtype}; use 8- or 16-bit images")
    if image.size == 0:
        raise BurstError(f"{path}: zero-sized image {image.shape}")
    return to_rgb(image, str(path))


def to_rgb(image: np.ndarray, label: str) -> np.ndarray:
    """OpenCV's BGR(A) or gray ``[H, W(, C)]`` -> RGB(A) or gray ``[H, W, C]``."""
    if image.ndim == 2:
        return image[:, :, None]  # [H, W, 1]
    channels = image.shape[2]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    if channels == 1:
        return image
    raise BurstError(f"{label}: {channels} channels; expected gray, RGB or RGBA")


def encode_png(image: np.ndarray) -> bytes:
    """Encode ``[H, W]`` or ``[H, W, C]`` uint8/uint16 RGB(A) as PNG bytes."""
    if image.dtype not in SUPPORTED_DTYPES:
        raise BurstError(f"cannot write {image.dtype} as PNG; expected uint8 or uint16")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        code = cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        image = cv2.cvtColor(image, code)
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise BurstError(f"PNG encoding failed for an image of shape {image.shape}")
    return buf.tobytes()
