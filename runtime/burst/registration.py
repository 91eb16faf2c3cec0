"""Global registration of every frame to a reference frame.

Feature-based first (ORB keypoints, ratio-tested matches, RANSAC homography),
then ECC refinement at reduced resolution starting from that estimate; ECC from
the identity is the fallback when features fail (flat or repetitive scenes).
Each frame gets a record with its residuals; a frame that cannot be registered
is refused - an error, or a warning and the frame dropped, as the caller chose.

Homography convention: ``H`` maps frame pixel coordinates to reference pixel
coordinates, so ``cv2.warpPerspective(frame, H, size)`` aligns the frame.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.errors import BurstError

log = logging.getLogger(__name__)
ON_FAIL = ("error", "skip")


@dataclass(frozen=True)
class RegistrationConfig:
    orb_features: int = 3000
    ratio_test: float = 0.75  # Lowe's ratio: keep a match only if clearly better than the runner-up
    ransac_threshold_px: float = 3.0
    min_inliers: int = 20
    min_inlier_ratio: float = 0.2
    ecc: bool = True
    ecc_scale: float = 0.5  # ECC at half resolution: ~3x faster, still ~0.03 px at full scale
    ecc_iterations: int = 100
    ecc_epsilon: float = 1e-6
    ecc_min_correlation: float = 0.7  # below this an ECC-only result is not trusted
    max_corner_shift: float = 0.25  # of the image diagonal: a larger move is no handheld shake
    min_overlap: float = 0.5  # fraction of the reference a frame must cover
    on_fail: str = "error"

    @staticmethod
    def default() -> "RegistrationConfig":
        return RegistrationConfig()


@dataclass(frozen=True)
class FrameRegistration:
    index: int
    name: str
    method: str  # 'reference', 'orb', 'orb+ecc', 'ecc', or 'failed'
    homography: tuple[tuple[float, ...], ...]
    matches: int
    inliers: int
    reprojection_rmse_px: float | None  # RANSAC inliers
    ecc_correlation: float | None
    photometric_residual: float | None  # mean |aligned - reference| over the overlap, gray 0-255
    overlap: float | None
    accepted: bool
    reason: str | None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Registration:
    frames: np.ndarray  # [n_kept, H, W, C] aligned frames
    valid: np.ndarray  # [n_kept, H, W] bool: pixel covered by the warped frame
    kept: tuple[int, ...]  # input indices of the kept frames
    reference: int  # index of the reference within the kept frames
    records: tuple[FrameRegistration, ...]  # one per input frame

    @property
    def partial_valid(self) -> np.ndarray | None:
        """``valid``, or None when every frame covers every pixel (fusion's fast path)."""
        return None if self.valid.all() else self.valid


def gray8(frame: np.ndarray, max_value: float) -> np.ndarray:
    """``[H, W, C]`` -> ``[H, W]`` uint8 gray (BT.601 luma) for features, flow and merge weights."""
    if frame.dtype == np.uint8:  # the usual camera frame: OpenCV's integer conversion, no float copy
        if frame.shape[2] >= 3:
            return cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2GRAY)
        return np.ascontiguousarray(frame[..., 0])
    rgb = frame[..., :3] if frame.shape[2] >= 3 else frame[..., :1]
    scaled = rgb.astype(np.float32) * np.float32(255.0 / max_value)
    if scaled.shape[2] == 3:
        scaled = cv2.cvtColor(scaled, cv2.COLOR_RGB2GRAY)
    return np.clip(np.rint(scaled.reshape(frame.shape[:2])), 0, 255).astype(np.uint8)


