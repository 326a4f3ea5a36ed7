"""Title rules: the contract's "optimise N titles a week", "no listing left two weeks without a
title update", the agreed hot-search keywords, the advertising law's banned absolute claims and
the platform's title length limit.

Titles are matched the way a person reads them (`audits.rules.title_text`). Evidence always
quotes the title exactly as the page showed it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..ledger import Ledger, TitleChange
from .base import Draft, RuleSettings, rule
from .context import PROMOTED_SOURCE_HELP, AuditContext, ListingState, PromotedSource
from .title_text import DEFAULT_FORBIDDEN_TERMS, dedupe_phrases, find_terms, folded_text, title_length

# A keyword, term or phrase: blank ones would match every title.
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

WEEK = timedelta(days=7)



def _evidence(ctx: AuditContext, state: ListingState) -> dict:
    """Where a listing finding came from: the page, the snapshot and the run."""
    return {
        "url": state.snap.url,
        "sku": state.sku,
        "title": state.snap.title,
        "snapshot_id": state.snap.id,
        "run_id": ctx.run.id,
        "seen_at": state.snap.fetched_at,
    }


def _quote(title: str | None) -> str:
    return f"'{title}'" if title is not None else "(no title)"


# --- titles.weekly_quota --------------------------------------------------------------------


class WeeklyQuotaSettings(RuleSettings):
    per_week: int = Field(
        default=30, ge=1,
        description="How many listings' titles the agency must optimise in any 7 days.",
    )
    scale_to_store: bool = Field(
        default=True,
        description="For a small store, lower the quota to `share` of its listings (at least "
                    "1, never above per_week).",
    )
    share: float = Field(
        default=0.2, gt=0, le=1,
        description="With scale_to_store, the part of the store's listings (0.2 = 20%) that "
                    "makes the weekly quota.",
    )


def effective_quota(settings: WeeklyQuotaSettings, listing_count: int) -> int:
    """The weekly quota for a store of `listing_count` listings."""
    if not settings.scale_to_store:
        return settings.per_week
    # Decimal from the written value: 0.1 × 30 is 3, not 3.0000000000000004 rounded up to 4.
    scaled = math.ceil(Decimal(str(settings.share)) * listing_count)
    return min(settings.per_week, max(1, scaled))


@dataclass(frozen=True)
class QuotaStatus:
    """The rolling week's title quota, as titles.weekly_quota judges it."""

    changed: int            # distinct listings retitled in the window
    quota: int              # what the contract asks of this store
    window_start: str       # the window is (start, end]
    window_end: str
    enabled: bool
    judged: bool            # the history covers the whole window: a verdict either way
    store_listings: int
    changes: list[dict]     # per listing: sku, url, first before, last after, changed_at, ...

    @property
    def met(self) -> bool:
        return self.changed >= self.quota

    @property
    def short(self) -> int:
        return max(0, self.quota - self.changed)


def quota_status(settings: WeeklyQuotaSettings, ledger: Ledger, now: datetime, *,
                 listing_count: int | None = None,
                 watched_since: datetime | None = None) -> QuotaStatus:
    """How the agency stands against the weekly title quota at `now`: the rule's verdict and
    what the dashboard, the overlay and the email show. The window is (now − 7 days, now]:
    tonight's crawl counts, the one exactly a week ago belongs to last week."""
    start = now - WEEK
    if listing_count is None:
        listing_count = len(ledger.listings())
    if watched_since is None:
        first = ledger.first_full_run()
        watched_since = datetime.fromisoformat(first.started) if first else None
    return _status(settings, ledger.title_changes(since=start, until=now), listing_count,
                   start, now, watched_since)


def _status(settings: WeeklyQuotaSettings, changes: list[TitleChange], listing_count: int,
            start: datetime, end: datetime, watched_since: datetime | None) -> QuotaStatus:
    changed: dict[int, dict] = {}
    for c in changes:
        seen = changed.get(c.listing_id)
        if seen is None:
            changed[c.listing_id] = {"sku": c.sku, "url": c.url, "before": c.before,
                                     "after": c.after, "changed_at": c.changed_at,
                                     "changes": 1, "run_id": c.run_id}
        else:  # changed more than once: first before, last after
            seen.update(after=c.after, changed_at=c.changed_at, changes=seen["changes"] + 1,
                        run_id=c.run_id)
    return QuotaStatus(
        changed=len(changed), quota=effective_quota(settings, listing_count),
        window_start=start.isoformat(), window_end=end.isoformat(), enabled=settings.enabled,
        # no verdict either way until the history covers a whole week
        judged=watched_since is not None and watched_since <= start,
        store_listings=listing_count,
        changes=sorted(changed.values(), key=lambda c: c["changed_at"]))


