"""Local features: the corners and textures of a picture, each with where it is and what it
looks like, so that a copy rotated, cropped to half, put small on a canvas, captioned or
recoloured can still be recognised (`imaging.local_match` verifies two sets agree in place).

OpenCV's ORB: FAST corners at several scales, each described by a 256-bit binary string
that does not change when the picture turns. Computed on the grey picture at FEATURE_SIZE
(its longest side), KEEP kept, spread over the picture: the strongest of each cell of a
GRID x GRID grid first, then each cell's second, and so on. Kept by strength alone, a caption
or a price tag's lettering (the strongest corners there are) would take most of them and
leave the photo too few to be recognised by.

A picture on a canvas or in a border is read on what is inside (`frame`: its box in the
whole picture, as shares), at its own resolution, so a photo put small on a white square
has as many corners as the photo itself.

A registry image also keeps its mirror image's, since a corner's description is not the same
mirrored. Stored packed (`pack`/`unpack`): a small header with the frame, the descriptors,
then the points as shares of the frame (0-65535): about 9 KB for KEEP = 256. Descriptors come
first, in the order kept, so the first bytes of a stored blob are what a feature index reads
(`index_prefix`, `unpack_descriptors`) without reading the rest.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

FEATURE_SIZE = 512   # px: the longest side the features are found at
KEEP = 256           # features kept per picture
GRID = 4             # cells per side the kept features are spread over
MIN_SIDE = 32        # px: a picture narrower than this has no features (ORB's patch is 31)
DESCRIPTOR_BYTES = 32
WHOLE = (0.0, 0.0, 1.0, 1.0)
_MAGIC = b"SAF2"
# magic, count, width, height (of the picture found on), frame (left, top, right, bottom)
_HEADER = struct.Struct("<4sHHH4H")


@dataclass(frozen=True)
class Features:
    """A picture's local features: `points` (n x 2, float32, in pixels of a `width` x
    `height` copy of what was read) and `descriptors` (n x 32, uint8). `frame`: the box of
    the whole picture that was read (a canvas or border left out), as shares."""

    points: np.ndarray
    descriptors: np.ndarray
    width: int
    height: int
    frame: tuple[float, float, float, float] = WHOLE

    def __len__(self) -> int:
        return len(self.descriptors)

    def in_picture(self, box: tuple[float, float, float, float]
                   ) -> tuple[float, float, float, float]:
        """A box given as shares of what was read, as shares of the whole picture."""
        left, top, right, bottom = self.frame
        w, h = right - left, bottom - top
        return (round(left + box[0] * w, 3), round(top + box[1] * h, 3),
                round(left + box[2] * w, 3), round(top + box[3] * h, 3))

    def in_read(self, box: tuple[float, float, float, float]
                ) -> tuple[float, float, float, float]:
        """A box given as shares of the whole picture, as shares of what was read (what the
        colour grid was taken of too), cut to it."""
        left, top, right, bottom = self.frame
        w, h = max(right - left, 1e-6), max(bottom - top, 1e-6)
        return tuple(min(1.0, max(0.0, v)) for v in (
            (box[0] - left) / w, (box[1] - top) / h, (box[2] - left) / w, (box[3] - top) / h))


_orb = None


def _detector():
    global _orb
    if _orb is None:
        import cv2

        cv2.setNumThreads(1)  # the crawl hashes in a process per core already
        # Threshold 7 finds corners in soft light and fabric; six times KEEP are found so
        # every part of the picture has some to give.
        _orb = cv2.ORB_create(nfeatures=6 * KEEP, fastThreshold=7, edgeThreshold=15,
                              patchSize=31)
    return _orb


def _spread(points: np.ndarray, strength: np.ndarray, width: int, height: int) -> np.ndarray:
    """The order to keep features in: each grid cell's strongest, then each one's second..."""
    cx = np.minimum((points[:, 0] * GRID / width).astype(int), GRID - 1)
    cy = np.minimum((points[:, 1] * GRID / height).astype(int), GRID - 1)
    cell = cy * GRID + cx
    # Each feature's rank in its cell, strongest first (in numpy: the crawl hashes on a
    # thread beside its event loop, and a Python loop would hold the interpreter).
    by_cell = np.lexsort((-strength, cell))
    in_order = cell[by_cell]
    rank = np.empty(len(points), int)
    rank[by_cell] = np.arange(len(points)) - np.searchsorted(in_order, in_order, side="left")
    return np.lexsort((-strength, rank))


def local_features(img: Image.Image, frame: tuple[float, float, float, float] = WHOLE
                   ) -> Features:
    """KEEP features of `img` (any mode), found at FEATURE_SIZE and spread over it. `frame`:
    where `img` sits in the whole picture, when it is a part cut from it."""
    grey = img.convert("L")
    if max(grey.size) > FEATURE_SIZE:
        grey = grey.copy()
        grey.thumbnail((FEATURE_SIZE, FEATURE_SIZE), Image.BILINEAR)
    width, height = grey.size
    none = Features(np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8),
                    width, height, frame)
    if min(width, height) < MIN_SIDE:
        return none  # a sliver or a dot: no corner has room for its patch (nor OpenCV)
    import cv2

    pixels = np.asarray(grey, dtype=np.uint8)
    try:
        keypoints, descriptors = _detector().detectAndCompute(pixels, None)
    except cv2.error:
        return none  # a picture OpenCV cannot read corners in has none to match by
    if descriptors is None or not len(keypoints):
        return none
    points = np.array([k.pt for k in keypoints], dtype=np.float32)
    strength = np.array([k.response for k in keypoints], dtype=np.float32)
    order = _spread(points, strength, width, height)[:KEEP]
    return Features(points[order], descriptors[order], width, height, frame)


def pack(features: Features) -> bytes:
    """The features as stored: header (with the frame), descriptors, points as shares of
    the frame (uint16)."""
    n = len(features)
    scale = np.array([max(1, features.width - 1), max(1, features.height - 1)], np.float32)
    shares = np.clip(np.rint(features.points / scale * 65535), 0, 65535).astype("<u2")
    frame = [round(v * 65535) for v in features.frame]
    return (_HEADER.pack(_MAGIC, n, features.width, features.height, *frame)
            + np.ascontiguousarray(features.descriptors, dtype=np.uint8).tobytes()
            + shares.tobytes())


def index_prefix(count: int) -> int:
    """How many bytes of a stored blob hold its header and first `count` descriptors."""
    return _HEADER.size + count * DESCRIPTOR_BYTES


def unpack_descriptors(data: bytes | None) -> np.ndarray | None:
    """The descriptors in a stored blob or in its first bytes (`index_prefix`), or None."""
    if not data or len(data) < _HEADER.size:
        return None
    magic, n, *_ = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        return None
    n = min(n, (len(data) - _HEADER.size) // DESCRIPTOR_BYTES)
    return np.frombuffer(data, dtype=np.uint8, count=n * DESCRIPTOR_BYTES,
                         offset=_HEADER.size).reshape(n, DESCRIPTOR_BYTES)


def unpack(data: bytes | None) -> Features | None:
    """Stored features, or None (nothing stored, or not features)."""
    if not data or len(data) < _HEADER.size:
        return None
    magic, n, width, height, *frame = _HEADER.unpack_from(data)
    if magic != _MAGIC or len(data) != _HEADER.size + n * (4 + DESCRIPTOR_BYTES):
        return None
    start = _HEADER.size
    descriptors = np.frombuffer(data, dtype=np.uint8, count=n * DESCRIPTOR_BYTES,
                                offset=start).reshape(n, DESCRIPTOR_BYTES)
    shares = np.frombuffer(data, dtype="<u2", count=2 * n,
                           offset=start + n * DESCRIPTOR_BYTES).reshape(n, 2)
    scale = np.array([max(1, width - 1), max(1, height - 1)], np.float32)
    points = shares.astype(np.float32) / 65535 * scale
    return Features(points, descriptors, width, height, tuple(v / 65535 for v in frame))


__all__ = ["DESCRIPTOR_BYTES", "FEATURE_SIZE", "KEEP", "WHOLE", "Features", "index_prefix",
           "local_features", "pack", "unpack", "unpack_descriptors"]
