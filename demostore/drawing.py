"""Pillow building blocks shared by the product photos (`images`) and the infringing originals.

Colours, gradients, radial masks, fractal noise, shaded fills, film grain, encoding, and
`stable_seed`, which turns any key into a stable seed so every picture is the same on every run.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random

from PIL import Image, ImageChops, ImageFilter


def rgb_from_hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return int(r * 255), int(g * 255), int(b * 255)


def linear_gradient(size: tuple[int, int], c1, c2, angle: float) -> Image.Image:
    """A linear gradient from c1 to c2 at `angle` degrees."""
    w, h = size
    # made small (a gradient is smooth) and scaled up: rotating full-size images is slow
    k = 128 / max(w, h)
    sw, sh = max(2, round(w * k)), max(2, round(h * k))
    side = int(math.hypot(sw, sh)) + 2
    mask = Image.linear_gradient("L").resize((side, side)).rotate(angle, resample=Image.BICUBIC)
    left, top = (side - sw) // 2, (side - sh) // 2
    mask = mask.crop((left, top, left + sw, top + sh)).resize((w, h), Image.BILINEAR)
    return Image.composite(Image.new("RGB", size, c2), Image.new("RGB", size, c1), mask)


def radial_mask(size: tuple[int, int], center, radius: float) -> Image.Image:
    """An 'L' mask bright at `center`, fading to 0 at `radius`."""
    g = Image.radial_gradient("L")  # 256x256, 0 at centre, 255 at the edge
    g = ImageChops.invert(g)
    d = int(radius * 2)
    g = g.resize((max(1, d), max(1, d)), Image.BICUBIC)
    out = Image.new("L", size, 0)
    out.paste(g, (int(center[0] - radius), int(center[1] - radius)))
    return out


def value_noise(rng: random.Random, size: tuple[int, int], octaves: int = 5, base: int = 4) -> Image.Image:
    """Fractal value noise ('clouds') as an 'L' image, deterministic from rng."""
    w, h = size
    acc = None
    weight_total = 0.0
    for o in range(octaves):
        cells = base * (2 ** o)
        gw, gh = max(2, cells), max(2, int(cells * h / w) or 2)
        grid = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh))
        layer = grid.resize((w, h), Image.BICUBIC)
        weight = 0.5 ** o
        if acc is None:
            acc = layer
            weight_total = weight
        else:
            weight_total += weight
            acc = Image.blend(acc, layer, weight / weight_total)
    # stretch contrast
    return acc.point(lambda v: max(0, min(255, int((v - 128) * 2.2 + 128))))


def shade_fill(canvas: Image.Image, mask: Image.Image, color, rng: random.Random, angle: float) -> None:
    """Fill `mask` on canvas with a lit gradient of `color` (light from the top left)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in color))
    light = rgb_from_hsv(h, s * 0.75, min(1.0, v * 1.25 + 0.08))
    dark = rgb_from_hsv(h, min(1.0, s * 1.1), v * 0.55)
    body = linear_gradient(canvas.size, light, dark, angle)
    w, h = canvas.size
    texture = value_noise(rng, (w // 4, h // 4), octaves=3, base=6).resize((w, h), Image.BICUBIC).convert("RGB")
    body = Image.blend(body, ImageChops.multiply(body, texture), 0.18)
    canvas.paste(body, (0, 0), mask)


def _grain(rng: random.Random, size: tuple[int, int], blur: float = 0.6) -> Image.Image:
    w, h = size
    g = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    return g.filter(ImageFilter.GaussianBlur(blur)) if blur else g


def add_grain(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    """Add film grain: each pixel moves by up to +-amount*128 levels."""
    noise = _grain(rng, img.size)
    noise = noise.point(lambda v: int(128 + (v - 128) * amount)).convert("RGB")
    return ImageChops.add(img, noise, scale=1.0, offset=-128)


def encode_image(img: Image.Image, fmt: str, quality: int = 86) -> bytes:
    buf = io.BytesIO()
    fmt = fmt.lower()
    if fmt in ("jpg", "jpeg"):
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, progressive=False)
    elif fmt == "png":
        img.save(buf, "PNG", compress_level=6)
    else:
        raise ValueError(f"unsupported image format {fmt!r}")
    return buf.getvalue()


def stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")
