"""The robustness test set for `images.infringing`, generated deterministically (seeded).

    originals()    distinct photo-like pictures: product shots (a product silhouette, lit, on a
                   studio backdrop with props and a floor shadow) and scenes (landscapes, city
                   nights, bokeh, fabric)
    TRANSFORMS     what an agency does to a stolen photo: resize, recompress, crop 5-10 %,
                   border, watermark, promo text, mirror, placed on a white canvas, and all of
                   crop + resize + watermark + recompress together
    negatives()    different-but-similar pictures that must NOT match: the same product
                   photographed again on another backdrop, and in another colour,
                   the same kind of scene in the same palette shot again, the same scene in
                   other colours photographed again (a picture recoloured and nothing else is
                   a recoloured copy: a match)

`python -m bench.image_set FOLDER` writes them all as files, to look at.
Product silhouettes come from the sample store's drawing code (`demostore.images`,
`demostore.drawing`).
"""

from __future__ import annotations

import io
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from demostore.drawing import (
    add_grain,
    linear_gradient,
    radial_mask,
    rgb_from_hsv,
    shade_fill,
    stable_seed,
    value_noise,
)
from demostore.images import product_silhouette

PRODUCT_SIZE = 400
SCENE_SIZE = (480, 360)
CATEGORIES = ("apparel", "furniture", "kitchen", "digital", "outdoor")
SCENE_KINDS = ("landscape", "city", "bokeh", "fabric")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Picture:
    name: str   # e.g. "product-kitchen-1", "scene-city-2"
    image: Image.Image


def encode(img: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, fmt, **options)
    return out.getvalue()


def _font(size: int):
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


# ------------------------------------------------------------------------------ products
@dataclass(frozen=True)
class ProductSpec:
    category: str
    variant: int
    shape_seed: int       # where the silhouette sits, its scale and tilt
    backdrop_seed: int    # the studio backdrop, props and light
    hue: float            # the product's colour
    saturation: float
    value: float


def _backdrop(seed: int, size: int) -> Image.Image:
    rng = random.Random(seed)
    hue = rng.random()
    bg1 = rgb_from_hsv(hue + rng.uniform(-0.1, 0.1), rng.uniform(0.08, 0.4), rng.uniform(0.75, 0.98))
    bg2 = rgb_from_hsv(hue + rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.6), rng.uniform(0.3, 0.8))
    img = linear_gradient((size, size), bg1, bg2, rng.uniform(0, 360))
    q = size // 4
    over = Image.new("RGBA", (q, q), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(rng.randint(3, 8)):
        col = rgb_from_hsv(rng.random(), rng.uniform(0.2, 0.7), rng.uniform(0.4, 1.0)) + (rng.randint(50, 140),)
        x, y, r = rng.uniform(0, q), rng.uniform(0, q), rng.uniform(0.05, 0.3) * q
        if rng.random() < 0.5:
            od.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:
            od.rounded_rectangle([x - r, y - r * 0.6, x + r, y + r * 0.6], radius=r * 0.2, fill=col)
    over = over.filter(ImageFilter.GaussianBlur(1.0)).resize((size, size), Image.BICUBIC)
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    clouds = value_noise(rng, (q, q), octaves=4, base=3).resize((size, size), Image.BICUBIC)
    img = Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (clouds,) * 3)), 0.25)
    shadow = Image.new("L", (q, q), 0)
    sy = q * rng.uniform(0.78, 0.86)
    ImageDraw.Draw(shadow).ellipse([q * 0.18, sy - q * 0.04, q * 0.82, sy + q * 0.04], fill=140)
    shadow = shadow.filter(ImageFilter.GaussianBlur(q * 0.025)).resize((size, size), Image.BICUBIC)
    img.paste((20, 20, 25), (0, 0), shadow)
    return img


