"""The stock a product block tells a shopper: its words ("仅剩3件", "ausverkauft", "In
stock (56 available)"), the strongest winning, the stock line's own before any other part,
and whether its add-to-cart button can be pressed."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import hidden, in_another_part, shown_elements, words
from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER
from crawler.stock import parse_stock

_BUY = re.compile(
    r"add\s+to\s+(?:cart|bag|basket|trolley)|buy\s+(?:it\s+)?now|\bpurchase\b|"
    r"加入购物[车袋]|加入購物[車袋]|立即购买|立即購買|立即抢购|马上抢|去购买|发起拼单|單獨購買|单独购买|"
    r"in\s+den\s+warenkorb|jetzt\s+kaufen|ajouter\s+au\s+panier|\bacheter\b|"
    r"añadir\s+al\s+carrito|\bcomprar\b|aggiungi\s+al\s+carrello|\bacquista\b|"
    r"in\s+(?:de\s+)?winkelwagen|toevoegen\s+aan|dodaj\s+do\s+koszyka|kup\s+teraz|"
    r"lägg\s+i\s+varukorgen|\bköp\b|adicionar\s+ao\s+carrinho|"
    r"カートに入れる|カートへ|購入する|今すぐ購入|장바구니|바로\s*구매|구매하기|"
    r"أضف\s+إلى\s+السلة|في\s+السلة|اشتر|thêm\s+vào\s+giỏ|mua\s+ngay|masukkan\s+keranjang|"
    r"beli\s+sekarang",
    re.I)
_MAX_STOCK_TEXT = 80
_STOCK_WORDS = {"stock", "availability", "inventory", "instock", "outofstock", "zaiko",
                "kucun", "disponibilite", "lagerbestand", "verfuegbarkeit", "quantity",
                "delivery", "lieferzeit", "levertijd", "leverans", "status"}
_OTHER_CHOICE = ("disabled", "unavailable", "soldout", "notavailable", "outofstock",
                 "esaurit", "agotad")
_CHOSEN = {"selected", "active", "checked", "current", "chosen", "isselected", "isactive",
           "on"}
_BUTTON_WORDS = {"btn", "button", "cart", "buy", "notify", "addtocart", "purchase", "order",
                 "action", "actions"}
_STOCK_STRENGTH = (DISCONTINUED, OUT_OF_STOCK, LOW_STOCK, PRE_ORDER, IN_STOCK)
_NOT_BUYABLE = (OUT_OF_STOCK, PRE_ORDER, DISCONTINUED)


def _other_choice(el: Any) -> bool:
    """A variant that cannot be chosen ("曜石黑（无货）" greyed out): not this listing's. (An
    icon without words, "product-unavailable", is not a choice.)"""
    if el.tag in ("button", "input") or words(el) & (_BUTTON_WORDS | _STOCK_WORDS):
        return False  # a button, or the stock line: what it says is the listing's
    parent = el.getparent()
    in_a_list = parent is not None and sum(1 for s in parent if s.tag == el.tag) > 1
    return (in_a_list and (el.get("aria-disabled") == "true" or any(
        c in w for w in words(el) for c in _OTHER_CHOICE)) and bool(
        re.search(r"\w", element_text(el)))) or _not_chosen(el)


def _up_to(el: Any, block: Any):
    """The element and its boxes up to (not including) the block."""
    while el is not None and el is not block:
        yield el
        el = el.getparent()


def _chosen(el: Any) -> bool:
    return (bool(words(el) & _CHOSEN) or el.get("aria-checked") == "true"
            or el.get("aria-selected") == "true" or el.get("aria-current") in ("true", "page")
            or any(i.tag == "input" and i.get("checked") is not None
                   for i in (*el, *(g for c in el for g in c))))


def _not_chosen(el: Any) -> bool:
    """One of a list of choices (sizes, colours) beside the chosen one: what it says of its
    stock ("L 仅剩2件") is not the listing's."""
    parent = el.getparent()
    if parent is None or el.tag not in ("li", "label", "a", "span", "div", "button") \
            or _chosen(el):
        return False
    kind = words(el) - _CHOSEN
    return any(s is not el and s.tag == el.tag and _chosen(s)
               and (el.tag in ("li", "label") or kind & (words(s) - _CHOSEN)) for s in parent)


def shown_stock(block: Any, keep: frozenset, title_el: Any
                ) -> tuple[str | None, int | None, bool | None]:
    """(availability, stock count, whether add-to-cart can be pressed), each None when the
    block does not say. Each short part is read on its own, the strongest word winning
    ("有货" then "仅剩3件" is low stock), the stock line's own ("stock", "availability" in its
    class) before any other part's; the buttons say "Pre-order", "Sold out", "Notify me"."""
    said: dict[str, int | None] = {}
    by_stock_line: dict[str, int | None] = {}

    def note(availability: str | None, count: int | None, line: bool) -> None:
        for seen in (said, by_stock_line) if line else (said,):
            if availability and seen.get(availability) is None:
                seen[availability] = count

    can_buy = None
    for el in block.iter("button", "input", "a"):
        if in_another_part(el) or hidden(el) or any(_other_choice(a) for a in _up_to(el, block)):
            continue
        if el.tag == "a" and el.get("role") != "button" and not (
                words(el) | words(el.getparent())) & _BUTTON_WORDS:
            continue  # a link, not a button
        text = collapse_text(element_text(el) or el.get("value") or "") or ""
        if not text or len(text) > _MAX_STOCK_TEXT:
            continue
        disabled = (el.get("disabled") is not None or el.get("aria-disabled") == "true"
                    or "disabled" in words(el))
        availability, count = parse_stock(text)
        if _BUY.search(text) and availability not in _NOT_BUYABLE:
            can_buy = bool(can_buy) or not disabled
        elif availability in _NOT_BUYABLE:
            note(availability, count, False)
    for el in shown_elements(block, keep):
        if el is title_el or any(_other_choice(a) for a in _up_to(el, block)):
            continue
        text = collapse_text(element_text(el))
        if not text or len(text) > _MAX_STOCK_TEXT or any(
                isinstance(d.tag, str) and _other_choice(d) for d in el.iterdescendants()):
            continue  # (a list of choices: its own parts are read one by one)
        availability, count = parse_stock(text)
        note(availability, count, bool(words(el) & _STOCK_WORDS))
    if DISCONTINUED in said:  # taken off sale: whatever stock line is left says 0
        return DISCONTINUED, None, can_buy
    for seen in (by_stock_line, said):
        for availability in _STOCK_STRENGTH:
            if availability in seen:
                return availability, seen[availability], can_buy
    return None, None, can_buy
