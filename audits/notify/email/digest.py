"""What an email says, worked out from the ledger: plain data, no HTML.

The nightly digest reports, against the last email that was actually delivered (or the last
24 hours when none was): the findings new since then first, the ones still open by severity
with their age and deadline, the ones resolved since then, the week's title-quota progress and
the listings whose price or title changed. A critical alert reports the critical findings new
in one audit.

Times are shown on the store's clock (`store.timezone`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from crawler.prices import format_price

from ...clock import store_time
from ...contract import Contract
from ...ledger import Finding, Ledger
from ...rules import RULES, SEVERITIES
from ...summary import QuotaStatus, quota_progress
from .thumbnails import drawable_box

NOTIFIER = "email"  # the ledger's deliveries of this notifier carry its name
ACTIVE = ("open", "acknowledged")
FIRST_DIGEST_WINDOW = timedelta(hours=24)
CHANGE_FIELDS = ("title", "price")
RULE_TEXT = {r.id: r.description for r in RULES}
# How a finding was seen by a run that did not read the whole store.
RUN_SEEN_BY = {"random": "a random check", "spot": "a spot-check"}


@dataclass(frozen=True)
class ImagePair:
    """An infringing-image finding's two pictures: the listing's and the registry's."""

    listing_image_url: str
    position: int | None
    registry_id: int | None
    registry_label: str
    registry_path: str | None
    distance: int | None
    dhash_distance: int | None = None
    matched_form: str | None = None   # "as registered", "mirrored", "cropped" ...
    # The listing picture's kept thumbnail (Ledger.thumbnail), None when none is kept.
    listing_image_sha256: str | None = None
    # The local features' word: corners agreeing in place, and the part of each picture
    # the other shows (left, top, right, bottom, shares), boxed on the thumbnails.
    inliers: int | None = None
    listing_box: tuple[float, ...] | None = None
    registry_box: tuple[float, ...] | None = None


@dataclass
class FindingItem:
    finding: Finding
    title: str | None          # the listing's title as last seen (store text: untrusted)
    listing_url: str | None
    link: str                  # the finding's page on the dashboard
    rule_text: str
    first_seen: str            # store time
    age: str                   # "3 days", "5 h"
    deadline: str              # answer by, store time
    overdue: bool
    fix_by: str | None         # the contract's fix-by time, where it sets one
    resolved_at: str | None = None
    image: ImagePair | None = None
    listing_link: str | None = None  # the listing's page on the dashboard: its whole title
    # What changed when it was first seen: "price ¥299.00 → ¥199.00 (… 02:00 → … 02:00)".
    changed: list[str] = field(default_factory=list)
    # A resolved one: what the look that no longer saw it read, against the last sighting.
    restored: list[str] = field(default_factory=list)
    seen_by: str | None = None   # "seen by a random check at …": its last look was not nightly

    @property
    def f(self) -> Finding:
        return self.finding

    @property
    def listing_label(self) -> str:
        if self.finding.listing_id is None:
            return "whole store"
        return self.finding.sku or f"listing #{self.finding.listing_id}"


@dataclass(frozen=True)
class ChangeItem:
    listing_id: int
    sku: str | None
    title: str | None
    url: str | None
    what: str                  # "title" or "price"
    before: str
    after: str
    link: str = ""             # the listing's page on the dashboard: its whole titles


@dataclass
class Digest:
    kind: str                  # "digest" or "critical"
    store: str
    timezone: str
    now: datetime
    date: str                  # store date, 2026-11-16
    since: datetime            # what "new" is measured against
    since_label: str
    first_email: bool
    counts: dict[str, int]
    new: list[FindingItem] = field(default_factory=list)
    still_open: list[tuple[str, list[FindingItem]]] = field(default_factory=list)
    resolved: list[FindingItem] = field(default_factory=list)
    # Went with their listing when it was removed: not fixed, so not among the resolved.
    gone: list[FindingItem] = field(default_factory=list)
    quota: QuotaStatus | None = None
    quota_window: str = ""
    changes: list[ChangeItem] = field(default_factory=list)
    dashboard_url: str = ""
    run_id: int | None = None
    problem: str | None = None  # the audit this email follows could not finish: why
    ladder: dict[str, str] = field(default_factory=dict)  # the contract's, by severity

    @property
    def open_total(self) -> int:
        return sum(self.counts.values())

    @property
    def subject(self) -> str:
        store = " ".join(self.store.split())  # no line breaks in a header
        if self.kind == "critical":
            n = len(self.new)
            return (f"[storeaudit] {store} — CRITICAL: {n} new critical finding"
                    f"{'s' if n != 1 else ''} ({self.now.strftime('%Y-%m-%d %H:%M')})")
        counts = ", ".join(f"{self.counts[s]} {s}" for s in SEVERITIES)
        return f"[storeaudit] {store} — {counts} open ({self.date})"

    @property
    def finding_ids(self) -> dict[str, list[int]]:
        """What this email reports, by section: kept with the email in the ledger."""
        return {
            "new": [i.finding.id for i in self.new],
            "open": [i.finding.id for _, items in self.still_open for i in items],
            "resolved": [i.finding.id for i in self.resolved],
            "gone": [i.finding.id for i in self.gone],
        }

    def items(self) -> list[FindingItem]:
        return (self.new + [i for _, items in self.still_open for i in items] + self.resolved
                + self.gone)


