"""The contract file (`contract.toml`): what the store is and how to crawl it.

Validated with pydantic; a mistake is refused with the file, the line and the key at fault,
before anything is written. Unknown keys are mistakes too: a misspelt setting silently
falling back to its default is how audits go wrong unnoticed. How a mistake is found and
named (ContractError, the line a key is on, pydantic's errors in TOML's words) is in
audits/contract_errors.py.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from typing import Literal

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model,
                      field_validator, model_validator)

from crawler.config import CONTRACT_KNOBS, CrawlConfig
from crawler.extract import Selectors
from crawler.origins import normal_origin, origin_of
from crawler.presets.pages import platform_pages, platform_selectors

from .contract_terms import EscalationSettings, PenaltySettings, ReviewSettings, one_line
from .contract_errors import (ContractError, contract_error, line_of_key, quoted_number,
                              refuse_dates)
from .rules import RULES, SEVERITIES, RuleSettings


def _http_url(value: str, example: str) -> str:
    """`value` without a trailing slash, or ValueError when it is not an http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as {example}")
    return value.rstrip("/")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# CSS selectors for stores whose pages carry no structured data: the crawler's Selectors
# fields, each optional here (what the contract leaves out keeps the crawler's default).
SelectorSettings = create_model(
    "SelectorSettings", __base__=_Strict,
    **{name: (str | None, None) for name in Selectors.__dataclass_fields__},
)


