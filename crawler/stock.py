"""Stock as a listing page shows it: an availability constant and, when the page says, a count.

`parse_stock` reads visible text ("缺货", "仅剩 3 件", "库存 23 件", "Only 3 left", "Sold out");
`normalize_availability` reads machine values (schema.org URLs, OpenGraph's "instock"/"oos",
a `data-availability` attribute) and falls back to `parse_stock` for free text.

Decisions: "BackOrder"/"PreSale" count as PRE_ORDER (orderable, not on the shelf);
"Discontinued"/"已下架" is DISCONTINUED; a count of 0 ("库存 0 件") is OUT_OF_STOCK.
"""

from __future__ import annotations

import re
import unicodedata

from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER

__all__ = ["parse_stock", "normalize_availability"]

_MAX_TEXT = 500

_OUT = re.compile(
    r"(缺货|无货|没货|没有货|暂无现货|无现货|已?售罄|已?售完|已?卖完|已抢光|抢光了|暂时无货|"
    r"品切れ|在庫切れ|품절|"
    r"\bout[\s-]*of[\s-]*stock\b|\bsold[\s-]*out\b|\bnot\s+in\s+stock\b|\bno\s+stock\b|"
    r"\bunavailable\b|\bnot\s+available\b|\bausverkauft\b|\bagotado\b|\bépuisé\b|\brupture\b|"
    # restocking, notify-me, and the other main European languages
    r"补货中|到货通知|缺货登记|\bback\s+in\s+stock\s+soon\b|\bnotify\s+me\s+when\s+available\b|"
    r"\besaurit[oa]\b|\besgotad[oa]\b|\buitverkocht\b|\bwyprzedan[ey]\b|\bslutsåld\b|"
    r"\butsolgt\b|\budsolgt\b|\bloppuunmyyty\b|\bnicht\s+(?:mehr\s+)?(?:verfügbar|lieferbar|auf\s+lager)\b|"
    r"\bnon\s+disponibile\b|\bno\s+disponible\b|\bindisponible\b|\bnon\s+disponible\b|"
    r"\bniedostępn[ya]\b|\bnedostupné\b|\btükendi\b|нет\s+в\s+наличии|распродан[оа]|在庫なし)",
    re.IGNORECASE,
)
_DISCONTINUED = re.compile(r"(已下架|下架|停产|\bdiscontinued\b|\bno longer available\b)", re.IGNORECASE)
_PRE = re.compile(
    r"(预售|预订|预定|预约(?:购买|抢购|中)|立即预约|可预约|\bpre[\s-]?order\b|\bpre[\s-]?sale\b|\bback[\s-]?order|\bcoming soon\b|予約)",
    re.IGNORECASE,
)
# "仅剩 3 件", "只剩3件", "Only 3 left", "Hurry, 2 left!", "最后 1 件"
_LOW_COUNT = re.compile(
    r"(?:仅剩|只剩|仅余|只余|最后|仅有|只有)\s*(\d+)|\bonly\s+(\d+)\s+(?:\w+\s+)?left\b|\b(\d+)\s+left\b"
    r"|\bplus\s+que\s+(\d+)\b|\bnur\s+noch\s+(\d+)\b|\bs[oó]lo\s+quedan\s+(\d+)\b"
    r"|\bsolo\s+(\d+)\s+disponibil[ei]\b|\bnog\s+maar\s+(\d+)\b",
    re.IGNORECASE,
)
_LOW = re.compile(r"(仅剩|只剩|库存不足|库存紧张|即将售罄|少量库存|\blow\s+stock\b|\blimited\s+stock\b|\balmost\s+gone\b|残りわずか)", re.IGNORECASE)
# "库存 23 件", "库存：23", "剩余 23 件", "23 in stock", "23 available", "In stock (23)"
_COUNT = re.compile(
    r"(?:库存|剩余|现货|有货|在庫)\s*[:：]?\s*(\d+)|(\d+)\s*(?:件|个|台|pcs?\b|items?\b|units?\b)?\s*(?:in\s+stock|available)\b"
    r"|\bin\s+stock\b\s*[(:：]?\s*(\d+)|\bstock\s*[:：]\s*(\d+)",
    re.IGNORECASE,
)
_IN = re.compile(r"(有货|现货|有库存|库存充足|在售|可购买|在庫あり|\bin[\s-]*stock\b|\bavailable\b|\binstock\b|"
                 r"\bauf\s+lager\b|\ben\s+stock\b|\bdisponible\b|\bdisponibile\b|\bin\s+magazzino\b|"
                 r"\bop\s+voorraad\b|\bpå\s+lager\b|\bem\s+estoque\b|\bw\s+magazynie\b|в\s+наличии)",
                 re.IGNORECASE)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[: _MAX_TEXT * 4])
    return " ".join(text.split())[:_MAX_TEXT]


