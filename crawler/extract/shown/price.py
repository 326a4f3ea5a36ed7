"""The price a product block shows: the current price, not struck through, nearest the
title (a single price before a range, one whose class or id says "price" before one that
does not), and the list price, the struck or "was / RRP / 原价"-labelled one above it.

A line about something else than the price is not the price: instalments, savings,
shipping thresholds, per-unit prices, the cart. A price is struck through by its tag
(<del>, <s>), an inline style, a style sheet (the browser's STRUCK_MARK on a rendered page),
its class ("was-price", "old-price") or a label just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import STRUCK_MARK, block_with, shown_elements, skipped, \
    title_order, words
from crawler.prices import ParsedPrice, parse_price

_MAX_PRICE_TEXT = 60
_LIST_WORDS = {"was", "old", "compare", "compareat", "original", "orig", "list", "strike",
               "barre",
               "rrp", "uvp", "streichpreis", "statt", "antes", "anterior", "prima",
               "strikethrough", "crossed", "rrp", "uvp", "msrp", "before", "del", "striked"}
_PRICE_WORDS = re.compile(r"price|preis|prix|precio|prezzo|amount|money|cost|kakaku|jiage|"
                          r"num|sale|current|final|special|now", re.I)
_CURRENCY_MARK = re.compile(
    r"[¥￥$€£₩₹]|\b(?:USD|EUR|GBP|CNY|RMB|JPY|CAD|AUD|NZD|KWD|BHD|OMR|CHF|SEK|NOK|DKK|PLN|CZK|"
    r"HKD|SGD)\b|元|円|د\.ك|zł|Kč|\bkr\b", re.I)
# A line about something else than the price: instalments, savings, shipping, per unit.
_NOT_THE_PRICE = re.compile(
    r"[×x]\s*\d+\s*期|分期|/\s*(?:mo|month|月)\b|per\s+month|a\s+month|\bmonthly\b|installment|"
    r"instalment|\bsave\b|\bsparen\b|\bspare\b|économisez|\bahorr|risparmi|节省|省\s*[¥￥]|"
    r"\boff\b|shipping|versand|livraison|envío|spedizione|运费|包邮|\bdelivery\b|"
    r"/\s*\d*\s*(?:kg|g|l|ml|100\s*g|100\s*ml|m)\b|\bper\s+(?:kg|unit|100)|klarna|afterpay|"
    r"\bcart\b|购物车|\bfinanc|预估|需领券", re.I)
_LIST_LABELS = (
    r"(原价|市场价|吊牌价|划线价|参考价|定价|专柜价|通常価格|定価|参考価格|希望小売価格|\bwas\b|"
    r"\brrp\b|\buvp\b|\bstatt\b|\bmsrp\b|compare\s+at|list\s+price|regular\s+price|"
    r"prix\s+habituel|prix\s+barré|prix\s+conseillé|precio\s+habitual|precio\s+anterior|"
    r"\bantes\b|prezzo\s+di\s+listino|prezzo\s+consigliato|invece\s+di|streichpreis|"
    r"ursprünglich|ehemals|\bvorher\b)\s*[:：]?")
_LIST_LABEL = re.compile(_LIST_LABELS + r"\s*$", re.I)      # a label just before the price
_LIST_LABEL_FIRST = re.compile(r"^\s*" + _LIST_LABELS, re.I)  # "原价 ¥1,699.00" in one part
_STRUCK_STYLE = re.compile(r"line-through", re.I)

@dataclass
class _Candidate:
    order: int
    price: ParsedPrice
    struck: bool
    priced_name: bool  # its class, id or itemprop says it is a price


def _struck(el: Any, block: Any) -> bool:
    """Struck through: by its tag, its style, the browser's mark, its class ("was-price",
    "old-price"), a "was / RRP / 原价" label just before it, or all its digits being so."""
    digits = [d for d in el.iterdescendants() if isinstance(d.tag, str)
              and re.search(r"\d", d.text or "")]
    if digits and all(d.tag in ("del", "s", "strike") or d.get(STRUCK_MARK) is not None
                      for d in digits):
        return True
    node = el
    for _ in range(4):
        if node is None:
            break
        if (node.tag in ("del", "s", "strike") or node.get(STRUCK_MARK) is not None
                or _STRUCK_STYLE.search(node.get("style") or "")
                or words(node) & _LIST_WORDS):
            return True
        if node is block:
            break
        node = node.getparent()
    # A label just before it: "RRP £60", "原价 ¥299", "Prix habituel 39,99 $".
    prev, parent = el.getprevious(), el.getparent()
    before = f"{prev.text_content()} {prev.tail or ''}" if prev is not None else \
        (parent.text if parent is not None else "")
    return bool(_LIST_LABEL.search(" ".join((before or "").split())[-40:]))


def _candidates(block: Any, currency: str | None, keep: frozenset) -> list[_Candidate]:
    return [c for order, el in enumerate(shown_elements(block, keep))
            if (c := _candidate(el, order, block, currency)) is not None]


def _candidate(el: Any, order: int, block: Any, currency: str | None) -> _Candidate | None:
    """The element as a price of the listing's, or None: not a price, a line about something
    else (instalments, shipping, savings), or a box whose child holds the price itself."""
    text = collapse_text(element_text(el))
    if not text or len(text) > _MAX_PRICE_TEXT or not _CURRENCY_MARK.search(text):
        return None
    if any((t := collapse_text(element_text(c))) and len(t) <= _MAX_PRICE_TEXT
           and not _NOT_THE_PRICE.search(t) and _price_in(t, currency) is not None
           for c in el if isinstance(c.tag, str) and not skipped(c)):
        return None
    labelled_list = bool(_LIST_LABEL_FIRST.search(text))  # "UVP 2.199,00 € · Sie sparen …"
    struck = labelled_list or _struck(el, block)
    parent = el.getparent()
    if not labelled_list and _NOT_THE_PRICE.search(text):
        return None
    if not struck and parent is not None and _NOT_THE_PRICE.search(_own_text(parent)):
        return None  # "Free shipping over <b>$50</b>", "or 4 × <span>¥108</span>"
    parsed = _price_in(text, currency, first_only=labelled_list)
    if parsed is None or parsed.amount <= 0 and parsed.note != "free":
        return None
    named = bool(_PRICE_WORDS.search(f"{el.get('class') or ''} {el.get('id') or ''} "
                                     f"{el.get('itemprop') or ''}"))
    if parent is not None and not named:
        named = bool(_PRICE_WORDS.search(f"{parent.get('class') or ''} {parent.get('id') or ''}"))
    if not (parsed.note or "").startswith("range") and _in_a_range(el, currency):
        parsed = replace(parsed, note="range")  # "£12.00 – £20.00": one end of a range
    return _Candidate(order, parsed, struck, named)


def _own_text(el: Any) -> str:
    """The element's own words, without its children's: the line a price sits in."""
    return " ".join(" ".join([el.text or "", *(c.tail or "" for c in el)]).split())


_BESIDE_MARK = re.compile(r"(?:[¥￥$€£₩₹]|[A-Z]{3})\s*\d[\d.,'\s]*(?:万|萬|千|亿|億)?|"
                          r"\d[\d.,'\s]*\s*(?:[¥￥$€£₩₹元円]|zł|Kč|kr|د\.ك|[A-Z]{3})")
_RESIDUE = 20  # characters a price line may hold beside its prices: "到手价", "Our price:"


def _price_in(text: str, currency: str | None, first_only: bool = False
              ) -> ParsedPrice | None:
    """The price a short text shows: the whole text's reading when its amount sits next to
    a currency mark ("原价¥299 现价¥199", "¥99起"), else the first amount that does
    ("Aria 2 Replacement Shade $24.00" is $24.00, not 2); `first_only`: that one always."""
    beside = [parse_price(m.group(), currency) for m in _BESIDE_MARK.finditer(text)]
    beside = [b for b in beside if b is not None]
    if first_only:
        return beside[0] if beside else None
    if len(" ".join(_BESIDE_MARK.sub(" ", text).split())) > _RESIDUE:
        return None  # a sentence that mentions an amount ("补贴500元", "Aria 2 … $24")
    parsed = parse_price(text, currency)
    if parsed is not None and any(b.amount == parsed.amount for b in beside):
        return parsed
    return beside[0] if beside else None


def _in_a_range(el: Any, currency: str | None) -> bool:
    node = el.getparent()
    for _ in range(2):
        if node is None:
            return False
        text = collapse_text(element_text(node)) or ""
        if len(text) > _MAX_PRICE_TEXT:
            return False
        parsed = parse_price(text, currency)
        if parsed is not None and (parsed.note or "").startswith("range"):
            return True
        node = node.getparent()
    return False


def shown_prices(title_el: Any, currency: str | None, keep: frozenset
            ) -> tuple[ParsedPrice | None, Decimal | None]:
    found: list[_Candidate] = []

    def has_price(node: Any) -> bool:
        found[:] = _candidates(node, currency, keep)
        return any(not c.struck for c in found)

    block = block_with(title_el, has_price)
    if block is None:
        return None, None
    at = title_order(block, title_el, keep)
    current = [c for c in found if not c.struck]
    singles = [c for c in current if not (c.price.note or "").startswith("range")]
    pool = [c for c in (singles or current) if c.priced_name] or singles or current
    best = min(pool, key=lambda c: abs(c.order - at))
    price = best.price
    listed = price.list_price
    if listed is None:
        above = [c for c in found if c.struck and c.price.amount > price.amount]
        if above:
            listed = min(above, key=lambda c: abs(c.order - best.order)).price.amount
    if listed is not None and listed <= price.amount:
        listed = None
    return price, listed


