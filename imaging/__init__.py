"""Images, as pixels: decoding untrusted bytes with limits, perceptual hashes, margins, the
colour signature, thumbnails, and the registry's variants as data.

Used by the crawler (listing images) and by the audits (registry images, the match, the
email's thumbnails); imports nothing of theirs.

    decode      decode / decode_image (capped in bytes and pixels), ImageRefused, image_type
    hashes      hash_image_bytes, hash_registry_bytes, grey_hashes, registry_variants
    margins     margin_box: a plain border or canvas around the picture
    colour      colour_signature and its grid (COLOUR_GRID)
    variants    Variant, VARIANTS (the order registries store variant hashes in), FORMS
    thumbnails  thumbnail_jpeg
"""

from .colour import COLOUR_GRID, colour_signature
from .decode import (MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageRefused, decode, decode_image,
                     image_type)
from .hashes import (HASH_SIZE, grey_hashes, hash_image_bytes, hash_registry_bytes,
                     registry_variants)
from .margins import margin_box
from .thumbnails import thumbnail_jpeg
from .variants import AS_REGISTERED, CROP_ANCHORS, CROP_CUT, FORMS, VARIANTS, Variant

__all__ = [
    "AS_REGISTERED", "COLOUR_GRID", "CROP_ANCHORS", "CROP_CUT", "FORMS", "HASH_SIZE",
    "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "VARIANTS", "ImageRefused", "Variant",
    "colour_signature", "decode", "decode_image", "grey_hashes", "hash_image_bytes",
    "hash_registry_bytes", "image_type", "margin_box", "registry_variants", "thumbnail_jpeg",
]
