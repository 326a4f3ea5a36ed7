"""Which registry images might a listing image show, by its local features: an index over the
registry's feature descriptors, so the placement check (`imaging.local_match.verify`) runs
on a few candidates instead of every registry image.

Locality-sensitive hashing by bit sampling: each 256-bit ORB descriptor gives TABLES keys,
each made of KEY_BITS of its bits at fixed positions (whole bytes, none shared between
tables), so an index built today and tomorrow agree. Two descriptors of the same corner differ in a few
dozen bits, so they share at least one key more often than not; two unrelated ones almost
never. A listing image's descriptors vote for the registry images they share keys with; the
images with MIN_VOTES or more (distinct listing features), the most voted first, are its candidates. A bucket holding
more than MAX_BUCKET descriptors is a description too common to tell anything (a flat
patch, a plain edge) and is not read.

Each registry image is indexed by its first INDEXED features (spread over the picture), and
by its mirror image's: a candidate says which (`mirrored`). A listing image looks up its
first QUERIED. Everything is numpy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


TABLES = 4
KEY_BITS = 22
INDEXED = 128         # a registry form's first features (spread over it) put in the index
QUERIED = 256         # a listing image's features looked up (all KEEP)
MIN_VOTES = 4         # keys a listing image shares with one registry form
MAX_CANDIDATES = 4    # per listing image, the most voted
MAX_BUCKET = 32       # registry descriptors sharing a key: more, and the key is too common
_QUERY_BLOCK = 256    # listing images looked up at once (bounds memory)
_SLOTS = 1 << 21      # the vote pre-count's slots (16 MB a lookup)
THREADS = min(4, os.cpu_count() or 1)  # lookups (and verifications) at once


def _bytes() -> list[tuple[int, ...]]:
    """Which descriptor bytes each table's key is made of: spread over the descriptor (ORB
    chose its 256 tests to be uncorrelated, so any bytes will do), none shared."""
    per = -(-KEY_BITS // 8)
    return [tuple(t + TABLES * k for k in range(per)) for t in range(TABLES)]


_BYTES = _bytes()
_MASK = np.uint32((1 << KEY_BITS) - 1)


def descriptor_keys(descriptors: np.ndarray) -> np.ndarray:
    """(n, TABLES) uint32 keys of (n, 32) uint8 descriptors: KEY_BITS bits of each table's
    bytes (whole bytes: a few vector operations, not a gather of single bits)."""
    out = np.empty((len(descriptors), TABLES), dtype=np.uint32)
    for t, chosen in enumerate(_BYTES):
        key = np.zeros(len(descriptors), dtype=np.uint32)
        for k, b in enumerate(chosen):
            key |= descriptors[:, b].astype(np.uint32) << np.uint32(8 * k)
        out[:, t] = key & _MASK
    return out


def _maybe_voted(hits: np.ndarray) -> np.ndarray:
    """The hits whose (listing image, registry form) pair may have MIN_VOTES: counted first
    by a few low bits of the pair (a linear pass), so the sort that counts them exactly sees
    a tenth of them. Every hit of a pair with MIN_VOTES is kept (its slot counts at least
    those); most pairs have one vote, and most of their hits go."""
    if len(hits) < _SLOTS // 8:   # few: sorting them is cheaper than the count
        return hits
    slot = (hits & (_SLOTS - 1)).astype(np.intp)
    return hits[np.bincount(slot, minlength=_SLOTS)[slot] >= MIN_VOTES]


@dataclass(frozen=True)
class Candidate:
    registry: int     # the registry image's position in the list the index was built from
    mirrored: bool
    votes: int


class FeatureIndex:
    """Built from the registry images' descriptors; `candidates(listings)` gives, for each
    listing image's descriptors, the registry images worth verifying.

    Each table is a bucket per key (2 ** KEY_BITS of them): `starts[key]` to
    `starts[key + 1]` in `owners` are the registry forms with a descriptor of that key, so a
    lookup is two reads, whatever the registry's size. 100,000 registry images take about
    120 MB a table."""

    def __init__(self, registry: Iterable[tuple[np.ndarray | None, np.ndarray | None]]):
        """`registry`: each image's descriptors and its mirror image's, in the order kept
        (`imaging.features`; the first INDEXED are read), either None when it has none. Read
        once, as it comes: only the keys are kept, never all the descriptors at once."""
        keys, owners, batch, batch_owner = [], [], [], []
        size = 0

        def flush():
            if batch:
                keys.append(descriptor_keys(np.concatenate(batch)))
                owners.append(np.concatenate(batch_owner))
                batch.clear()
                batch_owner.clear()

        for i, forms in enumerate(registry):
            size = i + 1
            for mirrored, found in enumerate(forms):
                if found is None or not len(found):
                    continue
                batch.append(found[:INDEXED])
                batch_owner.append(np.full(len(batch[-1]), 2 * i + mirrored, np.uint32))
            if len(batch) >= 4096:
                flush()
        flush()
        self.size = size
        self.tables: list[tuple[np.ndarray, np.ndarray]] = []
        if not keys:
            return
        all_owner = np.concatenate(owners)
        owners.clear()
        # One table at a time, each table's keys let go of once it is built (memory).
        columns = [np.concatenate([k[:, t] for k in keys]) for t in range(TABLES)]
        keys.clear()
        for t in range(TABLES):
            column = columns[t]
            columns[t] = None
            starts = np.zeros((1 << KEY_BITS) + 1, dtype=np.int32)
            starts[1:] = np.cumsum(np.bincount(column, minlength=1 << KEY_BITS))
            # owners in key order: key and owner in one 64-bit number, sorted (numpy sorts
            # numbers faster than it finds the order of them)
            both = (column.astype(np.uint64) << np.uint64(32)) | all_owner
            both.sort()
            self.tables.append((starts, (both & np.uint64(0xFFFFFFFF)).astype(np.uint32)))

    def candidates(self, listings: Sequence[np.ndarray | None]) -> list[list[Candidate]]:
        out: list[list[Candidate]] = [[] for _ in listings]
        if not self.tables:
            return out
        starts = range(0, len(listings), _QUERY_BLOCK)
        workers = min(len(starts), THREADS)
        if workers <= 1:
            for start in starts:
                self._block(listings[start:start + _QUERY_BLOCK], out[start:start + _QUERY_BLOCK])
            return out
        # Blocks on threads: numpy lets go of the interpreter while it sorts and gathers.
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda start: self._block(listings[start:start + _QUERY_BLOCK],
                                                    out[start:start + _QUERY_BLOCK]), starts))
        return out

    def _block(self, listings: Sequence[np.ndarray | None], out: list[list[Candidate]]) -> None:
        # (listing image in the block, registry form) as one number: 32 bits while they fit
        # (a block of 256 against 8 million forms), which numpy sorts twice as fast as 64
        forms = 2 * self.size
        kind = np.uint32 if len(listings) * forms < 2 ** 32 else np.int64
        qdesc, qowner = [], []
        for i, found in enumerate(listings):
            if found is not None and len(found):
                qdesc.append(found[:QUERIED])
                qowner.append(np.full(len(qdesc[-1]), i, kind))
        if not qdesc:
            return
        qkeys = descriptor_keys(np.concatenate(qdesc))
        qowner_all = np.concatenate(qowner) * kind(forms)
        hits = []
        for t, (starts, owners) in enumerate(self.tables):
            first = starts[qkeys[:, t]]
            n = starts[qkeys[:, t] + 1] - first
            n[n > MAX_BUCKET] = 0   # a description too common to tell anything
            total = int(n.sum())
            if not total:
                continue
            at = np.repeat(first - (np.cumsum(n) - n), n) + np.arange(total)
            hits.append(np.repeat(qowner_all, n) + owners[at].astype(kind, copy=False))
        if not hits:
            return
        # A vote per (listing feature, table, registry descriptor) that share a key: a
        # feature that shares keys in several tables is that much nearer, and says so.
        pair, votes = np.unique(_maybe_voted(np.concatenate(hits)), return_counts=True)
        keep = votes >= MIN_VOTES
        for p, v in zip(pair[keep].tolist(), votes[keep].tolist()):
            qi, form = divmod(p, forms)
            out[qi].append(Candidate(form // 2, bool(form % 2), v))
        for found in out:
            found.sort(key=lambda c: -c.votes)
            del found[MAX_CANDIDATES:]


__all__ = ["Candidate", "FeatureIndex", "INDEXED", "MAX_CANDIDATES", "MIN_VOTES",
           "descriptor_keys"]
