"""Write a set of output files all together or not at all.

Every output is encoded in memory first; the files are written under temporary
names in the target folder and renamed only once all of them exist, so a
failure never leaves a partial set behind.
"""
from __future__ import annotations

import os
from pathlib import Path


def write_files_atomically(outdir: str | Path, files: dict[str, bytes]) -> list[Path]:
    outdir = Path(outdir)
    created = not outdir.exists()
    if outdir.exists() and not outdir.is_dir():
        raise NotADirectoryError(f"{outdir}: output path exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    temps: list[Path] = []
    finals: list[Path] = []
    try:
        for name, payload in files.items():
            tmp = outdir / f".{name}.tmp-{os.getpid()}"
            temps.append(tmp)
            with open(tmp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, name in zip(temps, files):
            final = outdir / name
            os.replace(tmp, final)
            finals.append(final)
        return finals
    except BaseException:
        for path in [*temps, *finals]:
            path.unlink(missing_ok=True)
        if created and not any(outdir.iterdir()):
            outdir.rmdir()
        raise
