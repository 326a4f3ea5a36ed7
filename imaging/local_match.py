"""Do two pictures show the same photo? Their local features (`imaging.features`) are paired,
each with its nearest description in the other picture when it is clearly nearer than the
second nearest (Lowe's ratio test), and the pairs must then agree on one placement: a
rotation, a scale and a shift (a similarity, found with RANSAC). A copy rotated, cropped, put
small on a canvas, captioned or recoloured keeps many pairs that agree; two different photos,
even of the same kind of thing, keep a handful at most, scattered. The same scene shot again
(or the same product, in another colour) can keep dozens, but the camera moved: near and far
parts shift differently, and only some of the pairs agree on one placement (`agreement`).

What agrees also says where: the placement carries the copy's frame onto the registry picture
and back, so the match gives the box of the registry picture the copy shows and the box of the
copy that shows it (as shares of each picture's width and height).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import Features

RATIO = 0.85          # a pair: nearest description clearly nearer than the second
MAX_DISTANCE = 80     # bits of 256: a nearer pair than this, at most
REPROJECTION = 6.0    # px (at the features' size): how far a pair may sit off the placement
MIN_INLIERS = 12      # pairs that agree, for the same photo (unrelated photos: <= 6 seen)
MIN_AREA = 0.01       # share of the registry picture the agreeing pairs must span
NEAR = 40.0           # px: a pair this far off the placement is near it, not just wrong
_SCALE_LIMITS = (0.05, 20.0)


@dataclass(frozen=True)
class LocalMatch:
    inliers: int                                   # pairs that agree on the placement
    pairs: int                                     # pairs that passed the ratio test
    # inliers among the pairs within NEAR of the placement: a copy's pairs are in place or
    # wildly wrong (0.95 typical); the same scene shot again has many a few pixels off
    agreement: float
    rotation: float                                # degrees, the copy against the registry
    scale: float                                   # the copy's size against the registry's
    registry_box: tuple[float, float, float, float]  # (left, top, right, bottom), shares
    listing_box: tuple[float, float, float, float]


_matcher = None


def _bf():
    global _matcher
    if _matcher is None:
        import cv2

        _matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _matcher


def _box(points: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """The bounding box of `points` inside a `width` x `height` picture, as shares."""
    lo = np.clip(points.min(axis=0) / [width, height], 0, 1)
    hi = np.clip(points.max(axis=0) / [width, height], 0, 1)
    return (round(float(lo[0]), 3), round(float(lo[1]), 3), round(float(hi[0]), 3),
            round(float(hi[1]), 3))


def _frame_in(placement: np.ndarray, width: int, height: int) -> np.ndarray:
    """The corners of a `width` x `height` picture carried by `placement` (2 x 3)."""
    corners = np.float64([[0, 0], [width, 0], [width, height], [0, height]])
    return corners @ placement[:, :2].T + placement[:, 2]


def _inverse(placement: np.ndarray) -> np.ndarray:
    full = np.vstack([placement, [0, 0, 1]])
    return np.linalg.inv(full)[:2]


def verify(listing: Features, registry: Features, *,
           min_inliers: int = MIN_INLIERS) -> LocalMatch | None:
    """The placement of `registry` in `listing` that enough of their features agree on, or
    None when they do not show the same photo."""
    if len(listing) < min_inliers or len(registry) < min_inliers:
        return None
    import cv2

    knn = _bf().knnMatch(listing.descriptors, registry.descriptors, k=2)
    pairs = [m[0] for m in knn if len(m) == 2 and m[0].distance < RATIO * m[1].distance
             and m[0].distance <= MAX_DISTANCE]
    if len(pairs) < max(3, min_inliers):
        return None
    src = np.float32([registry.points[p.trainIdx] for p in pairs])
    dst = np.float32([listing.points[p.queryIdx] for p in pairs])
    placement, inlying = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION, maxIters=2000,
        confidence=0.995, refineIters=10)
    if placement is None or inlying is None:
        return None
    a, b = float(placement[0, 0]), float(placement[1, 0])
    scale = math.hypot(a, b)
    if not _SCALE_LIMITS[0] <= scale <= _SCALE_LIMITS[1]:
        return None
    # How far each pair lands from its place, in the listing's pixels; a copy blown up
    # (a crop enlarged to the listing's size) blows its corners' uncertainty up with it, so
    # the tolerances grow with it.
    off = np.linalg.norm(src @ placement[:, :2].T + placement[:, 2] - dst, axis=1)
    grown = max(1.0, scale)
    keep = inlying.ravel().astype(bool)
    if grown > 1:
        keep |= off <= REPROJECTION * grown
    inliers = int(keep.sum())
    if inliers < min_inliers:
        return None
    agreeing = _box(src[keep], registry.width, registry.height)
    if (agreeing[2] - agreeing[0]) * (agreeing[3] - agreeing[1]) < MIN_AREA:
        return None  # a few corners in one spot: a logo or a pattern, not the photo
    # Where: the copy's frame carried back onto the registry picture, and the registry
    # picture's frame carried onto the copy, each cut to the picture it lands on.
    # (Each read inside its frame: a canvas or border left out. Shares of the whole picture.)
    registry_box = registry.in_picture(_box(
        _frame_in(_inverse(placement), listing.width, listing.height),
        registry.width, registry.height))
    listing_box = listing.in_picture(_box(
        _frame_in(placement, registry.width, registry.height), listing.width, listing.height))
    # Of the pairs that land near their place, the share that lands in place. A copy's
    # wrong pairs land anywhere (a caption's letters, a repeated texture); a scene shot
    # again from a moved camera has pairs a few pixels off everywhere.
    agreement = round(inliers / int(((off <= NEAR * grown) | keep).sum()), 3)
    return LocalMatch(inliers, len(pairs), agreement,
                      round(math.degrees(math.atan2(b, a)), 1),
                      round(scale, 3), registry_box, listing_box)


__all__ = ["LocalMatch", "MIN_INLIERS", "verify"]
