"""Is this listing image a copy of a registered infringing image? The index and the decision.

The hashes come from `imaging` (a listing image: the core phash and dhash of the picture with
any plain border or canvas cut away, and an 8 x 8 colour signature; a registry image: the same,
plus the core hashes of its mirror image and of crops, `imaging.VARIANTS`, named and numbered as
`imaging.FORMS`). Matching is two stages:

1. **Candidates, from an index.** Every registry hash (each entry's own and its variants') sits
   in two multi-index tables, one for phash and one for dhash: each 64-bit hash is cut into four
   16-bit chunks, and by pigeonhole a hash within r bits of the query has at least one chunk
   within r // 4 bits of the query's chunk. So a lookup enumerates the few chunk values that
   near and reads their buckets (numpy, sorted arrays), instead of comparing every entry;
   then checks the real distance. Exact: nothing within the radius is missed.
2. **The decision, on candidates.** A copy must be near in grey level on both hashes together
   (phash + dhash within SUM_LIMIT, and one of them within its radius) *and* have the same
   colours (COLOUR_LIMIT): the grey-level hashes alone cannot tell a product from the same
   product in another colour.

The limits were chosen from `bench/image_set.py`'s measurements (see `python -m bench images`
and the README): every transformation there is caught at >= 95 %, its hard negatives match
at <= 1 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from imaging import COLOUR_GRID, FORMS

# --- the decision (see the module docstring; measured on bench/image_set.py) ---------------
PHASH_RADIUS = 10     # candidates: phash within this many bits of a registry hash ...
DHASH_RADIUS = 10     # ... or dhash within this many
SUM_LIMIT = 26        # a copy: phash + dhash distance at most this
COLOUR_LIMIT = 7.5    # and colour distance (chroma levels, see colour_distance) at most this

CHUNKS = 4
CHUNK_BITS = 64 // CHUNKS
QUERY_BLOCK = 2048    # queries looked up at once (bounds memory)


def hex_to_int(value: str) -> int:
    return int(value, 16)


def _u64(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def _chunk_masks(radius: int) -> np.ndarray:
    """Every 16-bit XOR mask with at most `radius` bits set."""
    masks = [0]
    frontier = [0]
    for _ in range(radius):
        grown = {m | (1 << b) for m in frontier for b in range(CHUNK_BITS) if not m >> b & 1}
        frontier = sorted(grown)
        masks += frontier
    return np.array(sorted(set(masks)), dtype=np.uint64)


class MultiIndex:
    """Exact Hamming-radius search over 64-bit hashes by multi-index hashing, in numpy."""

    def __init__(self, hashes: np.ndarray):
        self.hashes = hashes.astype(np.uint64)
        self.tables = []
        for j in range(CHUNKS):
            chunk = ((self.hashes >> np.uint64(CHUNK_BITS * j)) & np.uint64(0xFFFF)).astype(np.int64)
            order = np.argsort(chunk, kind="stable")
            counts = np.bincount(chunk, minlength=1 << CHUNK_BITS)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            self.tables.append((order, counts, starts))

    def __len__(self) -> int:
        return len(self.hashes)

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, row index, distance) of every pair within `radius` bits."""
        queries = queries.astype(np.uint64)
        if not len(self.hashes) or not len(queries):
            empty = np.array([], dtype=np.int64)
            return empty, empty, empty
        masks = _chunk_masks(radius // CHUNKS)
        out_q, out_r = [], []
        for j, (order, counts, starts) in enumerate(self.tables):
            qchunk = (queries >> np.uint64(CHUNK_BITS * j)) & np.uint64(0xFFFF)
            keys = (qchunk[:, None] ^ masks[None, :]).astype(np.int64).ravel()
            n = counts[keys]
            total = int(n.sum())
            if not total:
                continue
            first = np.repeat(starts[keys], n)
            offset = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
            out_r.append(order[first + offset])
            out_q.append(np.repeat(np.repeat(np.arange(len(queries)), len(masks)), n))
        if not out_q:
            empty = np.array([], dtype=np.int64)
            return empty, empty, empty
        q = np.concatenate(out_q)
        r = np.concatenate(out_r)
        dist = np.bitwise_count(queries[q] ^ self.hashes[r]).astype(np.int64)
        keep = dist <= radius
        q, r, dist = q[keep], r[keep], dist[keep]
        # a pair found through two chunks is one pair
        pair = q * len(self.hashes) + r
        _, first = np.unique(pair, return_index=True)
        return q[first], r[first], dist[first]


def brute_force_search(hashes: np.ndarray, queries: np.ndarray,
                       radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same answer as MultiIndex.search by comparing every pair (numpy, for the bench)."""
    out_q, out_r, out_d = [], [], []
    block = 8
    for start in range(0, len(queries), block):
        dist = np.bitwise_count(queries[start:start + block, None] ^ hashes[None, :])
        q, r = np.nonzero(dist <= radius)
        out_q.append(q + start)
        out_r.append(r)
        out_d.append(dist[q, r].astype(np.int64))
    if not out_q:
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(out_q), np.concatenate(out_r), np.concatenate(out_d)


GRID = COLOUR_GRID


def _grid(signature: bytes) -> np.ndarray | None:
    if len(signature) != GRID * GRID * 2:
        return None
    return np.frombuffer(signature, dtype=np.uint8).astype(np.float64).reshape(GRID, GRID, 2)


def _resample(grid: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The 8 x 8 grid of the part `box` (left, top, right, bottom as shares of the picture) of
    a picture whose grid is `grid`: each new cell the area-weighted mean of the cells under it."""
    def weights(lo: float, hi: float) -> np.ndarray:
        edges_out = np.linspace(lo, hi, GRID + 1)
        edges_in = np.linspace(0, 1, GRID + 1)
        overlap = (np.minimum(edges_out[1:, None], edges_in[None, 1:])
                   - np.maximum(edges_out[:-1, None], edges_in[None, :-1])).clip(min=0)
        return overlap / overlap.sum(axis=1, keepdims=True)

    wx, wy = weights(box[0], box[2]), weights(box[1], box[3])
    return np.einsum("ij,jkc,lk->ilc", wy, grid, wx)


def colour_distance(listing: bytes, registry: bytes, variant: int = 0) -> float | None:
    """How far apart two colour signatures are, in chroma levels: the mean over the inner 6 x 6
    cells of the 8 x 8 grid of each cell's (Cb, Cr) distance, the registry's grid first cut and
    mirrored as variant `variant` was. The outer ring is left out: a border, a price tag or a
    caption along an edge is not a change of the product's colour. None if either signature
    is not one (e.g. from an older storeaudit). `variant` numbers the registry image's forms
    as `imaging.FORMS` does: 0 the image as registered, n its n-th stored variant."""
    a, b = _grid(listing), _grid(registry)
    if a is None or b is None:
        return None
    form = FORMS[variant]
    if form.mirrored:
        b = b[:, ::-1]
    if form.cropped:
        b = _resample(b, form.box)
    cells = np.sqrt(((a - b) ** 2).sum(axis=2))
    return float(cells[1:-1, 1:-1].mean())


@dataclass(frozen=True)
class Probe:
    """A listing image's hashes as the match uses them."""

    key: object                 # whatever the caller uses to name the image (its URL)
    phash: int
    dhash: int | None
    colour: bytes | None
    hashed: str                 # "core" (border and canvas cut away) or "whole image"

    @classmethod
    def of(cls, key: object, *, phash: str | None, dhash: str | None = None,
           core_phash: str | None = None, core_dhash: str | None = None,
           colour: str | None = None) -> "Probe | None":
        if core_phash:
            return cls(key, hex_to_int(core_phash),
                       hex_to_int(core_dhash) if core_dhash else None,
                       bytes.fromhex(colour) if colour else None, "core")
        if phash:  # hashed before the core hashes existed
            return cls(key, hex_to_int(phash), hex_to_int(dhash) if dhash else None, None,
                       "whole image")
        return None


@dataclass(frozen=True)
class RegistryImage:
    """A registry entry's hashes as the match uses them."""

    id: int
    phash: int
    dhash: int | None
    colour: bytes | None
    variants: tuple[tuple[int, int], ...] = ()   # (phash, dhash) of mirror and crops

    @classmethod
    def of(cls, id: int, *, phash: str | None, dhash: str | None = None,
           core_phash: str | None = None, core_dhash: str | None = None,
           colour: str | None = None, variants: Iterable[str] = ()) -> "RegistryImage | None":
        p = core_phash or phash
        if not p:
            return None
        d = core_dhash or dhash
        parsed = []
        for v in variants:
            vp, _, vd = v.partition(":")
            parsed.append((hex_to_int(vp), hex_to_int(vd)))
        return cls(id, hex_to_int(p), hex_to_int(d) if d else None,
                   bytes.fromhex(colour) if colour else None, tuple(parsed))


@dataclass(frozen=True)
class Match:
    key: object
    registry_id: int
    phash_distance: int
    dhash_distance: int | None
    colour_distance: float | None
    variant: str          # which of the registry image's forms came nearest
    hashed: str           # how the listing image was hashed ("core" or "whole image")
    listing_phash: str    # the listing image's phash that was compared (hex)
    matched_phash: str    # the registry hash (hex) the listing image came near
    matched_dhash: str | None


class RegistryIndex:
    """The registry's hashes, indexed; `match(probes)` gives every registry image each probe
    is a copy of."""

    def __init__(self, images: Iterable[RegistryImage], *, phash_radius: int = PHASH_RADIUS,
                 dhash_radius: int = DHASH_RADIUS, sum_limit: int = SUM_LIMIT,
                 colour_limit: float = COLOUR_LIMIT):
        self.images = list(images)
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
        for start in range(0, len(probes), QUERY_BLOCK):
            block = probes[start:start + QUERY_BLOCK]
            q, r = self.candidates(block)
            best: dict[tuple[int, int], tuple[int, int]] = {}
            for qi, row in zip(q.tolist(), r.tolist()):
                probe = block[qi]
                pd = int(self.phashes[row] ^ np.uint64(probe.phash)).bit_count()
                dd = (int(self.dhashes[row] ^ np.uint64(probe.dhash)).bit_count()
                      if probe.dhash is not None and self.has_dhash[row] else None)
                score = pd + (dd or 0)
                key = (qi, int(self.owner[row]))
                if key not in best or score < best[key][0]:
                    best[key] = (score, row)
            for (qi, owner), (_, row) in sorted(best.items()):
                probe, image = block[qi], self.images[owner]
                colour = None
                if probe.colour is not None and image.colour is not None:
                    colour = colour_distance(probe.colour, image.colour, int(self.number[row]))
                    if colour is not None and colour > self.colour_limit:
                        continue
                pd = int(self.phashes[row] ^ np.uint64(probe.phash)).bit_count()
                has_d = probe.dhash is not None and bool(self.has_dhash[row])
                dd = int(self.dhashes[row] ^ np.uint64(probe.dhash)).bit_count() if has_d else None
                out[start + qi].append(Match(
                    probe.key, image.id, pd, dd, None if colour is None else round(colour, 1),
                    FORMS[int(self.number[row])].name, probe.hashed,
                    f"{probe.phash:016x}", f"{int(self.phashes[row]):016x}",
                    f"{int(self.dhashes[row]):016x}" if has_d else None))
        for matches in out:
            matches.sort(key=lambda m: (m.phash_distance + (m.dhash_distance or 0), m.registry_id))
        return out
