"""The stock a product block tells a shopper: its words ("仅剩3件", "ausverkauft", "In
stock (56 available)"), the strongest winning, the stock line's own before any other part,
and whether its add-to-cart button can be pressed."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import shown_elements, words
from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER
from crawler.stock import parse_stock

_BUY = re.compile(r"add\s+to\s+(?:cart|bag|basket)|buy\s+now|加入购物车|立即购买|立即抢购|"
                  r"in\s+den\s+warenkorb|ajouter\s+au\s+panier|añadir\s+al\s+carrito|"
                  r"aggiungi\s+al\s+carrello|カートに入れる|カートへ|購入する|في\s+السلة|"
                  r"أضف", re.I)
_MAX_STOCK_TEXT = 80
_STOCK_WORDS = {"stock", "availability", "inventory", "instock", "outofstock", "zaiko",
                "kucun", "disponibilite", "lagerbestand", "verfuegbarkeit"}
_OTHER_CHOICE = {"disabled", "unavailable", "soldout", "is-disabled"}
_STOCK_STRENGTH = (DISCONTINUED, OUT_OF_STOCK, LOW_STOCK, PRE_ORDER, IN_STOCK)


def shown_stock(block: Any, keep: frozenset) -> tuple[str | None, int | None, bool | None]:
    """(availability, stock count, whether add-to-cart can be pressed), each None when the
    block does not say."""
    can_buy = None
    for el in block.iter("button", "input", "a"):
        text = collapse_text(element_text(el) or el.get("value") or "") or ""
        if not _BUY.search(text) and not parse_stock(text)[0] == OUT_OF_STOCK:
            continue
        if any(words(a) & {"related", "recommend", "upsell", "rec", "more"}
               for a in el.iterancestors()):
            continue
        disabled = (el.get("disabled") is not None or el.get("aria-disabled") == "true"
                    or "disabled" in words(el))
        can_buy = not disabled and bool(_BUY.search(text)) if can_buy is None else can_buy
    # Each short part on its own (a long block would be cut short), the strongest word
    # winning: "有货" then "仅剩3件" is low stock; "宝贝已下架" on the button is the end.
    # The stock line itself ("stock", "availability" in its class) is surest; then any part.
    said: dict[str, int | None] = {}
    said_by_stock_line: dict[str, int | None] = {}
    for el in shown_elements(block, keep):
        if el.tag not in ("button", "input") and words(el) & _OTHER_CHOICE:
            continue  # a variant that cannot be chosen: "曜石黑（无货）" is not this one
        text = collapse_text(element_text(el))
        if not text or len(text) > _MAX_STOCK_TEXT or any(
                isinstance(d.tag, str) and words(d) & _OTHER_CHOICE for d in el.iterdescendants()):
            continue  # (a list of choices: its own parts are read one by one)
        availability, count = parse_stock(text)
        for seen in (said, said_by_stock_line) if words(el) & _STOCK_WORDS else (said,):
            if availability and seen.get(availability) is None:
                seen[availability] = count
    for seen in (said_by_stock_line, said):
        for availability in _STOCK_STRENGTH:
            if availability in seen:
                return availability, seen[availability], can_buy
    return None, None, can_buy