def _age(since_iso: str, now: datetime) -> str:
    delta = now - datetime.fromisoformat(since_iso)
    hours = max(0, int(delta.total_seconds() // 3600))
    if hours < 1:
        return "under 1 h"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


class _Items:
    """Turns findings into items, with the listing titles looked up once."""

    def __init__(self, contract: Contract, ledger: Ledger, now: datetime, zone: tzinfo):
        self.contract, self.ledger, self.now, self.zone = contract, ledger, now, zone
        self.latest = {s.listing_id: s for s in ledger.latest_snapshots()}
        self.registry = {e.id: e for e in ledger.registry()}
        self.dashboard = contract.email.dashboard_url

    def title_of(self, listing_id: int | None) -> tuple[str | None, str | None]:
        if listing_id is None:
            return None, None
        snap = self.latest.get(listing_id)
        if snap is None:  # a listing gone from the store: its last good look
            good = self.ledger.history(listing_id, ok_only=True)
            snap = good[-1] if good else None
        if snap is None:
            listing = self.ledger.listing(listing_id)
            return None, listing.url if listing else None
        return snap.title, snap.url

    def changed(self, evidence: dict) -> list[str]:
        """The evidence's "what changed" as lines a person reads."""
        return [self._change_line(c) for c in evidence.get("changed") or []
                if isinstance(c, dict)]

    def restored(self, evidence: dict) -> list[str]:
        """For a resolved finding: each value that had changed, from what raised it to what
        the look that resolved it read ("price ¥149.00 → ¥299.00 (20:39 → 02:00)")."""
        look = evidence.get("resolved_by")
        if not isinstance(look, dict):
            return []
        return [self._change_line({"field": c.get("field"), "before": c.get("after"),
                                   "after": look[c.get("field")], "before_at": c.get("after_at"),
                                   "after_at": look.get("at")})
                for c in evidence.get("changed") or []
                if isinstance(c, dict) and c.get("field") in look]

    def _change_line(self, c: dict) -> str:
        currency = self.contract.store.currency
        name = str(c.get("field", "?"))
        show = (lambda v: "—" if v is None else format_price(v, currency)) \
            if name in ("price", "list_price") else \
            (lambda v: f"{len(v)} images" if isinstance(v, list) else
             "—" if v is None else str(v))
        return (f"{name.replace('_', ' ')} {show(c.get('before'))} → {show(c.get('after'))} "
                f"({store_time(c.get('before_at'), self.zone)} → "
                f"{store_time(c.get('after_at'), self.zone)})")

    def seen_by(self, f: Finding) -> str | None:
        """How a resolved finding was last seen, when not by a whole-store audit."""
        if f.status != "resolved" or f.run_id is None:
            return None
        by = RUN_SEEN_BY.get(self.ledger.run(f.run_id).kind)
        return by and f"seen by {by} at {store_time(f.last_seen, self.zone)}, between nightly audits"

    def item(self, f: Finding) -> FindingItem:
        title, url = self.title_of(f.listing_id)
        deadline = datetime.fromisoformat(f.deadline) if f.deadline else None
        image = None
        if f.rule_id == "images.infringing" and f.evidence.get("image_url"):
            ev = f.evidence
            entry = self.registry.get(ev.get("registry_id"))
            image = ImagePair(
                listing_image_url=ev["image_url"], position=ev.get("image_position"),
                registry_id=ev.get("registry_id"),
                registry_label=ev.get("registry_label") or (entry.label if entry else "?"),
                registry_path=entry.path if entry else None, distance=ev.get("distance"),
                dhash_distance=ev.get("dhash_distance"), matched_form=ev.get("matched_form"),
                listing_image_sha256=self.ledger.kept_picture(ev.get("image_sha256"),
                                                                ev.get("image_url")),
                inliers=ev.get("inliers"), listing_box=drawable_box(ev.get("listing_box")),
                registry_box=drawable_box(ev.get("registry_box")))
        fix_by = self.contract.escalation.fix_by(f.severity, f.opened)
        fix_by = fix_by and store_time(fix_by, self.zone)
        return FindingItem(
            finding=f, title=title, listing_url=url or f.url,
            link=f"{self.dashboard}/findings/{f.id}",
            rule_text=RULE_TEXT.get(f.rule_id, f.rule_id),
            first_seen=store_time(f.first_seen, self.zone), age=_age(f.first_seen, self.now),
            deadline=store_time(f.deadline, self.zone),
            overdue=bool(deadline and f.status == "open" and deadline < self.now),
            fix_by=fix_by, resolved_at=store_time(f.resolved_at, self.zone), image=image,
            changed=self.changed(f.evidence or {}), restored=self.restored(f.evidence or {}),
            seen_by=self.seen_by(f),
            listing_link=(f"{self.dashboard}/listings/{f.listing_id}"
                          if f.listing_id is not None else None))


def _changes(ledger: Ledger, items: _Items, since: datetime, currency: str) -> list[ChangeItem]:
    """Titles and prices that differ now from before `since`: one line per listing and field,
    first value before → last value after (a change undone the same day is left out)."""
    merged: dict[tuple[int, str], list] = {}
    sku_of: dict[int, str | None] = {}
    for run in ledger.runs_since(since):
        for ch in ledger.changes_in_run(run.id):
            if ch.field not in CHANGE_FIELDS:
                continue
            sku_of[ch.listing_id] = ch.sku
            key = (ch.listing_id, ch.field)
            if key in merged:
                merged[key][1] = ch.after
            else:
                merged[key] = [ch.before, ch.after]
    out = []
    for (listing_id, what), (before, after) in sorted(
            merged.items(), key=lambda kv: (kv[0][0], CHANGE_FIELDS.index(kv[0][1]))):
        if before == after:
            continue
        title, url = items.title_of(listing_id)
        show = (lambda v: "—" if v is None else format_price(v, currency)) if what == "price" \
            else (lambda v: "—" if v is None else str(v))
        out.append(ChangeItem(listing_id, sku_of.get(listing_id), title, url, what,
                              show(before), show(after),
                              link=f"{items.dashboard}/listings/{listing_id}"))
    return out


def build_digest(contract: Contract, ledger: Ledger, *, now: datetime | None = None,
                 run_id: int | None = None, problem: str | None = None) -> Digest:
    """The nightly digest as of `now`, measured against the last delivered digest."""
    now = now or ledger.clock.now()
    zone = ZoneInfo(contract.store.timezone)
    now = now.astimezone(zone)
    last = ledger.last_delivered(NOTIFIER, "digest")
    if last is not None:
        since = datetime.fromisoformat(last.created)
        reported = last.reported_open
    else:  # nothing delivered yet: every open finding is news to the reader
        since, reported = now - FIRST_DIGEST_WINDOW, set()
    items = _Items(contract, ledger, now, zone)
    active = ledger.findings(status=list(ACTIVE))
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in active:
        counts[f.severity] = counts.get(f.severity, 0) + 1

    def is_new(f: Finding) -> bool:
        return f.id not in reported

    new = [items.item(f) for f in active if is_new(f)]
    still = [items.item(f) for f in active if not is_new(f)]
    by_severity = [(s, [i for i in still if i.finding.severity == s]) for s in SEVERITIES]
    resolved = [items.item(f) for f in ledger.findings_resolved_since(since)]
    gone = [items.item(f) for f in ledger.findings_resolved_since(since, status="gone")]
    quota = quota_progress(ledger, contract, now)
    window = (f"{store_time(quota.window_start, zone)} – {store_time(quota.window_end, zone)}")
    return Digest(
        kind="digest", store=contract.store.name, timezone=contract.store.timezone, now=now,
        date=now.strftime("%Y-%m-%d"), since=since,
        since_label=store_time(since, zone),
        first_email=last is None, counts=counts, new=new,
        still_open=[(s, group) for s, group in by_severity if group], resolved=resolved,
        gone=gone, quota=quota if quota.enabled else None, quota_window=window,
        changes=_changes(ledger, items, since, contract.store.currency),
        dashboard_url=contract.email.dashboard_url, run_id=run_id, problem=problem,
        ladder=contract.escalation.ladder_text())


def build_critical(contract: Contract, ledger: Ledger, finding_ids: list[int], *,
                   now: datetime | None = None, run_id: int | None = None) -> Digest | None:
    """An alert for the critical findings among `finding_ids` (new in one audit), or None."""
    now = (now or ledger.clock.now()).astimezone(ZoneInfo(contract.store.timezone))
    zone = now.tzinfo
    critical = [f for f in ledger.findings(ids=finding_ids, status=list(ACTIVE))
                if f.severity == "critical"]
    if not critical:
        return None
    items = _Items(contract, ledger, now, zone)
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in ledger.findings(status=list(ACTIVE)):
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return Digest(
        kind="critical", store=contract.store.name, timezone=contract.store.timezone, now=now,
        date=now.strftime("%Y-%m-%d"), since=now, since_label="", first_email=False,
        counts=counts, new=[items.item(f) for f in critical],
        dashboard_url=contract.email.dashboard_url, run_id=run_id,
        ladder=contract.escalation.ladder_text())


__all__ = ["NOTIFIER", "ChangeItem", "Digest", "FindingItem", "ImagePair", "build_critical",
           "build_digest"]
