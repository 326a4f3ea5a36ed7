"""The "known infringing" photos the merchant registers, and the copy the scenario steals.

`infringing_originals()` are a handful of photo-like pictures (landscape, bokeh, studio shot,
night street) that play the "known infringing images" the merchant registers;
`altered_copy(name)` is the slightly altered copy the scenario puts on a listing (resized to 90 %,
recompressed as JPEG quality 60), and `export_registry(folder)` writes the originals as files.
All are also importable from `demostore.images`.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .drawing import (
    add_grain,
    encode_image,
    linear_gradient,
    radial_mask,
    rgb_from_hsv,
    stable_seed,
    value_noise,
)

ORIGINAL_SIZE = (720, 540)


def _mountains(rng: random.Random, w: int, h: int, base: float, rough: float) -> list[tuple[float, float]]:
    """A ridge line by midpoint displacement."""
    n = 129
    ys = [0.0] * n
    ys[0], ys[-1] = rng.uniform(-1, 1), rng.uniform(-1, 1)
    step, amp = n - 1, 1.0
    while step > 1:
        half = step // 2
        for i in range(half, n - 1, step):
            ys[i] = (ys[i - half] + ys[i + half]) / 2 + rng.uniform(-amp, amp)
        step, amp = half, amp * rough
    return [(i * w / (n - 1), base + y * h * 0.12) for i, y in enumerate(ys)]


def _sunset_lake() -> Image.Image:
    rng = random.Random(stable_seed("original", "sunset_lake"))
    w, h = ORIGINAL_SIZE
    horizon = int(h * 0.62)
    sky = linear_gradient((w, h), (255, 170, 80), (70, 40, 120), 90)
    clouds = value_noise(rng, (w, h), octaves=6, base=3)
    cloud_col = Image.new("RGB", (w, h), (255, 215, 190))
    sky = Image.composite(cloud_col, sky, clouds.point(lambda v: max(0, v - 140) * 2))
    sun = radial_mask((w, h), (w * 0.62, horizon - 150), 190)
    sky = Image.composite(Image.new("RGB", (w, h), (255, 240, 200)), sky, sun.point(lambda v: int(v * 0.9)))
    sd = ImageDraw.Draw(sky)
    sd.ellipse([w * 0.62 - 32, horizon - 182, w * 0.62 + 32, horizon - 118], fill=(255, 250, 225))
    for layer, (col, base, rough) in enumerate((((150, 90, 130), 0.45, 0.55), ((95, 55, 100), 0.52, 0.6),
                                                ((45, 30, 60), 0.58, 0.5))):
        pts = _mountains(rng, w, h, h * base, rough)
        poly = pts + [(w, horizon), (0, horizon)]
        m = Image.new("L", (w, h), 0)
        ImageDraw.Draw(m).polygon(poly, fill=255)
        tex = value_noise(rng, (w, h), octaves=5, base=8)
        fill = Image.blend(Image.new("RGB", (w, h), col), Image.merge("RGB", (tex,) * 3), 0.12)
        sky.paste(fill, (0, 0), m)
    img = sky.copy()
    # the lake: a darkened, rippled reflection
    top = sky.crop((0, horizon - (h - horizon), w, horizon)).transpose(Image.FLIP_TOP_BOTTOM)
    ripples = value_noise(rng, (w // 8, h - horizon), octaves=3, base=6).resize((w, h - horizon))
    water = Image.blend(top, Image.new("RGB", top.size, (30, 30, 70)), 0.35)
    water = Image.blend(water, Image.merge("RGB", (ripples,) * 3), 0.1).filter(ImageFilter.GaussianBlur(1.2))
    img.paste(water, (0, horizon))
    return add_grain(img, rng, 0.25)


def _bokeh_flowers() -> Image.Image:
    rng = random.Random(stable_seed("original", "bokeh_flowers"))
    w, h = ORIGINAL_SIZE
    img = linear_gradient((w, h), (20, 60, 30), (90, 130, 60), 30)
    tex = value_noise(rng, (w, h), octaves=5, base=4)
    img = Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (tex,) * 3)), 0.5)
    over = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(70):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 45)
        col = rng.choice(((255, 240, 180), (255, 200, 220), (220, 255, 200), (255, 255, 255)))
        od.ellipse([x - r, y - r, x + r, y + r], fill=col + (rng.randint(40, 120),))
    over = over.filter(ImageFilter.GaussianBlur(6))
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    d = ImageDraw.Draw(img)
    for _ in range(7):
        fx, fy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.25, 0.8) * h
        d.line([(fx, fy), (fx + rng.uniform(-40, 40), h)], fill=(40, 90, 35), width=5)
        petal = rgb_from_hsv(rng.choice((0.95, 0.0, 0.08, 0.85)), rng.uniform(0.5, 0.9), rng.uniform(0.8, 1.0))
        for k in range(8):
            a = k * math.pi / 4 + rng.uniform(-0.2, 0.2)
            px, py = fx + math.cos(a) * 22, fy + math.sin(a) * 22
            d.ellipse([px - 16, py - 16, px + 16, py + 16], fill=petal)
        d.ellipse([fx - 11, fy - 11, fx + 11, fy + 11], fill=(250, 200, 40))
    return add_grain(img.filter(ImageFilter.GaussianBlur(0.8)), rng, 0.25)


def _studio_sneaker() -> Image.Image:
    rng = random.Random(stable_seed("original", "studio_sneaker"))
    w, h = ORIGINAL_SIZE
    img = linear_gradient((w, h), (235, 225, 215), (150, 140, 150), 100)
    spot = radial_mask((w, h), (w * 0.45, h * 0.4), 320)
    img = Image.composite(Image.new("RGB", (w, h), (250, 245, 240)), img, spot.point(lambda v: v // 2))
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse([w * 0.18, h * 0.72, w * 0.84, h * 0.82], fill=170)
    img.paste((40, 35, 40), (0, 0), shadow.filter(ImageFilter.GaussianBlur(18)))
    m = Image.new("L", (w, h), 0)
    pts = [(150, 380), (160, 300), (240, 250), (330, 230), (400, 170), (470, 160), (500, 230),
           (560, 280), (610, 320), (600, 380)]
    ImageDraw.Draw(m).polygon(pts, fill=255)
    m = m.filter(ImageFilter.GaussianBlur(2))
    body = linear_gradient((w, h), (220, 60, 50), (90, 15, 30), 60)
    tex = value_noise(rng, (w, h), octaves=6, base=10)
    body = Image.blend(body, ImageChops.multiply(body, Image.merge("RGB", (tex,) * 3)), 0.3)
    img.paste(body, (0, 0), m)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([140, 370, 615, 405], radius=14, fill=(245, 245, 240))
    for k in range(6):
        d.line([(300 + k * 25, 250 - k * 10), (330 + k * 25, 275 - k * 10)], fill=(250, 250, 250), width=5)
    d.arc([380, 250, 560, 360], 200, 330, fill=(255, 255, 255), width=9)
    return add_grain(img.filter(ImageFilter.GaussianBlur(0.6)), rng, 0.2)


def _city_night() -> Image.Image:
    rng = random.Random(stable_seed("original", "city_night"))
    w, h = ORIGINAL_SIZE
    img = linear_gradient((w, h), (10, 15, 45), (60, 40, 90), 80)
    d = ImageDraw.Draw(img)
    x = 0
    while x < w:
        bw = rng.randint(40, 110)
        top = rng.randint(int(h * 0.15), int(h * 0.55))
        shade = rng.randint(15, 45)
        d.rectangle([x, top, x + bw, h], fill=(shade, shade, shade + 15))
        for wy in range(top + 8, h - 10, 14):
            for wx in range(x + 6, x + bw - 8, 12):
                if rng.random() < 0.45:
                    d.rectangle([wx, wy, wx + 6, wy + 8], fill=rng.choice(((255, 220, 140), (255, 245, 200),
                                                                              (160, 200, 255))))
        x += bw + rng.randint(0, 8)
    over = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(55):
        bx, by, r = rng.uniform(0, w), rng.uniform(h * 0.6, h), rng.uniform(10, 38)
        col = rng.choice(((255, 80, 60), (255, 200, 80), (120, 200, 255), (255, 255, 255)))
        od.ellipse([bx - r, by - r, bx + r, by + r], fill=col + (rng.randint(60, 150),))
    over = over.filter(ImageFilter.GaussianBlur(5))
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    haze = value_noise(rng, (w, h), octaves=5, base=3)
    img = Image.composite(Image.new("RGB", (w, h), (90, 70, 120)), img, haze.point(lambda v: max(0, v - 150)))
    return add_grain(img, rng, 0.3)


_ORIGINALS = {
    "sunset_lake": _sunset_lake,
    "bokeh_flowers": _bokeh_flowers,
    "studio_sneaker": _studio_sneaker,
    "city_night": _city_night,
}
ORIGINAL_NAMES = tuple(_ORIGINALS)


@lru_cache(maxsize=None)
def _original(name: str) -> Image.Image:
    try:
        make = _ORIGINALS[name]
    except KeyError:
        raise KeyError(f"no infringing original named {name!r}; known: {', '.join(_ORIGINALS)}") from None
    return make()


def infringing_original(name: str) -> Image.Image:
    return _original(name).copy()


def infringing_originals() -> list[tuple[str, Image.Image]]:
    """The known infringing photos, as (name, RGB image) pairs (copies; mutate freely)."""
    return [(name, _original(name).copy()) for name in _ORIGINALS]


@lru_cache(maxsize=None)
def altered_copy(name: str, scale: float = 0.9, quality: int = 60) -> bytes:
    """The slightly altered copy of an original: resized to `scale` and recompressed as JPEG."""
    img = _original(name)
    w, h = img.size
    small = img.resize((round(w * scale), round(h * scale)), Image.LANCZOS)
    return encode_image(small, "jpg", quality=quality)


def export_registry(folder: str | Path) -> list[Path]:
    """Write the originals as JPEG files (quality 95) into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in _ORIGINALS:
        path = folder / f"{name}.jpg"
        path.write_bytes(encode_image(_original(name), "jpg", quality=95))
        paths.append(path)
    return paths
