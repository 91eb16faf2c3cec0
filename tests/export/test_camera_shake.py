"""The shake field the renderer uses against the seed's formulas ([0043]-[0065]), evaluated point by point."""
import math

import numpy as np
import pytest

from burstdeblur.export.data.camera_shake import ShakeRanges, affine_points, random_trajectory, zoom_field


@pytest.fixture
def trajectory():
    return random_trajectory(np.random.default_rng(7), ShakeRanges.default(), n=7, duty=1.0, reference=3,
                             width=120, height=80)


def seed_field(coeff, centres, radius, x, y):
    """The seed's four components, written out one pixel at a time."""
    t_x, r_x, t_y, r_y, t_z, tan_half = coeff
    (cxx, cxy), (cyx, cyy), (zx, zy), (rx, ry) = centres
    u = (x - cxx) * r_x + t_x  # M_Tx
    v = (y - cyy) * r_y + t_y  # M_Ty
    d = math.hypot(x - zx, y - zy)  # M_Tz, zeta = 1 / R^2
    u += t_z * d * (x - zx) / radius ** 2
    v += t_z * d * (y - zy) / radius ** 2
    dr = math.hypot(x - rx, y - ry)  # M_Rz: magnitude 2 d tan(w/2), perpendicular to the radius
    if dr > 0:
        s = 2 * dr * tan_half
        theta = math.atan2(y - ry, x - rx)
        u += s * math.cos(theta + math.pi / 2)
        v += s * math.sin(theta + math.pi / 2)
    return u, v


def renderer_field(trajectory, coeff, xs, ys):
    """The displacement as burst_render computes it: affine part on the grid vectors + coeff * zoom field."""
    seen_x, seen_y = affine_points(trajectory, coeff, xs, ys)
    zoom = zoom_field(trajectory, *np.meshgrid(xs, ys))
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([seen_x + coeff[4] * zoom[0] - gx, seen_y + coeff[4] * zoom[1] - gy])


def test_field_matches_seed_formulas(trajectory):
    xs, ys = np.arange(0, 120, 7, dtype=np.float32), np.arange(0, 80, 9, dtype=np.float32)
    for t in (0.0, 1.3, 3.5, 6.9):
        coeff = trajectory.coefficients(t)
        field = renderer_field(trajectory, coeff, xs, ys)
        for (i, j), _ in np.ndenumerate(field[0]):
            u, v = seed_field(coeff, trajectory.centres, trajectory.radius, float(xs[j]), float(ys[i]))
            assert field[0, i, j] == pytest.approx(u, abs=1e-3)
            assert field[1, i, j] == pytest.approx(v, abs=1e-3)


def test_hires_grid_maps_to_the_same_points(trajectory):
    """With an origin and factor s, affine_points gives hi-res pixel coordinates of the same scene points."""
    coeff = trajectory.coefficients(2.2)
    s, origin = 2, (5, 7)
    xs, ys = np.arange(0, 40, dtype=np.float32), np.arange(0, 30, dtype=np.float32)
    out_x, out_y = affine_points(trajectory, coeff, xs, ys)
    hi_x, hi_y = affine_points(trajectory, coeff, xs, ys, s, origin)
    np.testing.assert_allclose(hi_x, (out_x + 0.5 + origin[0]) * s - 0.5, atol=1e-4)
    np.testing.assert_allclose(hi_y, (out_y + 0.5 + origin[1]) * s - 0.5, atol=1e-4)


def test_zoom_field_is_the_seed_zoom_term(trajectory):
    xs, ys = np.meshgrid(np.arange(50, dtype=np.float32), np.arange(30, dtype=np.float32))
    (zx, zy), radius = trajectory.centres[2], trajectory.radius
    d = np.hypot(xs - zx, ys - zy)
    expected = np.stack([d * (xs - zx), d * (ys - zy)]) / radius ** 2  # M_Tz per unit t_Tz, zeta = 1 / R^2
    np.testing.assert_allclose(zoom_field(trajectory, xs, ys), expected, rtol=1e-5, atol=1e-5)


def test_curves_are_zero_at_reference_and_reach_their_amplitude(trajectory):
    assert np.allclose(trajectory.coefficients(trajectory.t_ref), 0.0)
    grid = np.linspace(0, 7, 257)
    peaks = np.max(np.abs([trajectory.coefficients(t) for t in grid]), axis=0)
    np.testing.assert_allclose(peaks, trajectory.amplitudes, rtol=1e-6)


def test_still_ranges_give_no_motion():
    still = random_trajectory(np.random.default_rng(1), ShakeRanges.still(), 5, 1.0, 2, 64, 64)
    assert not np.any([still.coefficients(t) for t in np.linspace(0, 5, 11)])
