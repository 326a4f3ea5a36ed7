"""Is this listing image a copy of a registered infringing image? The index and the decision.

The hashes come from `imaging` (a listing image: the core phash and dhash of the picture with
any plain border or canvas cut away, and an 8 x 8 colour signature; a registry image: the same,
plus the core hashes of its mirror image and of crops, `imaging.VARIANTS`, named and numbered as
`imaging.FORMS`). Matching is two stages:

1. **Candidates, from an index.** Every registry hash (each entry's own and its variants') sits
   in two multi-index tables (`audits.hash_index`), one for phash and one for dhash: a lookup
   reads a few buckets instead of comparing every entry, and misses nothing within the radius.
2. **The decision, on candidates.** A copy must be near in grey level on both hashes together
   (phash + dhash within SUM_LIMIT, and one of them within its radius) *and* have the same
   colours (COLOUR_LIMIT): the grey-level hashes alone cannot tell a product from the same
   product in another colour.
3. **The local features** (`audits.local_stage`), when both pictures have them, confirm and
   extend that: a pair the colours refused is a recoloured copy when its corners agree in
   place, and not a copy when they do not; a pair near on the hashes whose corners say "the
   same scene shot again" is dropped, and one they cannot place needs its phash near (the
   dhash alone is too coarse); a listing image the hashes found nothing for is looked up in
   the feature index. Every match the features placed says where (the boxes).

The limits were chosen from `bench/image_set.py`'s and `bench/photo_set.py`'s measurements
(`python -m bench images photos`, and the README).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from imaging import FORMS
from imaging.features import Features, unpack, unpack_descriptors
from imaging.local_match import LocalMatch

from .colour_compare import MIRROR_FORM, colour_cells
from .hash_index import MultiIndex, brute_force_search  # noqa: F401  (the bench's naive way)
from .local_stage import LocalStage, Verified, same_photo

# --- the decision (see the module docstring; measured on bench/image_set.py) ---------------
PHASH_RADIUS = 10     # candidates: phash within this many bits of a registry hash ...
DHASH_RADIUS = 10     # ... or dhash within this many
SUM_LIMIT = 26        # a copy: phash + dhash distance at most this
COLOUR_LIMIT = 7.5    # and colour distance (chroma levels, see audits.colour_compare) at most this

QUERY_BLOCK = 2048    # queries looked up at once (bounds memory)


def hex_to_int(value: str) -> int:
    return int(value, 16)


def _u64(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


@dataclass(frozen=True)
class Probe:
    """A listing image's hashes (and local features) as the match uses them."""

    key: object                 # whatever the caller uses to name the image (its URL)
    phash: int
    dhash: int | None
    colour: bytes | None
    hashed: str                 # "core" (border and canvas cut away) or "whole image"
    features: Features | None = None

    @classmethod
    def of(cls, key: object, *, phash: str | None, dhash: str | None = None,
           core_phash: str | None = None, core_dhash: str | None = None,
           colour: str | None = None, features: bytes | None = None) -> "Probe | None":
        local = unpack(features)
        if core_phash:
            return cls(key, hex_to_int(core_phash),
                       hex_to_int(core_dhash) if core_dhash else None,
                       bytes.fromhex(colour) if colour else None, "core", local)
        if phash:  # hashed before the core hashes existed
            return cls(key, hex_to_int(phash), hex_to_int(dhash) if dhash else None, None,
                       "whole image", local)
        return None

    @classmethod
    def of_hashes(cls, key: object, hashed: Mapping) -> "Probe | None":
        """From what the hashing gave (`imaging.hash_image_bytes`)."""
        return cls.of(key, phash=hashed.get("phash"), dhash=hashed.get("dhash"),
                      core_phash=hashed.get("core_phash"), core_dhash=hashed.get("core_dhash"),
                      colour=hashed.get("colour"), features=hashed.get("features"))


