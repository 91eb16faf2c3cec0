"""Tiling with feathered blending against untiled runs of local operators (closed-form references)."""
import cv2
import numpy as np
import pytest

from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.engine.tiling import TileLayout, run_tiled


def box(x: np.ndarray, radius: int) -> np.ndarray:
    """A local operator with a known reach, zero padding outside its input (like a conv net's)."""
    k = 2 * radius + 1
    out = cv2.boxFilter(x, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return out.reshape(x.shape) / (k * k)


@pytest.mark.parametrize("shape", [(200, 328, 3), (64, 64, 1), (96, 520, 3)])
def test_identity_is_exact(shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    out, = run_tiled([x], lambda tiles: [tiles[0]], [shape[2]], TileLayout(64, 8, 8))
    assert out.shape == x.shape and np.allclose(out, x, atol=1e-6)


def test_no_seams_when_the_margin_covers_the_reach():
    """Inside the image, a tile's zero-padded border differs from the full run only within the operator's
    reach; a margin at least that wide discards it, so tiled == untiled away from the image's own edge."""
    rng = np.random.default_rng(1)
    x = rng.random((256, 384, 3), dtype=np.float32)  # 256 - 64 and 384 - 64 are multiples of 8: no padding
    full = box(x, 3)
    out, = run_tiled([x], lambda t: [box(t[0], 3)], [3], TileLayout(64, 4, 8))
    assert np.abs(out - full).max() < 1e-5
    # A margin shorter than the reach leaves seams: the check above can fail.
    bad, = run_tiled([x], lambda t: [box(t[0], 3)], [3], TileLayout(64, 0, 8))
    assert np.abs(bad - full).max() > 1e-3


def test_several_inputs_and_outputs_stay_aligned():
    rng = np.random.default_rng(2)
    image, bmap = rng.random((136, 200, 3), dtype=np.float32), rng.random((136, 200, 1), dtype=np.float32)
    out, m = run_tiled([image, bmap], lambda t: [t[0] * t[1], t[1] + 1], [3, 1], TileLayout(64, 8, 8))
    assert np.allclose(out, image * bmap, atol=1e-6) and np.allclose(m, bmap + 1, atol=1e-6)


def test_bad_layouts_and_inputs():
    x = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(BurstError, match="multiple of 8"):
        run_tiled([x], lambda t: t, [3], TileLayout(60, 4, 4))
    with pytest.raises(BurstError, match="leave nothing"):
        run_tiled([x], lambda t: t, [3], TileLayout(64, 16, 16))
    with pytest.raises(BurstError, match="share"):
        run_tiled([x, np.zeros((32, 64, 1), np.float32)], lambda t: t, [3], TileLayout(64, 4, 4))
