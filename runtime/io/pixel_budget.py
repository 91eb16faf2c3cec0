"""The one pixel budget every path checks before it decodes or allocates.

Limits (also in the README):
- a side of at most 16384 px (every output stays a valid PNG and tiles stay few),
- a frame or photo of at most 50 MP,
- a burst of at most 200 MP in all (n x H x W at the reference frame's size),
- and the memory the run is estimated to need must fit in the memory the
  system has available right now.

The estimate is an upper bound fitted to peak RSS measured with /usr/bin/time
on x86_64 (see MEMORY below), so a run that passes the check does not die of
an out-of-memory kill halfway, and one that would is refused in milliseconds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from burstdeblur.runtime.errors import BurstError

MAX_SIDE = 16384
MAX_FRAME_PIXELS = 50_000_000
MAX_BURST_PIXELS = 200_000_000
MIN_ALIGN_SIDE = 32  # alignment needs a few pyramid levels and 8 px grid cells


@dataclass(frozen=True)
class MemoryModel:
    """Peak bytes = base + per_burst_pixel * n*H*W + per_image_pixel * H*W.

    Measured peaks (this machine, `burstdeblur fuse|deblur`): dense alignment with the streamed merge
    8 x 2 MP 267 MiB, 8 x 12 MP 1196 MiB (11.7 MiB per frame-megapixel), 8 x 24 MP JPEGs 2247 MiB;
    --align off 8 x 12 MP 801 MiB; single-image deblur of 12 MP 764 MiB. The factors below carry a
    ~15% margin over those slopes.
    """
    base: int = 320 * 2**20  # interpreter, OpenCV, NumPy, LiteRT / ONNX Runtime sessions
    aligned_per_burst_pixel: int = 14
    unaligned_per_burst_pixel: int = 9
    nets_per_image_pixel: int = 56

    def burst(self, n: int, height: int, width: int, aligned: bool, nets: bool) -> int:
        per = self.aligned_per_burst_pixel if aligned else self.unaligned_per_burst_pixel
        return self.base + per * n * height * width + (self.nets_per_image_pixel * height * width if nets else 0)

    def image(self, height: int, width: int) -> int:
        return self.base + self.nets_per_image_pixel * height * width


MEMORY = MemoryModel()


def check_frame(width: int, height: int, label: str) -> None:
    """Refuse one frame or photo by its size, before it is decoded."""
    if width < 1 or height < 1:
        raise BurstError(f"{label}: image of {width}x{height} px has no pixels")
    if max(width, height) > MAX_SIDE:
        raise BurstError(f"{label}: {width}x{height} px; a side may be at most {MAX_SIDE} px")
    if width * height > MAX_FRAME_PIXELS:
        raise BurstError(f"{label}: {width}x{height} px is {width * height / 1e6:.1f} MP; "
                         f"at most {MAX_FRAME_PIXELS // 1_000_000} MP per frame")


def check_burst(n: int, width: int, height: int, label: str) -> None:
    check_frame(width, height, label)
    if n * width * height > MAX_BURST_PIXELS:
        raise BurstError(f"{label}: {n} frames of {width}x{height} px are {n * width * height / 1e6:.0f} MP; "
                         f"a burst may hold at most {MAX_BURST_PIXELS // 1_000_000} MP (fewer frames: --n)")


def available_memory() -> int | None:
    """Bytes the system can give this process now (MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(needed: int, what: str) -> None:
    available = available_memory()
    if available is not None and needed > available:
        raise BurstError(f"{what} needs about {needed / 2**30:.1f} GiB of memory; "
                         f"{available / 2**30:.1f} GiB is available")


def check_align_size(width: int, height: int) -> None:
    if min(width, height) < MIN_ALIGN_SIDE:
        raise BurstError(f"frames of {width}x{height} px are too small to align (at least {MIN_ALIGN_SIDE} px a "
                         "side); use --align off")
