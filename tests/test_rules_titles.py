"""Title rules on hand-built histories: the weekly quota, stale titles, keywords, banned
absolute claims and title length."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from audits.catalog import parse_catalog
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.rules.titles import (
    DEFAULT_FORBIDDEN_TERMS,
    ForbiddenTermsSettings,
    KeywordSettings,
    LengthSettings,
    StaleSettings,
    WeeklyQuotaSettings,
    effective_quota,
    find_terms,
    forbidden_terms,
    keywords,
    length,
    stale,
    title_length,
    weekly_quota,
)
from history import History, entry, failed, listing


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


def fixed_quota(n: int) -> WeeklyQuotaSettings:
    return WeeklyQuotaSettings(per_week=n, scale_to_store=False)


def quiet_week(h: History, titles: dict[str, str], nights: int = 7) -> None:
    """One night to start watching the store, then `nights` more with nothing retitled."""
    for _ in range(nights + 1):
        h.night(*(listing(sku, title) for sku, title in titles.items()))


# --- titles.weekly_quota --------------------------------------------------------------------


def test_quota_shortfall_is_one_store_finding_naming_the_changed_listings(h):
    quiet_week(h, {"A": "Old A", "B": "Old B", "C": "Old C"})
    h.night(listing("A", "New A"), listing("B", "New B"), listing("C", "Old C"))
    drafts = list(weekly_quota(h.context(), fixed_quota(3)))
    assert len(drafts) == 1
    d = drafts[0]
    assert (d.listing_id, d.fingerprint) == (None, "rolling-week")
    assert d.message == "2 of 3 titles optimised in the last 7 days (quota 3 a week)"
    assert (d.evidence["quota"], d.evidence["count"]) == (3, 2)
    assert [(c["sku"], c["before"], c["after"]) for c in d.evidence["retitled"]] == [
        ("A", "Old A", "New A"), ("B", "Old B", "New B")]


def test_quota_evidence_gives_the_window_and_run(h):
    quiet_week(h, {"A": "Old"})
    ctx = h.context()
    [d] = weekly_quota(ctx, fixed_quota(1))
    assert d.evidence["window_end"] == ctx.now.isoformat()
    assert d.evidence["window_start"] == (ctx.now - timedelta(days=7)).isoformat()
    assert d.evidence["run_id"] == ctx.run.id
    assert d.evidence["retitled"] == []


def test_the_quota_findings_retitled_listings_follow_each_audit(h):
    """The list is the window's, anew each audit; not what changed on a listing (that is
    kept from a finding's first sighting), which a store-level finding has none of."""
    contract = parse_contract('[store]\nname = "Shop"\nbase_url = "http://shop.test"\n'
                              '[rules.titles.weekly_quota]\nper_week = 3\nscale_to_store = false\n')
    catalog = parse_catalog("sku,cost,reference_price,promoted\nA,1,1,no\nB,1,1,no\nC,1,1,no\n")
    quiet_week(h, {"A": "Old A", "B": "Old B", "C": "Old C"})
    for titles in (("New A", "Old B"), ("New A", "New B")):
        run = h.night(listing("A", titles[0]), listing("B", titles[1]), listing("C", "Old C"))
        audit_run(h.ledger, contract, catalog, run, full=True)
    [finding] = h.ledger.findings(rule_id="titles.weekly_quota")
    assert finding.message.startswith("2 of 3 titles optimised")
    assert [(c["sku"], c["after"]) for c in finding.evidence["retitled"]] == [
        ("A", "New A"), ("B", "New B")]
    assert "changed" not in finding.evidence


def test_a_quota_finding_kept_before_schema_9_has_its_list_moved_to_retitled(tmp_path):
    """A ledger from before: the quota's list was under "changed"; a listing finding's
    "changed" (what changed on it) stays where it is."""
    path = tmp_path / "old.db"
    retitled = [{"sku": "A", "before": "Old A", "after": "New A", "changes": 1}]
    what_changed = [{"field": "price", "before": "299", "after": "120"}]
    with Ledger(path) as led:
        led.db["findings"].insert_all([
            {"rule_id": "titles.weekly_quota", "status": "open",
             "evidence": json.dumps({"count": 1, "changed": retitled})},
            {"rule_id": "prices.below_floor", "status": "open",
             "evidence": json.dumps({"price": "120", "changed": what_changed})}])
        led.db.execute("PRAGMA user_version = 8")
    with Ledger(path) as led:
        quota, floor = [json.loads(r["evidence"]) for r in led.db["findings"].rows]
    assert quota == {"count": 1, "retitled": retitled}
    assert floor == {"price": "120", "changed": what_changed}


