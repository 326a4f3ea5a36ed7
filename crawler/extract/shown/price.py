"""The price a product block shows: the price to pay, and the old price beside it.

Every short part of the block that shows an amount beside a currency is a candidate, except
a line about something else (`vocabulary.NOT_THE_PRICE`: instalments, savings, shipping, unit
and tax-free prices, the cart, members' and coupon prices, deposits). A candidate is the old
price when it is struck through (<del>, <s>, an inline or style-sheet rule, the browser's
STRUCK_MARK), when its box's class says so ("was-price", "old-price", "originPrice"), or when
a label before it does ("RRP", "原价", "Prix barré"). "Regular price" makes it the old price
only when another price stands beside it.

The price to pay is then, among the others: a single price before one end of a range; one
whose box says it is the price to pay ("sale", "promo", "special", "final") before one that
only says "price", before any other; and among those the nearest the title. The old price is
the nearest struck one above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from decimal import Decimal
from typing import Any

from crawler.extract.shown.block import (STRUCK_MARK, block_with, shown_elements, shown_text,
                                         skipped, title_order, top_block, words)
from crawler.extract.shown.vocabulary import (CURRENCY_MARK, NOT_THE_PRICE, OLD_LABEL,
                                              OLD_LABEL_FIRST, OLD_WORDS, PAY_WORDS, PER_SOMETHING,
                                              PRICE_WORDS, REGULAR_LABEL, REGULAR_LABEL_FIRST,
                                              REGULAR_WORDS)
from crawler.prices import ParsedPrice, parse_price as _parse_price

# Prices are read again and again as the block is searched: the same text, the same answer
# (ParsedPrice cannot be changed).
parse_price = lru_cache(maxsize=8192)(_parse_price)
_MAX_PRICE_TEXT = 60
_DIGIT = re.compile(r"\d")
_STRUCK_STYLE = re.compile(r"line-through", re.I)
_STRUCK_TAGS = ("del", "s", "strike")
_INLINE = {"span", "em", "b", "strong", "i", "small", "sup", "sub", "a", "bdi", "abbr", "s",
           "del", "ins", "font", "u", "mark", "data"}
_OLD_DEPTH = 3
_BARE_AMOUNT = re.compile(r"\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?")
_CENTS_TEXT = re.compile(r"([€$£¥]?)\s*(\d{1,3})\s*([€$£¥]?)")
_CENTS = {"cents", "cent", "centavos", "decimal", "decimals", "fraction-cents", "minor"}  # the candidate and its boxes whose class may say it is the old price


@dataclass
class _Candidate:
    order: int
    price: ParsedPrice
    struck: bool    # the old price
    regular: bool   # labelled "regular price": the old price beside another, else the price
    rank: int       # 2: its box says it is the price to pay; 1: it says "price"; 0: neither
    boxes: frozenset = frozenset()  # the elements it sits in


def _label_before(el: Any) -> str:
    """The words just before the element: in its line ("RRP £30", "原价 ¥299"), or a short
    label of its own before its box (<dt>Regular price</dt><dd>…</dd>); not the line above."""
    node = el
    for _ in range(3):
        prev, parent = node.getprevious(), node.getparent()
        while prev is not None and not isinstance(prev.tag, str):  # a comment's tail is text
            if (prev.tail or "").strip():
                return " ".join(prev.tail.split())[-40:]
            prev = prev.getprevious()
        if prev is not None:
            text = " ".join(f"{prev.text_content()} {prev.tail or ''}".split())
            inline = isinstance(prev.tag, str) and prev.tag in _INLINE
            if inline or (len(text) <= 15 and not re.search(r"\d", text)) or (prev.tail or "").strip():
                return text[-40:] if inline or not (prev.tail or "").strip() else \
                    " ".join(prev.tail.split())[-40:]
            return ""
        if parent is None:
            return ""
        if (parent.text or "").strip():
            return " ".join(parent.text.split())[-40:]
        node = parent
    return ""


def _text_after(el: Any) -> str:
    """The words just after the element in its line: "/ 100 g", "/月", "with Klarna"."""
    parts = [el.tail or ""]
    for sibling in el.itersiblings():
        if not isinstance(sibling.tag, str) or sibling.tag not in _INLINE:
            break  # the next line
        if not skipped(sibling):
            parts.append(shown_text(sibling))
        parts.append(sibling.tail or "")
        if len("".join(parts)) > 20:
            break
    return " ".join("".join(parts).split())[:20]


def _struck(el: Any, block: Any) -> bool:
    """Struck through: by its tag, its style, a style sheet's mark, or all its digits being
    so; or its box's class says it is the old price."""
    digits = [d for d in el.iterdescendants() if isinstance(d.tag, str)
              and re.search(r"\d", d.text or "")]
    if digits and all(d.tag in _STRUCK_TAGS or d.get(STRUCK_MARK) is not None for d in digits):
        return True
    node = el
    for depth in range(4):
        if node is None:
            break
        if (node.tag in _STRUCK_TAGS or node.get(STRUCK_MARK) is not None
                or _STRUCK_STYLE.search(node.get("style") or "")
                or (depth < _OLD_DEPTH and words(node) & OLD_WORDS)):
            return True
        if node is block:
            break
        node = node.getparent()
    return False