@dataclass(frozen=True)
class RegistryImage:
    """A registry entry's hashes as the match uses them."""

    id: int
    phash: int
    dhash: int | None
    colour: bytes | None
    variants: tuple[tuple[int, int], ...] = ()   # (phash, dhash) of mirror and crops
    # Its local features and its mirror image's: whole, or only the descriptors the feature
    # index reads (the rest loaded when a listing image is verified against it).
    features: Features | None = None
    mirror_features: Features | None = None
    descriptors: tuple[np.ndarray | None, np.ndarray | None] = (None, None)

    @classmethod
    def of(cls, id: int, *, phash: str | None, dhash: str | None = None,
           core_phash: str | None = None, core_dhash: str | None = None,
           colour: str | None = None, variants: Iterable[str] = (),
           features: bytes | None = None,
           mirror_features: bytes | None = None) -> "RegistryImage | None":
        p = core_phash or phash
        if not p:
            return None
        d = core_dhash or dhash
        parsed = []
        for v in variants:
            vp, _, vd = v.partition(":")
            parsed.append((hex_to_int(vp), hex_to_int(vd)))
        own, mirror = unpack(features), unpack(mirror_features)
        return cls(id, hex_to_int(p), hex_to_int(d) if d else None,
                   bytes.fromhex(colour) if colour else None, tuple(parsed), own, mirror,
                   (unpack_descriptors(features), unpack_descriptors(mirror_features)))

    @classmethod
    def of_hashes(cls, id: int, hashed: Mapping) -> "RegistryImage | None":
        """From what the hashing gave (`imaging.hash_registry_bytes`)."""
        return cls.of(id, phash=hashed.get("phash"), dhash=hashed.get("dhash"),
                      core_phash=hashed.get("core_phash"), core_dhash=hashed.get("core_dhash"),
                      colour=hashed.get("colour"), variants=hashed.get("variants") or (),
                      features=hashed.get("features"),
                      mirror_features=hashed.get("mirror_features"))


@dataclass(frozen=True)
class Match:
    key: object
    registry_id: int
    phash_distance: int | None  # None: found by local features alone, the hashes far apart
    dhash_distance: int | None
    colour_distance: float | None
    variant: str          # which of the registry image's forms came nearest, or how found
    hashed: str           # how the listing image was hashed ("core" or "whole image")
    listing_phash: str    # the listing image's phash that was compared (hex)
    matched_phash: str    # the registry hash (hex) the listing image came near
    matched_dhash: str | None
    # The local features' verdict, when both pictures have them: how many corners agree
    # on one placement, its rotation and scale, and where: the box of the registry picture
    # the copy shows and the box of the listing picture that shows it (shares).
    inliers: int | None = None
    agreement: float | None = None
    rotation: float | None = None
    scale: float | None = None
    registry_box: tuple[float, float, float, float] | None = None
    listing_box: tuple[float, float, float, float] | None = None
    leaned: bool = False   # placed by a perspective: a flat copy leaned, as off a screen

    def with_local(self, local: "LocalMatch | None") -> "Match":
        if local is None:
            return self
        return replace(self, inliers=local.inliers, agreement=local.agreement,
                       rotation=local.rotation,
                       scale=local.scale, registry_box=local.registry_box,
                       listing_box=local.listing_box, leaned=local.leaned)


