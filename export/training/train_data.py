"""Training pairs read from a dataset folder (GoPro layout): sample, blur map (label 1), sharp (label 2)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from burstdeblur.runtime.burst.blur_map import PNG16_MAX
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import read_image

from burstdeblur.export.data.gopro_layout import GoProPair, read_gopro


class PairDataset(Dataset):
    """``crop`` x ``crop`` windows: random with flips and 90-degree turns when ``augment``, else central.

    Items: ``(blurred [3, c, c], blur_map [1, c, c], sharp [3, c, c])`` float32;
    images in [0, 1], the map in the runtime's unit range (std / (M/2)).
    """

    def __init__(self, root, split: str, crop: int, augment: bool):
        self.pairs: list[GoProPair] = read_gopro(root, (split,))
        self._paths = _sample_paths(Path(root))
        missing = [p.blur for p in self.pairs if p.blur_map is None]
        if missing:
            raise BurstError(f"{missing[0]}: no blur_map/ partner; training needs label 1 (build with `dataset build`)")
        self.crop, self.augment = crop, augment
        self._rng: np.random.Generator | None = None
        self._rng_seed: int | None = None

    def path_of(self, index: int) -> str:
        """Which product path sample ``index`` stands for: single | burst | still (dataset_writer.py)."""
        return self._paths.get(self.pairs[index].name, "single")

    def keep_paths(self, paths: tuple[str, ...]) -> None:
        """Keep only the samples of these product paths (single | burst | still)."""
        self.pairs = [pair for i, pair in enumerate(self.pairs) if self.path_of(i) in paths]
        if not self.pairs:
            raise BurstError(f"no {' or '.join(paths)} samples in this split of the dataset")

    def __len__(self) -> int:
        return len(self.pairs)

    def _generator(self) -> np.random.Generator:
        # torch seeds every loader worker differently for every pass over the loader
        # (and the main process from torch.manual_seed): one stream per worker and pass,
        # so each visit of a sample draws a fresh crop, reproducibly for a seed.
        seed = torch.initial_seed()
        if self._rng is None or self._rng_seed != seed:
            self._rng, self._rng_seed = np.random.default_rng(seed), seed
        return self._rng

    def __getitem__(self, index: int):
        pair = self.pairs[index]
        blur, sharp = read_image(pair.blur), read_image(pair.sharp)  # [H, W, 3] uint8 RGB
        bmap = read_image(pair.blur_map).astype(np.float32) / np.float32(PNG16_MAX)  # [H, W, 1] unit range
        h, w = bmap.shape[:2]
        if min(h, w) < self.crop:
            raise BurstError(f"{pair.blur}: {w}x{h} is smaller than the training crop {self.crop}")
        rng = self._generator() if self.augment else None
        y, x = (rng.integers(0, h - self.crop + 1), rng.integers(0, w - self.crop + 1)) if rng else \
            ((h - self.crop) // 2, (w - self.crop) // 2)
        window = (slice(y, y + self.crop), slice(x, x + self.crop))
        arrays = [blur[window].astype(np.float32) / 255.0, bmap[window], sharp[window].astype(np.float32) / 255.0]
        if rng:
            turns, flip = int(rng.integers(4)), bool(rng.integers(2))
            arrays = [np.rot90(a, turns) for a in arrays]
            if flip:
                arrays = [a[:, ::-1] for a in arrays]
        return tuple(torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))) for a in arrays)


def _sample_paths(root: Path) -> dict[str, str]:
    """Sample name -> path from ``dataset.json`` (builds before the mix, and GoPro trees, have none: single)."""
    manifest = root / "dataset.json"
    if not manifest.is_file():
        return {}
    try:
        samples = json.loads(manifest.read_text()).get("samples", [])
    except (OSError, ValueError) as error:
        raise BurstError(f"{manifest}: unreadable dataset manifest: {error}") from None
    return {r["sample"]: r.get("path", "single") for r in samples if "sample" in r}
