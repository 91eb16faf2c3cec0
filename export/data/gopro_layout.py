"""The GoPro deblurring-set layout, shared by every dataset this package writes or reads.

    <root>/<split>/<sequence>/blur/NNNNNN.png      sample (the fused image)
    <root>/<split>/<sequence>/sharp/NNNNNN.png     label 2 (one source frame)
    <root>/<split>/<sequence>/blur_map/NNNNNN.png  label 1, 16-bit (runtime.blur_map.to_png16) - not in the public set
    <root>/<split>/<sequence>/motion/NNNNNN.png    16-bit motion magnitude, synthetic data only

The public GOPRO_Large set has only blur/ and sharp/. Where the full 240 fps
frame sequences (GOPRO_Large_all: ``<split>/<sequence>/NNNNNN.png``) are at
hand, :func:`rebuild_from_all` regenerates the blur images the way the set was
made (averaging n consecutive frames, the middle one as sharp) and adds the
blur-degree map the public set lacks - the patent's "expanding public
datasets". It fuses with the runtime's one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.burst.blur_map import PNG16_MAX, from_png16, to_png16
from burstdeblur.runtime.burst.burst_input import list_frames, load_folder
from burstdeblur.runtime.burst.burst_pipeline import FuseOptions, process_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import IMAGE_EXTENSIONS, encode_png, read_image

from burstdeblur.export.data.staged_output import StagedFolder

FOLDERS = ("blur", "sharp", "blur_map", "motion")
MOTION_PX_PER_STEP = 1.0 / 1000.0  # motion PNGs store px * 1000: 0.001 px steps, up to 65.5 px


@dataclass(frozen=True)
class GoProPair:
    split: str
    sequence: str
    name: str  # file stem, e.g. 000042
    blur: Path
    sharp: Path
    blur_map: Path | None
    motion: Path | None

    def read_blur_map(self, max_value: float = 255.0) -> np.ndarray:
        """``[H, W]`` float32 raw standard deviation in sample units (0 .. max_value/2)."""
        if self.blur_map is None:
            raise BurstError(f"{self.blur}: this pair has no blur-degree map (public GoPro data lacks them)")
        return from_png16(read_image(self.blur_map)[..., 0], max_value)

    def read_motion(self) -> np.ndarray:
        if self.motion is None:
            raise BurstError(f"{self.blur}: this pair has no motion map (real footage has none)")
        return read_image(self.motion)[..., 0].astype(np.float32) * np.float32(MOTION_PX_PER_STEP)


def pair_files(root: Path, split: str, sequence: str, name: str) -> dict[str, Path]:
    return {folder: root / split / sequence / folder / f"{name}.png" for folder in FOLDERS}


def encode_motion(motion: np.ndarray) -> bytes:
    peak = float(motion.max()) if motion.size else 0.0
    if peak > PNG16_MAX * MOTION_PX_PER_STEP:
        raise BurstError(f"motion of {peak:.1f} px exceeds the {PNG16_MAX * MOTION_PX_PER_STEP:.1f} px a motion PNG holds")
    return encode_png(np.rint(motion / MOTION_PX_PER_STEP).astype(np.uint16))


def read_gopro(root: str | Path, splits: tuple[str, ...] | None = None) -> list[GoProPair]:
    """Every blur/sharp pair under ``root``, in split / sequence / name order.

    Raises if the layout is broken: a sequence without blur/ or sharp/, or a
    blur image without its sharp partner (or the other way round).
    """
    root = Path(root)
    if not root.is_dir():
        raise BurstError(f"{root}: not a folder")
    pairs: list[GoProPair] = []
    split_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for split_dir in split_dirs:
        if splits is not None and split_dir.name not in splits:
            continue
        for seq in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            if not (seq / "blur").is_dir() or not (seq / "sharp").is_dir():
                raise BurstError(f"{seq}: a GoPro sequence needs blur/ and sharp/ folders")
            blur = {p.stem: p for p in (seq / "blur").iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
            sharp = {p.stem: p for p in (seq / "sharp").iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
            if blur.keys() != sharp.keys():
                odd = sorted(blur.keys() ^ sharp.keys())
                raise BurstError(f"{seq}: blur/ and sharp/ do not match; unpaired: {', '.join(odd[:5])}"
                                 + (" ..." if len(odd) > 5 else ""))
            for name in sorted(blur):
                extra = {k: seq / k / f"{name}.png" for k in ("blur_map", "motion")}
                pairs.append(GoProPair(split_dir.name, seq.name, name, blur[name], sharp[name],
                                       extra["blur_map"] if extra["blur_map"].is_file() else None,
                                       extra["motion"] if extra["motion"].is_file() else None))
    if not pairs:
        raise BurstError(f"{root}: no <split>/<sequence>/blur,sharp pairs found")
    return pairs


def _frame_sequences(all_root: Path) -> list[tuple[str, Path, int]]:
    """(split, sequence folder, frame count) for every ``<split>/<sequence>/`` of frames."""
    sequences = []
    for split_dir in sorted(p for p in all_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for seq in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            sequences.append((split_dir.name, seq, len(list_frames(seq)[0])))
    return sequences


def rebuild_from_all(all_root: str | Path, out: str | Path, n: int = 7, stride: int | None = None) -> dict:
    """Blur images, sharp labels and blur-degree maps from GOPRO_Large_all-style frame sequences.

    Windows of ``n`` consecutive frames every ``stride`` frames (default n: no
    overlap), fused with equal weights and no registration (as the set was
    made), the middle frame as sharp. All or nothing: ``out`` appears only
    when every window has been written.
    """
    all_root, out = Path(all_root), Path(out)
    if n < 2:
        raise BurstError(f"a burst needs n >= 2 frames, got n={n}")
    stride = n if stride is None else stride
    if stride < 1:
        raise BurstError(f"stride must be >= 1, got {stride}")
    if not all_root.is_dir():
        raise BurstError(f"{all_root}: not a folder")
    sequences = _frame_sequences(all_root)
    if not sequences:
        raise BurstError(f"{all_root}: no <split>/<sequence>/ frame folders found")
    short = [f"{seq} ({count} frames)" for _, seq, count in sequences if count < n]
    if short:
        raise BurstError(f"sequences shorter than the window n={n}: {', '.join(short)}")
    jobs = [(split, seq, start) for split, seq, count in sequences for start in range(0, count - n + 1, stride)]
    windows = 0
    with StagedFolder(out) as stage:
        for split, seq, start in tqdm(jobs, desc="gopro windows", unit="window", disable=None):
            burst = load_folder(seq, start, n)  # checks every file; the middle frame is the reference
            result = process_burst(burst, FuseOptions.tripod())
            middle = n // 2
            files = pair_files(stage.path, split, seq.name, Path(burst.names[middle]).stem)
            stage.write(files["blur"], encode_png(result.fused))
            stage.write(files["sharp"], encode_png(burst.frames[middle]))
            stage.write(files["blur_map"], encode_png(to_png16(result.blur_raw, result.max_value)))
            windows += 1
    return {"sequences": len(sequences), "windows": windows, "n": n, "stride": stride}