def _first_int(match: re.Match[str]) -> int | None:
    for group in match.groups():
        if group is not None:
            try:
                return int(group)
            except ValueError:
                return None
    return None


def parse_stock(text: str | None) -> tuple[str | None, int | None]:
    """(availability, count) from a stock text; (None, None) when the text says nothing known.

    Availability is one of crawler.snapshot's IN_STOCK, OUT_OF_STOCK, LOW_STOCK, PRE_ORDER,
    DISCONTINUED. The count is what the text states, else None ("有货" -> (IN_STOCK, None));
    out of stock is always count 0.
    """
    if not isinstance(text, str):
        return None, None
    text = _clean(text)
    if not text:
        return None, None
    if _OUT.search(text):
        return OUT_OF_STOCK, 0
    if _DISCONTINUED.search(text):
        return DISCONTINUED, None
    if _PRE.search(text):
        return PRE_ORDER, None
    low = _LOW_COUNT.search(text)
    if low:
        count = _first_int(low)
        if count == 0:
            return OUT_OF_STOCK, 0
        return LOW_STOCK, count
    if _LOW.search(text):
        return LOW_STOCK, None
    counted = _COUNT.search(text)
    if counted:
        count = _first_int(counted)
        if count == 0:
            return OUT_OF_STOCK, 0
        return IN_STOCK, count
    if _IN.search(text):
        return IN_STOCK, None
    return None, None


# schema.org ItemAvailability names (lower-cased) and OpenGraph's product:availability values.
_MACHINE = {
    "instock": IN_STOCK,
    "in stock": IN_STOCK,
    "in_stock": IN_STOCK,
    "instoreonly": IN_STOCK,
    "onlineonly": IN_STOCK,
    "available": IN_STOCK,
    "available for order": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "out of stock": OUT_OF_STOCK,
    "out_of_stock": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "sold out": OUT_OF_STOCK,
    "sold_out": OUT_OF_STOCK,
    "unavailable": OUT_OF_STOCK,
    "limitedavailability": LOW_STOCK,
    "limited availability": LOW_STOCK,
    "low_stock": LOW_STOCK,
    "lowstock": LOW_STOCK,
    "low stock": LOW_STOCK,
    "preorder": PRE_ORDER,
    "pre-order": PRE_ORDER,
    "pre order": PRE_ORDER,
    "pre_order": PRE_ORDER,
    "presale": PRE_ORDER,
    "backorder": PRE_ORDER,
    "back order": PRE_ORDER,
    "discontinued": DISCONTINUED,
}


def normalize_availability(value: object) -> str | None:
    """An availability constant from a machine value, or None when it is not one we know.

    Accepts "https://schema.org/InStock", "http://schema.org/OutOfStock", "schema:SoldOut",
    "LimitedAvailability", OpenGraph's "instock"/"oos"/"preorder", our own constants, and
    free text such as "缺货" (read with `parse_stock`). A list gives its first known value.
    """
    if isinstance(value, (list, tuple)):
        for item in value:
            found = normalize_availability(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return normalize_availability(value.get("@id") or value.get("name") or value.get("@value"))
    if not isinstance(value, str):
        return None
    raw = _clean(value)
    if not raw:
        return None
    name = raw.strip().rstrip("/")
    # "https://schema.org/InStock", "schema:InStock", "http://schema.org/ItemAvailability/InStock"
    name = re.split(r"[/:#]", name)[-1].strip().lower()
    if name in _MACHINE:
        return _MACHINE[name]
    lowered = raw.lower()
    if lowered in _MACHINE:
        return _MACHINE[lowered]
    return parse_stock(raw)[0]
