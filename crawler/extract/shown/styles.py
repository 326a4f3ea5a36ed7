"""What the page's own <style> blocks strike through or hide, for HTML read without a browser.

A theme strikes the old price with a rule (`.price--compare { text-decoration: line-through }`)
as often as with <del>, and hides the regular price of an item on sale with another
(`.price--on-sale .price__regular { display: none }`). A rendered page says so itself (the
browser marks what it computed, `crawler.browser_fetch`); for plain HTTP the page's inline
rules are read here and the same marks written on the elements they select. Only top-level
rules are read: a rule inside @media or @supports holds on some screens only. Style sheets
the page links to are not fetched.

A page can contradict itself with a later, more specific rule; that is for the rendered read
(and the merchant's own browser, the second witness) to see.
"""

from __future__ import annotations

import re
from typing import Any

from lxml.cssselect import CSSSelector

from crawler.extract.shown.block import HIDDEN_MARK, STRUCK_MARK

_MAX_CSS = 300_000            # characters of <style> read per page
_MAX_MATCHES = 5000           # elements a page's rules may select, all rules together
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_AT_BLOCK = re.compile(r"@[a-z-]+[^{;]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", re.I)
_RULE = re.compile(r"([^{}@;]+)\{([^{}]*)\}")
_DECORATION = re.compile(r"text-decoration(?:-line)?\s*:\s*([^;!]+)", re.I)
_DISPLAY = re.compile(r"display\s*:\s*([a-z-]+)", re.I)
_VISIBILITY = re.compile(r"visibility\s*:\s*([a-z-]+)", re.I)
_DYNAMIC = re.compile(r"::?(?:hover|focus|active|visited|before|after|checked|target|"
                      r"focus-within|focus-visible|placeholder|selection)", re.I)
_IDS = re.compile(r"#[\w-]+")
_CLASSES = re.compile(r"\.[\w-]+|\[[^\]]*\]|:(?!:)[\w-]+")
_TYPES = re.compile(r"(?:^|[\s>+~])([a-z][\w-]*)", re.I)


def _rules(tree: Any) -> list[tuple[str, str]]:
    css = "".join(str(s.text or "") for s in tree.iter("style"))[:_MAX_CSS]
    css = _AT_BLOCK.sub(" ", _COMMENT.sub(" ", css))
    return [(m.group(1).strip(), m.group(2)) for m in _RULE.finditer(css)]


def _specificity(selector: str) -> tuple[int, int, int]:
    return (len(_IDS.findall(selector)), len(_CLASSES.findall(selector)),
            len(_TYPES.findall(_CLASSES.sub(" ", _IDS.sub(" ", selector)))))


def _says(body: str) -> dict[str, bool]:
    """What a rule's declarations say: struck through or not, hidden or not."""
    said: dict[str, bool] = {}
    decoration = _DECORATION.search(body)
    if decoration:
        said["struck"] = "line-through" in decoration.group(1).lower()
    display, visibility = _DISPLAY.search(body), _VISIBILITY.search(body)
    if display:
        said["hidden"] = display.group(1).lower() == "none"
    if visibility and not said.get("hidden"):
        said["hidden"] = visibility.group(1).lower() in ("hidden", "collapse")
    return said


def mark_styled(tree: Any) -> None:
    """Mark (STRUCK_MARK, HIDDEN_MARK) what the page's inline style rules strike or hide: for
    each element and property the rule that wins, by specificity and then by order, as the
    browser's cascade picks it (an element's own style attribute is read where it is used)."""
    winning: dict[Any, dict[str, tuple[tuple, bool]]] = {}
    matches = 0
    for order, (selectors, body) in enumerate(_rules(tree)):
        said = _says(body)
        if not said:
            continue
        for selector in selectors.split(","):
            selector = selector.strip()
            if not selector or _DYNAMIC.search(selector):
                continue
            try:
                found = CSSSelector(selector, translator="html")(tree)
            except Exception:  # a selector lxml's cssselect does not know
                continue
            rank = (_specificity(selector), order)
            for el in found:
                props = winning.setdefault(el, {})
                for prop, value in said.items():
                    if prop not in props or props[prop][0] <= rank:
                        props[prop] = (rank, value)
            matches += len(found)
            if matches > _MAX_MATCHES:
                break
    for el, props in winning.items():
        if props.get("struck", (None, False))[1]:
            el.set(STRUCK_MARK, "")
        if props.get("hidden", (None, False))[1]:
            el.set(HIDDEN_MARK, "")


__all__ = ["mark_styled"]
