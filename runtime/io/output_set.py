"""Outputs published as a whole set, never half-written, never mixed with another run's.

A command's output folder (``-o``) is built as a hidden staging folder next to
it and swapped in when complete: the previous folder is renamed aside, the
staging folder renamed to the target, the old one deleted. Readers see the old
set or the new one, never a mix, and files an earlier run wrote but this one
does not (a stale ``coverage.png``) are gone. The swap runs under a lock on
the parent folder, so two runs into the same ``-o`` publish one after the
other and the last one wins whole.

A run killed mid-way leaves ``.NAME.staging-PID`` (or, between the two
renames, ``.NAME.old-PID`` with no target): the next run into that parent
removes such leftovers of dead processes and puts a lost previous set back.

burstdeblur only replaces folders it wrote itself (they hold MARKER) or empty
ones, never the input, the current folder or one above it: ``-o ~/Pictures``
with photos in it is refused rather than emptied.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Iterable, Iterator

from burstdeblur.runtime.errors import BurstError

MARKER = ".burstdeblur-output"
_KINDS = ("staging", "old", "partial", "tmp")

try:
    import fcntl
except ImportError:  # not POSIX: no lock, the swap itself still never mixes files
    fcntl = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def remove_leftovers(parent: Path, name: str) -> list[str]:
    """Delete what killed runs left next to ``parent / name``; restore a set lost between two renames."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.({'|'.join(_KINDS)})-(\d+)$")
    removed = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or int(match.group(2)) == os.getpid() or _alive(int(match.group(2))):
            continue
        target = parent / name
        if match.group(1) == "old" and not os.path.lexists(target):
            os.rename(entry, target)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _is_within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output_folder(target: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Refuse an ``-o`` that cannot or must not be replaced; called before any work starts."""
    if str(target).strip() == "":
        raise BurstError("output folder (-o) is empty; name a folder")
    path = Path(os.path.abspath(target))
    if path.parent.is_dir():  # every run starts by tidying up after runs that were killed
        with _locked(path.parent):
            remove_leftovers(path.parent, path.name)
    return _refuse_unsafe(path, target, inputs)


def _refuse_unsafe(path: Path, target: str | Path, inputs: Iterable[str | Path]) -> Path:
    """The checks of check_output_folder, without the tidy-up (so they can run under the parent's lock)."""
    real = path.resolve()
    if path.is_symlink():
        raise BurstError(f"{target}: output folder is a symbolic link; name a real folder")
    if os.path.lexists(path) and not path.is_dir():
        raise BurstError(f"{target}: exists and is not a folder")
    if _is_within(Path.cwd().resolve(), real):
        raise BurstError(f"{target}: is the current folder or one above it; name a new folder for the outputs")
    for source in inputs:
        source = Path(source).resolve()
        if _is_within(real, source) and source.is_dir():
            raise BurstError(f"{target}: output folder is inside the input folder {source}; "
                             "outputs would become frames of the next run")
        if _is_within(source, real):
            raise BurstError(f"{target}: the input {source} is inside the output folder, which this run replaces")
    if path.is_dir() and not (path / MARKER).is_file():
        try:
            occupied = any(path.iterdir())
        except OSError as exc:
            raise BurstError(f"{target}: cannot list the output folder ({exc.strerror})") from None
        if occupied:
            raise BurstError(f"{target}: folder holds files burstdeblur did not write; name a new or empty folder")
    return path


def publish_folder(target: str | Path, files: dict[str, bytes], inputs: Iterable[str | Path] = ()) -> Path:
    """Write ``files`` (name -> bytes) as the complete content of folder ``target``, all at once."""
    inputs = list(inputs)
    path = check_output_folder(target, inputs)
    for name in files:
        if not name or "/" in name or os.sep in name or name in (".", "..", MARKER):
            raise BurstError(f"invalid output file name {name!r}")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{path.name}.staging-{os.getpid()}"
    old = parent / f".{path.name}.old-{os.getpid()}"
    try:
        staging.mkdir()
        marker = {"files": sorted(files)}
        for name, payload in [*files.items(), (MARKER, json.dumps(marker).encode())]:
            with open(staging / name, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        with _locked(parent):
            # Checked again under the lock: another run may have changed it meanwhile, and outside the lock its
            # swap (target renamed aside, then its staging folder renamed in) could be seen half-way.
            _refuse_unsafe(path, target, inputs)
            if os.path.lexists(path):
                os.rename(path, old)
            os.rename(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if os.path.lexists(old) and not os.path.lexists(path):
            os.rename(old, path)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def write_file_atomically(path: str | Path, payload: bytes) -> Path:
    """Replace one file in one rename: readers see the old file or the new one, never a part."""
    path = Path(os.path.abspath(path))
    if str(path.name) in ("", ".", ".."):
        raise BurstError(f"{path}: not a file name")
    if path.is_dir():
        raise BurstError(f"{path}: is a folder; name a file")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(parent, path.name)
    tmp = parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
