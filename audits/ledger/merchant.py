"""What the merchant records: discount approvals and the registry of infringing images."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from .base import LedgerBase, utc_iso
from .records import Approval, RegistryEntry, approval_of_row, registry_entry_of_row


class MerchantRecords(LedgerBase):
    def add_approval(self, sku: str, *, valid_until: datetime, max_discount: Decimal | None = None,
                     min_price: Decimal | None = None, note: str | None = None,
                     created_by: str = "merchant") -> Approval:
        if max_discount is None and min_price is None:
            raise ValueError("an approval needs a max discount or a minimum price")
        with self._writing(f"the approval for {sku}"):
            pk = self.db["approvals"].insert({
                "sku": sku, "max_discount": None if max_discount is None else str(max_discount),
                "min_price": None if min_price is None else str(min_price),
                "valid_until": utc_iso(valid_until), "note": note,
                "created_by": created_by, "created": self._now(),
            }).last_pk
            self._event(created_by, "approve", approval_id=pk,
                        detail=f"{sku}: max discount {max_discount}, min price {min_price}, "
                               f"until {valid_until.isoformat()}" + (f"; {note}" if note else ""))
        return self.approvals(approval_id=pk)[0]

    def approvals(self, *, sku: str | None = None, valid_at: datetime | None = None,
                  approval_id: int | None = None) -> list[Approval]:
        rows = self.db.query(
            "SELECT * FROM approvals WHERE (? IS NULL OR sku = ?) AND (? IS NULL OR id = ?) "
            "ORDER BY id", [sku, sku, approval_id, approval_id])
        out = [approval_of_row(r) for r in rows]
        if valid_at is not None:
            out = [a for a in out if datetime.fromisoformat(a.valid_until) >= valid_at]
        return out

    def add_registry_entry(self, *, label: str, source: str | None, path: str | None,
                           sha256: str | None, phash: str | None, dhash: str | None,
                           core_phash: str | None = None, core_dhash: str | None = None,
                           colour: str | None = None, variants: list[str] | None = None,
                           added_by: str = "merchant") -> RegistryEntry:
        return self.add_registry_entries([dict(
            label=label, source=source, path=path, sha256=sha256, phash=phash, dhash=dhash,
            core_phash=core_phash, core_dhash=core_dhash, colour=colour, variants=variants)],
            added_by=added_by)[0]

    def add_registry_entries(self, entries: list[dict], *, added_by: str = "merchant"
                             ) -> list[RegistryEntry]:
        """Add several registry entries in one transaction (all or none). Each dict has the
        keys of add_registry_entry (label, source, path, sha256, phash, dhash, ...)."""
        now, ids = self._now(), []
        with self._writing("the registry entries"):
            for e in entries:
                row = {k: e.get(k) for k in ("label", "source", "path", "sha256", "phash",
                                             "dhash", "core_phash", "core_dhash", "colour",
                                             "features", "mirror_features")}
                row["variants"] = json.dumps(e["variants"]) if e.get("variants") else None
                row.update(added=now, added_by=added_by)
                ids.append(self.db["registry"].insert(row).last_pk)
            if ids:
                self._event(added_by, "registry add",
                            detail=f"{len(ids)} image(s): #" + ", #".join(map(str, ids)))
        found = {e.id: e for e in self.registry(ids=ids)}
        return [found[i] for i in ids]

    def registry(self, *, ids: list[int] | None = None) -> list[RegistryEntry]:
        if ids is not None and not ids:
            return []
        where = f"WHERE id IN ({','.join('?' * len(ids))})" if ids else ""
        # Not the local features (kilobytes each): only the match reads them
        # (registry_features).
        columns = ", ".join(c for c in RegistryEntry.__dataclass_fields__
                            if c != "local_features")
        return [registry_entry_of_row(r) for r in self.db.query(
            f"SELECT {columns}, features IS NOT NULL AS local_features FROM registry {where} "
            f"ORDER BY id", list(ids or []))]

    def registry_entry(self, entry_id: int) -> RegistryEntry | None:
        found = self.registry(ids=[entry_id])
        return found[0] if found else None

    def remove_registry_entry(self, entry_id: int, *, actor: str = "merchant") -> tuple[RegistryEntry, list[int]]:
        """Remove an entry; its open or acknowledged findings are resolved at once (the image is
        no longer known as infringing). Returns the entry and the ids of the findings resolved.
        KeyError when there is no such entry."""
        entry = self.registry_entry(entry_id)
        if entry is None:
            raise KeyError(f"no registry entry #{entry_id}")
        now = self._now()
        with self._writing(f"the removal of registry entry #{entry_id}"):
            self.db["registry"].delete(entry_id)
            resolved = [r["id"] for r in self.db.query(
                "SELECT id FROM findings WHERE rule_id = 'images.infringing' "
                "AND status IN ('open', 'acknowledged') AND fingerprint LIKE ?",
                [f"registry:{entry_id}:%"])]
            for fid in resolved:
                self.db["findings"].update(fid, {
                    "status": "resolved", "resolved_at": now,
                    "note": f"registry image #{entry_id} removed"})
            self._event(actor, "registry remove",
                        detail=f"#{entry_id} {entry.label}"
                               + (f"; resolved finding(s) #{', #'.join(map(str, resolved))}"
                                  if resolved else ""))
        return entry, resolved
