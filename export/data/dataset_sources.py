"""What a dataset is built from: named source groups, the shipped CC0 photos, or the user's own files.

Every source is read and checked before anything is rendered, so a bad file
stops the build before any output exists. Photos become one scene each
(duplicates by content are merged, so the same photo can never land in two
splits); a video becomes one scene per shot.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import cv2

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.burst_input import VIDEO_EXTENSIONS
from burstdeblur.runtime.io.image_io import IMAGE_EXTENSIONS, read_image

from burstdeblur.export.data.source_catalog import GROUPS
from burstdeblur.export.data.sources import fetch_group, read_manifest, sha256_file
from burstdeblur.export.data.video_bursts import Shot, video_shots

BUILTIN = ("coffee.png", "chelsea.png")


@dataclass(frozen=True)
class SourceFileInfo:
    label: str  # group/name, builtin/name, or the user's path
    path: Path
    kind: str  # photo | video
    licence: str
    provenance: str
    sha256: str
    train_frames_end: int | None = None


@dataclass(frozen=True)
class Scene:
    scene_id: str  # also the GoPro-layout sequence name
    source: SourceFileInfo
    height: int
    width: int
    shot: Shot | None = None  # videos: the frames of this scene


def _builtin() -> list[SourceFileInfo]:
    infos = []
    for name in BUILTIN:
        path = Path(str(resources.files("burstdeblur.runtime") / "data" / name))
        infos.append(SourceFileInfo(f"builtin/{name}", path, "photo", "CC0-1.0 (scikit-image data)",
                                    "shipped in burstdeblur.runtime/data (see SOURCES.md)", sha256_file(path)))
    return infos


def _group(group: str) -> list[SourceFileInfo]:
    paths = fetch_group(group)
    manifest = read_manifest()
    infos = []
    for f, path in zip(GROUPS[group], paths):
        entry = manifest.get(f.key, {})
        infos.append(SourceFileInfo(f.key, path, f.kind, f.licence, entry.get("provenance", f.package), f.sha256,
                                    f.train_frames_end))
    return infos


def _local(spec: str) -> list[SourceFileInfo]:
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
        if not files:
            raise BurstError(f"{path}: folder has no images or videos")
    elif path.is_file():
        files = [path]
    else:
        raise BurstError(f"{spec}: not a source group ({', '.join(['builtin', 'all', *GROUPS])}), file or folder")
    infos = []
    for f in files:
        kind = "video" if f.suffix.lower() in VIDEO_EXTENSIONS else "photo"
        if kind == "photo" and f.suffix.lower() not in IMAGE_EXTENSIONS:
            raise BurstError(f"{f}: unknown file type {f.suffix!r}; expected an image or a video")
        infos.append(SourceFileInfo(str(f), f, kind, "user-supplied (check its licence)", f"local file {f}", sha256_file(f)))
    return infos


def resolve_sources(specs: Sequence[str]) -> list[SourceFileInfo]:
    """Source specs -> files (fetching groups into the cache as needed)."""
    if not specs:
        raise BurstError("no sources given")
    infos: list[SourceFileInfo] = []
    for spec in specs:
        if spec == "builtin":
            infos += _builtin()
        elif spec == "all":
            for group in GROUPS:
                infos += _group(group)
        elif spec in GROUPS:
            infos += _group(spec)
        else:
            infos += _local(spec)
    return infos


def _slug(text: str) -> str:
    stem = Path(text).stem
    return "".join(c if c.isalnum() else "_" for c in stem)[:40]


def build_scenes(infos: Sequence[SourceFileInfo], min_side: int, video_window: int) -> list[Scene]:
    """Check every source and turn it into scenes (one per photo, one per usable video shot)."""
    scenes: list[Scene] = []
    seen: dict[str, str] = {}
    for info in infos:
        if info.sha256 in seen:  # the same content twice (e.g. builtin coffee and skimage coffee): one scene
            continue
        seen[info.sha256] = info.label
        tag = f"{_slug(info.label)}-{info.sha256[:8]}"
        if info.kind == "photo":
            image = read_image(info.path)  # raises a clear error on unreadable or truncated files
            h, w = image.shape[:2]  # read_image accepts only gray/RGB/RGBA, 8- or 16-bit: all usable
            if min(h, w) < min_side:
                raise BurstError(f"{info.path}: image is {w}x{h}, smaller than the {min_side}x{min_side} crop")
            scenes.append(Scene(tag, info, h, w))
        else:
            capture = cv2.VideoCapture(str(info.path))
            ok, frame = capture.read() if capture.isOpened() else (False, None)
            capture.release()
            if not ok:
                raise BurstError(f"{info.path}: cannot read a frame of this video")
            h, w = frame.shape[:2]
            if min(h, w) < min_side:
                raise BurstError(f"{info.path}: video frames are {w}x{h}, smaller than the {min_side}x{min_side} crop")
            shots, total = video_shots(info.path)
            end = total if info.train_frames_end is None else min(total, info.train_frames_end)
            usable = [Shot(s.start, min(s.end, end)) for s in shots if min(s.end, end) - s.start >= video_window]
            if not usable:
                longest = max(min(s.end, end) - s.start for s in shots)
                raise BurstError(f"{info.path}: no shot of {video_window} frames (video has {total} frames, "
                                 f"longest usable shot {max(longest, 0)}); it is shorter than the window")
            scenes += [Scene(f"{tag}-shot{k:02d}-{s.start:05d}", info, h, w, s) for k, s in enumerate(usable)]
    return scenes


def split_scenes(scenes: Sequence[Scene], val_fraction: float) -> dict[str, str]:
    """``{scene_id: 'train' | 'val'}``, by a hash of the scene, never by crop.

    Independent of the build seed and count, so rebuilding a dataset bigger or
    with another seed keeps every scene on the same side.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise BurstError(f"val fraction must be in [0, 1), got {val_fraction}")
    order = sorted(scenes, key=lambda s: hashlib.sha256(s.scene_id.encode()).hexdigest())
    n_val = round(val_fraction * len(order))
    if val_fraction > 0 and n_val == 0 and len(order) >= 2:
        n_val = 1
    return {s.scene_id: ("val" if i < n_val else "train") for i, s in enumerate(order)}
