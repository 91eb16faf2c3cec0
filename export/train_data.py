"""Training pairs read from a dataset folder (GoPro layout): sample, blur map (label 1), sharp (label 2)."""
from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from burstdeblur.runtime.errors import BurstError

from .gopro_layout import GoProPair, read_gopro

PNG16_UNIT = 1.0 / 65535.0  # blur_map PNGs store the unit-range map * 65535


def _read(path, flags=cv2.IMREAD_UNCHANGED) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise BurstError(f"{path}: cannot read image")
    return image


class PairDataset(Dataset):
    """Random ``crop`` x ``crop`` windows (with flips and 90-degree turns when ``augment``).

    Items: ``(blurred [3, c, c], blur_map [1, c, c], sharp [3, c, c])`` float32;
    images in [0, 1], the map in the runtime's unit range (std / (M/2)).
    """

    def __init__(self, root, split: str, crop: int, augment: bool, seed: int = 0):
        self.pairs: list[GoProPair] = read_gopro(root, (split,))
        missing = [p.blur for p in self.pairs if p.blur_map is None]
        if missing:
            raise BurstError(f"{missing[0]}: no blur_map/ partner; training needs label 1 (build with `dataset build`)")
        self.crop, self.augment, self.seed = crop, augment, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        pair = self.pairs[index]
        blur = cv2.cvtColor(_read(pair.blur), cv2.COLOR_BGR2RGB)  # [H, W, 3] uint8
        sharp = cv2.cvtColor(_read(pair.sharp), cv2.COLOR_BGR2RGB)
        bmap = _read(pair.blur_map).astype(np.float32) * PNG16_UNIT  # [H, W]
        h, w = bmap.shape
        if min(h, w) < self.crop:
            raise BurstError(f"{pair.blur}: {w}x{h} is smaller than the training crop {self.crop}")
        # Per item and epoch, so workers and ranks draw different but reproducible crops.
        rng = np.random.default_rng((self.seed, self.epoch, index))
        y, x = (rng.integers(0, h - self.crop + 1), rng.integers(0, w - self.crop + 1)) if self.augment else \
            ((h - self.crop) // 2, (w - self.crop) // 2)
        window = (slice(y, y + self.crop), slice(x, x + self.crop))
        arrays = [blur[window].astype(np.float32) / 255.0, bmap[window][..., None], sharp[window].astype(np.float32) / 255.0]
        if self.augment:
            turns, flip = int(rng.integers(4)), bool(rng.integers(2))
            arrays = [np.rot90(a, turns) for a in arrays]
            if flip:
                arrays = [a[:, ::-1] for a in arrays]
        return tuple(torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))) for a in arrays)
