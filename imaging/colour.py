"""The colour signature: what the grey-level hashes cannot tell (a red jacket from the same
jacket in blue)."""

from __future__ import annotations

from PIL import Image

COLOUR_GRID = 8  # the colour signature's grid: COLOUR_GRID x COLOUR_GRID cells, (Cb, Cr) each


def colour_signature(img: Image.Image) -> str:
    """The picture's colour: its mean chroma (Cb, Cr) in each cell of an 8 x 8 grid, as hex
    (row by row, Cb then Cr per cell: 128 bytes)."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    small = img.resize((COLOUR_GRID, COLOUR_GRID), Image.BOX).convert("YCbCr")
    _, cb, cr = small.split()
    return bytes(b for pair in zip(cb.tobytes(), cr.tobytes()) for b in pair).hex()
