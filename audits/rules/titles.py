"""Title rules: the contract's "optimise N titles a week", "no listing left two weeks without a
title update", the agreed hot-search keywords, the advertising law's banned absolute claims and
the platform's title length limit.

Titles are matched the way a person reads them: full-width and half-width forms are the same
letter (ＬＥＤ is LED, １００％ is 100%) and case does not matter. Evidence always quotes the
title exactly as the page showed it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Draft, RuleSettings, rule
from .context import PROMOTED_SOURCE_HELP, AuditContext, ListingState, PromotedSource

# A keyword, term or phrase: blank ones would match every title.
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

WEEK = timedelta(days=7)

# Absolute claims China's advertising law (广告法 art. 9 (3)) bans: "national-level",
# "highest-grade", "best" and the like. A merchant's contract may replace or extend the list.
DEFAULT_FORBIDDEN_TERMS: tuple[str, ...] = (
    "最", "最佳", "最好", "最低价", "最高级", "最先进", "最优", "最便宜",
    "第一", "全网第一", "销量第一", "排名第一",
    "唯一", "独一无二", "顶级", "极品", "极致", "国家级", "世界级", "全球级",
    "全球首发", "首选", "史无前例", "万能", "100%", "绝对",
)


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


def _fold(text: str) -> tuple[str, list[int]]:
    """`text` as matching sees it (NFKC, case-folded) and, for each of its characters, the
    index of the character of `text` it came from, so a match can be quoted as shown."""
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width, soft hyphen, direction marks: unseen, so they hide no term
        part = unicodedata.normalize("NFKC", ch).casefold()
        folded.append(part)
        origin.extend([i] * len(part))
    return "".join(folded), origin


def _folded(phrase: str) -> str:
    return _fold(phrase)[0]


def _dedupe(phrases: list[str]) -> list[str]:
    """Phrases in order, dropping those that read the same once folded."""
    seen: set[str] = set()
    out = []
    for p in phrases:
        key = _folded(p)
        if key and key not in seen:
            seen.add(key)
            out.append(p)
    return out


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


@rule("titles.weekly_quota", "Fewer titles optimised in the last 7 days than the weekly quota.",
      "major", WeeklyQuotaSettings, scope="store")
def weekly_quota(ctx: AuditContext, settings: WeeklyQuotaSettings) -> Iterator[Draft]:
    start, end = ctx.now - WEEK, ctx.now
    if ctx.watched_since is None or ctx.watched_since > start:
        return  # history does not cover a whole week yet: no verdict either way
    quota = effective_quota(settings, ctx.store_listing_count)
    # The window is (now − 7 days, now]: tonight's crawl counts, the one exactly a week ago
    # belongs to last week.
    changed: dict[int, dict] = {}
    for c in ctx.title_changes(since=start):
        seen = changed.get(c.listing_id)
        if seen is None:
            changed[c.listing_id] = {"sku": c.sku, "url": c.url, "before": c.before,
                                     "after": c.after, "changed_at": c.changed_at,
                                     "changes": 1, "run_id": c.run_id}
        else:  # changed more than once: first before, last after
            seen.update(after=c.after, changed_at=c.changed_at, changes=seen["changes"] + 1,
                        run_id=c.run_id)
    count = len(changed)
    if count >= quota:
        return
    how = f"quota {quota} a week"
    if settings.scale_to_store and quota < settings.per_week:
        how += (f": {settings.share:.0%} of {ctx.store_listing_count} listings, "
                f"the contract says {settings.per_week}")
    yield Draft(
        None, "rolling-week",
        f"{count} of {quota} titles optimised in the last 7 days ({how})",
        {
            "quota": quota,
            "per_week": settings.per_week,
            "scale_to_store": settings.scale_to_store,
            "share": settings.share,
            "store_listings": ctx.store_listing_count,
            "count": count,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "watched_since": ctx.watched_since.isoformat(),
            "run_id": ctx.run.id,
            "changed": sorted(changed.values(), key=lambda c: c["changed_at"]),
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


@rule("titles.stale", "A listing's title has not changed for longer than the contract allows.",
      "minor", StaleSettings)
def stale(ctx: AuditContext, settings: StaleSettings) -> Iterator[Draft]:
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


@rule("titles.keywords", "A title uses none of the agreed keywords.", "minor", KeywordSettings)
def keywords(ctx: AuditContext, settings: KeywordSettings) -> Iterator[Draft]:
    for state in ctx.listings:
        title = state.snap.title
        if title is None:
            continue
        category = (state.catalog.category or "").strip() if state.catalog else ""
        if category and category in settings.by_category:
            required, source = settings.by_category[category], f"category {category}"
        else:
            required, source = settings.keywords, "store-wide"
        required = _dedupe(required)
        if not required:
            continue
        folded = _folded(title)
        if any(_folded(k) in folded for k in required):
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


def find_terms(title: str, terms: list[str], allowed: list[str]) -> list[tuple[str, int, str]]:
    """The banned terms in `title`: (term, 1-based position of its first use, the text there).

    A term inside a longer term found at the same place is reported as the longer one only
    (全网第一, not also 第一); a term inside an allowed phrase is not reported.
    """
    folded, origin = _fold(title)

    def spans(phrase: str) -> list[tuple[int, int]]:
        needle, out, at = _folded(phrase), [], 0
        while (at := folded.find(needle, at)) != -1:
            out.append((at, at + len(needle)))
            at += 1
        return out

    allowed_spans = [s for p in allowed for s in spans(p)]
    hits = [(term, s) for term in _dedupe(terms) for s in spans(term)
            if not any(a <= s[0] and s[1] <= b for a, b in allowed_spans)]
    found: dict[str, tuple[int, str]] = {}
    for term, (s, e) in hits:
        inside_longer = any(a <= s and e <= b and (b - a) > (e - s) for _, (a, b) in hits)
        if inside_longer or term in found:
            continue
        first, last = origin[s], origin[e - 1]
        found[term] = (first + 1, title[first:last + 1])
    return sorted(((t, pos, text) for t, (pos, text) in found.items()), key=lambda f: f[1])


@rule("titles.forbidden_terms", "A title uses an absolute claim the advertising law bans.",
      "major", ForbiddenTermsSettings)
def forbidden_terms(ctx: AuditContext, settings: ForbiddenTermsSettings) -> Iterator[Draft]:
    base = list(DEFAULT_FORBIDDEN_TERMS) if settings.terms is None else settings.terms
    terms = _dedupe([*base, *settings.extra_terms])
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


def title_length(title: str, count: str = "chars") -> int:
    if count == "gbk_bytes":
        # GBK stores ASCII in one byte and every other character it has in two.
        return sum(1 if ord(ch) < 0x80 else 2 for ch in title)
    return len(title)


@rule("titles.length", "A title is longer than the platform allows.", "minor", LengthSettings)
def length(ctx: AuditContext, settings: LengthSettings) -> Iterator[Draft]:
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
