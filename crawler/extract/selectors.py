"""`Selectors`: the CSS selectors a contract gives for a store, and how they are matched.

A selector may be a group of alternatives; `select_elements` tries them in the order written.
Used by the CSS reader (`css`), the promoted badge (`page`) and product cards (`listing_pages`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from lxml.cssselect import CSSSelector


@dataclass
class Selectors:
    """CSS selectors for a store without (complete) structured data. None: not looked for.

    A selector may be a group ("h1.product-title, h1"): its alternatives are tried in the
    order written and the first one that matches any element decides (so a later, broader
    alternative never overrides an earlier, precise one that matched an empty element).
    Single-value fields read the first element matched; `images` reads all of them.
    """

    title: str | None = None
    price: str | None = None
    list_price: str | None = None
    stock: str | None = None
    images: str | None = None
    sku: str | None = None
    promoted: str | None = None
    card: str | None = None

    @classmethod
    def defaults(cls) -> "Selectors":
        """Generic selectors: class names many stores use, and the sample store's. A
        platform's own (Taobao's `#J_PromoPriceNum`, JD's `.sku-name`) are its preset's
        (`crawler.presets.pages`): tried on every store, they would read another store's
        `.sku-name` (a variant's name) as the title."""
        return cls(
            title="h1.product-title, .product-title, .product_title, .product-name, "
                  ".goods-title, h1",
            price=(".price, .product-price, .product__price, .price-current, .current-price, "
                   "[itemprop=price], .goods-price"),
            list_price=("del.list-price, .list-price, .price del, .was-price, "
                        ".compare-at-price, .original-price, s.price"),
            stock=".stock, .stock-status, .product-stock, .availability, [data-availability]",
            images=(
                ".gallery img, .product-gallery img, .product-images img, .product__media img, "
                ".woocommerce-product-gallery img"
            ),
            sku=".sku, .product-sku",
            promoted=".badge-promoted",
            card="article.product-card, .product-card, li.product, .product-item",
        )

    def is_generic(self, field: str, alternative: str) -> bool:
        """The alternative is one of the generic selectors' for `field` (a guess, which the
        product block's own reading beats), not one the contract or the platform gave."""
        return alternative in _generic_alternatives(field)

    def with_defaults(self) -> "Selectors":
        """A copy whose unset (None) fields take the generic defaults."""
        base = Selectors.defaults()
        return Selectors(
            **{f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)}
        )

    def check(self) -> list[tuple[str, str]]:
        """(field, error) for every selector that is not valid CSS: for refusing a contract."""
        bad: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                bad.append((f.name, "empty selector"))
                continue
            for alternative in _split_group(value):
                try:
                    _compile(alternative)
                except Exception as exc:  # cssselect.SelectorError and friends
                    bad.append((f.name, f"not valid CSS: {alternative!r} ({exc})"))
        return bad


def _split_group(selector: str) -> list[str]:
    """Split "a, b[x='1,2'], :is(c, d)" at its top-level commas."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(selector):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    parts.append(selector[start:])
    return [p.strip() for p in parts if p.strip()]


@lru_cache(maxsize=None)
def _generic_alternatives(field: str) -> frozenset[str]:
    return frozenset(_split_group(getattr(Selectors.defaults(), field) or ""))


@lru_cache(maxsize=512)
def _compile(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def select_elements(root: Any, selector: str | None, problems: list[str], what: str,
                    keep: Any = None) -> list[Any]:
    """Elements of the first alternative of `selector` that matches anything (that `keep`
    keeps, when given)."""
    return select_first(root, selector, problems, what, keep)[1]


def select_first(root: Any, selector: str | None, problems: list[str], what: str,
                 keep: Any = None) -> tuple[str | None, list[Any]]:
    """(the first alternative of `selector` that matches anything, its elements)."""
    if not selector or root is None:
        return None, []
    for alternative in _split_group(selector):
        try:
            found = _compile(alternative)(root)
        except Exception as exc:
            problems.append(f"css: {what} selector {alternative!r} is not usable ({exc})")
            continue
        if keep is not None:
            found = [el for el in found if keep(el)]
        if found:
            return alternative, found
    return None, []