def _rank(el: Any, block: Any) -> int:
    node, named = el, False
    for _ in range(3):
        if node is None:
            break
        found = words(node)
        if node.tag == "ins" or found & PAY_WORDS:
            return 2
        named = named or bool(PRICE_WORDS.search(" ".join(found))) \
            or bool(PRICE_WORDS.search(node.get("itemprop") or ""))
        if node is block:
            break
        node = node.getparent()
    return 1 if named else 0


def _candidates(block: Any, currency: str | None, keep: frozenset) -> list[_Candidate]:
    """Every price of the block, in document order. Only an element that writes a digit, or
    one of the two boxes around it, can be one: the others are not looked at."""
    near_digits: set[Any] = set()
    for text in block.xpath(".//text()[translate(., '0123456789', '') != .]"):
        el = text.getparent()
        if el is not None and text.is_tail:
            el = el.getparent()
        for _ in range(3):
            if el is None or el in near_digits:
                break
            near_digits.add(el)
            el = el.getparent()
    return [c for order, el in enumerate(shown_elements(block, keep)) if el in near_digits
            and (c := _candidate(el, order, block, currency)) is not None]


def _candidate(el: Any, order: int, block: Any, currency: str | None) -> _Candidate | None:
    """The element as a price of the listing's, or None: not a price, a line about something
    else, or a box whose child holds the price itself."""
    raw = el.text_content()  # a cheap first look: no digit, or far too long, is no price
    if not _DIGIT.search(raw) or len(raw) > 20 * _MAX_PRICE_TEXT \
            or len(" ".join(raw.split())) > 3 * _MAX_PRICE_TEXT:
        return None
    text = _price_text(el)
    if not text or len(text) > _MAX_PRICE_TEXT:
        return None
    bare = not CURRENCY_MARK.search(text)
    if bare and not (_BARE_AMOUNT.fullmatch(text) and PRICE_WORDS.search(" ".join(words(el)))
                     and re.search(r"\d", el.text or "") and not _is_cents(el, text)
                     and not words(el) & {"num", "count", "qty", "quantity"}):
        return None  # a bare number is a price only in a box that says so ("27<sup>49</sup>"
        # on a store that writes no € sign), in the store's currency
    if any((t := shown_text(c)) and len(t) <= _MAX_PRICE_TEXT and not _is_cents(c, t)
           and not NOT_THE_PRICE.search(t) and _price_in(t, currency) is not None
           for c in el if isinstance(c.tag, str) and not skipped(c)):
        return None
    before = _label_before(el)
    old_first = bool(OLD_LABEL_FIRST.search(text))  # "UVP 2.199,00 € · Sie sparen …"
    regular_first = not old_first and bool(REGULAR_LABEL_FIRST.search(text))
    struck = old_first or _struck(el, block) or bool(OLD_LABEL.search(before))
    if not old_first and NOT_THE_PRICE.search(text):
        return None
    parent = el.getparent()
    if not struck and (NOT_THE_PRICE.search(before) or PER_SOMETHING.search(_text_after(el))
                       or (parent is not None and NOT_THE_PRICE.search(_own_text(parent)))):
        return None  # "Free shipping over <b>$50</b>", "or 4 × <span>¥108</span>", "PLUS价",
        # "<span>$5.40</span>/100 g"
    parsed = parse_price(text, currency) if bare else \
        _price_in(text, currency, first_only=old_first or regular_first)
    if parsed is None or parsed.amount <= 0 and parsed.note != "free":
        return None
    if not (parsed.note or "").startswith("range") and _in_a_range(el, currency):
        parsed = replace(parsed, note="range")  # "£12.00 – £20.00": one end of a range
    regular = not struck and (regular_first or bool(REGULAR_LABEL.search(before))
                              or bool(words(el) & REGULAR_WORDS))
    return _Candidate(order, parsed, struck, regular, _rank(el, block),
                      frozenset(el.iterancestors()))


