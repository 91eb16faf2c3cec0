"""Reading and encoding still images with OpenCV, in RGB(A) channel order.

Before anything is decoded the file must be a regular file of bounded size
whose header (runtime/io/image_header.py) states a size inside the pixel budget.
OpenCV decodes a truncated JPEG into a partially grey image with only a console
warning, so completeness is checked on the raw bytes, and any message libjpeg
or libpng prints while decoding makes the file an error naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from burstdeblur.runtime.io.bounded_read import read_regular_file
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_header import EXTENSION_FORMATS, ImageHeader, read_header
from burstdeblur.runtime.io.native_messages import native_stderr
from burstdeblur.runtime.io.pixel_budget import check_frame

IMAGE_EXTENSIONS = tuple(EXTENSION_FORMATS)
SUPPORTED_DTYPES = (np.uint8, np.uint16)
MAX_FILE_BYTES = 512 * 2**20  # 50 MP x 4 channels x 16 bit, uncompressed, is 400 MB


def _check_complete(path: Path, kind: str, data: bytes) -> None:
    if kind == "JPEG" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise BurstError(f"{path}: truncated JPEG (no end-of-image marker)")
    if kind == "PNG" and b"IEND" not in data[-32:]:
        raise BurstError(f"{path}: truncated PNG (no IEND chunk)")


@dataclass(frozen=True)
class EncodedImage:
    """A file's bytes and its header, read and checked against the pixel budget but not decoded."""
    path: Path
    data: bytes
    header: ImageHeader


def _benign(message: str) -> bool:
    """Decoder notes that do not mean lost pixels: libpng's warnings (e.g. a non-standard sRGB profile)
    and libtiff's warnings (e.g. undeclared extra samples, which OpenCV's own RGBA TIFFs have). Errors
    of either library make the decode fail; every libjpeg message means damaged data."""
    return message.startswith("libpng warning") or "TIFF_Warning" in message


def open_image(path: str | Path) -> EncodedImage:
    path = Path(path)
    data = read_regular_file(path, MAX_FILE_BYTES, "image file")
    if not data:
        raise BurstError(f"{path}: empty file")
    header = read_header(data, str(path))
    check_frame(header.width, header.height, str(path))
    _check_complete(path, header.format, data)
    return EncodedImage(path, data, header)


def decode_image(encoded: EncodedImage) -> np.ndarray:
    """Decode to ``[H, W, C]`` uint8/uint16 with C in {1, 3, 4}, RGB(A) order."""
    path, header = encoded.path, encoded.header
    with native_stderr() as messages:
        image = cv2.imdecode(np.frombuffer(encoded.data, np.uint8), cv2.IMREAD_UNCHANGED)
    damage = [line for line in messages.lines if not _benign(line)]
    if damage:
        raise BurstError(f"{path}: corrupt {header.format} data ({damage[0]})")
    if image is None:
        raise BurstError(f"{path}: {header.format} data cannot be decoded (corrupt file)")
    if image.shape[:2] != (header.height, header.width):
        raise BurstError(f"{path}: decoded {image.shape[1]}x{image.shape[0]} px, but the header says "
                         f"{header.width}x{header.height} (corrupt file)")
    if image.dtype not in SUPPORTED_DTYPES:
        raise BurstError(f"{path}: unsupported sample type {image.dtype}; use 8- or 16-bit images")
    return to_rgb(image, str(path))


def read_image(path: str | Path) -> np.ndarray:
    """Read one frame as ``[H, W, C]`` uint8/uint16 with C in {1, 3, 4}, RGB(A) order."""
    return decode_image(open_image(path))


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