def product(spec: ProductSpec) -> Image.Image:
    size = PRODUCT_SIZE
    img = _backdrop(spec.backdrop_seed, size)
    rng = random.Random(spec.shape_seed)
    mask, details = product_silhouette(spec.category, spec.variant, size * 2, rng)
    mask, details = mask.reduce(2), details.reduce(2)
    colour = rgb_from_hsv(spec.hue, spec.saturation, spec.value)
    shade_fill(img, mask, colour, random.Random(spec.shape_seed + 1), 40)
    detail = rgb_from_hsv(spec.hue + 0.5, 0.3, 0.9)
    img.paste(detail, (0, 0), ImageChops.multiply(details, mask).point(lambda v: v * 6 // 10))
    return add_grain(img, random.Random(spec.shape_seed + 2), 0.1)


def product_specs() -> list[ProductSpec]:
    specs = []
    for k, category in enumerate(CATEGORIES):
        for variant in range(4):
            rng = random.Random(stable_seed("imageset-product", category, variant))
            specs.append(ProductSpec(category, variant, rng.randrange(2**32), rng.randrange(2**32),
                                     rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.45, 0.9)))
    return specs


# ------------------------------------------------------------------------------ scenes
def _ridge(rng: random.Random, w: int, h: int, base: float, rough: float) -> list[tuple[float, float]]:
    n = 65
    ys = [0.0] * n
    ys[0], ys[-1] = rng.uniform(-1, 1), rng.uniform(-1, 1)
    step, amp = n - 1, 1.0
    while step > 1:
        half = step // 2
        for i in range(half, n - 1, step):
            ys[i] = (ys[i - half] + ys[i + half]) / 2 + rng.uniform(-amp, amp)
        step, amp = half, amp * rough
    return [(i * w / (n - 1), base + y * h * 0.12) for i, y in enumerate(ys)]


def _landscape(rng: random.Random, palette: float) -> Image.Image:
    w, h = SCENE_SIZE
    horizon = int(h * rng.uniform(0.55, 0.7))
    sky = linear_gradient((w, h), rgb_from_hsv(palette, 0.6, 1.0), rgb_from_hsv(palette + 0.6, 0.6, 0.45), 90)
    clouds = value_noise(rng, (w // 2, h // 2), octaves=5, base=3).resize((w, h), Image.BICUBIC)
    sky = Image.composite(Image.new("RGB", (w, h), rgb_from_hsv(palette + 0.05, 0.2, 1.0)), sky,
                          clouds.point(lambda v: max(0, v - 140) * 2))
    sun = (w * rng.uniform(0.2, 0.8), horizon - rng.uniform(60, 140))
    sky = Image.composite(Image.new("RGB", (w, h), (255, 240, 205)), sky,
                          radial_mask((w, h), sun, 150).point(lambda v: int(v * 0.8)))
    for layer in range(3):
        col = rgb_from_hsv(palette + 0.7 + layer * 0.03, 0.4, 0.6 - layer * 0.18)
        pts = _ridge(rng, w, h, h * (0.42 + layer * 0.07), rng.uniform(0.45, 0.6))
        m = Image.new("L", (w, h), 0)
        ImageDraw.Draw(m).polygon(pts + [(w, horizon), (0, horizon)], fill=255)
        sky.paste(col, (0, 0), m)
    img = sky.copy()
    top = sky.crop((0, horizon - (h - horizon), w, horizon)).transpose(Image.FLIP_TOP_BOTTOM)
    water = Image.blend(top, Image.new("RGB", top.size, rgb_from_hsv(palette + 0.6, 0.5, 0.3)), 0.4)
    img.paste(water.filter(ImageFilter.GaussianBlur(1.5)), (0, horizon))
    return img


def _city(rng: random.Random, palette: float) -> Image.Image:
    w, h = SCENE_SIZE
    img = linear_gradient((w, h), rgb_from_hsv(palette, 0.7, 0.2), rgb_from_hsv(palette + 0.1, 0.5, 0.45), 80)
    d = ImageDraw.Draw(img)
    x = 0
    while x < w:
        bw, top = rng.randint(30, 90), rng.randint(int(h * 0.15), int(h * 0.6))
        shade = rng.randint(15, 50)
        d.rectangle([x, top, x + bw, h], fill=(shade, shade, shade + 15))
        for wy in range(top + 6, h - 8, 12):
            for wx in range(x + 5, x + bw - 6, 10):
                if rng.random() < 0.4:
                    d.rectangle([wx, wy, wx + 5, wy + 7], fill=rgb_from_hsv(palette + rng.choice((0.1, 0.15, 0.6)), 0.4, 1.0))
        x += bw + rng.randint(0, 6)
    over = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(40):
        bx, by, r = rng.uniform(0, w), rng.uniform(h * 0.6, h), rng.uniform(8, 30)
        od.ellipse([bx - r, by - r, bx + r, by + r], fill=rgb_from_hsv(palette + rng.random() * 0.3, 0.7, 1.0) + (rng.randint(60, 150),))
    return Image.alpha_composite(img.convert("RGBA"), over.filter(ImageFilter.GaussianBlur(4))).convert("RGB")


def _bokeh(rng: random.Random, palette: float) -> Image.Image:
    w, h = SCENE_SIZE
    img = linear_gradient((w, h), rgb_from_hsv(palette, 0.6, 0.25), rgb_from_hsv(palette + 0.1, 0.5, 0.6), rng.uniform(0, 360))
    tex = value_noise(rng, (w // 2, h // 2), octaves=4, base=3).resize((w, h), Image.BICUBIC)
    img = Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (tex,) * 3)), 0.5)
    over = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(50):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 40)
        od.ellipse([x - r, y - r, x + r, y + r], fill=rgb_from_hsv(palette + rng.uniform(-0.2, 0.2), 0.4, 1.0) + (rng.randint(40, 130),))
    img = Image.alpha_composite(img.convert("RGBA"), over.filter(ImageFilter.GaussianBlur(5))).convert("RGB")
    d = ImageDraw.Draw(img)
    for _ in range(5):
        fx, fy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.25, 0.8) * h
        d.line([(fx, fy), (fx + rng.uniform(-30, 30), h)], fill=(40, 90, 35), width=4)
        petal = rgb_from_hsv(palette + rng.uniform(0.3, 0.7), 0.7, 0.95)
        for k in range(8):
            a = k * math.pi / 4
            d.ellipse([fx + math.cos(a) * 18 - 13, fy + math.sin(a) * 18 - 13,
                       fx + math.cos(a) * 18 + 13, fy + math.sin(a) * 18 + 13], fill=petal)
        d.ellipse([fx - 9, fy - 9, fx + 9, fy + 9], fill=(250, 200, 40))
    return img