def test_quota_met_exactly_gives_no_finding(h):
    quiet_week(h, {"A": "Old A", "B": "Old B"})
    h.night(listing("A", "New A"), listing("B", "New B"))
    assert list(weekly_quota(h.context(), fixed_quota(2))) == []


def test_quota_is_not_judged_before_a_whole_week_of_history(h):
    quiet_week(h, {"A": "Old"}, nights=6)
    assert list(weekly_quota(h.context(), fixed_quota(30))) == []


def test_quota_is_judged_as_soon_as_history_covers_the_week(h):
    quiet_week(h, {"A": "Old"}, nights=7)
    assert len(list(weekly_quota(h.context(), fixed_quota(30)))) == 1


def test_a_listing_retitled_twice_counts_once(h):
    quiet_week(h, {"A": "v1", "B": "b"})
    h.night(listing("A", "v2"), listing("B", "b"))
    h.night(listing("A", "v3"), listing("B", "b"))
    [d] = weekly_quota(h.context(), fixed_quota(2))
    assert d.evidence["count"] == 1
    [changed] = d.evidence["retitled"]
    assert (changed["before"], changed["after"], changed["changes"]) == ("v1", "v3", 2)


def test_a_title_changed_in_tonights_crawl_counts(h):
    quiet_week(h, {"A": "Old"})
    h.night(listing("A", "New"))
    assert list(weekly_quota(h.context(), fixed_quota(1))) == []


def test_a_title_changed_exactly_a_week_ago_belongs_to_last_week(h):
    quiet_week(h, {"A": "Old"}, nights=1)
    h.night(listing("A", "New"))          # exactly 7 days before the audit below
    for _ in range(7):
        h.night(listing("A", "New"))
    [d] = weekly_quota(h.context(), fixed_quota(1))
    assert d.evidence["count"] == 0


def test_a_failed_fetch_between_equal_titles_is_not_a_title_change(h):
    quiet_week(h, {"A": "Same"})
    h.night(failed("A"))
    h.night(listing("A", "Same"))
    [d] = weekly_quota(h.context(), fixed_quota(1))
    assert d.evidence["count"] == 0


def test_a_failed_fetch_does_not_hide_a_title_change(h):
    quiet_week(h, {"A": "Old"})
    h.night(failed("A"))
    h.night(listing("A", "New"))
    assert list(weekly_quota(h.context(), fixed_quota(1))) == []


def test_a_title_changed_before_the_listing_was_removed_still_counts(h):
    quiet_week(h, {"A": "Old A", "B": "Old B"})
    h.night(listing("A", "New A"), listing("B", "Old B"))
    h.night(listing("B", "Old B"))  # A is gone from the store
    assert list(weekly_quota(h.context(), fixed_quota(1))) == []


def test_quota_for_a_60_listing_store_is_12(h):
    skus = [f"S{i:02d}" for i in range(60)]
    quiet_week(h, {s: f"Old {s}" for s in skus})
    h.night(*(listing(s, f"New {s}" if i < 11 else f"Old {s}") for i, s in enumerate(skus)))
    [d] = weekly_quota(h.context(), WeeklyQuotaSettings())
    assert d.message == ("11 of 12 titles optimised in the last 7 days "
                         "(quota 12 a week: 20% of 60 listings, the contract says 30)")
    assert (d.evidence["quota"], d.evidence["store_listings"]) == (12, 60)


@pytest.mark.parametrize("per_week, scale, share, listings, quota", [
    (30, True, 0.2, 60, 12),
    (30, True, 0.2, 61, 13),     # part of a listing rounds up
    (30, True, 0.2, 1000, 30),   # never above the contract's number
    (30, True, 0.2, 3, 1),
    (30, True, 0.2, 0, 1),       # at least one
    (30, True, 0.1, 30, 3),      # 0.1 × 30 is 3, not 4 from float noise
    (30, False, 0.2, 60, 30),
    (5, True, 1.0, 60, 5),
])
def test_effective_weekly_quota(per_week, scale, share, listings, quota):
    settings = WeeklyQuotaSettings(per_week=per_week, scale_to_store=scale, share=share)
    assert effective_quota(settings, listings) == quota


