"""Deterministic product photos, drawn with Pillow on request.

Every (sku, index) gives its own picture: a studio backdrop gradient at its own angle, soft
background shapes, a product silhouette for the listing's category in its own colour, a floor
shadow and a fine grain, so perceptual hashes of different listing images are far apart.
Nothing is generated up front; results sit in a bounded LRU cache.

The "known infringing" photos the merchant registers live in `demostore.infringing`
(`infringing_originals()`, `altered_copy(name)`, `export_registry(folder)`); they are
re-exported here so `demostore.images` stays the one place to ask for a picture.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from .drawing import (
    add_grain,
    encode_image,
    linear_gradient,
    rgb_from_hsv,
    shade_fill,
    stable_seed,
    value_noise,
)
from .infringing import (
    ORIGINAL_NAMES,
    ORIGINAL_SIZE,
    altered_copy,
    export_registry,
    infringing_original,
    infringing_originals,
)

__all__ = [
    "SIZE",
    "product_image",
    "image_cache_info",
    # from demostore.infringing
    "ORIGINAL_SIZE",
    "ORIGINAL_NAMES",
    "infringing_original",
    "infringing_originals",
    "altered_copy",
    "export_registry",
]

SIZE = 480
_SS = 2  # supersampling factor for smooth edges
_CATEGORY_OF_HASH = ("apparel", "furniture", "kitchen", "digital", "outdoor")

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def _has_cjk_font() -> bool:
    return isinstance(_font(20), ImageFont.FreeTypeFont) and "CJK" in (getattr(_font(20), "path", "") or "")


# ----------------------------------------------------------------------------- silhouettes
def _poly(mask_draw: ImageDraw.ImageDraw, pts, cx, cy, scale, rot) -> None:
    c, s = math.cos(rot), math.sin(rot)
    out = []
    for x, y in pts:
        x, y = x * scale, y * scale
        out.append((cx + x * c - y * s, cy + x * s + y * c))
    mask_draw.polygon(out, fill=255)


def product_silhouette(category: str, variant: int, size: int, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """('L' mask of the product, 'L' mask of its details/highlights) in a size x size box."""
    m = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(m)
    det = Image.new("L", (size, size), 0)
    dd = ImageDraw.Draw(det)
    cx, cy = size / 2 + rng.uniform(-0.05, 0.05) * size, size / 2 + rng.uniform(-0.03, 0.05) * size
    sc = size / 480 * rng.uniform(0.85, 1.1)
    rot = math.radians(rng.uniform(-8, 8))

    def box(x0, y0, x1, y1, r=0, draw=d):
        draw.rounded_rectangle([cx + x0 * sc, cy + y0 * sc, cx + x1 * sc, cy + y1 * sc], radius=r * sc, fill=255)

    def ell(x0, y0, x1, y1, draw=d, fill=255, width=0):
        if width:
            draw.ellipse([cx + x0 * sc, cy + y0 * sc, cx + x1 * sc, cy + y1 * sc], outline=fill, width=int(width * sc))
        else:
            draw.ellipse([cx + x0 * sc, cy + y0 * sc, cx + x1 * sc, cy + y1 * sc], fill=fill)

    if category == "apparel":
        if variant % 2 == 0:  # jacket / top
            pts = [(-60, -150), (-20, -135), (20, -135), (60, -150), (150, -95), (175, 60), (125, 70),
                   (110, -30), (105, 150), (-105, 150), (-110, -30), (-125, 70), (-175, 60), (-150, -95)]
            _poly(d, pts, cx, cy, sc, rot)
            dd.line([(cx, cy - 135 * sc), (cx, cy + 150 * sc)], fill=255, width=max(2, int(4 * sc)))
            ell(-40, -165, 40, -115, draw=dd, width=6)
            for k in range(5):
                dd.line([(cx - 90 * sc, cy + (-60 + 40 * k) * sc), (cx + 90 * sc, cy + (-60 + 40 * k) * sc)],
                        fill=120, width=max(1, int(2 * sc)))
        else:  # trousers / skirt
            pts = [(-90, -150), (90, -150), (120, 160), (20, 160), (0, -40), (-20, 160), (-120, 160)]
            _poly(d, pts, cx, cy, sc, rot)
            box(-90, -150, 90, -125, draw=dd)
    elif category == "furniture":
        if variant % 2 == 0:  # sofa
            box(-190, -40, 190, 80, 28)
            box(-170, -120, 170, 0, 36)
            box(-205, -60, -150, 95, 22)
            box(150, -60, 205, 95, 22)
            box(-175, 80, -160, 120, 3)
            box(160, 80, 175, 120, 3)
            for k in (-1, 0, 1):
                box(k * 105 - 48, -105, k * 105 + 48, -10, 20, draw=dd)
        else:  # chair / cabinet
            box(-110, -170, 110, 20, 20)
            box(-130, 0, 130, 60, 14)
            box(-120, 60, -100, 170, 4)
            box(100, 60, 120, 170, 4)
            box(-80, -140, 80, -20, 14, draw=dd)
    elif category == "kitchen":
        if variant % 2 == 0:  # pan
            ell(-150, -150, 150, 150)
            box(130, -18, 250, 18, 16)
            ell(-120, -120, 120, 120, draw=dd, fill=90)
            ell(-80, -110, 20, -40, draw=dd, fill=200)
        else:  # kettle / jar
            box(-110, -90, 110, 150, 50)
            box(-60, -130, 60, -80, 10)
            ell(-25, -160, 25, -120)
            pts = [(100, 20), (200, -100), (215, -85), (120, 60)]
            _poly(d, pts, cx, cy, sc, 0)
            box(-80, -60, -50, 120, 15, draw=dd)
    elif category == "digital":
        if variant % 2 == 0:  # phone / power bank
            box(-95, -185, 95, 185, 30)
            box(-80, -165, 80, 150, 14, draw=dd)
            ell(-12, 158, 12, 178, draw=dd)
        else:  # earbuds case
            ell(-150, -90, 150, 130)
            box(-150, -20, 150, 60, 0, draw=dd)
            ell(-20, 80, 20, 100, draw=dd, fill=255)
    else:  # outdoor
        if variant % 2 == 0:  # tent
            pts = [(0, -160), (210, 140), (-210, 140)]
            _poly(d, pts, cx, cy, sc, rot * 0.3)
            pts2 = [(0, -40), (70, 140), (-70, 140)]
            _poly(dd, pts2, cx, cy, sc, rot * 0.3)
        else:  # bottle / backpack
            box(-80, -120, 80, 170, 40)
            box(-35, -175, 35, -110, 10)
            box(-80, -20, 80, 40, 0, draw=dd)
    return m, det


# ----------------------------------------------------------------------------- product images
def _draw_product(sku: str, index: int, category: str, grain: bool = True) -> Image.Image:
    rng = random.Random(stable_seed("product-image", sku, index))
    S = SIZE
    hue = rng.random()
    # studio backdrop: a soft two-tone gradient at a random angle
    bg1 = rgb_from_hsv(hue + rng.uniform(-0.1, 0.1), rng.uniform(0.08, 0.35), rng.uniform(0.82, 0.98))
    bg2 = rgb_from_hsv(hue + rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.5), rng.uniform(0.45, 0.8))
    img = linear_gradient((S, S), bg1, bg2, rng.uniform(0, 360))
    # soft background shapes (props, light spots), drawn small and blurred up
    q = S // 4
    over = Image.new("RGBA", (q, q), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(rng.randint(3, 7)):
        col = rgb_from_hsv(rng.random(), rng.uniform(0.2, 0.7), rng.uniform(0.5, 1.0)) + (rng.randint(40, 110),)
        x, y, r = rng.uniform(0, q), rng.uniform(0, q), rng.uniform(0.05, 0.3) * q
        if rng.random() < 0.5:
            od.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:
            od.rounded_rectangle([x - r, y - r * 0.6, x + r, y + r * 0.6], radius=r * 0.2, fill=col)
    over = over.filter(ImageFilter.GaussianBlur(1.2)).resize((S, S), Image.BICUBIC)
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    # mottled light: fractal noise multiplied in
    clouds = value_noise(rng, (q, q), octaves=4, base=3).resize((S, S), Image.BICUBIC)
    img = Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (clouds,) * 3)), 0.22)
    # floor shadow
    shadow = Image.new("L", (q, q), 0)
    sy = q * rng.uniform(0.78, 0.86)
    ImageDraw.Draw(shadow).ellipse([q * 0.18, sy - q * 0.04, q * 0.82, sy + q * 0.04], fill=140)
    shadow = shadow.filter(ImageFilter.GaussianBlur(q * 0.025)).resize((S, S), Image.BICUBIC)
    img.paste((20, 20, 25), (0, 0), shadow)
    # the product: masks drawn at 2x and scaled down for smooth edges
    variant = 0 if index == 1 else rng.randrange(4)
    mask, details = product_silhouette(category, variant, S * _SS, rng)
    mask, details = mask.reduce(_SS), details.reduce(_SS)
    pcol = rgb_from_hsv(rng.random(), rng.uniform(0.35, 0.85), rng.uniform(0.35, 0.9))
    shade_fill(img, mask, pcol, rng, rng.uniform(20, 70))
    det_col = rgb_from_hsv(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.2, 0.95))
    img.paste(det_col, (0, 0), ImageChops.multiply(details, mask).point(lambda v: v * 6 // 10))
    # main images carry the shop's mark and a promo strip, as Taobao main images do
    draw = ImageDraw.Draw(img)
    if index == 1:
        strip = rgb_from_hsv(rng.choice((0.02, 0.05, 0.95, 0.6)), 0.85, 0.92)
        draw.rectangle([0, SIZE - 54, SIZE, SIZE], fill=strip)
        text = "山禾生活 · 品质好物" if _has_cjk_font() else "SHANHE LIFE"
        draw.text((16, SIZE - 44), text, fill=(255, 255, 255), font=_font(26))
        draw.text((SIZE - 118, SIZE - 44), f"{sku}", fill=(255, 255, 255), font=_font(20))
    else:
        draw.text((14, 10), "山禾" if _has_cjk_font() else "SH", fill=(255, 255, 255), font=_font(18),
                  stroke_width=1, stroke_fill=(90, 90, 90))
    return add_grain(img, rng, 0.12) if grain else img


@lru_cache(maxsize=256)
def _product_image(sku: str, index: int, fmt: str, category: str) -> bytes:
    # PNGs are the clean 'cut-out' style shots: no grain, which also keeps them small
    return encode_image(_draw_product(sku, index, category, grain=fmt != "png"), fmt)


def product_image(sku: str, index: int, fmt: str, category: str | None = None) -> bytes:
    """The `index`-th (1-based) picture of `sku` encoded as `fmt` ("jpg"/"jpeg"/"png").

    `category` picks the silhouette (apparel, furniture, kitchen, digital, outdoor); without it
    one is derived from the SKU.
    """
    fmt = fmt.lower()
    if fmt not in ("jpg", "jpeg", "png"):
        raise ValueError(f"unsupported image format {fmt!r}")
    if category is None:
        category = _CATEGORY_OF_HASH[stable_seed("category", sku) % len(_CATEGORY_OF_HASH)]
    return _product_image(sku, int(index), "jpg" if fmt == "jpeg" else fmt, category)


def image_cache_info():
    return _product_image.cache_info()


# ----------------------------------------------------------------------------- hostile images
# What the "bomb" and "hugeimage" faults of the sample store serve (demostore.faults).

BOMB_SIZE = (20_000, 20_000)
HUGE_IMAGE_BYTES = 50 * 1024 * 1024


@lru_cache(maxsize=4)
def decompression_bomb_png(width: int = BOMB_SIZE[0], height: int = BOMB_SIZE[1]) -> bytes:
    """A one-colour PNG of width x height pixels (400 M by default) that is only tens of KB:
    a decompression bomb. Written row by row, so making it never holds the pixels either."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then black pixels
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * min(height - done, 1000)) for done in range(0, height, 1000)]
    parts.append(packer.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts))
            + chunk(b"IEND", b""))


def oversized_body(total: int = HUGE_IMAGE_BYTES, piece: int = 1024 * 1024):
    """`total` bytes that start like a JPEG, in pieces of `piece` bytes: an "image" far larger
    than any listing photo, for a server to stream without a Content-Length."""
    start = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    filler = b"\x00" * piece
    sent = 0
    while sent < total:
        part = (start + filler)[:piece] if sent == 0 else filler[: min(piece, total - sent)]
        sent += len(part)
        yield part
