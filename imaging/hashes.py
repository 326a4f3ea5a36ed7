"""Hashing an image: sha256 for identity, perceptual hashes for "the same picture, altered".

What the infringing-image match needs is computed here, from the pixels (the matching itself is
`audits.image_match`):

* `core_phash` / `core_dhash`: phash and dhash of the picture with a plain border or canvas cut
  away (`margin_box`), so a photo framed or placed on a white square hashes like the photo;
* `colour`: an 8 x 8 grid of the picture's chroma (`colour_signature`), because the grey-level
  hashes cannot tell a red jacket from the same jacket in blue;
* `features`: the picture's local features (`imaging.features`, packed), which the second
  stage of the match verifies in place: what a copy rotated, cropped to half or recoloured
  still shares with the original;
* for a registry image only, `variants`: the core hashes of its mirror image and of a few crops
  (`registry_variants`, in the order of `imaging.variants.VARIANTS`), so a mirrored or
  slightly cropped copy is near one of them; and `mirror_features`, its mirror image's local
  features (a corner's description is not the same mirrored).

Ledgers and registries store these hashes: any change here changes what they match.
"""

from __future__ import annotations

import hashlib

import imagehash
from PIL import Image

from .colour import colour_signature
from .decode import decode
from .features import FEATURE_SIZE, WHOLE, local_features, pack
from .margins import margin_box
from .variants import VARIANTS

# px: the longest side of the copy the hashes are computed from. phash reads 32 x 32, yet
# a copy much smaller than the photo loses what tells a copy with a promo banner from another
# picture; at 512 a listing photo (400-800 px) is hashed whole, a 4000 px one is not.
HASH_SIZE = 512
assert FEATURE_SIZE == HASH_SIZE  # the features are found on the same decoded copy


def hash_image_bytes(data: bytes) -> dict:
    """sha256, perceptual hashes, colour signature and size of a listing image, or
    ImageRefused. The whole picture's phash and dhash are None when it has a border or canvas:
    the match reads the core hashes, and the whole picture's would cost a third of the work."""
    return _hashes(data, whole=False)[0]


def hash_registry_bytes(data: bytes) -> dict:
    """What `hash_image_bytes` gives, plus the `variants` and `mirror_features` a registry
    image is matched by."""
    hashed, core, (read, frame) = _hashes(data, whole=True)
    hashed["variants"] = registry_variants(core)
    left, top, right, bottom = frame
    hashed["mirror_features"] = pack(local_features(
        read.transpose(Image.FLIP_LEFT_RIGHT), (1 - right, top, 1 - left, bottom)))
    return hashed


def _hashes(data: bytes, *, whole: bool):
    """The hashes, the core picture, and what the local features were read on (the grey
    core at its decoded resolution) with its frame in the whole picture."""
    # The hashes read a small copy (phash sees 32 x 32, dhash 9 x 8, the colour grid 8 x 8):
    # a big photo is decoded straight to about HASH_SIZE instead of at full size.
    (width, height), decoded = decode(data, draft=(HASH_SIZE, HASH_SIZE))
    rgb = decoded
    if max(rgb.size) > HASH_SIZE:
        # Box averaging: what the hashes' own downscaling would see, at a tenth of the cost.
        rgb = decoded.copy()
        rgb.thumbnail((HASH_SIZE, HASH_SIZE), Image.BOX)
    box = margin_box(rgb)
    core = rgb.crop(box) if box else rgb
    # Grey is per pixel: the core's grey copy is the whole picture's, cropped.
    grey = rgb.convert("L")
    core_phash, core_dhash = grey_hashes(grey.crop(box) if box else grey)
    if not box:
        phash, dhash = core_phash, core_dhash
    else:
        phash, dhash = grey_hashes(grey) if whole else (None, None)
    read, frame = _feature_source(decoded, rgb, grey, box)
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "phash": phash,
        "dhash": dhash,
        "core_phash": core_phash,
        "core_dhash": core_dhash,
        "colour": colour_signature(core),
        "width": width,
        "height": height,
        "bytes": len(data),
        "features": pack(local_features(read, frame)),
    }, core, (read, frame)


def _feature_source(decoded: Image.Image, small: Image.Image, grey: Image.Image,
                    box: tuple[int, int, int, int] | None):
    """What the local features read: the core, cut from the decoded picture (a photo small
    on a canvas keeps its own pixels, not the canvas's share of HASH_SIZE), and its frame."""
    if not box:
        return grey, WHOLE
    w, h = small.size
    frame = (box[0] / w, box[1] / h, box[2] / w, box[3] / h)
    if decoded is small:
        return grey.crop(box), frame
    dw, dh = decoded.size
    cut = (round(frame[0] * dw), round(frame[1] * dh), round(frame[2] * dw),
           round(frame[3] * dh))
    return decoded.crop(cut).convert("L"), frame


def grey_hashes(grey: Image.Image) -> tuple[str, str]:
    """phash and dhash of a grey ("L") picture (given one, each would make its own)."""
    return str(imagehash.phash(grey)), str(imagehash.dhash(grey))


def registry_variants(core: Image.Image) -> list[str]:
    """Core phash+dhash ("<phash>:<dhash>") of each of VARIANTS of the picture (crops of it,
    its mirror image, crops of the mirror): what a mirrored or slightly cropped copy comes
    near. In the order of VARIANTS, which is the order registries store them in."""
    width, height = core.size
    grey = core.convert("L")  # grey is per pixel: each variant's grey copy is this one's, cut
    mirror = None
    out = []
    for variant in VARIANTS:
        base = grey
        if variant.mirrored:
            if mirror is None:
                mirror = grey.transpose(Image.FLIP_LEFT_RIGHT)
            base = mirror
        box = variant.pixel_box(width, height)
        part = base if box is None else base.crop(box)
        out.append(":".join(grey_hashes(part)))
    return out