class StoreSettings(_Strict):
    name: str = Field(min_length=1)
    base_url: str
    # Origins the crawler and the spot-check may fetch pages from; defaults to base_url's.
    origins: list[str] = Field(default_factory=list)
    sitemap: str | None = "/sitemap.xml"
    urls: list[str] = Field(default_factory=list)
    listing_pattern: str = r"/(p|product|products|item|items|dp)/"
    category_pattern: str = r"/(c|category|categories|collections)/"
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    timezone: str = "Asia/Shanghai"
    catalog: str = "catalog.csv"
    # A platform preset: its public endpoints for discovery and exact values (crawler.presets).
    platform: Literal["generic", "shopify", "woocommerce", "magento", "taobao", "tmall",
                      "jd"] = "generic"
    selectors: SelectorSettings = Field(default_factory=SelectorSettings)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # It becomes the email's subject and the dashboard's heading.
        return one_line(v, "store's name")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        return _http_url(v, "https://shop.example.com")

    @field_validator("origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            try:
                out.append(normal_origin(origin))  # HTTPS://Shop.Example:443 is https://shop.example
            except ValueError:
                raise ValueError(f"{origin!r} is not an origin like https://shop.example.com") from None
        return out

    @field_validator("listing_pattern", "category_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from e
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Asia/Shanghai)") from e
        return v

    @model_validator(mode="after")
    def _default_origin(self) -> "StoreSettings":
        if not self.origins:
            self.origins = [origin_of(self.base_url)]
        return self


def _crawl_settings() -> type[BaseModel]:
    """The `[crawl]` section, generated from the knobs the crawler declares (`crawler.config`):
    each key's type, default, bounds and help are written there, once."""
    return create_model(
        "CrawlSettings", __base__=_Strict, __doc__=(
            "How the store is crawled. `concurrency` and `max_requests_per_second` are per "
            "origin and hold for plain HTTP, image downloads and the browser alike."),
        **{k.key: (k.type, Field(default=k.default, description=k.help, **k.bounds()))
           for k in CONTRACT_KNOBS},
    )


CrawlSettings = _crawl_settings()


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock_time(v: str) -> str:
    if not _HHMM.match(v.strip()):
        raise ValueError(f"{v!r} is not a time of day like \"02:00\" (24-hour HH:MM)")
    return v.strip()


class ScheduleSettings(_Strict):
    """When the scheduler (`storeaudit serve` / `storeaudit schedule`) audits the store, in
    the store's time zone."""

    enabled: bool = True
    nightly: str = "02:00"
    extra_crawls: list[str] = Field(default_factory=list)
    # A nightly audit missed while nothing was running is run once at start-up, if the
    # process comes back within this many hours of its time; later, it waits for the next.
    catch_up_hours: float = Field(default=12, ge=0, le=24)
    email_after_nightly: bool = True
    # Checks of a few listings a day at times nobody can guess (audits/random_checks.py):
    # what the store shows between nightlies, when an agency expects nobody to look.
    random_checks: int = Field(default=0, ge=0, le=24)
    store_hours: str = "09:00-22:00"   # the hours (store time) the random checks fall in
    random_check_listings: int = Field(default=10, ge=1, le=50)

    @field_validator("nightly")
    @classmethod
    def _nightly(cls, v: str) -> str:
        return _clock_time(v)

    @field_validator("extra_crawls")
    @classmethod
    def _extras(cls, v: list[str]) -> list[str]:
        times = [_clock_time(t) for t in v]
        if len(set(times)) != len(times):
            raise ValueError("the same time is listed twice")
        return sorted(times)

    @field_validator("store_hours")
    @classmethod
    def _store_hours(cls, v: str) -> str:
        start, sep, end = v.partition("-")
        if not sep:
            raise ValueError(f"{v!r} is not a span of hours like \"09:00-22:00\"")
        start, end = _clock_time(start), _clock_time(end)
        if end <= start:
            raise ValueError(f"{v!r}: the end must be later the same day than the start")
        return f"{start}-{end}"

    @model_validator(mode="after")
    def _not_at_nightly(self) -> "ScheduleSettings":
        if self.nightly in self.extra_crawls:
            raise ValueError(f"extra_crawls repeats the nightly time {self.nightly}")
        return self


SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class SmtpSettings(_Strict):
    """Where the emails go. The password comes from the environment variable `password_env`;
    a literal `password` works but leaves it readable in this file."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password_env: str = "STOREAUDIT_SMTP_PASSWORD"
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=300)

    @property
    def effective_port(self) -> int:
        return self.port or SMTP_PORTS[self.security]


class EvidenceSettings(_Strict):
    """What is kept beside a finding for a dispute: a screenshot of its listing's page as the
    crawler's browser rendered it, when the finding was first seen and when it was resolved."""

    screenshots: bool = True
    retention_days: float = Field(default=90, gt=0, le=3650)
    max_mb: float = Field(default=200, gt=0, le=100_000)   # all screenshots together
    max_per_audit: int = Field(default=20, ge=1, le=500)   # the worst findings first


class EmailSettings(_Strict):
    """The nightly digest and the critical alerts. Without `[email.smtp]` they are written
    as files to `outbox` (a path relative to the current directory) instead of sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    digest: bool = True
    critical_immediately: bool = False
    dashboard_url: str = "http://127.0.0.1:8600"
    outbox: str = "outbox"
    sender: str = Field(default="storeaudit <storeaudit@localhost>", alias="from")
    to: list[str] = Field(default_factory=list)
    attempts: int = Field(default=3, ge=1, le=10)
    retry_minutes: float = Field(default=5, gt=0, le=24 * 60)
    smtp: SmtpSettings | None = None

    @field_validator("dashboard_url")
    @classmethod
    def _dashboard(cls, v: str) -> str:
        return _http_url(v, "http://127.0.0.1:8600")

    @field_validator("sender", "to")
    @classmethod
    def _addresses(cls, v):
        for address in [v] if isinstance(v, str) else v:
            if "\n" in address or "\r" in address or "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return v

    @model_validator(mode="after")
    def _recipients(self) -> "EmailSettings":
        if self.smtp is not None and not self.to:
            raise ValueError("[email.smtp] is set but no one to send to: add "
                             "to = [\"you@example.com\"]")
        return self


def _rules_model() -> type[BaseModel]:
    """`[rules.<family>.<name>]` sections, one per registered rule, built from the registry so
    that adding a rule adds its settings here without touching this file."""
    families: dict[str, dict] = {}
    for r in RULES:
        families.setdefault(r.family, {})[r.name] = (r.settings, Field(default_factory=r.settings))
    fields = {
        family: (model, Field(default_factory=model))
        for family, model in (
            (family, create_model(f"{family.title()}Rules", __base__=_Strict, **rules))
            for family, rules in families.items()
        )
    }
    return create_model("RulesSettings", __base__=_Strict, **fields)


RulesSettings = _rules_model()


class Contract(_Strict):
    store: StoreSettings
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)  # type: ignore[valid-type]
    rules: RulesSettings = Field(default_factory=RulesSettings)  # type: ignore[valid-type]
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    penalties: PenaltySettings | None = None
    review: ReviewSettings = Field(default_factory=ReviewSettings)

    @model_validator(mode="after")
    def _late_means_something(self) -> "Contract":
        if self.penalties is None:
            return self
        for severity in SEVERITIES:
            clause = getattr(self.penalties.overdue, severity)
            if (clause is not None and clause.late == "unfixed"
                    and self.escalation.level(severity).fix_within_hours is None):
                raise ValueError(
                    f"[penalties.overdue.{severity}] charges for findings left unfixed, but "
                    f"[escalation.{severity}] sets no fix_within_hours: add one, or write "
                    f"late = \"unanswered\"")
        return self

    def rule_settings(self, rule_id: str) -> RuleSettings:
        family, name = rule_id.split(".", 1)
        return getattr(getattr(self.rules, family), name)

    # Set by load_contract: where the file was, so relative paths resolve beside it.
    path: Path | None = Field(default=None, exclude=True)

    def catalog_path(self) -> Path:
        base = self.path.parent if self.path else Path.cwd()
        return base / self.store.catalog

    def with_base_url(self, base_url: str) -> "Contract":
        """The same contract pointed at another address (the demo store's random port)."""
        store = self.store.model_copy(update={"base_url": base_url.rstrip("/"), "origins": []})
        return self.model_copy(update={"store": StoreSettings.model_validate(store.model_dump())})

    def crawl_config(self) -> CrawlConfig:
        # The contract's own selectors first, then the platform's, then the generic ones; a
        # pattern left at the generic default takes the platform's.
        store, pages = self.store, platform_pages(self.store.platform)
        given = store.selectors.model_dump(exclude_none=True)
        defaults = platform_selectors(store.platform, Selectors.defaults())
        selectors = Selectors(**{**defaults.__dict__, **given})
        generic = StoreSettings.model_fields
        return CrawlConfig(
            base_url=store.base_url,
            origins=list(store.origins),
            sitemap_url=store.sitemap,
            urls=list(store.urls),
            listing_pattern=pages.listing_pattern if pages.listing_pattern and
            store.listing_pattern == generic["listing_pattern"].default else store.listing_pattern,
            category_pattern=pages.category_pattern if pages.category_pattern and
            store.category_pattern == generic["category_pattern"].default
            else store.category_pattern,
            selectors=selectors,
            default_currency=self.store.currency,
            platform=self.store.platform,
            **{k.name: k.to_config(getattr(self.crawl, k.key)) for k in CONTRACT_KNOBS},
        )


_SAVE_AS_UTF8 = "save it as UTF-8 (in Notepad: Save As > Encoding: UTF-8)"


def load_contract(path: Path | str) -> Contract:
    """Read and check a contract file. Raises ContractError naming the file, line and key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(path, None, None, "file not found (run `storeaudit init` to write one)")
    except IsADirectoryError:
        raise ContractError(path, None, None, "the path is a folder, not a contract file") from None
    except OSError as e:
        raise ContractError(path, None, None, f"cannot be read ({e.strerror or e})") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ContractError(path, None, None, f"the file is UTF-16 text; {_SAVE_AS_UTF8}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ContractError(path, line, None, f"not UTF-8 text (byte 0x{raw[e.start]:02x}: "
                                              f"{e.reason}); {_SAVE_AS_UTF8}") from None
    return parse_contract(text, path)


def parse_contract(text: str, path: Path | str = "contract.toml") -> Contract:
    """Check a contract's text. Raises ContractError naming the file, line and key."""
    text = text.removeprefix("\ufeff")
    # CRLF is TOML; a lone CR (old Mac line ends) is not, but means the same to a person.
    text = re.sub(r"\r(?!\n)", "\n", text)
    if not text.strip():
        raise ContractError(path, None, None, "the file is empty: it needs at least a [store] "
                                              "section with name and base_url (run `storeaudit "
                                              "init` for a template)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        match = re.search(r"line (\d+)", str(e))
        line = int(match.group(1)) if match else len(text.splitlines()) or None
        raise ContractError(path, line, None, f"not valid TOML: {e}") from None
    refuse_dates(data, (), text, path)
    quoted = quoted_number(data, Contract)
    if quoted:
        raise ContractError(path, line_of_key(text, quoted), ".".join(quoted),
                            "should be a number (no quotes)")
    try:
        # Validated as JSON, strictly: TOML values have types, and `retries = true` or
        # `enabled = "no"` are mistakes to name, not values to coerce (true -> 1, "no" -> False).
        contract = Contract.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as e:
        raise contract_error(e, text, path, Contract) from None
    contract.path = Path(path)
    return contract