def _is_cents(child: Any, text: str) -> bool:
    """The cents of a price written in two parts: "79<sup>€99</sup>"."""
    before = (child.getprevious().tail if child.getprevious() is not None
              else child.getparent().text) or ""
    if child.getprevious() is not None and not before.strip():
        before = shown_text(child.getprevious())
    return bool(_CENTS_TEXT.fullmatch(text)) and before.rstrip()[-1:].isdigit() and (
        child.tag == "sup" or bool(words(child) & _CENTS))


def _price_text(el: Any) -> str:
    """The element's shown text without its parts about something else ("¥129.90
    <span>(¥4.33/袋)</span>" reads "¥129.90")."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and not skipped(child):
            inner = shown_text(child)
            before = "".join(parts).rstrip()
            cents = _CENTS_TEXT.fullmatch(inner)
            if cents and before[-1:].isdigit() and (child.tag == "sup" or words(child) & _CENTS):
                # "$2,499<sup>50</sup>" is 2,499.50; "79<sup>€99</sup>" is €79.99
                parts = [before, "." + cents.group(2) + (cents.group(1) or cents.group(3))]
            elif not (len(inner) <= _MAX_PRICE_TEXT and NOT_THE_PRICE.search(inner)):
                parts.append(f" {inner} ")
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _own_text(el: Any) -> str:
    """The element's own words, without its children's: the line a price sits in."""
    return " ".join(" ".join([el.text or "", *(c.tail or "" for c in el)]).split())


_BESIDE_MARK = re.compile(
    r"(?:[¥￥$€£₩₹₫₱฿₺₪₽₴]|[A-Z]{1,3}\$|[A-Z]{3}|R\$|Rp|RM|KD|BD|zł)\s*\d[\d.,'\s]*(?:万|萬|千|亿|億)?|"
    r"\d[\d.,'\s]*\s*(?:[¥￥$€£₩₹₫₱฿₺₪₽₴元円원]|zł|Kč|kr|Ft|lei|лв|د\.ك|د\.إ|ر\.س|د\.ب|"
    r"[A-Z]{3})")
_RESIDUE = 20  # characters a price line may hold beside its prices: "到手价", "Our price:"


@lru_cache(maxsize=8192)
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
    return beside[0] if beside else parsed if parsed is not None and \
        CURRENCY_MARK.search(text) else None


def _in_a_range(el: Any, currency: str | None) -> bool:
    node = el.getparent()
    for _ in range(2):
        if node is None:
            return False
        text = shown_text(node)
        if len(text) > _MAX_PRICE_TEXT:
            return False
        parsed = parse_price(text, currency)
        if parsed is not None and (parsed.note or "").startswith("range"):
            return True
        node = node.getparent()
    return False


def shown_prices(title_el: Any, currency: str | None, keep: frozenset
                 ) -> tuple[ParsedPrice | None, Decimal | None]:
    """(the price to pay, the old price) of the block nearest the title that shows a price
    not struck through; (None, None) when none does."""
    # Every candidate of the title's outermost box, read once; each nearer box has those
    # that sit in it, in the same order.
    top = top_block(title_el)
    if top is None:
        return None, None
    every = _candidates(top, currency, keep)
    found: list[_Candidate] = []

    def has_price(node: Any) -> bool:
        found[:] = [c for c in every if node in c.boxes]
        return any(not c.struck for c in found)

    block = block_with(title_el, has_price)
    if block is None:
        return None, None
    at = title_order(top, title_el, keep)
    current = [c for c in found if not c.struck and not c.regular] or \
        [c for c in found if not c.struck]
    singles = [c for c in current if not (c.price.note or "").startswith("range")]
    best = max(singles or current, key=lambda c: (c.rank, -abs(c.order - at)))
    price = best.price
    listed = price.list_price
    if listed is None:
        above = [c for c in found if (c.struck or c.regular) and c is not best
                 and c.price.amount > price.amount]
        if above:
            listed = min(above, key=lambda c: (not c.struck, abs(c.order - best.order))
                         ).price.amount
    if listed is not None and listed <= price.amount:
        listed = None
    return price, listed


def empty_price_slots(block: Any, keep: frozenset) -> bool:
    """The block holds a shown price box with nothing in it yet: its script fills it in
    (a variation's price, a price fetched after the page), so the page must be rendered."""
    for el in shown_elements(block, keep):
        if el.tag in _STRUCK_TAGS or el.get(STRUCK_MARK) is not None:
            continue
        found = words(el)
        if not PRICE_WORDS.search(" ".join(found)) or found & (OLD_WORDS | REGULAR_WORDS):
            continue
        if not shown_text(el) and el.find(".//img") is None and not el.get("content"):
            return True
    return False


__all__ = ["empty_price_slots", "shown_prices"]
