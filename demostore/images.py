"""Deterministic product photos, drawn with Pillow on request.

Every (sku, index) gives its own picture: a studio backdrop gradient at its own angle, soft
background shapes, a product silhouette for the listing's category in its own colour, a floor
shadow and a fine grain, so perceptual hashes of different listing images are far apart.
Nothing is generated up front; results sit in a bounded LRU cache.

`infringing_originals()` are a handful of photo-like pictures (landscape, bokeh, studio shot,
night street) that play the "known infringing images" the merchant registers;
`altered_copy(name)` is the slightly altered copy the scenario puts on a listing (resized to 90 %,
recompressed as JPEG quality 60), and `export_registry(folder)` writes the originals as files.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

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


# ----------------------------------------------------------------------------- building blocks
def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(size: tuple[int, int], c1, c2, angle: float) -> Image.Image:
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


def _radial(size: tuple[int, int], center, radius: float) -> Image.Image:
    """An 'L' mask bright at `center`, fading to 0 at `radius`."""
    g = Image.radial_gradient("L")  # 256x256, 0 at centre, 255 at the edge
    g = ImageChops.invert(g)
    d = int(radius * 2)
    g = g.resize((max(1, d), max(1, d)), Image.BICUBIC)
    out = Image.new("L", size, 0)
    out.paste(g, (int(center[0] - radius), int(center[1] - radius)))
    return out


def _value_noise(rng: random.Random, size: tuple[int, int], octaves: int = 5, base: int = 4) -> Image.Image:
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


def _grain(rng: random.Random, size: tuple[int, int], blur: float = 0.6) -> Image.Image:
    w, h = size
    g = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    return g.filter(ImageFilter.GaussianBlur(blur)) if blur else g


def _add_grain(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    """Add film grain: each pixel moves by up to +-amount*128 levels."""
    noise = _grain(rng, img.size)
    noise = noise.point(lambda v: int(128 + (v - 128) * amount)).convert("RGB")
    return ImageChops.add(img, noise, scale=1.0, offset=-128)


def _encode(img: Image.Image, fmt: str, quality: int = 86) -> bytes:
    buf = io.BytesIO()
    fmt = fmt.lower()
    if fmt in ("jpg", "jpeg"):
        img.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, progressive=False)
    elif fmt == "png":
        img.save(buf, "PNG", compress_level=6)
    else:
        raise ValueError(f"unsupported image format {fmt!r}")
    return buf.getvalue()


# ----------------------------------------------------------------------------- silhouettes
def _shade_fill(canvas: Image.Image, mask: Image.Image, color, rng: random.Random, angle: float) -> None:
    """Fill `mask` on canvas with a lit gradient of `color` (light from the top left)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in color))
    light = _rgb(h, s * 0.75, min(1.0, v * 1.25 + 0.08))
    dark = _rgb(h, min(1.0, s * 1.1), v * 0.55)
    body = _gradient(canvas.size, light, dark, angle)
    w, h = canvas.size
    texture = _value_noise(rng, (w // 4, h // 4), octaves=3, base=6).resize((w, h), Image.BICUBIC).convert("RGB")
    body = Image.blend(body, ImageChops.multiply(body, texture), 0.18)
    canvas.paste(body, (0, 0), mask)


def _poly(mask_draw: ImageDraw.ImageDraw, pts, cx, cy, scale, rot) -> None:
    c, s = math.cos(rot), math.sin(rot)
    out = []
    for x, y in pts:
        x, y = x * scale, y * scale
        out.append((cx + x * c - y * s, cy + x * s + y * c))
    mask_draw.polygon(out, fill=255)


def _silhouette(category: str, variant: int, size: int, rng: random.Random) -> tuple[Image.Image, Image.Image]:
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
def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def _draw_product(sku: str, index: int, category: str, grain: bool = True) -> Image.Image:
    rng = random.Random(_seed("product-image", sku, index))
    S = SIZE
    hue = rng.random()
    # studio backdrop: a soft two-tone gradient at a random angle
    bg1 = _rgb(hue + rng.uniform(-0.1, 0.1), rng.uniform(0.08, 0.35), rng.uniform(0.82, 0.98))
    bg2 = _rgb(hue + rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.5), rng.uniform(0.45, 0.8))
    img = _gradient((S, S), bg1, bg2, rng.uniform(0, 360))
    # soft background shapes (props, light spots), drawn small and blurred up
    q = S // 4
    over = Image.new("RGBA", (q, q), (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    for _ in range(rng.randint(3, 7)):
        col = _rgb(rng.random(), rng.uniform(0.2, 0.7), rng.uniform(0.5, 1.0)) + (rng.randint(40, 110),)
        x, y, r = rng.uniform(0, q), rng.uniform(0, q), rng.uniform(0.05, 0.3) * q
        if rng.random() < 0.5:
            od.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:
            od.rounded_rectangle([x - r, y - r * 0.6, x + r, y + r * 0.6], radius=r * 0.2, fill=col)
    over = over.filter(ImageFilter.GaussianBlur(1.2)).resize((S, S), Image.BICUBIC)
    img = Image.alpha_composite(img.convert("RGBA"), over).convert("RGB")
    # mottled light: fractal noise multiplied in
    clouds = _value_noise(rng, (q, q), octaves=4, base=3).resize((S, S), Image.BICUBIC)
    img = Image.blend(img, ImageChops.multiply(img, Image.merge("RGB", (clouds,) * 3)), 0.22)
    # floor shadow
    shadow = Image.new("L", (q, q), 0)
    sy = q * rng.uniform(0.78, 0.86)
    ImageDraw.Draw(shadow).ellipse([q * 0.18, sy - q * 0.04, q * 0.82, sy + q * 0.04], fill=140)
    shadow = shadow.filter(ImageFilter.GaussianBlur(q * 0.025)).resize((S, S), Image.BICUBIC)
    img.paste((20, 20, 25), (0, 0), shadow)
    # the product: masks drawn at 2x and scaled down for smooth edges
    variant = 0 if index == 1 else rng.randrange(4)
    mask, details = _silhouette(category, variant, S * _SS, rng)
    mask, details = mask.reduce(_SS), details.reduce(_SS)
    pcol = _rgb(rng.random(), rng.uniform(0.35, 0.85), rng.uniform(0.35, 0.9))
    _shade_fill(img, mask, pcol, rng, rng.uniform(20, 70))
    det_col = _rgb(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.2, 0.95))
    img.paste(det_col, (0, 0), ImageChops.multiply(details, mask).point(lambda v: v * 6 // 10))
    # main images carry the shop's mark and a promo strip, as Taobao main images do
    draw = ImageDraw.Draw(img)
    if index == 1:
        strip = _rgb(rng.choice((0.02, 0.05, 0.95, 0.6)), 0.85, 0.92)
        draw.rectangle([0, SIZE - 54, SIZE, SIZE], fill=strip)
        text = "山禾生活 · 品质好物" if _has_cjk_font() else "SHANHE LIFE"
        draw.text((16, SIZE - 44), text, fill=(255, 255, 255), font=_font(26))
        draw.text((SIZE - 118, SIZE - 44), f"{sku}", fill=(255, 255, 255), font=_font(20))
    else:
        draw.text((14, 10), "山禾" if _has_cjk_font() else "SH", fill=(255, 255, 255), font=_font(18),
                  stroke_width=1, stroke_fill=(90, 90, 90))
    return _add_grain(img, rng, 0.12) if grain else img


@lru_cache(maxsize=256)
def _product_image(sku: str, index: int, fmt: str, category: str) -> bytes:
    # PNGs are the clean 'cut-out' style shots: no grain, which also keeps them small
    return _encode(_draw_product(sku, index, category, grain=fmt != "png"), fmt)


def product_image(sku: str, index: int, fmt: str, category: str | None = None) -> bytes:
    """The `index`-th (1-based) picture of `sku` encoded as `fmt` ("jpg"/"jpeg"/"png").

    `category` picks the silhouette (apparel, furniture, kitchen, digital, outdoor); without it
    one is derived from the SKU.
    """
    fmt = fmt.lower()
    if fmt not in ("jpg", "jpeg", "png"):
        raise ValueError(f"unsupported image format {fmt!r}")
    if category is None:
        category = _CATEGORY_OF_HASH[_seed("category", sku) % len(_CATEGORY_OF_HASH)]
    return _product_image(sku, int(index), "jpg" if fmt == "jpeg" else fmt, category)


def image_cache_info():
    return _product_image.cache_info()


# ----------------------------------------------------------------------------- infringing photos
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
    rng = random.Random(_seed("original", "sunset_lake"))
    w, h = ORIGINAL_SIZE
    horizon = int(h * 0.62)
    sky = _gradient((w, h), (255, 170, 80), (70, 40, 120), 90)
    clouds = _value_noise(rng, (w, h), octaves=6, base=3)
    cloud_col = Image.new("RGB", (w, h), (255, 215, 190))
    sky = Image.composite(cloud_col, sky, clouds.point(lambda v: max(0, v - 140) * 2))
    sun = _radial((w, h), (w * 0.62, horizon - 150), 190)
    sky = Image.composite(Image.new("RGB", (w, h), (255, 240, 200)), sky, sun.point(lambda v: int(v * 0.9)))
    sd = ImageDraw.Draw(sky)
    sd.ellipse([w * 0.62 - 32, horizon - 182, w * 0.62 + 32, horizon - 118], fill=(255, 250, 225))
    for layer, (col, base, rough) in enumerate((((150, 90, 130), 0.45, 0.55), ((95, 55, 100), 0.52, 0.6),
                                                ((45, 30, 60), 0.58, 0.5))):
        pts = _mountains(rng, w, h, h * base, rough)
        poly = pts + [(w, horizon), (0, horizon)]
        m = Image.new("L", (w, h), 0)
        ImageDraw.Draw(m).polygon(poly, fill=255)
        tex = _value_noise(rng, (w, h), octaves=5, base=8)
        fill = Image.blend(Image.new("RGB", (w, h), col), Image.merge("RGB", (tex,) * 3), 0.12)
        sky.paste(fill, (0, 0), m)
    img = sky.copy()
    # the lake: a darkened, rippled reflection
    top = sky.crop((0, horizon - (h - horizon), w, horizon)).transpose(Image.FLIP_TOP_BOTTOM)
    ripples = _value_noise(rng, (w // 8, h - horizon), octaves=3, base=6).resize((w, h - horizon))
    water = Image.blend(top, Image.new("RGB", top.size, (30, 30, 70)), 0.35)
    water = Image.blend(water, Image.merge("RGB", (ripples,) * 3), 0.1).filter(ImageFilter.GaussianBlur(1.2))
    img.paste(water, (0, horizon))
    return _add_grain(img, rng, 0.25)


def _bokeh_flowers() -> Image.Image:
    rng = random.Random(_seed("original", "bokeh_flowers"))
    w, h = ORIGINAL_SIZE
    img = _gradient((w, h), (20, 60, 30), (90, 130, 60), 30)
    tex = _value_noise(rng, (w, h), octaves=5, base=4)
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
        petal = _rgb(rng.choice((0.95, 0.0, 0.08, 0.85)), rng.uniform(0.5, 0.9), rng.uniform(0.8, 1.0))
        for k in range(8):
            a = k * math.pi / 4 + rng.uniform(-0.2, 0.2)
            px, py = fx + math.cos(a) * 22, fy + math.sin(a) * 22
            d.ellipse([px - 16, py - 16, px + 16, py + 16], fill=petal)
        d.ellipse([fx - 11, fy - 11, fx + 11, fy + 11], fill=(250, 200, 40))
    return _add_grain(img.filter(ImageFilter.GaussianBlur(0.8)), rng, 0.25)


def _studio_sneaker() -> Image.Image:
    rng = random.Random(_seed("original", "studio_sneaker"))
    w, h = ORIGINAL_SIZE
    img = _gradient((w, h), (235, 225, 215), (150, 140, 150), 100)
    spot = _radial((w, h), (w * 0.45, h * 0.4), 320)
    img = Image.composite(Image.new("RGB", (w, h), (250, 245, 240)), img, spot.point(lambda v: v // 2))
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse([w * 0.18, h * 0.72, w * 0.84, h * 0.82], fill=170)
    img.paste((40, 35, 40), (0, 0), shadow.filter(ImageFilter.GaussianBlur(18)))
    m = Image.new("L", (w, h), 0)
    pts = [(150, 380), (160, 300), (240, 250), (330, 230), (400, 170), (470, 160), (500, 230),
           (560, 280), (610, 320), (600, 380)]
    ImageDraw.Draw(m).polygon(pts, fill=255)
    m = m.filter(ImageFilter.GaussianBlur(2))
    body = _gradient((w, h), (220, 60, 50), (90, 15, 30), 60)
    tex = _value_noise(rng, (w, h), octaves=6, base=10)
    body = Image.blend(body, ImageChops.multiply(body, Image.merge("RGB", (tex,) * 3)), 0.3)
    img.paste(body, (0, 0), m)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([140, 370, 615, 405], radius=14, fill=(245, 245, 240))
    for k in range(6):
        d.line([(300 + k * 25, 250 - k * 10), (330 + k * 25, 275 - k * 10)], fill=(250, 250, 250), width=5)
    d.arc([380, 250, 560, 360], 200, 330, fill=(255, 255, 255), width=9)
    return _add_grain(img.filter(ImageFilter.GaussianBlur(0.6)), rng, 0.2)


def _city_night() -> Image.Image:
    rng = random.Random(_seed("original", "city_night"))
    w, h = ORIGINAL_SIZE
    img = _gradient((w, h), (10, 15, 45), (60, 40, 90), 80)
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
    haze = _value_noise(rng, (w, h), octaves=5, base=3)
    img = Image.composite(Image.new("RGB", (w, h), (90, 70, 120)), img, haze.point(lambda v: max(0, v - 150)))
    return _add_grain(img, rng, 0.3)


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
    return _encode(small, "jpg", quality=quality)


def export_registry(folder: str | Path) -> list[Path]:
    """Write the originals as JPEG files (quality 95) into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in _ORIGINALS:
        path = folder / f"{name}.jpg"
        path.write_bytes(_encode(_original(name), "jpg", quality=95))
        paths.append(path)
    return paths
