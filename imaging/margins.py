"""Finding a plain border or canvas around a picture, so it can be cut away before hashing:
a photo framed, or placed on a white square, then hashes like the photo."""

from __future__ import annotations

import math

from PIL import Image

MARGIN_SCAN_SIZE = 160  # px: the margins are looked for on a copy this size
MARGIN_TOLERANCE = 16     # levels a border pixel may differ from the corner's colour
MARGIN_MIN_SHARE = 0.02   # a row or column with more differing pixels than this is picture


def margin_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """The (left, top, right, bottom) of the picture inside a plain border or canvas; None
    when there is none to cut.

    The margin colour is the top-left corner's; rows and columns where almost every pixel is
    within MARGIN_TOLERANCE of it are margin. A picture that would lose more than three
    quarters of its area is left whole (a product on white is not a canvas)."""
    import numpy as np

    width, height = img.size
    # Found on a small nearest-neighbour copy (exact margin colours, a tenth of the work),
    # then scaled back, rounding outwards so no picture is cut.
    small = img.convert("RGB")
    small.thumbnail((MARGIN_SCAN_SIZE, MARGIN_SCAN_SIZE), Image.NEAREST)
    arr = np.asarray(small, dtype=np.int16)
    h, w = arr.shape[:2]
    # Channel by channel: a reduction over the last, 3-wide axis costs numpy five times more.
    differs = np.zeros((h, w), dtype=bool)
    for channel in range(3):
        differs |= np.abs(arr[..., channel] - arr[0, 0, channel]) > MARGIN_TOLERANCE
    rows = np.flatnonzero(differs.mean(axis=1) > MARGIN_MIN_SHARE)
    cols = np.flatnonzero(differs.mean(axis=0) > MARGIN_MIN_SHARE)
    if not len(rows) or not len(cols):
        return None
    top, bottom = math.floor(rows[0] * height / h), math.ceil((rows[-1] + 1) * height / h)
    left, right = math.floor(cols[0] * width / w), math.ceil((cols[-1] + 1) * width / w)
    top, left = max(0, top - 1), max(0, left - 1)
    bottom, right = min(height, bottom + 1), min(width, right + 1)
    if (bottom - top) * (right - left) < 0.25 * width * height:
        return None
    if (top, bottom, left, right) == (0, height, 0, width):
        return None
    return left, top, right, bottom
