"""The local features kept for the infringing-image match's second stage (imaging.features):
each listing image's, by the sha256 of its bytes (as thumbnails are), and each registry
entry's own and its mirror image's, in the registry table.

About 9 KB a picture: read only by the audit that matches them, never by a listing or a page
of the dashboard. An image hashed before schema 7 has none until the next crawl downloads it
again (`known_images` leaves it out for that); a registry entry added before then has none
until the next audit or `storeaudit registry refresh` hashes its file again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .base import LedgerBase

_BATCH = 500  # values per IN (...) list: well under SQLite's limit on variables


class FeatureRecords(LedgerBase):
    def _record_features(self, features: Mapping[str, bytes]) -> None:
        """Keep each new image's features (a sha256 kept already is left as it is). Inside
        the crawl's transaction."""
        self.db.conn.executemany(
            "INSERT INTO image_features (sha256, features) VALUES (?, ?) "
            "ON CONFLICT(sha256) DO NOTHING", features.items())

    def image_features(self, shas: Iterable[str]) -> dict[str, bytes]:
        """sha256 -> the packed local features kept for those images that have them."""
        shas = sorted({s for s in shas if s})
        out: dict[str, bytes] = {}
        for start in range(0, len(shas), _BATCH):
            part = shas[start:start + _BATCH]
            out.update((r[0], r[1]) for r in self.db.execute(
                f"SELECT sha256, features FROM image_features WHERE sha256 IN "
                f"({','.join('?' * len(part))})", part))
        return out

    def registry_index_features(self, prefix: int) -> dict[int, tuple[bytes | None,
                                                                      bytes | None]]:
        """Registry entry id -> the first `prefix` bytes of its packed local features and of
        its mirror image's (what the feature index reads: `imaging.features.index_prefix`);
        either None when it has none (added before schema 7, or by hashes alone)."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT id, substr(features, 1, ?), substr(mirror_features, 1, ?) FROM registry "
            "ORDER BY id", [prefix, prefix])}

    def registry_features(self, ids: Iterable[int]) -> dict[int, tuple[bytes | None,
                                                                        bytes | None]]:
        """Registry entry id -> its whole packed local features and its mirror image's."""
        ids = sorted(set(ids))
        out: dict[int, tuple[bytes | None, bytes | None]] = {}
        for start in range(0, len(ids), _BATCH):
            part = ids[start:start + _BATCH]
            out.update((r[0], (r[1], r[2])) for r in self.db.execute(
                f"SELECT id, features, mirror_features FROM registry WHERE id IN "
                f"({','.join('?' * len(part))})", part))
        return out

    def set_registry_features(self, found: Mapping[int, tuple[bytes | None, bytes | None]],
                              *, actor: str = "merchant") -> None:
        """Keep registry entries' features (id -> own, mirror), found again from their files,
        in one transaction."""
        if not found:
            return
        with self._writing("the registry entries' local features"):
            for entry_id, (features, mirror) in found.items():
                self.db["registry"].update(entry_id, {"features": features,
                                                      "mirror_features": mirror})
            self._event(actor, "registry refresh",
                        detail=f"local features of {len(found)} image(s): #"
                               + ", #".join(map(str, sorted(found))))
