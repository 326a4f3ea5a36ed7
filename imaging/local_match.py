"""Do two pictures show the same photo? Their local features (`imaging.features`) are paired,
each with its nearest description in the other picture when it is clearly nearer than the
second nearest (Lowe's ratio test), and the pairs must then agree on one placement: a
rotation, a scale and a shift (a similarity, found with RANSAC). A copy rotated, cropped, put
small on a canvas, captioned or recoloured keeps many pairs that agree; two different photos,
even of the same kind of thing, keep a handful at most, scattered. The same scene shot again
(or the same product, in another colour) can keep dozens, but the camera moved: near and far
parts shift differently, and only some of the pairs agree on one placement (`agreement`).
A copy leaned in perspective (photographed off a screen) fits no one similarity either, but
it fits one plane's perspective (a homography) to the pixel, which a scene shot again does
not: that placement is tried when the similarity's fails (`leaned`).

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
# The share of the pairs near the placement that must be in place (`LocalMatch.agreement`)
# for the same photo: copies 0.86 and up in 19 cases of 20, the same scene shot again from a
# moved camera 0.5 typical and 0.7 for 19 in 20 (measured on bench/photo_set.py:
# `python -m bench photos`).
AGREEMENT = 0.72
# the agreement a perspective must reach to place a copy one similarity could not: a flat
# picture leaned fits one to the pixel, a scene shot again does not (bench/photo_set.py)
LEANED = 0.9
# and the pairs it must place: a perspective's eight degrees of freedom fit a dozen chance
# pairs of two unrelated photos at 0.9 and more (18 seen; a leaned copy: 100 and more)
LEANED_INLIERS = 40
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
    # placed by one perspective where no similarity agreed: a flat picture leaned (the
    # inliers, agreement and boxes are the perspective's)
    leaned: bool = False
    # the placement itself: the registry picture's read pixels -> the listing's (3 x 3,
    # row by row; pixels of each picture's features, `Features.width` x `height`)
    transform: tuple[float, ...] = (1, 0, 0, 0, 1, 0, 0, 0, 1)

    def registry_shares(self, shares: np.ndarray, listing: Features,
                        registry: Features) -> np.ndarray:
        """Where points of the listing picture (n x 2, shares of what was read) sit on the
        registry picture (shares of what was read there; outside 0-1 when not shown)."""
        back = np.linalg.inv(np.float64(self.transform).reshape(3, 3))
        points = _carry(back, np.asarray(shares, np.float64) * [listing.width, listing.height])
        return points / [registry.width, registry.height]


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


def _carry(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`points` (n x 2) carried by `transform` (3 x 3: a similarity or a perspective)."""
    moved = np.hstack([points, np.ones((len(points), 1))]) @ transform.T
    return moved[:, :2] / moved[:, 2:3]


def _frame_in(transform: np.ndarray, width: int, height: int) -> np.ndarray:
    """The corners of a `width` x `height` picture carried by `transform`."""
    return _carry(transform, np.float64([[0, 0], [width, 0], [width, height], [0, height]]))


@dataclass(frozen=True)
class _Fit:
    transform: np.ndarray     # 3 x 3, registry -> listing
    keep: np.ndarray          # the pairs in place
    agreement: float


def _fit(transform: np.ndarray | None, inlying: np.ndarray | None, src: np.ndarray,
         dst: np.ndarray, grown: float) -> _Fit | None:
    if transform is None or inlying is None:
        return None
    if transform.shape == (2, 3):
        transform = np.vstack([transform, [0, 0, 1]])
    # How far each pair lands from its place, in the listing's pixels; a copy blown up
    # (a crop enlarged to the listing's size) blows its corners' uncertainty up with it, so
    # the tolerances grow with it.
    off = np.linalg.norm(_carry(transform, src.astype(np.float64)) - dst, axis=1)
    keep = inlying.ravel().astype(bool)
    if grown > 1:
        keep |= off <= REPROJECTION * grown
    # Of the pairs that land near their place, the share that lands in place. A copy's
    # wrong pairs land anywhere (a caption's letters, a repeated texture); a scene shot
    # again from a moved camera has pairs a few pixels off everywhere.
    near = int(((off <= NEAR * grown) | keep).sum())
    return _Fit(transform, keep, round(int(keep.sum()) / max(1, near), 3))


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
    if placement is None:
        return None
    scale = math.hypot(float(placement[0, 0]), float(placement[1, 0]))
    if not _SCALE_LIMITS[0] <= scale <= _SCALE_LIMITS[1]:
        return None
    grown = max(1.0, scale)
    fit = _fit(placement, inlying, src, dst, grown)
    leaned = False
    if fit is not None and fit.agreement < AGREEMENT and int(fit.keep.sum()) >= min_inliers:
        # Not one flat placement: the same scene shot again, or a copy leaned in
        # perspective (photographed off a screen). A flat picture leaned is one plane's
        # perspective to the pixel; a scene shot again is not (near and far parts move
        # differently), so only a close fit of every pair near it makes a leaned copy.
        plane = _fit(*cv2.findHomography(src, dst, cv2.RANSAC, REPROJECTION, maxIters=2000,
                                         confidence=0.995), src, dst, grown)
        if (plane is not None and plane.agreement >= LEANED
                and int(plane.keep.sum()) >= LEANED_INLIERS):
            fit, leaned = plane, True
    if fit is None:
        return None
    inliers = int(fit.keep.sum())
    if inliers < min_inliers:
        return None
    agreeing = _box(src[fit.keep], registry.width, registry.height)
    if (agreeing[2] - agreeing[0]) * (agreeing[3] - agreeing[1]) < MIN_AREA:
        return None  # a few corners in one spot: a logo or a pattern, not the photo
    # Where: the copy's frame carried back onto the registry picture, and the registry
    # picture's frame carried onto the copy, each cut to the picture it lands on.
    # (Each read inside its frame: a canvas or border left out. Shares of the whole picture.)
    registry_box = registry.in_picture(_box(
        _frame_in(np.linalg.inv(fit.transform), listing.width, listing.height),
        registry.width, registry.height))
    listing_box = listing.in_picture(_box(
        _frame_in(fit.transform, registry.width, registry.height),
        listing.width, listing.height))
    t = fit.transform / fit.transform[2, 2]
    return LocalMatch(inliers, len(pairs), fit.agreement,
                      round(math.degrees(math.atan2(t[1, 0], t[0, 0])), 1),
                      round(math.sqrt(abs(np.linalg.det(t[:2, :2]))), 3),
                      registry_box, listing_box, leaned,
                      tuple(float(v) for v in t.ravel()))


__all__ = ["AGREEMENT", "LocalMatch", "MIN_INLIERS", "verify"]