class RegistryIndex:
    """The registry's hashes, indexed; `match(probes)` gives every registry image each probe
    is a copy of."""

    def __init__(self, images: Iterable[RegistryImage], *, phash_radius: int = PHASH_RADIUS,
                 dhash_radius: int = DHASH_RADIUS, sum_limit: int = SUM_LIMIT,
                 colour_limit: float = COLOUR_LIMIT,
                 load_features: Callable[[list[int]], dict[int, tuple[bytes | None,
                                                                      bytes | None]]] | None = None):
        """`load_features(ids)`: registry images' packed local features (own, mirror), for
        those given with only their descriptors."""
        self.images = list(images)
        self._load_features = load_features
        self.phash_radius, self.dhash_radius = phash_radius, dhash_radius
        self.sum_limit, self.colour_limit = sum_limit, colour_limit
        ph, dh, has_d, owner, number = [], [], [], [], []
        for i, img in enumerate(self.images):
            forms = [(img.phash, img.dhash)] + list(img.variants)
            for n, (p, d) in enumerate(forms):
                ph.append(p)
                dh.append(d or 0)
                has_d.append(d is not None)
                owner.append(i)
                number.append(n)
        self.phashes, self.dhashes = _u64(ph), _u64(dh)
        self.has_dhash = np.array(has_d, dtype=bool)
        self.owner = np.array(owner, dtype=np.int64)
        self.number = np.array(number, dtype=np.int64)
        self.by_phash = MultiIndex(self.phashes)
        self.by_dhash = MultiIndex(self.dhashes)
        # The second stage, when any registry image has local features.
        self.position = {img.id: i for i, img in enumerate(self.images)}
        if any(o is not None or m is not None for img in self.images
               for o, m in [img.descriptors]):
            self.local = LocalStage((img.descriptors for img in self.images), self._forms)
            # The index keeps what it needs; the descriptors themselves are not kept.
            self.images = [replace(img, descriptors=(None, None)) for img in self.images]
        else:
            self.local = None

    def _forms(self, positions: list[int]) -> dict[int, tuple[Features | None, Features | None]]:
        """The whole local features of registry images (by position), given or loaded."""
        out, missing = {}, []
        for p in positions:
            img = self.images[p]
            if img.features is not None or img.mirror_features is not None:
                out[p] = (img.features, img.mirror_features)
            else:
                missing.append(p)
        if missing and self._load_features is not None:
            loaded = self._load_features([self.images[p].id for p in missing])
            for p in missing:
                own, mirror = loaded.get(self.images[p].id, (None, None))
                out[p] = (unpack(own), unpack(mirror))
        return out

    def _colour(self, probe: Probe, owner: int, number: int,
                local: Verified | None) -> tuple[float | None, str | None]:
        """The colour distance of the probe from registry image `owner`'s form `number`, in
        the part each shows of the other when the corners placed the copy (a crop, a canvas,
        a turn's corners or a lean's wedges are not a change of colour), and, past the
        limit, what changed: "recoloured copy" when the typical cell did, "partly covered"
        when a few did (a sticker, a price tag, a patch of colour)."""
        image = self.images[owner]
        if probe.colour is None or image.colour is None:
            return None, None
        if local is None or probe.features is None or not same_photo(local.local):
            cells = colour_cells(probe.colour, image.colour, number)
        else:
            registry = self.local.forms(owner)[int(local.mirrored)]
            cells = colour_cells(
                probe.colour, image.colour, 1 + MIRROR_FORM if local.mirrored else 0,
                placed=lambda at: local.local.registry_shares(at, probe.features, registry))
        if cells is None:
            return None, None
        distance = float(cells.mean())
        if distance <= self.colour_limit:
            return distance, None
        typical = float(np.median(cells))
        return distance, "recoloured copy" if typical > self.colour_limit / 2 else "partly covered"

    def _checkable(self, probe: Probe, owner: int) -> bool:
        """Whether the local stage could have verified this pair (both have features)."""
        return (self.local is not None and probe.features is not None
                and any(f is not None for f in self.local.forms(owner)))

    def __len__(self) -> int:
        """How many hashes are indexed (each image's own and its variants)."""
        return len(self.phashes)

    def candidates(self, probes: Sequence[Probe]) -> tuple[np.ndarray, np.ndarray]:
        """(probe index, row) pairs near on phash or dhash, phash+dhash within the limit."""
        qp = _u64([p.phash for p in probes])
        qd = _u64([p.dhash or 0 for p in probes])
        has_qd = np.array([p.dhash is not None for p in probes], dtype=bool)
        q1, r1, _ = self.by_phash.search(qp, self.phash_radius)
        q2, r2, _ = self.by_dhash.search(qd, self.dhash_radius)
        keep2 = has_qd[q2] & self.has_dhash[r2]
        q = np.concatenate([q1, q2[keep2]])
        r = np.concatenate([r1, r2[keep2]])
        if not len(q):
            return q, r
        pair = np.unique(q * len(self.phashes) + r)
        q, r = pair // len(self.phashes), pair % len(self.phashes)
        pd = np.bitwise_count(qp[q] ^ self.phashes[r]).astype(np.int64)
        dd = np.bitwise_count(qd[q] ^ self.dhashes[r]).astype(np.int64)
        both = has_qd[q] & self.has_dhash[r]
        # without a dhash on one side, the phash alone has to be within its radius
        near = np.where(both, pd + dd <= self.sum_limit, pd <= self.phash_radius)
        return q[near], r[near]

    def match(self, probes: Sequence[Probe]) -> list[list[Match]]:
        """For each probe, its matches (one per registry image, the nearest form), nearest first."""
        out: list[list[Match]] = [[] for _ in probes]
        # (registry position, mirrored) forms the corners found no copy of, for each probe
        tried: list[set[tuple[int, bool]]] = [set() for _ in probes]
        for start in range(0, len(probes), QUERY_BLOCK):
            block = probes[start:start + QUERY_BLOCK]
            q, r = self.candidates(block)
            best: dict[tuple[int, int], tuple[int, int, int, int | None]] = {}
            for qi, row in zip(q.tolist(), r.tolist()):
                probe = block[qi]
                pd = int(self.phashes[row] ^ np.uint64(probe.phash)).bit_count()
                dd = (int(self.dhashes[row] ^ np.uint64(probe.dhash)).bit_count()
                      if probe.dhash is not None and self.has_dhash[row] else None)
                score = pd + (dd or 0)
                key = (qi, int(self.owner[row]))
                if key not in best or score < best[key][0]:
                    best[key] = (score, row, pd, dd)
            for (qi, owner), (_, row, pd, dd) in sorted(best.items()):
                probe, image = block[qi], self.images[owner]
                form = FORMS[int(self.number[row])].name
                mirrored = FORMS[int(self.number[row])].mirrored
                local = (self.local.verify(probe.features, owner, mirrored=mirrored)
                         if self.local else None)
                if local is None or not same_photo(local.local):
                    # the corners' verdict on this form is final: not asked again below
                    tried[start + qi].add((owner, mirrored))
                colour, changed = self._colour(probe, owner, int(self.number[row]), local)
                if changed:
                    # Colour is evidence, not a veto: the same corners in the same place
                    # make a recoloured copy; the same product shot again in another
                    # colour does not agree so.
                    if not same_photo(local and local.local, recoloured=True):
                        continue
                    form = changed
                if local is not None and not same_photo(local.local):
                    # Near on the hashes, but the corners say another shot of the same
                    # scene: many pairs, only some of them in place.
                    continue
                if pd > self.phash_radius and local is None and self._checkable(probe, owner):
                    # The corners could not place it, and only the coarse dhash is near: not
                    # enough (two vehicles in one pose on one backdrop). A watermark's letters
                    # can hide a copy's corners, but its phash stays near.
                    continue
                out[start + qi].append(Match(
                    probe.key, image.id, pd, dd, None if colour is None else round(colour, 1),
                    form, probe.hashed, f"{probe.phash:016x}", f"{int(self.phashes[row]):016x}",
                    f"{int(self.dhashes[row]):016x}" if dd is not None else None
                ).with_local(local.local if local else None))
        if self.local is not None:
            self._extend(probes, out, tried)
        for matches in out:  # the hashes' nearest first, then what the corners alone found
            matches.sort(key=lambda m: (m.phash_distance is None,
                                        (m.phash_distance or 0) + (m.dhash_distance or 0),
                                        m.registry_id))
        return out

    def _extend(self, probes: Sequence[Probe], out: list[list[Match]],
                tried: list[set[tuple[int, bool]]]) -> None:
        """The local stage's finds where the hashes found nothing (`audits.local_stage`):
        neither a registry image matched already nor a form the corners already found no copy
        of is looked at again."""
        skip = [{(self.position[m.registry_id], mirrored) for m in found
                 for mirrored in (False, True)} | verified
                for found, verified in zip(out, tried)]
        found = self.local.search([p.features for p in probes], skip)
        for i, verified in enumerate(found):
            probe = probes[i]
            for v in verified:
                image = self.images[v.registry]
                colour, changed = self._colour(probe, v.registry,
                                               1 + MIRROR_FORM if v.mirrored else 0, v)
                if not same_photo(v.local, recoloured=changed is not None):
                    continue
                how = changed or "found by local features"
                if v.mirrored:
                    how += ", mirrored"
                out[i].append(Match(
                    probe.key, image.id, None, None,
                    None if colour is None else round(colour, 1), how, probe.hashed,
                    f"{probe.phash:016x}", f"{image.phash:016x}",
                    f"{image.dhash:016x}" if image.dhash is not None else None,
                ).with_local(v.local))
