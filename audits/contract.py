"""The contract file (`contract.toml`): what the store is and how to crawl it.

Validated with pydantic; a mistake is refused with the file, the line and the key at fault,
before anything is written. Unknown keys are mistakes too: a misspelt setting silently
falling back to its default is how audits go wrong unnoticed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator,
                      model_validator)

from crawler.crawl import CrawlConfig
from crawler.extract import Selectors

from .rules import RULES, RuleSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SelectorSettings(_Strict):
    """CSS selectors for stores whose pages carry no structured data (all optional)."""

    title: str | None = None
    price: str | None = None
    list_price: str | None = None
    stock: str | None = None
    images: str | None = None
    sku: str | None = None
    promoted: str | None = None
    card: str | None = None


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
    selectors: SelectorSettings = Field(default_factory=SelectorSettings)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://shop.example.com")
        return v.rstrip("/")

    @field_validator("origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example.com")
            out.append(f"{parts.scheme}://{parts.netloc}".lower())
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
            parts = urlsplit(self.base_url)
            self.origins = [f"{parts.scheme}://{parts.netloc}".lower()]
        return self


class CrawlSettings(_Strict):
    concurrency: int = Field(default=4, ge=1, le=32)
    page_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    retries: int = Field(default=1, ge=0, le=5)
    max_pages: int = Field(default=5000, ge=1)


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
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)  # type: ignore[valid-type]

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
        given = self.store.selectors.model_dump(exclude_none=True)
        defaults = Selectors.defaults()
        selectors = Selectors(**{**defaults.__dict__, **given})
        return CrawlConfig(
            base_url=self.store.base_url,
            origins=list(self.store.origins),
            sitemap_url=self.store.sitemap,
            urls=list(self.store.urls),
            listing_pattern=self.store.listing_pattern,
            category_pattern=self.store.category_pattern,
            selectors=selectors,
            default_currency=self.store.currency,
            concurrency=self.crawl.concurrency,
            page_timeout_s=self.crawl.page_timeout_seconds,
            retries=self.crawl.retries,
            max_pages=self.crawl.max_pages,
        )


class ContractError(ValueError):
    """A contract file mistake, named by file, line and key."""

    def __init__(self, path: Path | str, line: int | None, key: str | None, problem: str):
        self.path, self.line, self.key, self.problem = str(path), line, key, problem
        where = self.path + (f", line {line}" if line else "") + (f", key '{key}'" if key else "")
        super().__init__(f"{where}: {problem}")


def load_contract(path: Path | str) -> Contract:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(path, None, None, "file not found (run `storeaudit init` to write one)")
    except UnicodeDecodeError as e:
        raise ContractError(path, None, None, f"not UTF-8 text ({e.reason} at byte {e.start})")
    return parse_contract(text, path)


def parse_contract(text: str, path: Path | str = "contract.toml") -> Contract:
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        match = re.search(r"line (\d+)", str(e))
        line = int(match.group(1)) if match else len(text.splitlines()) or None
        raise ContractError(path, line, None, f"not valid TOML: {e}") from None
    try:
        contract = Contract.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = tuple(str(p) for p in first["loc"] if not isinstance(p, int))
        key = ".".join(loc) or None
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against `storeaudit init`'s template)"
        elif first["type"] == "missing":
            msg = "required key is missing"
        raise ContractError(path, line_of_key(text, loc), key, msg) from None
    contract.path = Path(path)
    return contract


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def line_of_key(text: str, loc: tuple[str, ...]) -> int | None:
    """The line where a dotted key is set, or its nearest enclosing table header."""
    if not loc:
        return None
    best: tuple[int, int] | None = None  # (depth matched, line)
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = tuple(_unquote(p) for p in header.group(1).split("."))
            depth = _prefix_depth(table, loc)
            if depth == len(table) and (best is None or depth > best[0]):
                best = (depth, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            key = table + tuple(_unquote(p) for p in assign.group(1).split("."))
            depth = _prefix_depth(key, loc)
            if depth == len(key) and (best is None or depth > best[0]):
                best = (depth, number)
    return best[1] if best else None


def _unquote(part: str) -> str:
    return part.strip().strip("\"'")


def _prefix_depth(key: tuple[str, ...], loc: tuple[str, ...]) -> int:
    depth = 0
    for a, b in zip(key, loc):
        if a != b:
            break
        depth += 1
    return depth