@rule("titles.weekly_quota", "Weekly title quota", "major", WeeklyQuotaSettings, scope="store")
def weekly_quota(ctx: AuditContext, settings: WeeklyQuotaSettings) -> Iterator[Draft]:
    """Fewer titles optimised in the last 7 days than the weekly quota.

    The contract says the agency optimises a number of titles a week ("30 titles a week"): a
    listing counts once in any rolling 7 days however often it was retitled. For a store
    smaller than the quota makes sense for, the quota is scaled to a share of its listings
    (`scale_to_store`). No verdict before storeaudit has watched the store a whole week.

    Example: quota 12 for a store of 60 listings (20 %); 7 listings retitled since last
    Tuesday's audit: one store-level finding "7 of 12 titles optimised in the last 7 days"."""
    status = quota_status(settings, ctx.ledger, ctx.now, listing_count=ctx.store_listing_count,
                          watched_since=ctx.watched_since)
    if not status.judged or status.met:
        return
    quota = status.quota
    how = f"quota {quota} a week"
    if settings.scale_to_store and quota < settings.per_week:
        how += (f": {settings.share:.0%} of {ctx.store_listing_count} listings, "
                f"the contract says {settings.per_week}")
    yield Draft(
        None, "rolling-week",
        f"{status.changed} of {quota} titles optimised in the last 7 days ({how})",
        {
            "quota": quota,
            "per_week": settings.per_week,
            "scale_to_store": settings.scale_to_store,
            "share": settings.share,
            "store_listings": ctx.store_listing_count,
            "count": status.changed,
            "window_start": status.window_start,
            "window_end": status.window_end,
            "watched_since": ctx.watched_since.isoformat(),
            "run_id": ctx.run.id,
            # not "changed": that key is what changed on a listing (audits.engine), kept from
            # a finding's first sighting; this list is the window's, anew each audit
            "retitled": status.changes,
        },
    )


# --- titles.stale ---------------------------------------------------------------------------


class StaleSettings(RuleSettings):
    max_days: int = Field(
        default=14, ge=1,
        description="A title unchanged for more than this many days (calendar days in the "
                    "store's time zone) is stale.",
    )
    promoted_only: bool = Field(
        default=False, description="Only check listings that are promoted.",
    )
    promoted_source: PromotedSource = Field(
        default="either", description="With promoted_only: " + PROMOTED_SOURCE_HELP)


@rule("titles.stale", "Title not updated", "minor", StaleSettings)
def stale(ctx: AuditContext, settings: StaleSettings) -> Iterator[Draft]:
    """A listing's title has not changed for longer than the contract allows.

    The contract says no listing is left without a title update for long ("no listing left 2
    weeks without a title update"). Days are counted on the store's calendar from the last
    change storeaudit saw, or from when it first saw the listing.

    Example: max_days 14; a tent whose title is the same since storeaudit first crawled it 16
    days ago: "Title unchanged for 16 days (limit 14)"."""
    today = ctx.now.astimezone(ctx.zone).date()
    for state in ctx.listings:
        if settings.promoted_only and not state.promoted(settings.promoted_source):
            continue
        last = ctx.last_title_change(state.id)
        if last is None:
            continue
        days = (today - last.astimezone(ctx.zone).date()).days
        if days <= settings.max_days:
            continue
        yield Draft(
            state.id, "stale",
            f"Title unchanged for {days} days (limit {settings.max_days}): "
            f"{_quote(state.snap.title)}",
            {**_evidence(ctx, state), "last_changed": last.isoformat(), "days": days,
             "max_days": settings.max_days, "now": ctx.now.isoformat(),
             "time_zone": str(ctx.zone)},
        )


# --- titles.keywords ------------------------------------------------------------------------


class KeywordSettings(RuleSettings):
    keywords: list[Phrase] = Field(
        default_factory=list,
        description="Hot-search keywords every title must use at least one of.",
    )
    by_category: dict[Phrase, list[Phrase]] = Field(
        default_factory=dict,
        description="Keywords per category (the category column of catalog.csv); a listing "
                    "in one of these categories uses its list instead of `keywords`.",
    )


