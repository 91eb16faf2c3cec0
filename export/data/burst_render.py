"""Rendering a synthetic handheld burst from one sharp still.

Each output frame integrates ``subframes`` sub-frames, rendered at
``supersample`` times the output resolution along the camera-shake trajectory
(camera_shake.py) and box-downscaled, so that frames carry their own small
motion blur and averaging the burst gives a continuous smear rather than n
ghosts. Optional moving discs textured from elsewhere in the photo give local
motion; optional Poisson-Gaussian sensor noise (shot + read) is added per
frame. Alongside the frames the renderer returns the per-pixel motion
magnitude - the seed's "shake distribution": the RMS spread, over every
sub-frame of the burst, of the scene point each output pixel saw (output px).
For a small smooth motion the blur-degree map is about |image gradient| times
this spread, which is what the dataset's correlation check looks at.

Deterministic for a seed: every random draw comes from the generator passed in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from burstdeblur.runtime.burst.burst_input import default_reference
from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.data.camera_shake import ShakeRanges, affine_points, random_trajectory, zoom_field


@dataclass(frozen=True)
class ObjectRanges:
    probability: float = 0.5  # chance that a burst has moving objects at all
    max_count: int = 2
    radius_fraction: tuple[float, float] = (0.06, 0.16)  # of the region's short side
    speed_px: tuple[float, float] = (0.5, 3.0)  # output px per frame

    @staticmethod
    def none() -> "ObjectRanges":
        return ObjectRanges(probability=0.0)


@dataclass(frozen=True)
class NoiseRanges:
    """Per-burst noise, drawn log-uniformly. Signal x in [0, 1]: variance = shot * x + read^2."""
    shot: tuple[float, float] = (2e-5, 3e-4)
    read: tuple[float, float] = (5e-4, 3e-3)

    @staticmethod
    def default() -> "NoiseRanges":
        return NoiseRanges()

    @staticmethod
    def bright_to_night() -> "NoiseRanges":
        """Phone sensor noise from base ISO in daylight to a high ISO at night (about 15x the default's top)."""
        return NoiseRanges(shot=(1e-5, 2e-3), read=(4e-4, 1e-2))


@dataclass(frozen=True)
class RenderConfig:
    n: int = 7
    subframes: int = 8  # sub-frames integrated per output frame
    duty: float = 1.0  # exposure time / frame interval; 1 = no gap between frames
    supersample: int = 2  # render at this factor, then box-downscale (patent [0041] of the shake seed)
    shake: ShakeRanges = field(default_factory=ShakeRanges.default)
    objects: ObjectRanges = field(default_factory=ObjectRanges)
    noise: NoiseRanges | None = field(default_factory=NoiseRanges)

    @staticmethod
    def default() -> "RenderConfig":
        return RenderConfig()

    @staticmethod
    def tiny() -> "RenderConfig":
        """Small and fast, for tests."""
        return RenderConfig(n=4, subframes=3)

    def check(self) -> None:
        if self.n < 2:
            raise BurstError(f"a burst needs n >= 2 frames, got n={self.n}")
        if self.subframes < 1:
            raise BurstError(f"subframes must be >= 1, got {self.subframes}")
        if not 0.0 < self.duty <= 1.0:
            raise BurstError(f"duty must be in (0, 1], got {self.duty}")
        if self.supersample < 1:
            raise BurstError(f"supersample must be >= 1, got {self.supersample}")


@dataclass(frozen=True)
class SyntheticBurst:
    frames: np.ndarray  # [n, h, w, 3] uint8
    motion: np.ndarray  # [h, w] float32 RMS spread of the seen scene point, output px
    reference: int  # the frame whose mid-exposure is the undisplaced scene
    mean_view: np.ndarray  # [h, w, 3] uint8 still, noise-free view at the burst's mean pose (and mean time)
    frame_views: np.ndarray | None  # [n, h, w, 3] uint8 still view at each frame's mean pose, when asked for
    info: dict  # trajectory, objects and noise parameters (JSON-able)


def scene_geometry(height: int, width: int, short_side: int, supersample: int, min_side: int, label: str
                   ) -> tuple[int, int, int]:
    """Where a ``height`` x ``width`` still ends up: (s, hi-res height, hi-res width).

    The still is downscaled so that its short side is ``short_side * s`` px
    (the scene is then ``short_side`` output px high or wide). It is never
    upsampled: a still too small for that gets a smaller factor s or a
    smaller scene. Raises if even at s = 1 the short side is under ``min_side``.
    """
    short = min(height, width)
    if short < min_side:
        raise BurstError(f"{label}: image is {width}x{height}, smaller than the {min_side}x{min_side} crop")
    s = max(1, min(supersample, short // max(min(short_side, short), 1)))
    target = min(short_side * s, short)
    if target // s < min_side:
        s, target = 1, short
    if target == short:
        return s, height, width
    factor = target / short
    return s, max(1, round(height * factor)), max(1, round(width * factor))


def prepare_scene(image: np.ndarray, short_side: int, supersample: int, min_side: int, label: str
                  ) -> tuple[np.ndarray, int]:
    """The still resized per :func:`scene_geometry`: (``[Hs*s, Ws*s, 3]`` uint8 hi-res scene, s)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BurstError(f"{label}: expected an [H, W, 3] uint8 RGB image, got {image.shape} {image.dtype}")
    s, h, w = scene_geometry(image.shape[0], image.shape[1], short_side, supersample, min_side, label)
    if (h, w) == image.shape[:2]:
        return image, s
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), s


def undisplaced_view(hires: np.ndarray, s: int, region: tuple[int, int, int, int]) -> np.ndarray:
    """``[h, w, 3]`` uint8: what the camera sees with no shake, at output resolution."""
    x0, y0, w, h = region
    return cv2.resize(hires[y0 * s:(y0 + h) * s, x0 * s:(x0 + w) * s], (w, h), interpolation=cv2.INTER_AREA)


def render_burst(hires: np.ndarray, s: int, region: tuple[int, int, int, int], config: RenderConfig,
                 rng: np.random.Generator, frame_views: bool = False) -> SyntheticBurst:
    """Render the burst seen by a camera framing ``region`` = (x0, y0, w, h) output px of the scene.

    With ``frame_views`` it also returns every frame's still, noise-free view at the mean pose (and
    mid time) of its own exposure: the label of a burst merged onto that frame.

    Args:
        hires: ``[Hs*s, Ws*s, 3]`` uint8, the scene at s times the output resolution.
        s: the supersampling factor.
        region: output-pixel rectangle inside the ``Ws x Hs`` scene.
    """
    config.check()
    x0, y0, w, h = region
    scene_w, scene_h = hires.shape[1] // s, hires.shape[0] // s
    if x0 < 0 or y0 < 0 or x0 + w > scene_w or y0 + h > scene_h or w < 1 or h < 1:
        raise BurstError(f"region {region} is outside the {scene_w}x{scene_h} scene")
    n, reference = config.n, default_reference(config.n)
    trajectory = random_trajectory(rng, config.shake, n, config.duty, reference, w, h)
    objects = _random_objects(rng, config.objects, hires, s, w, h)
    noise = _random_noise(rng, config.noise)

    # Hi-res grid in region output coordinates (pixel centres). The field is affine in (x, y)
    # except for the zoom term, so per sub-frame only the zoom basis is a full-frame product.
    xs_h = (np.arange(w * s, dtype=np.float32) + 0.5) / s - 0.5  # [w*s]
    ys_h = (np.arange(h * s, dtype=np.float32) + 0.5) / s - 0.5  # [h*s]
    zoom_h = zoom_field(trajectory, *np.meshgrid(xs_h, ys_h)) * np.float32(s)  # [2, h*s, w*s] hi-res px
    xs, ys = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    zoom = zoom_field(trajectory, *np.meshgrid(xs, ys))  # [2, h, w] output px

    def render_pose(coeff: np.ndarray, t: float, moments: bool) -> np.ndarray:
        """``[h*s, w*s, 3]`` the scene at one instant (pose ``coeff``, objects at time ``t``)."""
        # Point seen by each output pixel, in region output px ...
        seen_x, seen_y = affine_points(trajectory, coeff, xs, ys)  # [h, w] each
        seen_x += coeff[4] * zoom[0]
        seen_y += coeff[4] * zoom[1]
        # ... and by each hi-res pixel, in absolute hi-res px of the scene.
        map_x, map_y = affine_points(trajectory, coeff, xs_h, ys_h, s, (x0, y0))  # [h*s, w*s] each
        map_x = cv2.scaleAdd(zoom_h[0], float(coeff[4]), map_x)
        map_y = cv2.scaleAdd(zoom_h[1], float(coeff[4]), map_y)
        sub = cv2.remap(hires, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        seen_x -= xs[None, :]  # now the displacement of the seen point
        seen_y -= ys[:, None]
        if objects:
            sub = sub.astype(np.float32)
            max_shift = float(max(np.abs(seen_x).max(), np.abs(seen_y).max()))
        for obj in objects:
            centre = obj["centre"] + obj["velocity"] * (t - trajectory.t_ref)  # region output px
            _paint_object(sub, hires, map_x, map_y, obj, centre, s, x0, y0, max_shift)
            # Where the object covers a pixel, the point seen is a point of the object.
            inside = np.hypot(seen_x + xs[None, :] - centre[0], seen_y + ys[:, None] - centre[1]) < obj["radius"]
            seen_x = np.where(inside, seen_x - np.float32(centre[0] - obj["centre"][0]), seen_x)
            seen_y = np.where(inside, seen_y - np.float32(centre[1] - obj["centre"][1]), seen_y)
        if moments:
            cv2.accumulate(seen_x, pos_sum[0])
            cv2.accumulate(seen_y, pos_sum[1])
            cv2.accumulateSquare(seen_x, pos_sq[0])
            cv2.accumulateSquare(seen_y, pos_sq[1])
        return sub

    frames = np.empty((n, h, w, 3), np.uint8)  # [n, h, w, 3]
    # Moments of the displacement of the seen point from the pixel (small, so float32 is exact enough).
    pos_sum = np.zeros((2, h, w), np.float32)
    pos_sq = np.zeros((2, h, w), np.float32)
    acc = np.empty((h * s, w * s, 3), np.float32)
    coeff_sum, t_sum = np.zeros(6), 0.0
    poses: list[tuple[np.ndarray, float]] = []  # per frame: mean coefficients and mean time of its exposure
    for k in range(n):
        acc.fill(0.0)
        frame_coeff, frame_t = np.zeros(6), 0.0
        for j in range(config.subframes):
            t = k + config.duty * (j + 0.5) / config.subframes
            coeff = trajectory.coefficients(t)  # [6]
            frame_coeff += coeff
            frame_t += t
            cv2.accumulate(render_pose(coeff, t, moments=True), acc)
        coeff_sum += frame_coeff
        t_sum += frame_t
        poses.append((frame_coeff / config.subframes, frame_t / config.subframes))
        frame = cv2.resize(acc * np.float32(1.0 / config.subframes), (w, h), interpolation=cv2.INTER_AREA)
        if noise is not None:
            x = np.clip(frame / 255.0, 0.0, 1.0)
            sigma = np.sqrt(noise["shot"] * x + noise["read"] ** 2) * 255.0
            frame = frame + rng.standard_normal(frame.shape, dtype=np.float32) * sigma.astype(np.float32)
        # Sensor saturation: a real frame cannot hold values outside [0, 255] either.
        frames[k] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)

    # The field is linear in the coefficients, so the mean pose is the pose of the mean coefficients:
    # a still, noise-free view registered with the average of the frames (the fused image).
    count = n * config.subframes

    def still_view(coeff: np.ndarray, t: float) -> np.ndarray:
        still = render_pose(coeff, t, moments=False).astype(np.float32)
        return np.clip(np.rint(cv2.resize(still, (w, h), interpolation=cv2.INTER_AREA)), 0, 255).astype(np.uint8)

    mean_view = still_view(coeff_sum / count, t_sum / count)
    views = np.stack([still_view(c, t) for c, t in poses]) if frame_views else None

    var = np.maximum(pos_sq / count - (pos_sum / count) ** 2, 0.0)  # [2, h, w]
    motion = np.sqrt(var[0] + var[1]).astype(np.float32)  # [h, w]
    info = {"trajectory": trajectory.to_json(), "supersample": s, "region_xywh": list(region),
            "objects": [{"centre": list(map(float, o["centre"])), "velocity": list(map(float, o["velocity"])),
                         "radius": float(o["radius"])} for o in objects],
            "noise": noise}
    return SyntheticBurst(frames=frames, motion=motion, reference=reference, mean_view=mean_view,
                          frame_views=views, info=info)


def _paint_object(sub: np.ndarray, hires: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, obj: dict,
                  centre: np.ndarray, s: int, x0: int, y0: int, max_shift: float) -> None:
    """Composite a textured disc centred at ``centre`` (region output px) into ``sub`` in place."""
    ch_x = np.float32((centre[0] + 0.5 + x0) * s - 0.5)  # absolute hi-res px
    ch_y = np.float32((centre[1] + 0.5 + y0) * s - 0.5)
    # Only the disc's neighbourhood: camera motion moves it by at most a few pixels.
    reach = (obj["radius"] + max_shift) * s + 2
    gx0 = int(max(0, np.floor((centre[0] + 0.5) * s - 0.5 - reach)))
    gy0 = int(max(0, np.floor((centre[1] + 0.5) * s - 0.5 - reach)))
    gx1 = int(min(sub.shape[1], np.ceil((centre[0] + 0.5) * s - 0.5 + reach) + 1))
    gy1 = int(min(sub.shape[0], np.ceil((centre[1] + 0.5) * s - 0.5 + reach) + 1))
    if gx1 <= gx0 or gy1 <= gy0:
        return
    rel_x = map_x[gy0:gy1, gx0:gx1] - ch_x  # [bh, bw]
    rel_y = map_y[gy0:gy1, gx0:gx1] - ch_y
    mask = np.clip(np.float32(obj["radius"] * s + 0.5) - np.hypot(rel_x, rel_y), 0.0, 1.0)[..., None]
    texture = cv2.remap(hires, obj["texture"][0] + rel_x, obj["texture"][1] + rel_y, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT_101)
    box = sub[gy0:gy1, gx0:gx1]
    box += mask * (texture - box)


def _random_objects(rng: np.random.Generator, ranges: ObjectRanges, hires: np.ndarray, s: int, w: int, h: int
                    ) -> list[dict]:
    if ranges.max_count < 1 or rng.uniform() >= ranges.probability:
        return []
    objects = []
    for _ in range(int(rng.integers(1, ranges.max_count + 1))):
        radius = rng.uniform(*ranges.radius_fraction) * min(w, h)
        angle = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(*ranges.speed_px)
        rh = radius * s
        tex = np.array([rng.uniform(rh, max(rh + 1, hires.shape[1] - rh)), rng.uniform(rh, max(rh + 1, hires.shape[0] - rh))],
                       np.float32)
        objects.append({"centre": np.array([rng.uniform(0, w), rng.uniform(0, h)]),
                        "velocity": speed * np.array([np.cos(angle), np.sin(angle)]),
                        "radius": radius, "texture": tex})
    return objects


def _random_noise(rng: np.random.Generator, ranges: NoiseRanges | None) -> dict | None:
    if ranges is None:
        return None
    return {"shot": float(np.exp(rng.uniform(*np.log(ranges.shot)))),
            "read": float(np.exp(rng.uniform(*np.log(ranges.read))))}
