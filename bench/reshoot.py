"""Another photograph of the same thing, for the image benches' hard negatives: the camera
turned and moved (a perspective change, and a parallax: near and far parts shift by different
amounts), another moment's light and colour, another sensor's grain. A copy of a photo is the
photo edited in two dimensions; a new photograph is not, and the match must tell them apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

from demostore.drawing import add_grain


@dataclass(frozen=True)
class Pose:
    """Another photograph of the same thing: the camera turned (a perspective change), moved
    (near and far parts shift by different amounts: a smooth displacement), and the thing
    itself a little otherwise (a fold, a leaf in the wind)."""

    tilt: tuple[float, float]   # perspective: how far each axis leans (shares of the size)
    shift: float                # displacement amplitude (share of the size)
    seed: int

    @classmethod
    def random(cls, rng: random.Random, *, strength: float = 1.0) -> "Pose":
        return cls((rng.choice((-1, 1)) * rng.uniform(0.06, 0.12) * strength,
                    rng.choice((-1, 1)) * rng.uniform(0.03, 0.08) * strength),
                   rng.uniform(0.018, 0.03) * strength, rng.randrange(2**32))

    def apply(self, img: Image.Image) -> Image.Image:
        import cv2

        arr = np.asarray(img)
        h, w = arr.shape[:2]
        tx, ty = self.tilt
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[w * max(0, tx), h * max(0, ty)], [w - w * max(0, -tx), h * max(0, -ty)],
                          [w - w * max(0, -tx) * 0.4, h - h * max(0, -ty) * 0.4],
                          [w * max(0, tx) * 0.4, h - h * max(0, ty) * 0.4]])
        warp = cv2.getPerspectiveTransform(src, dst)
        # an object's outside stays transparent; a scene goes on past the old frame
        arr = cv2.warpPerspective(arr, warp, (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT if arr.shape[2] == 4
                                  else cv2.BORDER_REFLECT)
        # the parallax: a smooth depth map times the camera's move
        rng = np.random.default_rng(self.seed)
        coarse = rng.standard_normal((2, 5, 5)).astype(np.float32)
        field = [cv2.resize(c, (w, h), interpolation=cv2.INTER_CUBIC) for c in coarse]
        amp = self.shift * max(w, h)
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        arr = cv2.remap(arr, xs + field[0] * amp, ys + field[1] * amp, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT)
        return Image.fromarray(arr)


def reshoot_scene(img: Image.Image, rng: random.Random) -> Image.Image:
    """The same scene photographed again: the camera moved and turned, another moment's light
    and colour, framed a little otherwise, another sensor's grain."""
    pose = Pose.random(rng)
    out = pose.apply(img.convert("RGB"))
    w, h = out.size
    cut = rng.uniform(0.04, 0.1)
    left, top = rng.uniform(0, cut) * w, rng.uniform(0, cut) * h
    out = out.crop((round(left), round(top), round(w - (cut * w - left)),
                    round(h - (cut * h - top))))
    out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.8, 1.2))
    out = ImageEnhance.Color(out).enhance(rng.uniform(0.75, 1.25))
    warm = rng.uniform(-12, 12)
    r, g, b = out.split()
    out = Image.merge("RGB", (r.point(lambda v: max(0, min(255, v + warm))), g,
                              b.point(lambda v: max(0, min(255, v - warm)))))
    return add_grain(out, rng, 0.12)


__all__ = ["Pose", "reshoot_scene"]