@pytest.mark.parametrize("bad", [
    {"per_week": 0}, {"share": 0}, {"share": 1.5}, {"per_wek": 30},
])
def test_a_bad_quota_setting_is_refused(bad):
    with pytest.raises(ValidationError):
        WeeklyQuotaSettings(**bad)


# --- titles.stale ---------------------------------------------------------------------------


@pytest.mark.parametrize("days, finding", [(13, False), (14, False), (15, True), (30, True)])
def test_a_title_is_stale_only_after_more_than_max_days(h, days, finding):
    h.night(listing("A", "山禾 保温杯"))
    h.night(listing("A", "山禾 保温杯"), days=days)
    drafts = list(stale(h.context(), StaleSettings(max_days=14)))
    assert bool(drafts) is finding


def test_stale_message_says_how_long_and_quotes_the_title(h):
    h.night(listing("A", "山禾 保温杯 500ml"))
    h.night(listing("A", "山禾 保温杯 500ml"), days=16)
    [d] = stale(h.context(), StaleSettings())
    assert d.message == "Title unchanged for 16 days (limit 14): '山禾 保温杯 500ml'"
    assert d.fingerprint == "stale"


def test_stale_evidence_points_at_the_snapshot_and_last_change(h):
    first = h.night(listing("A", "Title"))
    h.night(listing("A", "Title"), days=20)
    ctx = h.context()
    [d] = stale(ctx, StaleSettings())
    [state] = ctx.listings
    assert d.listing_id == state.id
    assert d.evidence["last_changed"] == h.ledger.run(first.id).started
    assert (d.evidence["days"], d.evidence["title"]) == (20, "Title")
    assert (d.evidence["snapshot_id"], d.evidence["run_id"]) == (state.snap.id, ctx.run.id)


def test_a_recent_title_change_is_not_stale(h):
    h.night(listing("A", "Old"))
    h.night(listing("A", "New"), days=20)
    h.night(listing("A", "New"), days=3)
    assert list(stale(h.context(), StaleSettings())) == []


def test_a_failed_fetch_is_not_a_title_change(h):
    h.night(listing("A", "Same"))
    h.night(failed("A"), days=10)
    h.night(listing("A", "Same"), days=10)
    [d] = stale(h.context(), StaleSettings())
    assert d.evidence["days"] == 20


def test_a_listing_whose_page_failed_tonight_gets_no_finding(h):
    h.night(listing("A", "Same"))
    h.night(failed("A"), days=30)
    assert list(stale(h.context(), StaleSettings())) == []


def test_a_removed_listing_gets_no_finding(h):
    h.night(listing("A", "Same"), listing("B", "Other"))
    h.night(listing("B", "Other 2"), days=30)
    assert list(stale(h.context(), StaleSettings())) == []


@pytest.mark.parametrize("on_page, in_catalog, source, finding", [
    (False, False, "either", False),
    (True, False, "either", True),
    (False, True, "either", True),
    (True, False, "catalog", False),
    (False, True, "catalog", True),
    (False, True, "page", False),
    (True, False, "page", True),
])
def test_promoted_only_checks_just_promoted_listings(h, on_page, in_catalog, source, finding):
    h.night(listing("A", "T", promoted=on_page))
    h.night(listing("A", "T", promoted=on_page), days=20)
    ctx = h.context(catalog={"A": entry("A", promoted=in_catalog)})
    settings = StaleSettings(promoted_only=True, promoted_source=source)
    assert bool(list(stale(ctx, settings))) is finding


def test_stale_checks_unpromoted_listings_by_default(h):
    h.night(listing("A", "T"))
    h.night(listing("A", "T"), days=20)
    assert len(list(stale(h.context(), StaleSettings()))) == 1


# --- titles.keywords ------------------------------------------------------------------------


@pytest.mark.parametrize("title, words, finding", [
    ("山禾 保温杯 500ml", ["保温杯"], False),
    ("山禾 水杯 500ml", ["保温杯"], True),
    ("山禾 水杯", ["保温杯", "水杯"], False),    # one of them is enough
    ("LED 台灯", ["led"], False),               # case does not matter
    ("ＬＥＤ 台灯", ["LED"], False),             # nor full-width letters
    ("台灯", ["LED", "护眼"], True),
])
def test_a_title_needs_one_of_the_keywords(h, title, words, finding):
    h.night(listing("A", title))
    drafts = list(keywords(h.context(), KeywordSettings(keywords=words)))
    assert bool(drafts) is finding


