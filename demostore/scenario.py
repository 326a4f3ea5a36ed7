"""Two weeks of what the operations agency does to the sample store, day by day.

Day 0 is the baseline (the catalog as `build_products` makes it). `state_on(day)` applies every
event of days 1..day in order. The events address fixed early SKUs (the catalog's anchor
listings and a few others below SH-0031), so they hold for every store size >= 60.

Timeline (default store):

  day 1   SH-0010 and SH-0013 renamed (add hot-search keywords 2026新款 / 包邮)
  day 2   JACKET_SKU price 299 -> 199 (cost 160: below 1.5 x cost while promoted)
  day 3   FORBIDDEN_TERM_SKU renamed to include 全网第一; SH-0022 renamed (adds 加厚)
  day 4   SOFA_SKU price 4999 -> 2999 (40 % under its reference price 4999), left so
  day 5   OUT_OF_STOCK_SKU (promoted) stock 40 -> 3 ("仅剩 3 件"); SH-0023 renamed (adds 保暖)
  day 6   INFRINGING_SKU gets a 4th gallery image: an altered copy (90 % size, JPEG q60) of the
          known infringing photo INFRINGING_ORIGINAL; SH-0030 renamed (adds 2026新款)
  day 7   OUT_OF_STOCK_SKU stock 3 -> 0 ("缺货"); LONG_TITLE_SKU renamed past 60 characters
  day 8   JACKET_SKU price back to 299; SH-0015 renamed (adds 2026新款 包邮); LONG_TITLE_SKU,
          its title still too long, left out of the sitemap, home and category pages (its
          page still answers): hidden from the audit, the agency hopes, to the end
  day 9   REMOVED_SKU removed (404, gone from the sitemap and its category page)
  day 10  FORBIDDEN_TERM_SKU renamed again without 全网第一 (the finding can resolve);
          SH-0024 renamed (adds 加厚 保暖)
  day 11  SH-0010 renamed a second time (adds 包邮); from 12:00 to 23:00 store time the
          promoted JACKET_SKU sells at 149, under its floor, and is back at 299 before the
          nightly: only a random check in the day can see it (a daytime event)
  day 12  SH-0027 renamed (adds 2026新款)
  day 13  nothing happens

12 title renames in all; every other listing keeps its title the whole fortnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .catalog import HOSTILE_TITLES, Product, build_products

DAYS = 14
START_DATE = date(2026, 11, 9)  # the calendar date of day 0 (a Monday)

# --- the listings the scenario acts upon ---------------------------------------------------
JACKET_SKU = "SH-0001"          # promoted down jacket, 299, cost 160, reference 299
SOFA_SKU = "SH-0002"            # Nordic Linen 3-Seater Sofa, reference 4999
INFRINGING_SKU = "SH-0003"      # tent listing that gets the infringing image
OUT_OF_STOCK_SKU = "SH-0004"    # promoted power bank whose stock runs down
REMOVED_SKU = "SH-0005"         # rice cooker, removed from the store
FORBIDDEN_TERM_SKU = "SH-0006"  # knife set whose title gains 全网第一, later fixed
LONG_TITLE_SKU = "SH-0007"      # camp chair whose title grows past 60 characters
RENAMED_TWICE_SKU = "SH-0010"
KEYWORD_RENAME_SKUS = ("SH-0010", "SH-0013", "SH-0022", "SH-0023", "SH-0030", "SH-0015",
                       "SH-0024", "SH-0027")

# --- the days things happen ------------------------------------------------------------------
JACKET_DROP_DAY = 2
JACKET_RESTORE_DAY = 8
SOFA_DISCOUNT_DAY = 4
LOW_STOCK_DAY = 5
OUT_OF_STOCK_DAY = 7
INFRINGING_DAY = 6
REMOVED_DAY = 9
AFTERNOON_DIP_DAY = 11
AFTERNOON_DIP_HOURS = (12, 23)   # store time, [from, until)
NIGHTLY_HOUR = 2                 # the nightly audit's hour: what "day N" shows by default
HIDDEN_SKU = LONG_TITLE_SKU
HIDDEN_DAY = 8
FORBIDDEN_TERM_DAY = 3
FORBIDDEN_TERM_FIXED_DAY = 10
LONG_TITLE_DAY = 7

# --- values -----------------------------------------------------------------------------------
JACKET_PRICE = Decimal("299.00")
JACKET_DROP_PRICE = Decimal("199.00")
JACKET_DIP_PRICE = Decimal("149.00")
JACKET_COST = Decimal("160.00")
SOFA_REFERENCE_PRICE = Decimal("4999.00")
SOFA_DISCOUNT_PRICE = Decimal("2999.00")
LOW_STOCK = 3
FORBIDDEN_TERM = "全网第一"
FORBIDDEN_TITLE = "山禾 全网第一 德式不锈钢刀具套装 7件套 家用厨房"
FORBIDDEN_FIXED_TITLE = "山禾 德式不锈钢刀具套装 7件套 家用厨房 包邮"
LONG_TITLE = ("Ultralight Folding Camp Chair 2026新款 包邮 户外折叠椅 便携月亮椅 钓鱼椅 "
              "沙滩靠背椅 超轻铝合金 承重150kg 露营野餐 送收纳袋")
HOT_KEYWORDS = ("2026新款", "加厚", "保暖", "包邮")
INFRINGING_ORIGINAL = "sunset_lake"        # name in images.infringing_originals()
INFRINGING_IMAGE_INDEX = 4
INFRINGING_IMAGE_PATH = f"/img/{INFRINGING_SKU}/{INFRINGING_IMAGE_INDEX}.jpg"
# Hostile titles (only with DemoStore(hostile_titles=True)); see catalog.HOSTILE_TITLES.
HOSTILE_IMG_SKU = "SH-0059"
HOSTILE_SCRIPT_SKU = "SH-0060"


@dataclass(frozen=True)
class Event:
    """One thing the agency does to one listing on one day.

    kind is one of "rename", "price", "stock", "image", "hide", "remove". `changes` are field
    assignments; `add_keywords` puts keywords into the title just after the brand; `add_image`
    appends a gallery image path. `hours` (store time, [from, until)): a daytime event, which
    the store shows only within those hours of its day and undoes after.
    """

    day: int
    sku: str
    kind: str
    description: str
    changes: tuple[tuple[str, Any], ...] = ()
    add_keywords: tuple[str, ...] = ()
    add_image: str | None = None
    hours: tuple[int, int] | None = None

    def shown_at(self, day: int, hour: int) -> bool:
        """Whether the store shows this event's change on `day` at `hour` (store time)."""
        if self.hours is None:
            return self.day <= day
        return self.day == day and self.hours[0] <= hour < self.hours[1]

    def apply(self, product: Product) -> None:
        for name, value in self.changes:
            setattr(product, name, value)
        if self.add_keywords:
            product.title = add_keywords(product.title, self.add_keywords)
        if self.add_image and self.add_image not in product.images:
            product.images.append(self.add_image)
            product.image_count = len(product.images)
        if self.kind == "remove":
            product.removed = True


