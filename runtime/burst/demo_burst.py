"""A small handheld burst made from a shipped CC0 photo, for the default job and tests.

Global camera shake (x/y translation with acceleration, slow rotation and zoom)
that registration should remove, plus one moving foreground disc that it should
not: after alignment the blur-degree map lights up on the moving object. Each
frame averages several sub-frames along the motion so it carries continuous
motion blur, and gets mild sensor noise. Deterministic for a seed. (The full
dataset renderer lives in burstdeblur.export; this one only needs to be small.)
"""
from __future__ import annotations

from importlib import resources

import cv2
import numpy as np

from burstdeblur.runtime.burst.burst_input import Burst, from_array
from burstdeblur.runtime.io.image_io import read_image

SHIPPED_IMAGES = ("coffee.png", "chelsea.png")


def shipped_image(name: str = "coffee.png") -> np.ndarray:
    """``[H, W, 3]`` uint8 RGB of a CC0 photo shipped in the package (see data/SOURCES.md)."""
    if name not in SHIPPED_IMAGES:
        raise ValueError(f"no shipped image {name!r}; choose one of {SHIPPED_IMAGES}")
    with resources.as_file(resources.files("burstdeblur.runtime") / "data" / name) as path:
        return read_image(path)


def make_demo_burst(n: int = 8, seed: int = 0, image: str = "coffee.png", subframes: int = 4,
                    noise_sigma: float = 1.0) -> Burst:
    return make_demo_burst_and_reference(n, seed, image, subframes, noise_sigma)[0]


def make_demo_burst_and_reference(n: int = 8, seed: int = 0, image: str = "coffee.png", subframes: int = 4,
                                  noise_sigma: float = 1.0, pose_frame: int | None = None) -> tuple[Burst, np.ndarray]:
    """The burst and its sharp reference: the still, noise-free view at the mean camera pose and mean time,
    which is where averaging the unaligned frames centres the blur (as the datasets' mean-pose label).
    With ``pose_frame`` k, the mean pose and time of frame k's exposure instead: where an aligned merge with
    k as its reference frame puts the picture."""
    rng = np.random.default_rng(seed)
    scene = shipped_image(image).astype(np.float32)  # [H, W, 3]
    h, w, _ = scene.shape
    velocity = rng.uniform(-1.5, 1.5, 2)  # px per frame
    accel = rng.uniform(-0.3, 0.3, 2)  # px per frame^2
    spin = rng.uniform(-0.15, 0.15)  # degrees per frame
    zoom = rng.uniform(-0.002, 0.002)  # relative scale per frame
    centre = np.array([w * 0.3, h * 0.65])
    obj_velocity = np.array([w * 0.012, -h * 0.004])  # the disc crosses ~1% of the width per frame
    radius = min(h, w) * 0.14
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = np.empty((n, h, w, 3), np.uint8)
    t_mid = (n - 1) / 2
    mean_cam = np.zeros((2, 3))
    frame_cam = np.zeros((2, 3))
    for k in range(n):
        acc = np.zeros((h, w, 3), np.float32)
        for j in range(subframes):
            t = k + j / subframes - t_mid
            pos = centre + obj_velocity * t
            disc = np.clip(radius + 0.5 - np.hypot(xx - pos[0], yy - pos[1]), 0, 1)[..., None]
            moved = cv2.warpAffine(scene, np.float32([[1, 0, obj_velocity[0] * t], [0, 1, obj_velocity[1] * t]]),
                                   (w, h), borderMode=cv2.BORDER_REFLECT_101)
            composite = disc * moved + (1 - disc) * scene
            shift = velocity * t + 0.5 * accel * t * t
            cam = cv2.getRotationMatrix2D((w / 2, h / 2), spin * t, 1.0 + zoom * t)
            cam[:, 2] += shift
            mean_cam += cam / (n * subframes)  # the affine maps are linear in their parameters
            if k == pose_frame:
                frame_cam += cam / subframes
            acc += cv2.warpAffine(composite, cam, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        frame = acc / subframes + rng.normal(0, noise_sigma, acc.shape).astype(np.float32)
        frames[k] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)  # sensor saturation, as a camera would
    t_mean = (subframes - 1) / (2 * subframes) - t_mid + (n - 1) / 2  # mean of k + j / subframes - t_mid
    if pose_frame is not None:
        t_mean = pose_frame + (subframes - 1) / (2 * subframes) - t_mid
        mean_cam = frame_cam
    pos = centre + obj_velocity * t_mean
    disc = np.clip(radius + 0.5 - np.hypot(xx - pos[0], yy - pos[1]), 0, 1)[..., None]
    moved = cv2.warpAffine(scene, np.float32([[1, 0, obj_velocity[0] * t_mean], [0, 1, obj_velocity[1] * t_mean]]),
                           (w, h), borderMode=cv2.BORDER_REFLECT_101)
    still = cv2.warpAffine(disc * moved + (1 - disc) * scene, mean_cam.astype(np.float32), (w, h),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    reference = np.clip(np.rint(still), 0, 255).astype(np.uint8)
    burst = from_array(frames, names=[f"demo#{k}" for k in range(n)], source=f"built-in burst from {image} (CC0), seed {seed}")
    return burst, reference