def register_burst(frames: np.ndarray, max_value: float, reference: int,
                   config: RegistrationConfig, names: tuple[str, ...] | None = None) -> Registration:
    """Register ``[n, H, W, C]`` frames to ``frames[reference]``."""
    if config.on_fail not in ON_FAIL:
        raise BurstError(f"on_fail must be one of {ON_FAIL}, got {config.on_fail!r}")
    n, h, w, _ = frames.shape
    names = names or tuple(str(i) for i in range(n))
    ref_gray = gray8(frames[reference], max_value)  # [H, W]
    orb = cv2.ORB_create(nfeatures=config.orb_features)
    ref_kp, ref_desc = orb.detectAndCompute(ref_gray, None)
    records, aligned, valid, kept = [], [], [], []
    for i in tqdm(range(n), desc="registering", unit="frame", leave=False, disable=None):
        if i == reference:
            records.append(FrameRegistration(i, names[i], "reference", _tuple(np.eye(3)), 0, 0, None, 1.0, 0.0, 1.0, True, None))
            aligned.append(frames[i])
            valid.append(np.ones((h, w), bool))
            kept.append(i)
            continue
        gray = gray8(frames[i], max_value)
        record, hom = _register_one(i, names[i], gray, ref_gray, ref_kp, ref_desc, orb, config)
        if record.accepted:
            warped, mask = warp_to_reference(frames[i], hom)
            residual = _photometric_residual(gray8(warped, max_value), ref_gray, mask)
            record = FrameRegistration(**{**asdict(record), "photometric_residual": residual})
            aligned.append(warped)
            valid.append(mask)
            kept.append(i)
        elif config.on_fail == "error":
            raise BurstError(f"frame {names[i]} cannot be registered to {names[reference]}: {record.reason} "
                             "(use --on-fail skip to drop such frames, or --align off)")
        else:
            log.warning("dropping frame %s: cannot be registered (%s)", names[i], record.reason)
        records.append(record)
    if len(kept) < 2:
        raise BurstError(f"only {len(kept)} frame(s) could be registered; a burst needs n >= 2")
    return Registration(frames=np.stack(aligned), valid=np.stack(valid), kept=tuple(kept),
                        reference=kept.index(reference), records=tuple(records))


def _register_one(index: int, name: str, gray: np.ndarray, ref_gray: np.ndarray, ref_kp, ref_desc,
                  orb, config: RegistrationConfig) -> tuple[FrameRegistration, np.ndarray]:
    h, w = gray.shape
    hom, matches, inliers, rmse, orb_reason = _orb_homography(gray, ref_kp, ref_desc, orb, config)
    method = "orb" if hom is not None else None
    corr = None
    ecc_reason = None
    if config.ecc:
        start = hom if hom is not None else np.eye(3)
        refined, corr, ecc_reason = _ecc_refine(gray, ref_gray, start, config)
        if refined is not None and (hom is not None or corr >= config.ecc_min_correlation):
            hom = refined
            method = "orb+ecc" if method == "orb" else "ecc"
        elif refined is not None:
            ecc_reason = f"ECC correlation {corr:.3f} < {config.ecc_min_correlation}"
    reason = None
    overlap = None
    if hom is None:
        reason = "; ".join(r for r in (orb_reason, ecc_reason) if r) or "no transform found"
    else:
        reason = _implausible(hom, w, h, config)
        if reason is None:
            overlap = _overlap(hom, w, h)
            if overlap < config.min_overlap:
                reason = f"covers only {overlap:.0%} of the reference (< {config.min_overlap:.0%})"
    accepted = reason is None
    final = hom if hom is not None else np.eye(3)
    return FrameRegistration(index, name, method if accepted else "failed", _tuple(final), matches, inliers,
                             rmse, corr, None, overlap, accepted, reason), final


