"""The forms a registry image is matched by, as data.

A registry image is hashed as registered and, so that a mirrored or slightly cropped copy comes
near one of them, also as each of VARIANTS: crops of it, its mirror image, crops of the mirror.
A registry entry stores its variants' hashes positionally (a JSON list of "phash:dhash" in the
order of VARIANTS), so the order here is part of the stored data: append, never reorder.

FORMS is the list the match numbers a registry image's hashes by: form 0 the image as
registered, form n (n >= 1) VARIANTS[n - 1].
"""

from __future__ import annotations

from dataclasses import dataclass

# Crops a registry image is also hashed at: (left, top) share of a 7.5 % cut per axis.
CROP_CUT = 0.075
CROP_ANCHORS = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5),
                (0.5, 0.0), (0.5, 1.0), (0.0, 0.5), (1.0, 0.5)]

WHOLE = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class Variant:
    """One form of a registry image: mirrored or not, then cut to `box`."""

    name: str             # "as registered", "mirrored", "cropped", "mirrored and cropped"
    mirrored: bool        # flipped left to right (before the crop)
    box: tuple[float, float, float, float] = WHOLE  # (left, top, right, bottom), shares
    # The crop's anchor, (left, top) share of the CROP_CUT taken off each axis; None uncropped.
    # The pixel box is computed from it (`pixel_box`), rounding as the stored hashes were.
    anchor: tuple[float, float] | None = None

    @property
    def cropped(self) -> bool:
        return self.box != WHOLE

    def pixel_box(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """The crop in pixels of a width x height picture; None when not cropped."""
        if self.anchor is None:
            return None
        fx, fy = self.anchor
        cut_w, cut_h = CROP_CUT * width, CROP_CUT * height
        return (round(fx * cut_w), round(fy * cut_h),
                round(width - (1 - fx) * cut_w), round(height - (1 - fy) * cut_h))


def _cropped(mirrored: bool, fx: float, fy: float) -> Variant:
    return Variant("mirrored and cropped" if mirrored else "cropped", mirrored,
                   (fx * CROP_CUT, fy * CROP_CUT, 1 - (1 - fx) * CROP_CUT,
                    1 - (1 - fy) * CROP_CUT), (fx, fy))


AS_REGISTERED = Variant("as registered", False)
MIRRORED = Variant("mirrored", True)

# The order registry entries store their variants in: the crops, the mirror, the mirror's crops.
VARIANTS: tuple[Variant, ...] = (
    *(_cropped(False, fx, fy) for fx, fy in CROP_ANCHORS),
    MIRRORED,
    *(_cropped(True, fx, fy) for fx, fy in CROP_ANCHORS),
)

FORMS: tuple[Variant, ...] = (AS_REGISTERED, *VARIANTS)
