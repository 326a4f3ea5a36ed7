"""Exact Hamming-radius search over 64-bit hashes, by multi-index hashing (numpy): the first
stage's index of the registry's phashes and dhashes (`audits.image_match`).

Each 64-bit hash is cut into CHUNKS 16-bit chunks; by pigeonhole a hash within r bits of the
query has at least one chunk within r // CHUNKS bits of the query's chunk. So a lookup
enumerates the few chunk values that near and reads their buckets, instead of comparing every
entry, then checks the real distance. Exact: nothing within the radius is missed.
"""

from __future__ import annotations

import numpy as np

CHUNKS = 4
CHUNK_BITS = 64 // CHUNKS


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


__all__ = ["CHUNKS", "MultiIndex", "brute_force_search"]