@rule("titles.keywords", "Missing keywords", "minor", KeywordSettings)
def keywords(ctx: AuditContext, settings: KeywordSettings) -> Iterator[Draft]:
    """A title uses none of the agreed keywords.

    The contract says titles use the agreed hot-search keywords: a list for the whole store,
    or one per category of catalog.csv. Full-width and half-width letters and case do not
    matter.

    Example: keywords for "outdoor" are 露营 and 户外; "山禾 双人帐篷 防雨" uses neither."""
    for state in ctx.listings:
        title = state.snap.title
        if title is None:
            continue
        category = (state.catalog.category or "").strip() if state.catalog else ""
        if category and category in settings.by_category:
            required, source = settings.by_category[category], f"category {category}"
        else:
            required, source = settings.keywords, "store-wide"
        required = dedupe_phrases(required)
        if not required:
            continue
        folded = folded_text(title)
        if any(folded_text(k) in folded for k in required):
            continue
        listed = ", ".join(required)
        yield Draft(
            state.id, "missing-keywords",
            f"Title uses none of the agreed keywords ({listed}): {_quote(title)}",
            {**_evidence(ctx, state), "required": required, "keywords_from": source,
             "category": category or None},
        )


# --- titles.forbidden_terms -----------------------------------------------------------------


class ForbiddenTermsSettings(RuleSettings):
    terms: list[Phrase] | None = Field(
        default=None,
        description="The banned terms; leave out for storeaudit's list of absolute claims "
                    "(最, 第一, 顶级, 全网第一 …). A list here replaces that list.",
    )
    extra_terms: list[Phrase] = Field(
        default_factory=list, description="More banned terms, on top of `terms`.",
    )
    allowed: list[Phrase] = Field(
        default_factory=list,
        description="Phrases that are fine even though they contain a banned term (say 最新 "
                    "if the merchant accepts it); a term inside one is not reported.",
    )


@rule("titles.forbidden_terms", "Banned claim in title", "major", ForbiddenTermsSettings)
def forbidden_terms(ctx: AuditContext, settings: ForbiddenTermsSettings) -> Iterator[Draft]:
    """A title uses an absolute claim the advertising law bans.

    China's advertising law (广告法 art. 9) bans absolute claims such as 最, 第一, 全网第一, 顶级
    and 国家级, and platforms take such listings down. storeaudit's list can be replaced
    (`terms`), extended (`extra_terms`), or a phrase allowed (`allowed`). A term hidden with
    zero-width characters or written in full-width letters is still found.

    Example: "山禾 羽绒服 全网第一 保暖" is one finding for 全网第一 (not also for 第一)."""
    base = list(DEFAULT_FORBIDDEN_TERMS) if settings.terms is None else settings.terms
    terms = dedupe_phrases([*base, *settings.extra_terms])
    for state in ctx.listings:
        title = state.snap.title
        if title is None:
            continue
        for term, position, shown in find_terms(title, terms, settings.allowed):
            yield Draft(
                state.id, f"term:{term}",
                f"Title uses the banned absolute claim '{term}': {_quote(title)}",
                {**_evidence(ctx, state), "term": term, "found": shown, "position": position},
            )


# --- titles.length --------------------------------------------------------------------------


class LengthSettings(RuleSettings):
    max_chars: int = Field(
        default=60, ge=1, description="The longest title allowed, in the unit `count` names.",
    )
    count: Literal["chars", "gbk_bytes"] = Field(
        default="chars",
        description="'chars' counts characters; 'gbk_bytes' counts as Taobao does: each "
                    "Chinese or full-width character 2, each ASCII character 1.",
    )


@rule("titles.length", "Title too long", "minor", LengthSettings)
def length(ctx: AuditContext, settings: LengthSettings) -> Iterator[Draft]:
    """A title is longer than the platform allows.

    Platforms cut or refuse titles over their limit; Taobao counts 60 bytes, each Chinese or
    full-width character 2 (`count = "gbk_bytes"`).

    Example: max_chars 60, count chars: a 72-character title is a minor finding."""
    unit = "characters" if settings.count == "chars" else "bytes (Taobao's count)"
    for state in ctx.listings:
        title = state.snap.title
        if title is None:
            continue
        n = title_length(title, settings.count)
        if n <= settings.max_chars:
            continue
        yield Draft(
            state.id, "too-long",
            f"Title is {n} {unit} long (limit {settings.max_chars}): {_quote(title)}",
            {**_evidence(ctx, state), "length": n, "limit": settings.max_chars,
             "count": settings.count},
        )
