"""Property tests (hypothesis) of the fusion and blur-degree map."""
import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from burstdeblur.runtime import fuse_and_blur_map
from burstdeblur.runtime.burst.weights import gradient_weights, normalize_weights, temporal_weights

shapes = st.tuples(st.integers(2, 9), st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3, 4]))
bursts = shapes.flatmap(lambda s: arrays(np.uint8, s))


@settings(max_examples=60, deadline=None)
@given(frame=arrays(np.uint8, st.tuples(st.integers(1, 16), st.integers(1, 16), st.sampled_from([1, 3, 4]))),
       n=st.integers(2, 12))
def test_identical_frames_give_zero_map(frame, n):
    frames = np.repeat(frame[None], n, axis=0)
    fusion = fuse_and_blur_map(frames)
    assert np.all(fusion.blur_raw == 0)
    assert np.array_equal(fusion.fused, frame)


@settings(max_examples=60, deadline=None)
@given(frames=bursts, data=st.data())
def test_map_invariant_to_frame_order(frames, data):
    perm = data.draw(st.permutations(range(frames.shape[0])))
    a = fuse_and_blur_map(frames)
    b = fuse_and_blur_map(frames[list(perm)])
    assert np.array_equal(a.blur_raw, b.blur_raw)  # exact: the integer path has no rounding order
    assert np.array_equal(a.fused, b.fused)


@settings(max_examples=60, deadline=None)
@given(frames=bursts, shift=st.integers(0, 255))
def test_map_invariant_to_adding_a_constant(frames, shift):
    room = 255 - int(frames.max())
    shift = min(shift, room)
    a = fuse_and_blur_map(frames)
    b = fuse_and_blur_map((frames.astype(np.int32) + shift).astype(np.uint8))
    assert np.array_equal(a.blur_raw, b.blur_raw)
    assert np.array_equal(b.fused.astype(np.int32), a.fused.astype(np.int32) + shift)


@settings(max_examples=40, deadline=None)
@given(frames=bursts, weights=st.lists(st.floats(0.01, 100), min_size=9, max_size=9))
def test_weighted_map_invariant_to_order_and_constant(frames, weights):
    n = frames.shape[0]
    w = np.asarray(weights[:n])
    perm = np.arange(n)[::-1]
    a = fuse_and_blur_map(frames, w)
    b = fuse_and_blur_map(frames[perm], w[perm])
    assert np.allclose(a.blur_raw, b.blur_raw, atol=1e-3)
    shifted = (frames.astype(np.int32) + (255 - int(frames.max()))).astype(np.uint8)
    assert np.allclose(a.blur_raw, fuse_and_blur_map(shifted, w).blur_raw, atol=1e-3)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 64), values=st.lists(st.floats(0, 1e6), min_size=64, max_size=64))
def test_weights_sum_to_one(n, values):
    for direction in ("rising", "falling"):
        assert np.isclose(temporal_weights(n, direction).sum(), 1.0)
    raw = np.asarray(values[:n])
    if raw.sum() > 0:
        assert np.isclose(normalize_weights(raw, n, None).sum(), 1.0)


@settings(max_examples=25, deadline=None)
@given(frames=bursts)
def test_gradient_weights_sum_to_one_per_pixel(frames):
    w = gradient_weights(frames, 255.0)
    assert w.shape == frames.shape[:3]
    assert np.all(w >= 0)
    assert np.allclose(w.sum(axis=0), 1.0, atol=1e-5)


def test_gradient_weights_favour_the_sharper_frame():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    flat = np.full_like(sharp, 128)
    w = gradient_weights(np.stack([flat, sharp]), 255.0)
    assert np.all(w[1, 4:-4, 4:-4] > 0.9)
