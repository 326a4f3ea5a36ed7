"""`Found`, the values one source gave, and reading them out of structured data.

Every source reader (`schema_org` for JSON-LD and microdata, `opengraph`, `css`) returns a
`Found`; `page` merges them. The helpers here turn schema.org / OpenGraph values (a
number, "1299.00", a shown price text, a list of one) into prices and currency codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from crawler.prices import ParsedPrice, currency_from_symbol, parse_price
from crawler.snapshot import ListingValues


@dataclass(kw_only=True)
class Found(ListingValues):
    """The values one source gave (`promoted` is judged on the whole page, not per source).
    `precise`: the fields the CSS source read with a selector of the contract's or the
    platform's, not a generic guess."""

    precise: set[str] = field(default_factory=set)


def first_value(value: Any) -> Any:
    while isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def structured_amount(value: Any, default_currency: str | None) -> ParsedPrice | None:
    """A schema.org price value: a number, "1299.00" (dot decimal), or a shown price text."""
    value = first_value(value)
    if isinstance(value, dict):
        value = value.get("@value")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return parse_price(value, None)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        try:
            return ParsedPrice(Decimal(text), None, None)
        except InvalidOperation:
            return None
    # A shown price in a structured field ("¥1,299.00"): its sign, read with the store's
    # default (so "¥" is JPY on a yen store), but no currency invented when it has none.
    bare = parse_price(text, None)
    if bare is None or bare.currency is None:
        return bare
    return parse_price(text, default_currency)


def currency_code(value: Any) -> str | None:
    value = first_value(value)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    return currency_from_symbol(value)