def _fabric(rng: random.Random, palette: float) -> Image.Image:
    w, h = SCENE_SIZE
    img = Image.new("RGB", (w, h), rgb_from_hsv(palette, 0.5, 0.7))
    d = ImageDraw.Draw(img)
    step = rng.randint(24, 48)
    angle = rng.uniform(-30, 30)
    for k in range(-h, w + h, step):
        col = rgb_from_hsv(palette + rng.choice((0.0, 0.1, 0.5)), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.95))
        d.line([(k, 0), (k + math.tan(math.radians(angle)) * h, h)], fill=col, width=rng.randint(4, step // 2))
    for _ in range(rng.randint(3, 6)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(30, 90)
        d.ellipse([x - r, y - r, x + r, y + r], fill=rgb_from_hsv(palette + 0.5, 0.6, rng.uniform(0.3, 0.9)))
    folds = value_noise(rng, (w // 4, h // 4), octaves=3, base=2).resize((w, h), Image.BICUBIC)
    return Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (folds,) * 3)), 0.45)


SCENES: dict[str, Callable[[random.Random, float], Image.Image]] = {
    "landscape": _landscape, "city": _city, "bokeh": _bokeh, "fabric": _fabric,
}


def scene(kind: str, seed: int, palette: float) -> Image.Image:
    rng = random.Random(seed)
    img = SCENES[kind](rng, palette)
    return add_grain(img, random.Random(seed + 1), 0.15)


def scene_specs() -> list[tuple[str, int, float]]:
    out = []
    for kind in SCENE_KINDS:
        for n in range(4):
            rng = random.Random(stable_seed("imageset-scene", kind, n))
            out.append((kind, rng.randrange(2**32), rng.random()))
    return out


# ------------------------------------------------------------------------------ the set
@lru_cache(maxsize=1)
def _originals() -> tuple[Picture, ...]:
    out = [Picture(f"product-{s.category}-{s.variant}", product(s)) for s in product_specs()]
    out += [Picture(f"scene-{kind}-{n % 4}", scene(kind, seed, palette))
            for n, (kind, seed, palette) in enumerate(scene_specs())]
    return tuple(out)


def originals(limit: int | None = None) -> list[Picture]:
    """The distinct pictures (36: 20 product shots, 16 scenes), or every n-th for a quick run."""
    pics = list(_originals())
    return pics if limit is None else pics[:: max(1, len(pics) // limit)][:limit]


def shot_again(img: Image.Image, rng: random.Random) -> Image.Image:
    """The same thing photographed again: the camera moved a little, another grain."""
    from .reshoot import Pose

    return add_grain(Pose.random(rng, strength=0.8).apply(img.convert("RGB")),
                     random.Random(rng.randrange(2**32)), 0.1)


def negatives(limit: int | None = None) -> list[tuple[str, Picture]]:
    """(name of the original it resembles, the similar picture) pairs."""
    out = []
    for s in product_specs():
        name = f"product-{s.category}-{s.variant}"
        rng = random.Random(stable_seed("imageset-negative", name))
        other_backdrop = ProductSpec(s.category, s.variant, s.shape_seed, rng.randrange(2**32),
                                     s.hue, s.saturation, s.value)
        # photographed again on another backdrop (the same pixels cut out and put on another
        # backdrop would be a copy of the photo's product, and is matched as one)
        out.append((name, Picture(f"{name} on another backdrop",
                                  shot_again(product(other_backdrop), rng))))
        other_colour = ProductSpec(s.category, s.variant, s.shape_seed, s.backdrop_seed,
                                   (s.hue + rng.uniform(0.25, 0.75)) % 1.0, s.saturation,
                                   min(0.95, max(0.35, s.value + rng.uniform(-0.3, 0.3))))
        # Another unit, in another colour, photographed again in the same studio (the same
        # picture recoloured is a recoloured copy: a match).
        out.append((name, Picture(f"{name} in another colour",
                                  shot_again(product(other_colour), rng))))
    for n, (kind, seed, palette) in enumerate(scene_specs()):
        name = f"scene-{kind}-{n % 4}"
        rng = random.Random(stable_seed("imageset-negative", name))
        out.append((name, Picture(f"{name} shot again", scene(kind, rng.randrange(2**32), palette))))
        out.append((name, Picture(f"{name} in other colours", shot_again(
            scene(kind, seed, (palette + rng.uniform(0.3, 0.7)) % 1.0), rng))))
    if limit is not None:
        keep = {p.name for p in originals(limit)}
        out = [(o, p) for o, p in out if o in keep]
    return out


# ------------------------------------------------------------------------------ transformations
def _rng(name: str, transform: str) -> random.Random:
    return random.Random(stable_seed("imageset-transform", name, transform))


def t_resize(img: Image.Image, rng: random.Random) -> bytes:
    k = rng.uniform(0.45, 0.8)
    return encode(img.resize((round(img.width * k), round(img.height * k)), Image.LANCZOS),
                  quality=rng.randint(70, 85))


def t_recompress(img: Image.Image, rng: random.Random) -> bytes:
    return encode(img, quality=rng.randint(25, 45))


def _crop(img: Image.Image, rng: random.Random) -> Image.Image:
    """Take 5-10 % off the width and the height, split at random between the two sides."""
    w, h = img.size
    cw, ch = rng.uniform(0.05, 0.10) * w, rng.uniform(0.05, 0.10) * h
    left, top = rng.uniform(0, 1) * cw, rng.uniform(0, 1) * ch
    return img.crop((round(left), round(top), round(w - (cw - left)), round(h - (ch - top))))


def t_crop(img: Image.Image, rng: random.Random) -> bytes:
    return encode(_crop(img, rng), quality=85)


def t_border(img: Image.Image, rng: random.Random) -> bytes:
    pad = round(img.width * rng.uniform(0.03, 0.08))
    colour = rng.choice([(255, 255, 255), (0, 0, 0), (200, 30, 40), (240, 200, 60)])
    out = Image.new("RGB", (img.width + 2 * pad, img.height + 2 * pad), colour)
    out.paste(img, (pad, pad))
    return encode(out, quality=85)


def t_watermark(img: Image.Image, rng: random.Random) -> bytes:
    """A shop's semi-transparent mark, tiled diagonally over the picture."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    text = rng.choice(["SHOP 888", "BEST STORE", "TMALL LIFE", "@agency"])
    font = _font(max(14, img.width // 16))
    alpha = rng.randint(70, 110)
    for y in range(0, img.height, img.height // 4):
        for x in range(-img.width // 4, img.width, img.width // 3):
            d.text((x + (y // 3) % 60, y), text, fill=(255, 255, 255, alpha), font=font)
    out = Image.alpha_composite(img.convert("RGBA"), layer)
    return encode(out, quality=85)


def t_text(img: Image.Image, rng: random.Random) -> bytes:
    """A promotion label: a coloured tag with a price, and a line of text across the top."""
    out = img.copy()
    d = ImageDraw.Draw(out)
    w, h = out.size
    tag = rng.choice([(220, 30, 40), (250, 120, 0), (20, 120, 220)])
    corner = rng.choice(["left", "right"])
    x0 = 8 if corner == "left" else w - w // 3 - 8
    d.rounded_rectangle([x0, h - h // 6 - 8, x0 + w // 3, h - 8], radius=8, fill=tag)
    d.text((x0 + 10, h - h // 6), f"¥{rng.randint(59, 399)}", fill=(255, 255, 255),
           font=_font(h // 12))
    d.text((10, 8), rng.choice(["HOT SALE 50% OFF", "NEW ARRIVAL", "FREE SHIPPING"]),
           fill=(255, 255, 255), font=_font(h // 16), stroke_width=2, stroke_fill=(0, 0, 0))
    return encode(out, quality=85)


def t_mirror(img: Image.Image, rng: random.Random) -> bytes:
    return encode(img.transpose(Image.FLIP_LEFT_RIGHT), quality=rng.randint(75, 90))


def t_canvas(img: Image.Image, rng: random.Random) -> bytes:
    """The picture shrunk onto a white square canvas, as marketplace main images are."""
    side = max(img.size)
    side = round(side * rng.uniform(1.05, 1.3))
    k = rng.uniform(0.7, 0.95) * side / max(img.size)
    small = img.resize((round(img.width * k), round(img.height * k)), Image.LANCZOS)
    out = Image.new("RGB", (side, side), (255, 255, 255))
    out.paste(small, (rng.randint(0, side - small.width), rng.randint(0, side - small.height)))
    return encode(out, quality=85)


def t_combined(img: Image.Image, rng: random.Random) -> bytes:
    """Cropped, resized, watermarked and recompressed, all at once."""
    img = _crop(img, rng)
    k = rng.uniform(0.6, 0.9)
    img = img.resize((round(img.width * k), round(img.height * k)), Image.LANCZOS)
    data = t_watermark(img, rng)
    with Image.open(io.BytesIO(data)) as again:
        return encode(again, quality=rng.randint(40, 60))


TRANSFORMS: dict[str, Callable[[Image.Image, random.Random], bytes]] = {
    "resize 45-80 %": t_resize,
    "recompress q25-45": t_recompress,
    "crop 5-10 %": t_crop,
    "border": t_border,
    "watermark": t_watermark,
    "promo text": t_text,
    "mirror": t_mirror,
    "white canvas": t_canvas,
    "crop+resize+watermark": t_combined,
}


def transformed(picture: Picture, transform: str) -> bytes:
    return TRANSFORMS[transform](picture.image, _rng(picture.name, transform))


def registry_file(picture: Picture) -> bytes:
    """The original as the rights holder's file: a good-quality JPEG."""
    return encode(picture.image, quality=92)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")


def write_set(folder: Path, originals, registry_file, edits: dict, edited, negatives) -> None:
    """Every picture of a robustness set as files, to look at: originals/, copies/ (one per
    original and edit: `edited(picture, edit)`), negatives/ (kind, picture)."""
    for sub in ("originals", "copies", "negatives"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for pic in originals:
        (folder / "originals" / f"{pic.name}.jpg").write_bytes(registry_file(pic))
        for edit in edits:
            (folder / "copies" / f"{pic.name}--{_slug(edit)}.jpg").write_bytes(edited(pic, edit))
    for kind, pic in negatives:
        (folder / "negatives" / f"{_slug(pic.name)}.jpg").write_bytes(
            encode(pic.image, quality=90))
    print(f"wrote {folder}/originals, copies, negatives")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.image_set FOLDER", file=sys.stderr)
        return 2
    write_set(Path(argv[0]), originals(), registry_file, TRANSFORMS, transformed, negatives())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
