"""Reading a file that may be hostile: regular files only, of bounded size, checked before opening."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from burstdeblur.runtime.errors import BurstError


def read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes, at most ``limit`` of them: devices (an endless /dev/zero), FIFOs (which
    block on open) and folders are refused from their stat, before they are opened."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise BurstError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise BurstError(f"{path}: {what} is not a regular file")
    if info.st_size > limit:
        raise BurstError(f"{path}: {what} of {info.st_size} bytes is larger than the {limit} allowed")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise BurstError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if len(data) > limit:
        raise BurstError(f"{path}: {what} grew past {limit} bytes while being read")
    return data