def test_missing_keywords_message_and_evidence(h):
    h.night(listing("A", "山禾 水杯"))
    [d] = keywords(h.context(), KeywordSettings(keywords=["保温杯", "真空"]))
    assert d.fingerprint == "missing-keywords"
    assert d.message == "Title uses none of the agreed keywords (保温杯, 真空): '山禾 水杯'"
    assert (d.evidence["required"], d.evidence["title"]) == (["保温杯", "真空"], "山禾 水杯")


def test_a_listings_category_keywords_replace_the_store_wide_ones(h):
    h.night(listing("A", "山禾 保温杯"))
    ctx = h.context(catalog={"A": entry("A", category="cups")})
    settings = KeywordSettings(keywords=["保温杯"], by_category={"cups": ["真空"]})
    [d] = keywords(ctx, settings)
    assert d.evidence["required"] == ["真空"]


def test_a_category_without_its_own_keywords_uses_the_store_wide_ones(h):
    h.night(listing("A", "山禾 保温杯"))
    ctx = h.context(catalog={"A": entry("A", category="lamps")})
    settings = KeywordSettings(keywords=["保温杯"], by_category={"cups": ["真空"]})
    assert list(keywords(ctx, settings)) == []


def test_no_keywords_agreed_means_no_check(h):
    h.night(listing("A", "anything"))
    assert list(keywords(h.context(), KeywordSettings())) == []


def test_a_blank_keyword_is_refused():
    with pytest.raises(ValidationError):
        KeywordSettings(keywords=["保温杯", "  "])


# --- titles.forbidden_terms -----------------------------------------------------------------


@pytest.mark.parametrize("title, terms", [
    ("山禾 保温杯", []),
    ("全网第一 保温杯", ["全网第一"]),            # not also 第一
    ("全网第一 品质第一", ["全网第一", "第一"]),  # a separate 第一 is its own finding
    ("最好的保温杯", ["最好"]),                   # not also 最
    ("最低价 最好", ["最低价", "最好"]),
    ("最新款", ["最"]),                          # 最新 is not allowed unless the merchant says so
    ("100％纯棉", ["100%"]),                     # full-width sign
    ("顶级 极品 国家级", ["顶级", "极品", "国家级"]),
    ("销量第一 第一", ["销量第一", "第一"]),
    ("第一第一", ["第一"]),                       # once per term
])
def test_banned_terms_found_longest_first(title, terms):
    assert [t for t, _, _ in find_terms(title, list(DEFAULT_FORBIDDEN_TERMS), [])] == terms


def test_banned_term_finding_names_the_term_and_where_it_is(h):
    h.night(listing("A", "山禾 全网第一 保温杯"))
    [d] = forbidden_terms(h.context(), ForbiddenTermsSettings())
    assert d.fingerprint == "term:全网第一"
    assert d.message == "Title uses the banned absolute claim '全网第一': '山禾 全网第一 保温杯'"
    assert (d.evidence["term"], d.evidence["position"], d.evidence["found"]) == ("全网第一", 4,
                                                                                 "全网第一")
    assert d.evidence["title"] == "山禾 全网第一 保温杯"


def test_a_full_width_match_is_quoted_as_the_page_shows_it():
    [(term, position, found)] = find_terms("纯棉１００％", ["100%"], [])
    assert (term, position, found) == ("100%", 3, "１００％")


def test_one_finding_per_banned_term(h):
    h.night(listing("A", "顶级 最好 保温杯 顶级"))
    drafts = list(forbidden_terms(h.context(), ForbiddenTermsSettings()))
    assert sorted(d.fingerprint for d in drafts) == ["term:最好", "term:顶级"]


def test_an_allowed_phrase_hides_the_term_inside_it(h):
    h.night(listing("A", "最新款 保温杯"), listing("B", "最新款 最好"))
    drafts = list(forbidden_terms(h.context(), ForbiddenTermsSettings(allowed=["最新"])))
    assert [d.fingerprint for d in drafts] == ["term:最好"]


def test_contract_terms_replace_the_default_list(h):
    h.night(listing("A", "全网第一 爆款"))
    drafts = list(forbidden_terms(h.context(), ForbiddenTermsSettings(terms=["爆款"])))
    assert [d.fingerprint for d in drafts] == ["term:爆款"]


