"""Do two pictures have the same colours? The infringing-image match's colour evidence: each
picture keeps an 8 x 8 grid of its chroma (`imaging.colour_signature`), because the grey-level
hashes cannot tell a red dress from the same dress in blue. Compared cell by cell as the
hashes place the copy (the registry form's crop and mirror), or, when the local features
placed it, at the spot of the photo each cell shows (`audits.image_match` decides what a
difference means).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from imaging import COLOUR_GRID, FORMS

GRID = COLOUR_GRID
MIRROR_FORM = next(n for n, f in enumerate(FORMS[1:]) if f.mirrored and not f.cropped)


def _grid(signature: bytes) -> np.ndarray | None:
    if len(signature) != GRID * GRID * 2:
        return None
    return np.frombuffer(signature, dtype=np.uint8).astype(np.float64).reshape(GRID, GRID, 2)


def _resample(grid: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The 8 x 8 grid of the part `box` (left, top, right, bottom as shares of the picture) of
    a picture whose grid is `grid`: each new cell the area-weighted mean of the cells under it."""
    def weights(lo: float, hi: float) -> np.ndarray:
        edges_out = np.linspace(lo, hi, GRID + 1)
        edges_in = np.linspace(0, 1, GRID + 1)
        overlap = (np.minimum(edges_out[1:, None], edges_in[None, 1:])
                   - np.maximum(edges_out[:-1, None], edges_in[None, :-1])).clip(min=0)
        return overlap / overlap.sum(axis=1, keepdims=True)

    wx, wy = weights(box[0], box[2]), weights(box[1], box[3])
    return np.einsum("ij,jkc,lk->ilc", wy, grid, wx)


def colour_cells(listing: bytes, registry: bytes, variant: int = 0, *,
                 placed: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray | None:
    """Each compared cell's (Cb, Cr) distance, in chroma levels, between two colour
    signatures (8 x 8 grids): the inner 6 x 6 cells of the listing's grid, against the
    registry's grid first cut and mirrored as variant `variant` was. The outer ring is left
    out: a border, a price tag or a caption along an edge is not a change of the product's
    colour. None if either signature is not one (e.g. from an older storeaudit). `variant`
    numbers the registry image's forms as `imaging.FORMS` does: 0 the image as registered, n
    its n-th stored variant.

    `placed`: where points of the listing picture (shares) sit on the registry form (shares),
    as the local features placed the copy: each listing cell is then compared with the
    registry's colour at the same spot of the photo, and cells showing none of it (a canvas,
    a turn's corners, a lean's wedges, what a crop cut away) are not compared."""
    a, b = _grid(listing), _grid(registry)
    if a is None or b is None:
        return None
    form = FORMS[variant]
    if form.mirrored:
        b = b[:, ::-1]
    if form.cropped:
        b = _resample(b, form.box)
    inner = np.arange(1, GRID - 1)
    if placed is None:
        return np.sqrt(((a - b) ** 2).sum(axis=2))[1:-1, 1:-1].ravel()
    ys, xs = np.meshgrid(inner, inner, indexing="ij")
    at = placed(np.column_stack([(xs.ravel() + 0.5) / GRID, (ys.ravel() + 0.5) / GRID]))
    shown = np.all((at >= 0) & (at <= 1), axis=1)
    if shown.sum() < 4:  # too little shown to judge: compare as placed by the hashes
        return colour_cells(listing, registry, variant)
    there = _sample(b, at[shown])
    return np.sqrt(((a[ys.ravel()[shown], xs.ravel()[shown]] - there) ** 2).sum(axis=1))


def _sample(grid: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """The grid's colour at points given as shares of the picture, interpolated between the
    cells' centres."""
    pos = np.clip(shares * GRID - 0.5, 0, GRID - 1)
    lo = np.minimum(np.floor(pos).astype(int), GRID - 2)
    f = pos - lo
    x0, y0, fx, fy = lo[:, 0], lo[:, 1], f[:, 0:1], f[:, 1:2]
    top = grid[y0, x0] * (1 - fx) + grid[y0, x0 + 1] * fx
    bottom = grid[y0 + 1, x0] * (1 - fx) + grid[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def colour_distance(listing: bytes, registry: bytes, variant: int = 0, *,
                    placed: Callable[[np.ndarray], np.ndarray] | None = None) -> float | None:
    """How far apart two colour signatures are, in chroma levels: the mean of `colour_cells`."""
    cells = colour_cells(listing, registry, variant, placed=placed)
    return None if cells is None else float(cells.mean())


__all__ = ["MIRROR_FORM", "colour_cells", "colour_distance"]
