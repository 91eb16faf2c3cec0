"""Choosing n from an expected global blur (claim 4) against a brute-force reference."""
import numpy as np
import pytest

from burstdeblur.runtime import BurstError, calibrate, choose_window
from burstdeblur.runtime.burst.blur_calibration import BlurCalibration
from reference import reference_fusion


def _ramp_burst(n_max, seed, size=(24, 20)):
    """Frames drifting in brightness with per-pixel noise: blur grows with n."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 120, size + (3,))
    frames = [np.clip(base + 9 * k + rng.integers(-3, 4, base.shape), 0, 255) for k in range(n_max)]
    return np.stack(frames).astype(np.uint8)


def _brute_table(frames, n):
    return [reference_fusion(frames[s:s + n])[1].mean() / 127.5 for s in range(frames.shape[0] - n + 1)]


def test_fit_matches_least_squares_on_brute_force_table():
    bursts = [_ramp_burst(7, s) for s in range(3)]
    cal = calibrate([(b, 255.0, None) for b in bursts], 7)
    xs, ys = [], []
    for b in bursts:
        for n in range(2, 8):
            t = _brute_table(b, n)
            xs += [n] * len(t)
            ys += t
    slope, intercept = np.polyfit(xs, ys, 1)
    assert cal.slope == pytest.approx(slope, rel=1e-4) and cal.intercept == pytest.approx(intercept, abs=1e-5)
    assert cal.windows == len(xs)
    assert cal.n_for(cal.predict(5)) == 5


def test_choose_window_picks_closest(tmp_path):
    burst = _ramp_burst(8, 11)
    cal = calibrate([(burst, 255.0, None)], 8)
    cal.save(tmp_path / "c.json")
    cal = BlurCalibration.load(tmp_path / "c.json")
    target = cal.predict(4)
    n, start, achieved = choose_window(burst, 255.0, cal, target)
    table = _brute_table(burst, n)
    assert n == 4 and start == int(np.argmin(np.abs(np.asarray(table) - target)))
    assert achieved == pytest.approx(table[start], abs=1e-5)


def test_out_of_range_and_flat_calibrations_are_refused():
    burst = _ramp_burst(6, 2)
    cal = calibrate([(burst, 255.0, None)], 6)
    with pytest.raises(BurstError, match="outside the calibrated range"):
        cal.n_for(cal.predict(6) + 10 * cal.slope)
    still = np.repeat(burst[:1], 6, axis=0)
    flat = calibrate([(still, 255.0, None)], 6)
    with pytest.raises(BurstError, match="does not grow with n"):
        flat.n_for(0.0)
