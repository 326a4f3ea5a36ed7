"""Finding a plain border or canvas around a picture, so it can be cut away before hashing:
a photo framed, or placed small on a white square, then hashes like the photo.

A margin is found from what it is, not from any plain run of pixels: rows and columns of the
corner's colour, flat (a canvas or a frame is one colour to the pixel, give or take the
compression's noise; a photo's own sky or white wall is not that flat), ending at the picture.
So a registered photo with a pale sky keeps its sky, and a copy put small on a canvas is cut
out however small it sits (down to MIN_CORE of the canvas)."""

from __future__ import annotations

import math

from PIL import Image

MARGIN_SCAN_SIZE = 160  # px: the margins are looked for on a copy this size
MARGIN_TOLERANCE = 16     # levels a border pixel may differ from the corner's colour
MARGIN_MIN_SHARE = 0.02   # a row or column with more differing pixels than this is picture
MARGIN_FLAT = 1.0         # levels: the margin's median distance from its colour, at most
MIN_CORE = 0.02           # share of the picture: a smaller core is a mark, not a picture


def margin_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """The (left, top, right, bottom) of the picture inside a plain border or canvas; None
    when there is none to cut.

    The margin colour is the top-left corner's; rows and columns where almost every pixel is
    within MARGIN_TOLERANCE of it are margin, and what would be cut must be flat (its median
    pixel within MARGIN_FLAT of the colour; the compression's ringing beside the picture does
    not count): a photo's own plain edge is not a margin."""
    import numpy as np

    width, height = img.size
    # Found on a small nearest-neighbour copy (exact margin colours, a tenth of the work),
    # then scaled back, rounding outwards so no picture is cut.
    small = img.convert("RGB")
    small.thumbnail((MARGIN_SCAN_SIZE, MARGIN_SCAN_SIZE), Image.NEAREST)
    arr = np.asarray(small, dtype=np.int16)
    h, w = arr.shape[:2]
    # Channel by channel: a reduction over the last, 3-wide axis costs numpy five times more.
    apart = [np.abs(arr[..., channel] - arr[0, 0, channel]) for channel in range(3)]
    differs = (apart[0] > MARGIN_TOLERANCE) | (apart[1] > MARGIN_TOLERANCE) \
        | (apart[2] > MARGIN_TOLERANCE)
    rows = np.flatnonzero(differs.mean(axis=1) > MARGIN_MIN_SHARE)
    cols = np.flatnonzero(differs.mean(axis=0) > MARGIN_MIN_SHARE)
    if not len(rows) or not len(cols):
        return None
    top, bottom = math.floor(rows[0] * height / h), math.ceil((rows[-1] + 1) * height / h)
    left, right = math.floor(cols[0] * width / w), math.ceil((cols[-1] + 1) * width / w)
    top, left = max(0, top - 1), max(0, left - 1)
    bottom, right = min(height, bottom + 1), min(width, right + 1)
    if (top, bottom, left, right) == (0, height, 0, width):
        return None
    if (bottom - top) * (right - left) < MIN_CORE * width * height:
        return None
    # Flat: what would be cut, against the corner colour (the scan copy's rows and columns).
    cut = np.ones((h, w), dtype=bool)
    cut[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = False
    distance = apart[0] + apart[1] + apart[2]
    if cut.any() and float(np.median(distance[cut])) / 3 > MARGIN_FLAT:
        return None
    return left, top, right, bottom
