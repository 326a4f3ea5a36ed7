"""The natural-photo robustness set for `images.infringing`: real photographs
(`bench/photo_sources.py`), edited the way an agency edits a stolen photo, and hard negatives.

    originals()   the registered pictures: photographs (landscapes, close-ups, interiors,
                  night skies, a portrait, terrain) and product shots composed from
                  photographed objects (fruit, animals, vehicles, tools) on studio backdrops
    EDITS         resize and recompress, crops (5-10 %, and 15-40 % off centre), mirror, a
                  20 px border, a caption band, small on a white 800 x 800 canvas, saturation
                  x 1.6, a hue shift, greyscale, rotation 3, 10 and 15 degrees, a sticker or
                  price tag over a part, several at once, and a perspective lean
    negatives()   pictures that must not match: unrelated photos and artwork; another object
                  of the same kind shot the same way; the same product in another colour,
                  shot again (another unit, another pose, another backdrop); the same scene
                  shot again (the camera moved: things near and far shift differently)

Everything is seeded: the same photos give the same set. `python -m bench.photo_set FOLDER`
writes it all as files, to look at.
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

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from demostore.drawing import add_grain, linear_gradient, rgb_from_hsv, stable_seed, value_noise

from . import photo_sources
from .reshoot import Pose, reshoot_scene
from .image_set import _font, write_set

PRODUCT_SIZE = 720        # px: the square product shots
REGISTERED_CUTOUT = 240   # px: objects photographed at least this large are registered
HELD_OUT_EVERY = 5        # every 5th photo (by name) is never registered: an unrelated photo


@dataclass(frozen=True)
class Picture:
    name: str            # e.g. "photo-Garden", "product-birds-crowned_crane"
    image: Image.Image   # RGB
    kind: str            # "photo" or "product"


def encode(img: Image.Image, quality: int = 88) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _rng(*parts: object) -> random.Random:
    return random.Random(stable_seed("photoset", *parts))


# ------------------------------------------------------------------------------ product shots
def backdrop(style: int, seed: int, size: int = PRODUCT_SIZE) -> Image.Image:
    """A studio backdrop: white sweep, grey gradient, coloured paper or a soft textured cloth."""
    rng = random.Random(seed)
    if style == 0:
        img = linear_gradient((size, size), (252, 252, 252), (228, 228, 230), 90)
    elif style == 1:
        v = rng.uniform(0.55, 0.85)
        img = linear_gradient((size, size), rgb_from_hsv(0, 0, v + 0.1), rgb_from_hsv(0, 0, v - 0.2),
                              rng.uniform(60, 120))
    elif style == 2:
        hue = rng.random()
        img = linear_gradient((size, size), rgb_from_hsv(hue, rng.uniform(0.2, 0.5), 0.95),
                              rgb_from_hsv(hue + 0.05, rng.uniform(0.3, 0.6), 0.7), 90)
    else:
        hue = rng.random()
        base = Image.new("RGB", (size, size), rgb_from_hsv(hue, rng.uniform(0.1, 0.35), 0.8))
        cloth = value_noise(rng, (size // 8, size // 8), octaves=4, base=3).resize(
            (size, size), Image.BICUBIC)
        img = Image.blend(base, Image.merge("RGB", (cloth,) * 3), 0.3)
    return img


def product_shot(cutout: Image.Image, style: int, seed: int, *, hue_turn: float = 0.0,
                 pose: "Pose | None" = None) -> Image.Image:
    """The object on a backdrop, with a floor shadow and the camera's grain. `hue_turn`
    recolours the object (another colour of the same product); `pose` photographs it again
    from another angle (`reshoot`)."""
    rng = random.Random(seed)
    size = PRODUCT_SIZE
    img = backdrop(style, seed, size)
    obj = cutout
    if hue_turn:
        obj = _turn_hue(obj, hue_turn)
    if pose is not None:
        obj = pose.apply(obj)
    k = rng.uniform(0.62, 0.78) * size / max(obj.size)
    obj = obj.resize((max(1, round(obj.width * k)), max(1, round(obj.height * k))), Image.LANCZOS)
    x = round((size - obj.width) * rng.uniform(0.35, 0.65))
    y = round((size - obj.height) * rng.uniform(0.35, 0.6))
    shadow = Image.new("L", (size, size), 0)
    sy = y + obj.height
    ImageDraw.Draw(shadow).ellipse([x + obj.width * 0.1, sy - size * 0.03,
                                    x + obj.width * 0.9, sy + size * 0.03], fill=110)
    img.paste((30, 30, 35), (0, 0), shadow.filter(ImageFilter.GaussianBlur(size * 0.02)))
    img.paste(obj.convert("RGB"), (x, y), obj.getchannel("A"))
    light = linear_gradient((size, size), (255, 255, 255), (215, 215, 215), rng.uniform(0, 360))
    img = Image.fromarray((np.asarray(img, np.float32) * np.asarray(light, np.float32) / 255)
                          .astype(np.uint8))
    return add_grain(img, random.Random(seed + 1), 0.08)


def _turn_hue(img: Image.Image, turn: float) -> Image.Image:
    """Hue turned by `turn` (0-1 of the circle), alpha kept."""
    alpha = img.getchannel("A") if img.mode == "RGBA" else None
    h, s, v = img.convert("RGB").convert("HSV").split()
    h = h.point(lambda x: (x + round(turn * 256)) % 256)
    out = Image.merge("HSV", (h, s, v)).convert("RGB")
    if alpha is not None:
        out.putalpha(alpha)
    return out


# ------------------------------------------------------------------------------ the set
def _split_photos() -> tuple[list[str], list[str]]:
    names = sorted(photo_sources.photos(), key=str.lower)
    held = names[HELD_OUT_EVERY - 1::HELD_OUT_EVERY]
    return [n for n in names if n not in held], held


def _registered_cutouts() -> list[photo_sources.Cutout]:
    return [c for c in photo_sources.cutouts() if min(c.image.size) >= REGISTERED_CUTOUT]


def _style(name: str) -> tuple[int, int]:
    rng = _rng("style", name)
    return rng.randrange(4), rng.randrange(2**32)


@lru_cache(maxsize=1)
def _originals() -> tuple[Picture, ...]:
    registered, _ = _split_photos()
    photos = photo_sources.photos()
    out = [Picture(f"photo-{n}", photos[n], "photo") for n in registered]
    for c in _registered_cutouts():
        style, seed = _style(c.name)
        out.append(Picture(f"product-{c.category}-{c.name}", product_shot(c.image, style, seed),
                           "product"))
    return tuple(out)


def originals(limit: int | None = None) -> list[Picture]:
    pics = list(_originals())
    return pics if limit is None else pics[:: max(1, len(pics) // limit)][:limit]


def negatives(limit: int | None = None) -> list[tuple[str, Picture]]:
    """(kind, picture) of every hard negative."""
    out: list[tuple[str, Picture]] = []
    _, held = _split_photos()
    photos = photo_sources.photos()
    for n in held:
        out.append(("unrelated photos", Picture(f"photo-{n}", photos[n], "photo")))
    for n, img in photo_sources.artwork().items():
        out.append(("unrelated photos", Picture(f"art-{n}", img, "photo")))
    registered = {c.name for c in _registered_cutouts()}
    by_category: dict[str, list[photo_sources.Cutout]] = {}
    for c in _registered_cutouts():
        by_category.setdefault(c.category, []).append(c)
    for c in photo_sources.cutouts():
        if c.name in registered:
            continue
        # shot the way a registered product of its kind was: same backdrop style
        like = _rng("like", c.name).choice(by_category.get(c.category) or _registered_cutouts())
        style, _ = _style(like.name)
        seed = _rng("same-kind", c.name).randrange(2**32)
        out.append(("same kind of object", Picture(
            f"product-{c.category}-{c.name}", product_shot(c.image, style, seed), "product")))
    keep = {p.name for p in originals(limit)} if limit else None
    for pic in _originals():
        if keep is not None and pic.name not in keep:
            continue
        rng = _rng("again", pic.name)
        if pic.kind == "photo":
            out.append(("the same scene shot again", Picture(
                f"{pic.name} shot again", reshoot_scene(pic.image, rng), "photo")))
            continue
        cutout = next(c for c in _registered_cutouts() if pic.name.endswith("-" + c.name))
        style, _ = _style(cutout.name)
        shot = product_shot(cutout.image, rng.choice([s for s in range(4) if s != style]),
                            rng.randrange(2**32), hue_turn=rng.uniform(0.2, 0.8),
                            pose=Pose.random(rng))
        out.append(("the same product in another colour", Picture(
            f"{pic.name} in another colour", shot, "product")))
    if limit:
        out = [o for n, o in enumerate(out) if o[0].startswith("the same") or n % 3 == 0]
    return out


# ------------------------------------------------------------------------------ the edits
def _resized(img: Image.Image, k: float) -> Image.Image:
    return img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.LANCZOS)


def _listing_size(img: Image.Image, rng: random.Random) -> Image.Image:
    """What a listing serves: about 600-900 px on the longest side."""
    return _resized(img, rng.uniform(600, 900) / max(img.size))


def _crop(img: Image.Image, rng: random.Random, lo: float, hi: float) -> Image.Image:
    """Cut lo-hi of the width and of the height, split unevenly between the sides."""
    w, h = img.size
    cw, ch = rng.uniform(lo, hi) * w, rng.uniform(lo, hi) * h
    left, top = rng.uniform(0, 1) * cw, rng.uniform(0, 1) * ch
    return img.crop((round(left), round(top), round(w - (cw - left)), round(h - (ch - top))))


def e_resize(img, rng):
    return encode(_resized(img, rng.uniform(350, 700) / max(img.size)), rng.randint(35, 60))


def e_crop_small(img, rng):
    return encode(_listing_size(_crop(img, rng, 0.05, 0.10), rng))


def e_crop_heavy(img, rng):
    return encode(_listing_size(_crop(img, rng, 0.15, 0.40), rng))


def e_mirror(img, rng):
    return encode(_listing_size(img.transpose(Image.FLIP_LEFT_RIGHT), rng))


def e_border(img, rng):
    img = _listing_size(img, rng)
    colour = rng.choice([(255, 255, 255), (0, 0, 0), (200, 30, 40), (245, 245, 240)])
    return encode(ImageOps.expand(img, border=20, fill=colour))


def e_caption(img, rng):
    """A band across the top or bottom with the shop's slogan."""
    img = _listing_size(img, rng)
    w, h = img.size
    band = round(h * rng.uniform(0.12, 0.18))
    colour = rng.choice([(200, 20, 30), (20, 20, 20), (250, 200, 0), (255, 255, 255)])
    out = Image.new("RGB", (w, h + band), colour)
    top = rng.random() < 0.5
    out.paste(img, (0, band if top else 0))
    d = ImageDraw.Draw(out)
    text = rng.choice(["HOT SALE 50% OFF", "NEW ARRIVAL", "FREE SHIPPING", "限时特价 包邮"])
    ink = (0, 0, 0) if sum(colour) > 500 else (255, 255, 255)
    d.text((w // 20, (0 if top else h) + band // 5), text, fill=ink, font=_font(band * 3 // 5))
    return encode(out)


def e_canvas(img, rng):
    """Small on a white 800 x 800 canvas (a marketplace's main image)."""
    small = _resized(img, rng.uniform(260, 420) / max(img.size))
    out = Image.new("RGB", (800, 800), (255, 255, 255))
    out.paste(small, (rng.randint(0, 800 - small.width), rng.randint(0, 800 - small.height)))
    return encode(out)


def e_saturation(img, rng):
    return encode(_listing_size(ImageEnhance.Color(img).enhance(1.6), rng))


def e_hue(img, rng):
    turn = rng.choice((-1, 1)) * rng.uniform(0.08, 0.25)
    return encode(_listing_size(_turn_hue(img.convert("RGBA"), turn % 1.0).convert("RGB"), rng))


def e_grey(img, rng):
    return encode(_listing_size(ImageOps.grayscale(img).convert("RGB"), rng))


def _rotated(img: Image.Image, degrees: float, rng: random.Random) -> Image.Image:
    """Turned: on a white ground (corners filled), or cut to the turned picture's inside."""
    angle = rng.choice((-1, 1)) * degrees
    if rng.random() < 0.5:
        return img.rotate(angle, Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    turned = img.rotate(angle, Image.BICUBIC, expand=True)
    w, h = img.size
    a = math.radians(abs(angle))
    # the largest axis-aligned rectangle of the same proportions inside the turned picture
    k = 1 / (math.cos(a) + max(w / h, h / w) * math.sin(a))
    cw, ch = w * k, h * k
    cx, cy = turned.width / 2, turned.height / 2
    return turned.crop((round(cx - cw / 2), round(cy - ch / 2), round(cx + cw / 2),
                        round(cy + ch / 2)))


def e_perspective(img, rng):
    """Leaned back 6-10 %, as if photographed off a screen: a flat picture's perspective, no
    parallax (an edit that makes a copy look like the scene shot again)."""
    tilt = rng.uniform(0.06, 0.10)
    pose = Pose((rng.choice((-1, 1)) * tilt, rng.choice((-1, 1)) * tilt / 2), 0.0,
                rng.randrange(2**32))
    return encode(_listing_size(pose.apply(img.convert("RGB")), rng))


def e_rotate(degrees: float):
    def edit(img, rng):
        return encode(_listing_size(_rotated(img, degrees, rng), rng))
    return edit


def e_sticker(img, rng):
    """A price tag or a starburst sticker over a part of the picture (10-20 % of it)."""
    img = _listing_size(img, rng).copy()
    w, h = img.size
    d = ImageDraw.Draw(img)
    area = rng.uniform(0.10, 0.20) * w * h
    side = math.sqrt(area)
    x, y = rng.uniform(0, w - side), rng.uniform(0, h - side)
    colour = rng.choice([(220, 30, 40), (250, 120, 0), (20, 120, 220), (250, 210, 0)])
    if rng.random() < 0.5:
        points = []
        for k in range(32):
            r = side / 2 * (1.0 if k % 2 == 0 else 0.78)
            a = k * math.pi / 16
            points.append((x + side / 2 + r * math.cos(a), y + side / 2 + r * math.sin(a)))
        d.polygon(points, fill=colour)
    else:
        d.rounded_rectangle([x, y + side * 0.2, x + side, y + side * 0.8], radius=side * 0.08,
                            fill=colour)
    d.text((x + side * 0.18, y + side * 0.35), f"¥{rng.randint(19, 399)}",
           fill=(255, 255, 255), font=_font(max(10, round(side * 0.25))))
    return encode(img)


def e_combined(img, rng):
    """Cropped 15 %, turned 5 degrees, more saturated, captioned, small and recompressed."""
    img = _crop(img, rng, 0.12, 0.18)
    img = _rotated(img, 5, rng)
    img = ImageEnhance.Color(img).enhance(1.3)
    data = e_caption(img, rng)
    with Image.open(io.BytesIO(data)) as again:
        return encode(_resized(again, rng.uniform(0.55, 0.8)), rng.randint(45, 65))


EDITS: dict[str, Callable[[Image.Image, random.Random], bytes]] = {
    "resize + recompress": e_resize,
    "crop 5-10 %": e_crop_small,
    "crop 15-40 % off centre": e_crop_heavy,
    "mirror": e_mirror,
    "20 px border": e_border,
    "caption band": e_caption,
    "small on white 800 x 800": e_canvas,
    "saturation x 1.6": e_saturation,
    "hue shift 30-90°": e_hue,
    "greyscale": e_grey,
    "rotation 3°": e_rotate(3),
    "rotation 10°": e_rotate(10),
    "rotation 15°": e_rotate(15),
    "sticker / price tag": e_sticker,
    "crop+turn+saturate+caption": e_combined,
    "perspective 6-10 %": e_perspective,
}


def edited(picture: Picture, edit: str) -> bytes:
    return EDITS[edit](picture.image, _rng("edit", picture.name, edit))


def registry_file(picture: Picture) -> bytes:
    """The original as the rights holder's file: a good JPEG."""
    return encode(picture.image, quality=92)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.photo_set FOLDER", file=sys.stderr)
        return 2
    write_set(Path(argv[0]), originals(), registry_file, EDITS, edited, negatives())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