def test_extra_terms_extend_the_default_list(h):
    h.night(listing("A", "全网第一 爆款"))
    drafts = list(forbidden_terms(h.context(), ForbiddenTermsSettings(extra_terms=["爆款"])))
    assert sorted(d.fingerprint for d in drafts) == ["term:全网第一", "term:爆款"]


def test_the_default_list_covers_the_advertising_laws_absolute_claims():
    required = {"最", "最佳", "最好", "最低价", "最高级", "第一", "全网第一", "销量第一", "唯一",
                "顶级", "极品", "国家级", "世界级", "最先进", "独一无二", "全球首发", "史无前例",
                "万能", "100%", "绝对"}
    assert required <= set(DEFAULT_FORBIDDEN_TERMS)


def test_a_blank_banned_term_is_refused():
    with pytest.raises(ValidationError):
        ForbiddenTermsSettings(extra_terms=[""])


# --- titles.length --------------------------------------------------------------------------


@pytest.mark.parametrize("title, count, n", [
    ("abc", "chars", 3),
    ("abc", "gbk_bytes", 3),
    ("保温杯", "chars", 3),
    ("保温杯", "gbk_bytes", 6),
    ("LED台灯", "gbk_bytes", 7),
    ("ＬＥＤ", "gbk_bytes", 6),      # full-width letters count 2
    ("山禾 500ml", "gbk_bytes", 10),
])
def test_title_length_counts(title, count, n):
    assert title_length(title, count) == n


@pytest.mark.parametrize("title, settings, finding", [
    ("a" * 60, LengthSettings(), False),          # exactly at the limit
    ("a" * 61, LengthSettings(), True),
    ("保" * 30, LengthSettings(max_chars=60, count="gbk_bytes"), False),
    ("保" * 31, LengthSettings(max_chars=60, count="gbk_bytes"), True),
    ("保" * 31, LengthSettings(max_chars=60), False),
])
def test_a_title_over_the_limit_is_a_finding(h, title, settings, finding):
    h.night(listing("A", title))
    assert bool(list(length(h.context(), settings))) is finding


def test_too_long_message_and_evidence(h):
    h.night(listing("A", "保" * 31))
    [d] = length(h.context(), LengthSettings(count="gbk_bytes"))
    assert d.fingerprint == "too-long"
    assert d.message == f"Title is 62 bytes (Taobao's count) long (limit 60): '{'保' * 31}'"
    assert (d.evidence["length"], d.evidence["limit"], d.evidence["count"]) == (62, 60,
                                                                                "gbk_bytes")


@pytest.mark.parametrize("bad", [{"max_chars": 0}, {"count": "bytes"}])
def test_a_bad_length_setting_is_refused(bad):
    with pytest.raises(ValidationError):
        LengthSettings(**bad)


# --- all listing rules ----------------------------------------------------------------------


@pytest.mark.parametrize("check, settings", [
    (stale, StaleSettings(max_days=1)),
    (keywords, KeywordSettings(keywords=["never"])),
    (forbidden_terms, ForbiddenTermsSettings()),
    (length, LengthSettings(max_chars=1)),
])
def test_a_page_that_failed_tonight_raises_no_title_finding(h, check, settings):
    h.night(listing("A", "全网第一 保温杯"))
    h.night(failed("A"), days=5)
    assert list(check(h.context(), settings)) == []


@pytest.mark.parametrize("check, settings", [
    (stale, StaleSettings(max_days=1)),
    (keywords, KeywordSettings(keywords=["never"])),
    (forbidden_terms, ForbiddenTermsSettings()),
    (length, LengthSettings(max_chars=1)),
])
def test_listing_evidence_is_json_a_person_can_check(h, check, settings):
    h.night(listing("A", "全网第一 保温杯"))
    h.night(listing("A", "全网第一 保温杯"), days=5)
    [d] = check(h.context(), settings)
    assert json.loads(json.dumps(d.evidence, ensure_ascii=False)) == d.evidence
    assert {"url", "sku", "title", "snapshot_id", "run_id"} <= set(d.evidence)


def test_quota_evidence_is_json(h):
    quiet_week(h, {"A": "Old"})
    h.night(listing("A", "New"))
    [d] = weekly_quota(h.context(), fixed_quota(2))
    assert json.loads(json.dumps(d.evidence, ensure_ascii=False)) == d.evidence
