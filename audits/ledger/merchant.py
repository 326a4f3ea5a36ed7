"""What the merchant records: discount approvals and the registry of infringing images."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .base import LedgerBase, utc_iso
from .records import Approval, RegistryEntry, _approval


class MerchantRecords(LedgerBase):
    def add_approval(self, sku: str, *, valid_until: datetime, max_discount: Decimal | None = None,
                     min_price: Decimal | None = None, note: str | None = None,
                     created_by: str = "merchant") -> Approval:
        if max_discount is None and min_price is None:
            raise ValueError("an approval needs a max discount or a minimum price")
        with self.db.atomic():
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
        out = [_approval(r) for r in rows]
        if valid_at is not None:
            out = [a for a in out if datetime.fromisoformat(a.valid_until) >= valid_at]
        return out

    def add_registry_entry(self, *, label: str, source: str | None, path: str | None,
                           sha256: str | None, phash: str | None, dhash: str | None) -> RegistryEntry:
        with self.db.atomic():
            pk = self.db["registry"].insert({
                "label": label, "source": source, "path": path, "sha256": sha256,
                "phash": phash, "dhash": dhash, "added": self._now(),
            }).last_pk
        return next(e for e in self.registry() if e.id == pk)

    def registry(self) -> list[RegistryEntry]:
        return [RegistryEntry(**r) for r in self.db.query("SELECT * FROM registry ORDER BY id")]