def add_keywords(title: str, keywords: tuple[str, ...]) -> str:
    """Put keywords into a title right after the brand word (as agencies do), else in front."""
    words = " ".join(keywords)
    for brand in ("山禾 ", "Shanhe "):
        if title.startswith(brand):
            return f"{brand}{words} {title[len(brand):]}"
    return f"{words} {title}"


def _rename(day: int, sku: str, *keywords: str) -> Event:
    return Event(day, sku, "rename", f"title optimised: hot-search keyword(s) {' '.join(keywords)} added", add_keywords=keywords)


EVENTS: list[Event] = [
    _rename(1, "SH-0010", "2026新款"),
    _rename(1, "SH-0013", "包邮"),
    Event(JACKET_DROP_DAY, JACKET_SKU, "price",
          "promoted down jacket repriced ¥299 -> ¥199 (cost ¥160: below 1.5 x cost)",
          changes=(("price", JACKET_DROP_PRICE),)),
    Event(FORBIDDEN_TERM_DAY, FORBIDDEN_TERM_SKU, "rename",
          f"knife set renamed to {FORBIDDEN_TITLE!r}, with the absolute claim 全网第一",
          changes=(("title", FORBIDDEN_TITLE),)),
    _rename(3, "SH-0022", "加厚"),
    Event(SOFA_DISCOUNT_DAY, SOFA_SKU, "price",
          "sofa repriced ¥4,999 -> ¥2,999 (40% under its reference price, no written OK); stays so",
          changes=(("price", SOFA_DISCOUNT_PRICE), ("list_price", SOFA_REFERENCE_PRICE))),
    Event(LOW_STOCK_DAY, OUT_OF_STOCK_SKU, "stock",
          "promoted power bank down to 3 in stock (page shows 仅剩 3 件)",
          changes=(("stock", LOW_STOCK),)),
    _rename(5, "SH-0023", "保暖"),
    Event(INFRINGING_DAY, INFRINGING_SKU, "image",
          "tent gallery gains a 4th image: an altered copy (90% size, JPEG quality 60) of a known infringing photo",
          add_image=INFRINGING_IMAGE_PATH),
    _rename(6, "SH-0030", "2026新款"),
    Event(OUT_OF_STOCK_DAY, OUT_OF_STOCK_SKU, "stock",
          "promoted power bank out of stock (0), still badged as promoted",
          changes=(("stock", 0),)),
    Event(LONG_TITLE_DAY, LONG_TITLE_SKU, "rename",
          f"camp chair title stuffed with keywords: {len(LONG_TITLE)} characters (limit 60)",
          changes=(("title", LONG_TITLE),)),
    Event(JACKET_RESTORE_DAY, JACKET_SKU, "price",
          "down jacket back to ¥299",
          changes=(("price", JACKET_PRICE),)),
    _rename(8, "SH-0015", "2026新款", "包邮"),
    Event(HIDDEN_DAY, HIDDEN_SKU, "hide",
          "camp chair, its title still too long, left out of the sitemap, home and category "
          "pages; its page still answers", changes=(("hidden", True),)),
    Event(REMOVED_DAY, REMOVED_SKU, "remove",
          "rice cooker removed: its page answers 404, gone from the sitemap and its category page"),
    Event(FORBIDDEN_TERM_FIXED_DAY, FORBIDDEN_TERM_SKU, "rename",
          f"knife set renamed again without 全网第一: {FORBIDDEN_FIXED_TITLE!r}",
          changes=(("title", FORBIDDEN_FIXED_TITLE),)),
    _rename(10, "SH-0024", "加厚", "保暖"),
    _rename(11, "SH-0010", "包邮"),
    Event(AFTERNOON_DIP_DAY, JACKET_SKU, "price",
          f"from {AFTERNOON_DIP_HOURS[0]}:00 to {AFTERNOON_DIP_HOURS[1]}:00 the promoted down "
          "jacket sells at ¥149 (under its ¥240 floor), back to ¥299 before the nightly",
          changes=(("price", JACKET_DIP_PRICE),), hours=AFTERNOON_DIP_HOURS),
    _rename(12, "SH-0027", "2026新款"),
]


