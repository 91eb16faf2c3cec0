"""A second burst generator, independent of the one the datasets come from (burst_render.py).

The evaluation of the burst path must not reward a method for having learned
the training renderer's quirks, so this generator shares none of its models:

- **Trajectory:** a random walk in velocity space in the style of Boracchi &
  Foi (2012): the camera position gets a Gaussian acceleration at every time
  step plus rare impulsive jerks (a tap on the shutter), and the velocity is
  pulled back towards 0 (a hand that holds still); the roll angle follows its
  own, slower walk. The training renderer instead uses polynomial drift plus
  tremor of the shake seed's M = M_Tx + M_Ty + M_Tz + M_Rz field.
- **Exposure:** every frame integrates ``subsamples`` poses over an exposure
  that covers ``exposure`` of the frame interval, so each frame carries its own
  motion blur, and frames are displaced by the shake between exposures.
- **Noise:** Poisson-Gaussian at named levels from a bright scene to a dim one.
- **Static camera:** a share of the bursts is shot from a tripod, with one
  textured object moving across (the case where alignment must not move the
  background).

Every frame comes with its sharp view: the noise-free still at the mean pose
of that frame's exposure (and the object at its mean position), so a method
that keeps frame r's geometry is scored against view r.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from burstdeblur.runtime.errors import BurstError

# (name, shot, read): variance = shot * x + read^2 for a signal x in [0, 1]
NOISE_LEVELS = (("bright", 2e-5, 1e-3), ("indoor", 1e-4, 2e-3), ("dim", 4e-4, 4e-3), ("night", 1.2e-3, 8e-3))


@dataclass(frozen=True)
class IndependentConfig:
    n: int = 7
    size: int = 320  # output side, px
    subsamples: int = 16  # poses integrated per exposure
    steps_per_frame: int = 32  # time steps of the random walk per frame interval
    exposure: float = 0.5  # exposed share of each frame interval
    accel_px: float = 0.06  # std of the per-step acceleration, px / step^2
    damping: float = 0.04  # velocity pulled back by this share per step
    jerk_probability: float = 0.01  # chance of an impulsive jerk per step
    jerk_px: float = 0.8  # std of a jerk's velocity change, px / step
    roll_deg: float = 0.01  # std of the per-step roll-rate change, degrees / step
    static_fraction: float = 0.2  # bursts from a tripod with a moving object
    object_speed_px: tuple[float, float] = (3.0, 9.0)  # per frame interval
    noise_levels: tuple[str, ...] = tuple(name for name, _, _ in NOISE_LEVELS)  # cycled through, in this order

    @staticmethod
    def default() -> "IndependentConfig":
        return IndependentConfig()

    @staticmethod
    def steady() -> "IndependentConfig":
        """Daylight and a steady hand: a quarter of the default shake, no jerks, a quarter-interval
        exposure, bright and indoor noise only. Frames come out nearly sharp (a middle frame ~40 dB from
        its still), the case where a merge has little noise to average away and any ghost or softening,
        and any change the nets make, costs more than it gains."""
        return IndependentConfig(exposure=0.25, accel_px=0.015, jerk_probability=0.0, roll_deg=0.0025,
                                 static_fraction=0.0, noise_levels=("bright", "indoor"))

    @staticmethod
    def tiny() -> "IndependentConfig":
        return IndependentConfig().shrunk()

    def shrunk(self) -> "IndependentConfig":
        """The same bursts at test size: 4 frames of 96 px, fewer poses and steps."""
        return replace(self, n=4, size=96, subsamples=6, steps_per_frame=12)


@dataclass(frozen=True)
class IndependentBurst:
    name: str
    kind: str  # handheld | static
    noise: str  # one of NOISE_LEVELS' names
    frames: np.ndarray  # [n, S, S, 3] uint8
    sharp: np.ndarray  # [n, S, S, 3] uint8: frame i's noise-free still at its mean pose


def _walk(rng: np.random.Generator, steps: int, config: IndependentConfig) -> np.ndarray:
    """``[steps, 3]`` camera path: x, y (px) and roll (degrees), starting at rest at 0."""
    path = np.zeros((steps, 3))
    vel = np.zeros(3)
    for t in range(1, steps):
        acc = rng.normal(0, [config.accel_px, config.accel_px, config.roll_deg])
        if rng.random() < config.jerk_probability:
            acc[:2] += rng.normal(0, config.jerk_px, 2)
        vel = (1 - config.damping) * vel + acc
        path[t] = path[t - 1] + vel
    return path - path[steps // 2]  # the middle of the burst at the origin


def _affine(pose: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    m = cv2.getRotationMatrix2D(centre, float(pose[2]), 1.0)
    m[:, 2] += pose[:2]
    return m  # [2, 3]: source -> frame


def render_independent(photo: np.ndarray, rng: np.random.Generator, config: IndependentConfig,
                       static: bool, noise: tuple[str, float, float], name: str) -> IndependentBurst:
    """One burst from an RGB photo ``[H, W, 3]`` uint8 at least ``size * 1.5`` px on its short side."""
    s, n = config.size, config.n
    h, w = photo.shape[:2]
    margin = s // 4
    if min(h, w) < s + 2 * margin:
        raise BurstError(f"{name}: photo {w}x{h} is smaller than the {s + 2 * margin} px this burst needs")
    y0 = int(rng.integers(0, h - s - 2 * margin + 1))
    x0 = int(rng.integers(0, w - s - 2 * margin + 1))
    region = photo[y0:y0 + s + 2 * margin, x0:x0 + s + 2 * margin].astype(np.float32) / 255.0  # [S+2m, S+2m, 3]
    centre = (margin + s / 2, margin + s / 2)
    steps = n * config.steps_per_frame
    path = np.zeros((steps, 3)) if static else _walk(rng, steps, config)
    # Moving object (static bursts): a soft ellipse textured from elsewhere in the photo.
    obj = None
    if static:
        ty = int(rng.integers(0, h - s + 1))
        tx = int(rng.integers(0, w - s + 1))
        texture = photo[ty:ty + s, tx:tx + s].astype(np.float32) / 255.0
        speed = rng.uniform(*config.object_speed_px) / config.steps_per_frame
        angle = rng.uniform(0, 2 * np.pi)
        radii = (s * rng.uniform(0.10, 0.18), s * rng.uniform(0.08, 0.14))
        yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
        obj = (texture, speed * np.array([np.cos(angle), np.sin(angle)]), radii, xx, yy)

    def view(pose: np.ndarray, step: float) -> np.ndarray:
        img = cv2.warpAffine(region, _affine(pose, centre), (s + 2 * margin, s + 2 * margin), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT_101)[margin:margin + s, margin:margin + s]
        if obj is None:
            return img
        texture, vel, radii, xx, yy = obj
        pos = np.array([s / 2, s / 2]) + vel * (step - steps / 2)
        r = np.hypot((xx - pos[0]) / radii[0], (yy - pos[1]) / radii[1])  # 1 on the ellipse's edge
        mask = np.clip((1 - r) * min(radii) + 0.5, 0, 1)[..., None]  # about 1 px of soft edge
        shift = np.float32([[1, 0, pos[0] - s / 2], [0, 1, pos[1] - s / 2]])
        moved = cv2.warpAffine(texture, shift, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        return mask * moved + (1 - mask) * img

    _, shot, read = noise
    frames = np.empty((n, s, s, 3), np.uint8)
    sharp = np.empty((n, s, s, 3), np.uint8)
    exposed = config.exposure * config.steps_per_frame
    for i in range(n):
        t_start = i * config.steps_per_frame
        times = t_start + (np.arange(config.subsamples) + 0.5) * exposed / config.subsamples
        poses = np.stack([_interp(path, t) for t in times])
        acc = np.zeros((s, s, 3), np.float32)
        for pose, t in zip(poses, times):
            acc += view(pose, t)
        acc /= config.subsamples
        sd = np.sqrt(shot * np.clip(acc, 0, 1) + read * read)
        frames[i] = np.clip(np.rint((acc + rng.normal(0, 1, acc.shape).astype(np.float32) * sd) * 255), 0, 255)
        still = view(poses.mean(axis=0), float(times.mean()))
        sharp[i] = np.clip(np.rint(still * 255), 0, 255)
    return IndependentBurst(name, "static" if static else "handheld", noise[0], frames, sharp)


def _interp(path: np.ndarray, t: float) -> np.ndarray:
    k = min(int(np.floor(t)), len(path) - 2)
    f = t - k
    return (1 - f) * path[k] + f * path[k + 1]


def independent_set(photos: list[tuple[str, np.ndarray]], count: int, seed: int,
                    config: IndependentConfig = IndependentConfig()) -> list[IndependentBurst]:
    """``count`` bursts cycling through ``photos`` (name, RGB uint8) and the noise levels, deterministic for a seed."""
    if not photos:
        raise BurstError("no photos for the independent bursts")
    by_name = {level[0]: level for level in NOISE_LEVELS}
    unknown = [name for name in config.noise_levels if name not in by_name]
    if unknown or not config.noise_levels:
        raise BurstError(f"unknown noise levels {unknown or 'none given'}; choose from {', '.join(by_name)}")
    levels = [by_name[name] for name in config.noise_levels]
    rng = np.random.default_rng(seed)
    bursts = []
    period = round(1 / config.static_fraction) if config.static_fraction > 0 else 0  # every period-th burst
    for k in range(count):
        name, photo = photos[k % len(photos)]
        static = period > 0 and k % period == 1
        noise = levels[k % len(levels)]
        bursts.append(render_independent(photo, rng, config, static, noise, f"{name}-{k:03d}"))
    return bursts
