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
    r"beli\s+sekarang|\+\s*keranjang|tambah\s+ke\s+troli|ซื้อเลย|หยิบใส่รถเข็น|เพิ่มลงรถเข็น|"
    r"ใส่ตะกร้า|sepete\s+ekle|hemen\s+al|læg\s+i\s+kurv|legg\s+i\s+handlekurv|"
    r"lisää\s+ostoskoriin|do\s+košíku|kosárba|adaugă\s+în\s+coș|в\s+корзину|"
    r"προσθήκη\s+στο\s+καλάθι|הוסף\s+לסל|agregar\s+al\s+carrito|in\s+den\s+einkaufswagen|"
    r"購入手続き",
    re.I)
_MAX_STOCK_TEXT = 80
_STOCK_WORDS = {"stock", "availability", "inventory", "instock", "outofstock", "zaiko",
                "kucun", "disponibilite", "lagerbestand", "verfuegbarkeit", "quantity",
                "delivery", "lieferzeit", "levertijd", "leverans", "status"}
_OTHER_CHOICE = ("disabled", "unavailable", "soldout", "notavailable", "outofstock",
                 "esaurit", "agotad")
_CHOSEN = {"selected", "active", "checked", "current", "chosen", "isselected", "isactive",
           "on"}
# Boxes that are one of a list of choices (a size, a colour, a variant).
_CHOICE_WORDS = {"option", "options", "swatch", "swatches", "sku", "variant", "variants",
                 "size", "sizes", "color", "colour", "colors", "item", "items", "choice",
                 "value", "values", "chip", "chips", "prop", "attr", "attribute", "pill",
                 "twister", "selector", "selection"}
_BADGE_WORDS = {"badge", "badges", "ribbon", "flag", "flags", "sticker", "stickers", "tag",
                "tags", "label", "labels"}
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


def _writes(el: Any) -> bool:
    """The element writes words of its own (a box of boxes says nothing its parts do not;
    "仅剩<em>3</em>件" is read whole from the element that writes "仅剩")."""
    return bool((el.text or "").strip()) or any((c.tail or "").strip() for c in el) \
        or el.tag in ("input",)


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
    kind = words(el) & _CHOICE_WORDS
    return any(s is not el and s.tag == el.tag and _chosen(s)
               and (el.tag in ("li", "label") or kind & words(s)) for s in parent)


def shown_stock(block: Any, keep: frozenset, title_el: Any
                ) -> tuple[str | None, int | None, bool | None, bool]:
    """(availability, stock count, whether add-to-cart can be pressed, whether only a badge
    said so), each None when the block does not say. Each short part is read on its own, the strongest word winning
    ("有货" then "仅剩3件" is low stock), in tiers: the stock line's own words ("stock",
    "availability" in its class), then what the buttons say ("Pre-order", "Sold out",
    "Notify me"), then any other part, then badges (a theme prints a "Sold out" badge on
    every page and shows it only on some: the weakest word)."""
    tiers: list[dict[str, int | None]] = [{}, {}, {}, {}]
    choices: dict[Any, bool] = {}

    def other_choice(el: Any) -> bool:
        if el not in choices:
            choices[el] = _other_choice(el)
        return choices[el]
    line, buttons, text_tier, badges = range(4)

    def note(availability: str | None, count: int | None, tier: int) -> None:
        if availability and tiers[tier].get(availability) is None:
            tiers[tier][availability] = count

    can_buy = None
    for el in block.iter("button", "input", "a"):
        if el.tag == "a" and el.get("role") != "button" and not (
                words(el) | words(el.getparent())) & _BUTTON_WORDS:
            continue  # a link, not a button
        if el.tag == "input" and (el.get("type") or "").lower() not in ("submit", "button"):
            continue
        text = collapse_text(element_text(el) or el.get("value") or "") or ""
        if not text or len(text) > _MAX_STOCK_TEXT or in_another_part(el) or hidden(el) \
                or any(other_choice(a) for a in _up_to(el, block)):
            continue
        disabled = (el.get("disabled") is not None or el.get("aria-disabled") == "true"
                    or "disabled" in words(el))
        availability, count = parse_stock(text)
        if _BUY.search(text) and availability not in _NOT_BUYABLE:
            can_buy = bool(can_buy) or not disabled
        elif availability in _NOT_BUYABLE:
            note(availability, count, buttons)
    for el in shown_elements(block, keep):
        if el is title_el or not _writes(el) or any(other_choice(a) for a in _up_to(el, block)):
            continue
        if len(el.text_content()) > 10 * _MAX_STOCK_TEXT:
            continue
        text = collapse_text(element_text(el))
        if not text or len(text) > _MAX_STOCK_TEXT or any(
                isinstance(d.tag, str) and (other_choice(d) or words(d) & _BADGE_WORDS)
                for d in el.iterdescendants()):
            continue  # (a list of choices, a box with a badge: its parts are read one by one)
        availability, count = parse_stock(text)
        found = words(el)
        note(availability, count, badges if found & _BADGE_WORDS else
             line if found & _STOCK_WORDS else text_tier)
    if any(DISCONTINUED in tier for tier in tiers[:3]):
        return DISCONTINUED, None, can_buy, False  # taken off sale: what stock is left says 0
    for tier, seen in enumerate(tiers):
        for availability in _STOCK_STRENGTH:
            if availability in seen:
                return availability, seen[availability], can_buy, tier == badges
    return None, None, can_buy, False
