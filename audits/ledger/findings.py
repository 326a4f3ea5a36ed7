"""Findings across nights: one row per (rule, listing, fingerprint) while the problem lasts,
and the people's actions on them (acknowledge, waive), each written to the events table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from .base import LedgerBase, utc_iso
from .records import (ACTIVE_STATUSES, SPELL_KEYS, Finding, FindingsUpdate, NewFinding, Spell,
                      finding_of_row)

# A finding with its listing's SKU and URL: every query that returns Findings starts so.
FINDINGS_SELECT = """SELECT f.*, l.sku AS sku, l.url AS url FROM findings f
             LEFT JOIN listings l ON l.id = f.listing_id"""


class FindingError(ValueError):
    """A person asked for something the finding's state does not allow; the message says why."""


# Evidence keys written when a finding is first seen and kept while it stays active: what had
# changed on the listing (audits.engine), against the look before.
FIRST_SIGHTING = ("changed", "compared_with")


class FindingRecords(LedgerBase):
    def reconcile_findings(
        self,
        run_id: int,
        seen: Iterable[NewFinding],
        evaluated: set[tuple[str, int | None]],
        gone_listings: Iterable[int] = (),
    ) -> FindingsUpdate:
        """Fold one audit's findings into the ledger, all or nothing.

        A finding seen again keeps its row (and its acknowledgement or waiver); a resolved one
        seen again (or one gone with its listing, the listing back) is reopened. An active finding not seen again is resolved only where its
        rule really looked at its listing this run (`evaluated` holds (rule id, listing id),
        listing id None for store-level rules): a page that failed resolves nothing.
        An active finding on a listing of `gone_listings` raised before the listing went
        becomes `gone`: the problem left with the listing, it was not fixed.

        A finding seen again keeps the evidence of its first sighting under FIRST_SIGHTING
        (what had changed then): the nights after, nothing has changed, and that is not what
        a dispute needs.

        The run is complete when this commits, in the same transaction: a process that dies
        half-way leaves the findings as they were and the run unfinished (abandoned later).
        """
        now = self._now()
        update = FindingsUpdate()
        gone = set(gone_listings)
        with self._writing(f"the findings update of run {run_id}"):
            matched: set[int] = set()
            for new in seen:
                row = self._one(
                    "SELECT id, status, evidence FROM findings WHERE rule_id = ? AND "
                    "listing_id IS ? AND fingerprint = ?",
                    [new.rule_id, new.listing_id, new.fingerprint])
                evidence = dict(new.evidence)
                if row is not None and row["status"] in ACTIVE_STATUSES:
                    first = json.loads(row["evidence"] or "{}")
                    evidence.update({k: first[k] for k in FIRST_SIGHTING if k in first})
                values = {"severity": new.severity, "message": new.message,
                          "evidence": json.dumps(evidence, ensure_ascii=False, default=str),
                          "last_seen": now, "run_id": run_id}
                if row is None:
                    pk = self.db["findings"].insert({
                        **values, "rule_id": new.rule_id, "listing_id": new.listing_id,
                        "fingerprint": new.fingerprint, "status": "open", "first_seen": now,
                        "opened_at": now, "deadline": utc_iso(new.deadline),
                    }).last_pk
                    update.new.append(pk)
                elif row["status"] in ("resolved", "gone"):  # the problem is back
                    self._keep_spell(row["id"])
                    self.db["findings"].update(row["id"], {
                        **values, "status": "open", "resolved_at": None, "note": None,
                        "opened_at": now,
                        "deadline": utc_iso(new.deadline), "acknowledged_at": None,
                        "acknowledged_by": None})
                    update.reopened.append(row["id"])
                else:
                    self.db["findings"].update(row["id"], values)
                    update.still_open.append(row["id"])
                matched.add(row["id"] if row else pk)
            marks = ",".join("?" * len(ACTIVE_STATUSES))
            for row in list(self.db.query(
                    f"SELECT f.id, f.rule_id, f.listing_id, f.first_seen, f.evidence, "
                    f"l.gone_since "
                    f"FROM findings f LEFT JOIN listings l ON l.id = f.listing_id "
                    f"WHERE f.status IN ({marks})", list(ACTIVE_STATUSES))):
                if row["id"] in matched:
                    continue
                if (row["listing_id"] in gone and row["gone_since"]
                        and row["first_seen"] < row["gone_since"]):
                    status, note, into = "gone", "its listing was removed from the store", \
                        update.gone
                elif (row["rule_id"], row["listing_id"]) in evaluated:
                    status, note, into = "resolved", "no longer seen", update.resolved
                else:
                    continue
                values = {"status": status, "resolved_at": now, "note": note}
                look = (self._look_in_run(row["listing_id"], run_id)
                        if status == "resolved" else None)
                if look is not None:  # the look that no longer saw it, beside the first one
                    values["evidence"] = json.dumps(
                        {**json.loads(row["evidence"] or "{}"), "resolved_by": look},
                        ensure_ascii=False, default=str)
                self.db["findings"].update(row["id"], values)
                into.append(row["id"])
            self._finish_run(run_id)
        return update

    def _keep_spell(self, finding_id: int) -> None:
        """Before a finding is reopened: its spell that ends here, as a "reopen" event, so the
        agency's response times still count it (`spells`)."""
        row = self._one("SELECT * FROM findings WHERE id = ?", [finding_id])
        spell = {k: row[k] for k in SPELL_KEYS}
        spell["opened_at"] = row["opened_at"] or row["first_seen"]
        self._event("audit", "reopen", finding_id=finding_id,
                    detail=json.dumps(spell, ensure_ascii=False))

    def spells(self) -> list[Spell]:
        """Every spell of every finding, oldest first: the current one of each finding, and
        those before a reopening (kept by `_keep_spell`). What the response times and the
        penalties are computed from."""
        out = [Spell(f.id, f.rule_id, f.severity, f.listing_id, f.sku, f.opened, f.deadline,
                     f.acknowledged_at, f.resolved_at, f.status, f.message,
                     last_seen=f.last_seen)
               for f in self.findings()]
        by_id = {s.finding_id: s for s in out}
        for e in self.db.query("SELECT finding_id, detail FROM events WHERE action = 'reopen' "
                               "ORDER BY id"):
            now, d = by_id.get(e["finding_id"]), json.loads(e["detail"] or "{}")
            if now is None or not d.get("opened_at"):
                continue
            out.append(Spell(now.finding_id, now.rule_id, d.get("severity") or now.severity,
                             now.listing_id, now.sku, d["opened_at"], d.get("deadline"),
                             d.get("acknowledged_at"), d.get("resolved_at"),
                             d.get("status") or "resolved", d.get("message") or now.message,
                             current=False, last_seen=d.get("last_seen")))
        return sorted(out, key=lambda s: (s.opened_at, s.finding_id))

    def _look_in_run(self, listing_id: int | None, run_id: int) -> dict | None:
        """What the run's good look at the listing saw: its time and tracked values."""
        if listing_id is None:
            return None
        snap = self._one("SELECT * FROM snapshots WHERE listing_id = ? AND run_id = ? AND "
                         "error IS NULL ORDER BY id DESC LIMIT 1", [listing_id, run_id])
        if snap is None:
            return None
        return {"at": snap["fetched_at"], "run_id": run_id,
                **{k: snap[k] for k in ("title", "price", "availability", "stock_count")},
                "promoted": None if snap["promoted"] is None else bool(snap["promoted"])}

    def findings(self, *, status: str | Iterable[str] | None = None, severity: str | None = None,
                 rule_id: str | None = None, listing_id: int | None = None,
                 sku: str | None = None, since: datetime | None = None,
                 ids: Iterable[int] | None = None) -> list[Finding]:
        where, params = [], []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"f.status IN ({','.join('?' * len(statuses))})")
            params += statuses
        for column, value in (("f.severity", severity), ("f.rule_id", rule_id),
                              ("f.listing_id", listing_id), ("l.sku", sku)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("f.last_seen >= ?")
            params.append(utc_iso(since))
        if ids is not None:
            wanted = list(ids)
            where.append(f"f.id IN ({','.join('?' * len(wanted)) or 'NULL'})")
            params += wanted
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = ("CASE f.severity WHEN 'critical' THEN 0 WHEN 'major' THEN 1 ELSE 2 END, "
                 "f.first_seen, f.id")
        return [finding_of_row(r) for r in self.db.query(f"{FINDINGS_SELECT} {clause} ORDER BY {order}", params)]

    def finding(self, finding_id: int) -> Finding:
        found = self.findings(ids=[finding_id])
        if not found:
            raise FindingError(f"no finding #{finding_id}")
        return found[0]

    def acknowledge(self, finding_id: int, actor: str, note: str | None = None) -> Finding:
        with self._writing(f"the acknowledgement of finding #{finding_id}"):
            finding = self.finding(finding_id)
            if finding.status != "open":
                raise FindingError(f"finding #{finding_id} is {finding.status}, not open: "
                                   "only an open finding can be acknowledged")
            now = self._now()
            self.db["findings"].update(finding_id, {"status": "acknowledged",
                                                    "acknowledged_at": now, "acknowledged_by": actor})
            self._event(actor, "acknowledge", finding_id=finding_id, detail=note)
        return self.finding(finding_id)

    def waive(self, finding_id: int, actor: str, reason: str) -> Finding:
        if not reason or not reason.strip():
            raise FindingError("a waiver needs a reason (it is kept with the finding)")
        with self._writing(f"the waiver of finding #{finding_id}"):
            finding = self.finding(finding_id)
            if finding.status not in ("open", "acknowledged"):
                raise FindingError(f"finding #{finding_id} is {finding.status}: only an open or "
                                   "acknowledged finding can be waived")
            self.db["findings"].update(finding_id, {"status": "waived",
                                                    "waive_reason": reason.strip()})
            self._event(actor, "waive", finding_id=finding_id, detail=reason.strip())
        return self.finding(finding_id)

    def events(self, *, finding_id: int | None = None) -> list[dict]:
        return list(self.db.query(
            "SELECT * FROM events WHERE (? IS NULL OR finding_id = ?) ORDER BY id",
            [finding_id, finding_id]))

    def findings_resolved_since(self, since: datetime | str,
                                status: str = "resolved") -> list[Finding]:
        """Findings resolved after `since` (and still resolved), oldest first; `status`
        "gone": those that went with their listing instead."""
        return [finding_of_row(r) for r in self.db.query(
            f"{FINDINGS_SELECT} WHERE f.status = ? AND f.resolved_at > ? "
            "ORDER BY f.resolved_at, f.id",
            [status, utc_iso(since)])]
