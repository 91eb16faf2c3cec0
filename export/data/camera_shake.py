"""The camera-shake displacement field of the shake-distribution seed, [0043]-[0065], over time.

At one instant the field is the sum of four components (seed formula
M = M_Tx + M_Ty + M_Tz + M_Rz), each about its own centre pixel:

    Tx: U = (x - x_Tx) r_Tx + t_Tx,  V = 0         base shift t and acceleration coefficient r
    Ty: U = 0,  V = (y - y_Ty) r_Ty + t_Ty
    Tz: (U, V) = t_Tz * zeta * d * (x - x_Tz, y - y_Tz),  d = |(x, y) - P_Tz|    zoom along z
    Rz: |(U, V)| = 2 d tan(omega / 2), tangential about P_Rz                    rotation about z

Two choices where the seed is loose: zeta = 1 / R^2 with R the region's
half-diagonal, so t_Tz is the radial displacement in pixels at distance R; and
the rotation's direction is taken perpendicular to the radius (what a rotation
does) - the seed's printed angle, atan((i - i_R)/(j - j_R)) - pi/2, mixes up
its axes. The field is linear in the six coefficients (t_Tx, r_Tx, t_Ty, r_Ty,
t_Tz, tan(omega/2)), so a trajectory is six smooth random curves of time and
the field at any instant is a weighted sum of six fixed basis fields. Five of them are affine in
(x, y), so :func:`affine_points` applies them to a grid's row and column vectors; only the zoom
basis (:func:`zoom_field`) is a full-frame field.

Time runs in frame units: frame k of a burst is exposed over [k, k + duty].
Every curve is zero at the middle of the reference (middle) frame's exposure,
so that frame is the undisplaced scene.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

COEFFICIENTS = ("t_x", "r_x", "t_y", "r_y", "t_z", "tan_half_omega")


@dataclass(frozen=True)
class ShakeRanges:
    """Amplitude ranges (largest excursion over the burst), drawn uniformly per burst. Output pixels."""
    translation_px: tuple[float, float] = (1.0, 8.0)  # |t_Tx|, |t_Ty|
    acceleration: tuple[float, float] = (0.0, 0.008)  # |r_Tx|, |r_Ty|: px of extra shift per px from the centre
    zoom_px: tuple[float, float] = (0.0, 4.0)  # |t_Tz|: radial shift at the region's half-diagonal
    rotation_deg: tuple[float, float] = (0.0, 0.8)  # |omega|
    wobble: float = 0.3  # share of each curve that is oscillation (hand tremor) rather than smooth drift

    @staticmethod
    def default() -> "ShakeRanges":
        return ShakeRanges()

    @staticmethod
    def varying() -> "ShakeRanges":
        """Rotation and zoom dominate: motion that changes strongly across the frame (for the motion check)."""
        return ShakeRanges((0.0, 0.5), (0.0, 0.0), (2.0, 4.0), (0.6, 1.0), 0.2)

    def scaled(self, factor: float) -> "ShakeRanges":
        """Every amplitude range times ``factor`` (0 = a still camera): blur from none to heavy."""
        def times(r: tuple[float, float]) -> tuple[float, float]:
            return (r[0] * factor, r[1] * factor)
        return replace(self, translation_px=times(self.translation_px), acceleration=times(self.acceleration),
                       zoom_px=times(self.zoom_px), rotation_deg=times(self.rotation_deg))

    @staticmethod
    def still() -> "ShakeRanges":
        """No camera motion (for tests and local-motion-only data)."""
        return ShakeRanges((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), 0.0)


@dataclass(frozen=True)
class ShakeTrajectory:
    """Six coefficient curves, each ``amplitude * curve(t)`` with ``max |curve| = 1``."""
    amplitudes: tuple[float, ...]  # [6] in COEFFICIENTS order; translations/zoom in output px
    drift: np.ndarray  # [6, 2] velocity and acceleration of the polynomial part
    wobble: np.ndarray  # [6, 2, 3] per curve two sinusoids: amplitude, frequency (cycles/burst), phase
    wobble_share: float
    t_ref: float  # time at which every curve is zero
    duration: float  # burst length in frame units (n)
    norms: np.ndarray  # [6] 1 / max |raw curve| over the burst
    centres: np.ndarray  # [4, 2] (x, y) centres of Tx, Ty, Tz, Rz in output px, region coordinates
    radius: float  # R, the region's half-diagonal in output px

    def coefficients(self, t: float) -> np.ndarray:
        """``[6]`` coefficients at time ``t`` (frame units)."""
        return np.asarray(self.amplitudes) * self.norms * self.curves(t)

    def curves(self, t: float) -> np.ndarray:
        """``[6]`` unnormalised curves at ``t``, zero at ``t_ref``."""
        return self._raw(t) - self._raw(self.t_ref)

    def _raw(self, t: float) -> np.ndarray:
        u = (t - self.t_ref) / self.duration  # [-1, 1]
        poly = self.drift[:, 0] * u + 0.5 * self.drift[:, 1] * u * u
        tau = t / self.duration
        osc = np.sum(self.wobble[:, :, 0] * np.sin(2 * np.pi * self.wobble[:, :, 1] * tau + self.wobble[:, :, 2]), axis=1)
        return (1 - self.wobble_share) * poly + self.wobble_share * osc

    def to_json(self) -> dict:
        return {"amplitudes": dict(zip(COEFFICIENTS, self.amplitudes)), "t_ref": self.t_ref,
                "centres_xy": {k: list(map(float, c)) for k, c in zip(("Tx", "Ty", "Tz", "Rz"), self.centres)}}


def random_trajectory(rng: np.random.Generator, ranges: ShakeRanges, n: int, duty: float,
                      reference: int, width: int, height: int) -> ShakeTrajectory:
    """A smooth random trajectory over an n-frame burst of a ``width`` x ``height`` region (output px)."""
    rot = np.deg2rad(rng.uniform(*ranges.rotation_deg))
    amplitudes = (rng.uniform(*ranges.translation_px), rng.uniform(*ranges.acceleration),
                  rng.uniform(*ranges.translation_px), rng.uniform(*ranges.acceleration),
                  rng.uniform(*ranges.zoom_px), float(np.tan(rot / 2)))
    drift = rng.normal(0.0, 1.0, (6, 2))
    wobble = np.stack([rng.normal(0, 1, (6, 2)), rng.uniform(0.5, 2.0, (6, 2)), rng.uniform(0, 2 * np.pi, (6, 2))], -1)
    centres = np.stack([rng.uniform(0, width, 4), rng.uniform(0, height, 4)], -1)  # [4, 2]
    raw = ShakeTrajectory(tuple(float(a) for a in amplitudes), drift, wobble, ranges.wobble, reference + duty / 2,
                          float(n), np.ones(6), centres, 0.5 * float(np.hypot(width, height)))
    peak = np.max(np.abs([raw.curves(t) for t in np.linspace(0.0, float(n), 257)]), axis=0)  # [6]
    return replace(raw, norms=1.0 / np.maximum(peak, 1e-12))


def affine_points(trajectory: ShakeTrajectory, coeff: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                 s: int = 1, origin: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """x + U and y + V without the zoom term on the grid ``xs`` x ``ys``: ``[len(ys), len(xs)]`` each.

    In region output px; with ``origin`` = (x0, y0), in absolute px of the scene at s times output resolution.
    """
    t_x, r_x, t_y, r_y, _, tan_half = (float(c) for c in coeff)
    (cx, _), (_, cy), _, (rx, ry) = trajectory.centres
    # x + t_x + r_x (x - cx) - 2 tan(w/2) (y - ry);  y + t_y + r_y (y - cy) + 2 tan(w/2) (x - rx)
    col_x = ((1.0 + r_x) * xs + (t_x - r_x * cx)).astype(np.float32)  # [w]
    row_x = (-2.0 * tan_half * (ys - ry)).astype(np.float32)  # [h]
    col_y = (2.0 * tan_half * (xs - rx)).astype(np.float32)
    row_y = ((1.0 + r_y) * ys + (t_y - r_y * cy)).astype(np.float32)
    if origin is not None:  # output px p -> hi-res px (p + 0.5 + origin) * s - 0.5, folded into the vectors
        col_x = (col_x + np.float32(0.5 + origin[0])) * np.float32(s) - np.float32(0.5)
        row_x = row_x * np.float32(s)
        col_y = col_y * np.float32(s)
        row_y = (row_y + np.float32(0.5 + origin[1])) * np.float32(s) - np.float32(0.5)
    return col_x[None, :] + row_x[:, None], col_y[None, :] + row_y[:, None]


def zoom_field(trajectory: ShakeTrajectory, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``[2, ...]`` the zoom basis alone (the only one that is not affine in x and y)."""
    _, _, (zx, zy), _ = trajectory.centres
    dzx, dzy = x - zx, y - zy
    scale = np.hypot(dzx, dzy) / np.float32(trajectory.radius ** 2)
    return np.stack([scale * dzx, scale * dzy]).astype(np.float32)