def _orb_homography(gray, ref_kp, ref_desc, orb, config):
    kp, desc = orb.detectAndCompute(gray, None)
    if desc is None or ref_desc is None or len(kp) < 4 or len(ref_kp) < 4:
        return None, 0, 0, None, "too few ORB features"
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, ref_desc, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < config.ratio_test * p[1].distance]
    if len(good) < max(4, config.min_inliers):
        return None, len(good), 0, None, f"only {len(good)} feature matches"
    src = np.float32([kp[m.queryIdx].pt for m in good])  # [m, 2] frame
    dst = np.float32([ref_kp[m.trainIdx].pt for m in good])  # [m, 2] reference
    hom, mask = cv2.findHomography(src, dst, cv2.RANSAC, config.ransac_threshold_px)
    if hom is None:
        return None, len(good), 0, None, "RANSAC found no homography"
    inl = mask.ravel().astype(bool)
    count = int(inl.sum())
    proj = cv2.perspectiveTransform(src[inl][None], hom)[0]
    rmse = float(np.sqrt(np.mean(np.sum((proj - dst[inl]) ** 2, axis=1)))) if count else None
    if count < config.min_inliers or count < config.min_inlier_ratio * len(good):
        return None, len(good), count, rmse, f"only {count} RANSAC inliers of {len(good)} matches"
    return hom, len(good), count, rmse, None


def _ecc_refine(gray, ref_gray, hom, config):
    """Refine frame->reference ``hom`` with ECC; returns (hom or None, correlation, reason)."""
    s = config.ecc_scale
    scale = np.diag([s, s, 1.0])
    small = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    ref_small = cv2.resize(ref_gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    # ECC's warp maps template (reference) coordinates into the input frame: the inverse of ours.
    warp = (scale @ np.linalg.inv(hom) @ np.linalg.inv(scale)).astype(np.float32)
    warp /= warp[2, 2]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, config.ecc_iterations, config.ecc_epsilon)
    try:
        corr, warp = cv2.findTransformECC(ref_small, small, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
    except cv2.error as exc:
        return None, None, f"ECC did not converge ({str(exc).strip().splitlines()[-1][:80]})"
    refined = np.linalg.inv(scale) @ np.linalg.inv(warp.astype(np.float64)) @ scale
    return refined / refined[2, 2], float(corr), None


def _corners(w: int, h: int) -> np.ndarray:
    return np.float64([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])


def _implausible(hom: np.ndarray, w: int, h: int, config: RegistrationConfig) -> str | None:
    if not np.all(np.isfinite(hom)):
        return "homography is not finite"
    corners = _corners(w, h)
    moved = cv2.perspectiveTransform(corners[None], hom)[0]
    shift = float(np.max(np.linalg.norm(moved - corners, axis=1)))
    diag = float(np.hypot(w, h))
    if shift > config.max_corner_shift * diag:
        return f"corners move {shift:.0f} px (> {config.max_corner_shift:.0%} of the diagonal)"
    area = cv2.contourArea(moved.astype(np.float32))
    if not cv2.isContourConvex(moved.astype(np.float32)) or area <= 0:
        return "homography folds the frame"
    return None


def _overlap(hom: np.ndarray, w: int, h: int) -> float:
    quad = cv2.perspectiveTransform(_corners(w, h)[None], hom)[0].astype(np.float32)
    frame = _corners(w, h).astype(np.float32)
    area, _ = cv2.intersectConvexConvex(quad, frame)
    return float(area / ((w - 1) * (h - 1)))


def warp_to_reference(frame: np.ndarray, hom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``[H, W, C]`` into the reference's pixel grid; also return its ``[H, W]`` coverage.

    A pixel counts as covered only if its whole bilinear footprint lies inside
    the frame (mask value 1): the partly covered edge would mix in black fill.
    """
    h, w, c = frame.shape
    warped = cv2.warpPerspective(frame, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    ones = np.ones((h, w), np.float32)
    cover = cv2.warpPerspective(ones, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return warped.reshape(h, w, c), cover >= 1.0 - 1e-4


def _photometric_residual(aligned_gray: np.ndarray, ref_gray: np.ndarray, mask: np.ndarray) -> float:
    diff = np.abs(aligned_gray.astype(np.int16) - ref_gray.astype(np.int16))
    return float(diff[mask].mean()) if mask.any() else float("nan")


def _tuple(hom: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(hom))
