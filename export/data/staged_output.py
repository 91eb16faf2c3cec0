"""A folder that appears all at once or not at all.

Everything is written into a hidden sibling folder, which is renamed to the
target only when the block finishes without an error; on any error (or
Ctrl-C) the sibling is deleted, so a failed build never leaves a half-written
dataset behind. The target must not exist yet, or be an empty folder. A build
killed outright (SIGKILL, power loss) leaves ``.NAME.partial-PID``; the next
build into that place removes such leftovers of processes no longer running.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.output_set import remove_leftovers


def write_file(path: Path, payload: bytes) -> None:
    """Write one file inside a staged folder, creating its parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


class StagedFolder:
    def __init__(self, target: str | Path):
        self.target = Path(target)
        if self.target.exists() and (not self.target.is_dir() or any(self.target.iterdir())):
            raise BurstError(f"{self.target}: output already exists and is not an empty folder; "
                             "choose a new path or delete it")
        self.path = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"

    def __enter__(self) -> "StagedFolder":
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.target.parent, self.target.name)
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir()
        return self

    def write(self, path: Path, payload: bytes) -> None:
        write_file(path, payload)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        if self.target.exists():
            self.target.rmdir()  # checked empty on entry
        os.replace(self.path, self.target)