def date_of(day: int) -> date:
    return START_DATE + timedelta(days=day)


def events_on(day: int) -> list[Event]:
    return [e for e in EVENTS if e.day == day]


def events_until(day: int, hour: int = NIGHTLY_HOUR) -> list[Event]:
    """The events the store shows on `day` at `hour`, in order."""
    return [e for e in EVENTS if e.shown_at(day, hour)]


def daytime_events(day: int, hour: int) -> tuple[int, ...]:
    """Which daytime events (by index in EVENTS) are shown on `day` at `hour`: with the day,
    all that tells one moment of the store from another."""
    return tuple(i for i, e in enumerate(EVENTS) if e.hours and e.shown_at(day, hour))


def _check_day(day: int) -> int:
    if not 0 <= day < DAYS:
        raise ValueError(f"day must be in 0..{DAYS - 1}, got {day}")
    return day


@lru_cache(maxsize=64)
def _state(day: int, size: int, hostile_titles: bool,
           daytime: tuple[int, ...] = ()) -> tuple[Product, ...]:
    products = build_products(size)
    by_sku = {p.sku: p for p in products}
    for i, event in enumerate(EVENTS):
        if not (event.hours is None and event.day <= day) and i not in daytime:
            continue
        product = by_sku.get(event.sku)
        if product is not None:
            event.apply(product)
    if hostile_titles:
        for sku, title in HOSTILE_TITLES.items():
            if sku in by_sku:
                by_sku[sku].title = title
    return tuple(products)


def state_on(day: int, size: int = 60, hostile_titles: bool = False,
             hour: int = NIGHTLY_HOUR) -> list[Product]:
    """The listings as they are on `day` at `hour` (fresh copies; removed ones flagged
    removed=True)."""
    return [p.copy() for p in _state(_check_day(day), size, hostile_titles,
                                     daytime_events(day, hour))]


def shared_state(day: int, size: int = 60, hostile_titles: bool = False,
                 daytime: tuple[int, ...] = ()) -> tuple[Product, ...]:
    """Like state_on but shared and cached: for read-only use (the web app). Do not mutate.
    `daytime`: the daytime events shown (`daytime_events`)."""
    return _state(_check_day(day), size, hostile_titles, daytime)


def last_changed(sku: str, day: int) -> int | None:
    """The last day <= `day` on which an event touched `sku` (None: untouched since day 0)."""
    days = [e.day for e in EVENTS if e.sku == sku and e.day <= day]
    return max(days) if days else None
