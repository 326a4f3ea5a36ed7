"""Photo-like test pictures from a seed, and encoding them to bytes."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def picture(seed: str, size=(480, 360)) -> Image.Image:
    """A photo-like picture: blurred coloured shapes on a plain ground, from a seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(12):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        box = [x0, y0, x0 + rng.randrange(40, w // 2), y0 + rng.randrange(40, h // 2)]
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return img.filter(ImageFilter.GaussianBlur(2))


def encode(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()
