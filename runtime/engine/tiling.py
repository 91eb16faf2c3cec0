"""Run a fixed-size graph over an image of any size: overlapping tiles, feathered blending, bounded memory.

Each tile is ``tile`` x ``tile`` px. Of a tile's output, ``margin`` px along
every edge that borders another tile are thrown away (the net saw zero
padding there, not the picture), and the next ``feather`` px are blended
linearly with the neighbour, so no seam is visible. Tile origins are
multiples of 8, so the nets' three 2x poolings (and the SFT's 8x8 averaging)
fall on the same grid as in an untiled run. Images smaller than a tile are
padded by reflection and cropped back.

Memory: the float32 output and weight accumulators (16 bytes per pixel for an
RGB output plus a map) and one tile's work; a 12-megapixel photo needs about
200 MB here, whatever the tile size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from burstdeblur.runtime.errors import BurstError

ALIGN = 8


@dataclass(frozen=True)
class TileLayout:
    tile: int
    margin: int
    feather: int

    def check(self) -> None:
        if self.tile % ALIGN or self.tile < ALIGN:
            raise BurstError(f"tile size must be a positive multiple of {ALIGN}, got {self.tile}")
        if self.margin < 0 or self.feather < 0 or 2 * (self.margin + self.feather) >= self.tile:
            raise BurstError(f"margin {self.margin} + feather {self.feather} leave nothing of a {self.tile} px tile")

    @property
    def step(self) -> int:
        """Distance between tile origins: tiles overlap by 2 * margin + feather."""
        return max(ALIGN, (self.tile - 2 * self.margin - self.feather) // ALIGN * ALIGN)

    def origins(self, length: int) -> list[int]:
        """Tile origins along one axis of ``length`` (>= tile) px; the last tile ends at the edge."""
        if length <= self.tile:
            return [0]
        last = length - self.tile
        starts = list(range(0, last, self.step))
        # The last origin must be aligned too: pad the axis (caller) so that length - tile is a multiple of 8.
        starts.append(last)
        return starts


def _ramp(length: int, start_open: bool, end_open: bool, margin: int, feather: int) -> np.ndarray:
    """Weights along one tile axis: 0 in a discarded margin, rising over the feather, 1 inside.
    An edge that is the image's own border keeps full weight (no neighbour to blend with)."""
    w = np.ones(length, np.float32)
    ramp = (np.arange(feather, dtype=np.float32) + 0.5) / feather if feather else np.zeros(0, np.float32)
    if start_open:
        w[:margin] = 0.0
        w[margin:margin + feather] = ramp
    if end_open:
        w[length - margin:] = 0.0
        w[length - margin - feather:length - margin] = np.minimum(w[length - margin - feather:length - margin], ramp[::-1])
    return w


def _padded_size(length: int, tile: int) -> int:
    """At least ``tile``, and ``tile`` + a multiple of 8, so every origin is aligned."""
    if length <= tile:
        return tile
    return tile + -(-(length - tile) // ALIGN) * ALIGN


def run_tiled(inputs: Sequence[np.ndarray], run: Callable[[list[np.ndarray]], list[np.ndarray]],
              out_channels: Sequence[int], layout: TileLayout,
              progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Apply ``run`` to aligned tiles of ``inputs`` (each ``[H, W, C_i]`` float32) and blend.

    ``run`` takes one ``[tile, tile, C_i]`` array per input and returns one
    ``[tile, tile, C_k]`` array per output. Returns ``[H, W, C_k]`` float32 per output.
    """
    layout.check()
    h, w = inputs[0].shape[:2]
    for x in inputs:
        if x.shape[:2] != (h, w) or x.ndim != 3:
            raise BurstError(f"tiled inputs must share [H, W, C] size: {[a.shape for a in inputs]}")
    ph, pw = _padded_size(h, layout.tile), _padded_size(w, layout.tile)
    if (ph, pw) != (h, w):
        if ph - h >= h or pw - w >= w:  # reflection needs the image to be larger than the pad
            padded = [np.pad(x, ((0, ph - h), (0, pw - w), (0, 0)), mode="symmetric") for x in inputs]
        else:
            padded = [np.pad(x, ((0, ph - h), (0, pw - w), (0, 0)), mode="reflect") for x in inputs]
    else:
        padded = list(inputs)
    rows, cols = layout.origins(ph), layout.origins(pw)
    acc = [np.zeros((ph, pw, c), np.float32) for c in out_channels]
    weight = np.zeros((ph, pw), np.float32)
    t = layout.tile
    total, done = len(rows) * len(cols), 0
    for i, y in enumerate(rows):
        wy = _ramp(t, i > 0, i < len(rows) - 1, layout.margin, layout.feather)
        for j, x in enumerate(cols):
            wx = _ramp(t, j > 0, j < len(cols) - 1, layout.margin, layout.feather)
            outs = run([np.ascontiguousarray(p[y:y + t, x:x + t]) for p in padded])
            if len(outs) != len(acc):
                raise BurstError(f"tile function returned {len(outs)} outputs, expected {len(acc)}")
            wt = wy[:, None] * wx[None, :]  # [t, t]
            for a, o in zip(acc, outs):
                a[y:y + t, x:x + t] += o * wt[..., None]
            weight[y:y + t, x:x + t] += wt
            done += 1
            if progress:
                progress(done, total)
    if float(weight[:h, :w].min()) <= 0.0:
        raise BurstError("tiling left pixels uncovered (margin/feather too large for the tile step)")
    inv = 1.0 / weight[:h, :w, None]
    return [a[:h, :w] * inv for a in acc]
