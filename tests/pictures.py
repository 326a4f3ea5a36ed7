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


def scene(seed: str, size=(640, 480), *, jitter: float = 0.0, hue: int = 0) -> Image.Image:
    """A photo-like scene with corners and texture to spare (local features need them): many
    small shapes, lines and marks on a shaded ground, from a seed. `jitter` (px) moves each
    mark on its own, and `hue` turns the colours: the same scene shot again, by another
    camera from another spot, with another product colour; not a copy."""
    rng = random.Random(seed)
    moved = random.Random(f"{seed}/moved")
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    top, bottom = ([rng.randrange(60, 200) for _ in range(3)] for _ in range(2))
    for y in range(h):
        a = y / h
        draw.line([(0, y), (w, y)], fill=tuple(round(t + (b - t) * a) for t, b in zip(top, bottom)))

    def shift(x: float, y: float) -> tuple[float, float]:
        return x + moved.uniform(-jitter, jitter), y + moved.uniform(-jitter, jitter)

    for _ in range(90):
        x, y = shift(rng.uniform(0, w), rng.uniform(0, h))
        r = rng.uniform(6, 34)
        fill = tuple(rng.randrange(256) for _ in range(3))
        kind = rng.randrange(4)
        if kind == 0:
            draw.ellipse([x - r, y - r, x + r, y + r * rng.uniform(0.4, 1.2)], fill=fill)
        elif kind == 1:
            draw.rectangle([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=fill,
                           outline=(20, 20, 20))
        elif kind == 2:
            points = [(x + r * rng.uniform(-1, 1), y + r * rng.uniform(-1, 1)) for _ in range(5)]
            draw.polygon(points, fill=fill)
        else:
            draw.line([(x, y), (x + rng.uniform(-3, 3) * r, y + rng.uniform(-2, 2) * r)],
                      fill=fill, width=rng.randrange(2, 5))
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    if hue:
        hsv = img.convert("HSV")
        hh, ss, vv = hsv.split()
        img = Image.merge("HSV", (hh.point(lambda v: (v + hue) % 256), ss, vv)).convert("RGB")
    return img
