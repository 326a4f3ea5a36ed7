"""The second stage of the match: local features, verified in place (`imaging.local_match`).

The global hashes (`audits.image_match`) are the fast first stage. They miss a copy rotated
a few degrees, cropped to half or put small on a canvas, and their colour check refuses a
greyscale or recoloured copy. This stage confirms and extends:

* **extends**: a listing image the hashes found nothing for asks the registry's feature
  index (`audits.feature_index`) for a few candidates, and each is verified: the features
  must agree on one placement (rotation, scale, shift). A copy rotated 10°, cropped to 40 %,
  small on a canvas, captioned or recoloured is found so.
* **confirms**: a pair the hashes found near but the colours refused is verified too. Same
  structure in place is a recoloured copy (a match, said so); the same product photographed
  again in another colour has corners that look alike, but the camera moved and only some
  land in place (AGREEMENT), and it is not a copy. A pair near on the hashes whose corners
  say "shot again" is dropped the same way.
* **says where**: every verified match gives the box of the registry picture the copy shows
  and the box of the copy that shows it.

Verification needs both pictures' features; an image hashed before they were kept has none,
and only the first stage reads it. The index holds only each registry image's first
descriptors; a registry image's whole features are loaded when a listing image is to be
verified against it (`load`), so a registry of 100,000 is not held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from imaging.features import Features
from imaging.local_match import AGREEMENT, LocalMatch, verify

from .feature_index import THREADS, FeatureIndex

# A pair the colours refused is a recoloured copy only on strong agreement: more corners
# agreeing than a different photo of the same thing could give.
RECOLOURED_INLIERS = 20
RECOLOURED_LEANED_INLIERS = 70


def same_photo(local: LocalMatch | None, *, recoloured: bool = False) -> bool:
    """Whether the local features say the listing image is a copy of the registry image."""
    if local is None:
        return False
    if recoloured:  # the same product shot again in another colour can fit one perspective
        # closely with a few dozen corners: a leaned copy recoloured needs as many as a
        # leaned copy keeps (100 and more seen; another colour: 35 at most)
        return (local.agreement >= AGREEMENT and local.inliers >= (
            RECOLOURED_LEANED_INLIERS if local.leaned else RECOLOURED_INLIERS))
    return local.agreement >= AGREEMENT


Forms = tuple["Features | None", "Features | None"]   # a registry image's own, its mirror's


@dataclass(frozen=True)
class Verified:
    registry: int          # position in the registry list the stage was built from
    mirrored: bool
    local: LocalMatch


class LocalStage:
    """`descriptors`: each registry image's descriptors and its mirror's (at least the first
    the index reads); `load(positions)`: their whole features, own and mirror's."""

    def __init__(self, descriptors: Iterable[tuple[np.ndarray | None, np.ndarray | None]],
                 load: Callable[[list[int]], dict[int, Forms]]):
        self.index = FeatureIndex(descriptors)
        self._load = load
        self._loaded: dict[int, Forms] = {}

    def forms(self, position: int) -> Forms:
        if position not in self._loaded:
            self._loaded.update(self._load([position]))
        return self._loaded.get(position, (None, None))

    def prefetch(self, positions: Sequence[int]) -> None:
        """Load these registry images' features at once (one read instead of many)."""
        missing = sorted({p for p in positions if p not in self._loaded})
        if missing:
            self._loaded.update(self._load(missing))

    def verify(self, listing: Features | None, registry: int, *, mirrored: bool | None = None,
               min_inliers: int | None = None) -> Verified | None:
        """The listing image against one registry image, as registered and mirrored (or only
        the form named)."""
        if listing is None:
            return None
        best = None
        kwargs = {} if min_inliers is None else {"min_inliers": min_inliers}
        for form, features in enumerate(self.forms(registry)):
            if features is None or (mirrored is not None and bool(form) != mirrored):
                continue
            found = verify(listing, features, **kwargs)
            if found is not None and (best is None or found.inliers > best.local.inliers):
                best = Verified(registry, bool(form), found)
        return best

    def search(self, listings: Sequence[Features | None],
               skip: Sequence[set[tuple[int, bool]]]) -> list[list[Verified]]:
        """For each listing image, the registry images it is verified to show, found through
        the index (the (registry, mirrored) forms in its `skip` set, matched or verified
        already, are not looked at again)."""
        out: list[list[Verified]] = [[] for _ in listings]
        found = self.index.candidates([f.descriptors if f is not None else None
                                       for f in listings])
        wanted = [[c for c in candidates if (c.registry, c.mirrored) not in skip[i]]
                  for i, candidates in enumerate(found)]
        self.prefetch([c.registry for candidates in wanted for c in candidates])

        def verified(i: int) -> list[Verified]:
            best: dict[int, Verified] = {}
            for c in wanted[i]:   # only the form (own or mirrored) the index named
                found = self.verify(listings[i], c.registry, mirrored=c.mirrored)
                if found is not None and same_photo(found.local) and (
                        c.registry not in best
                        or found.local.inliers > best[c.registry].local.inliers):
                    best[c.registry] = found
            return list(best.values())

        todo = [i for i, candidates in enumerate(wanted) if candidates]
        # On threads: OpenCV's matching lets go of the interpreter (everything is loaded).
        with ThreadPoolExecutor(max(1, min(THREADS, len(todo)))) as pool:
            for i, found in zip(todo, pool.map(verified, todo)):
                out[i] = found
        return out


__all__ = ["AGREEMENT", "LocalStage", "RECOLOURED_INLIERS", "Verified", "same_photo"]
