"""A store's "304 Not Modified" is its word that a page or an image is as the crawl last read
it, and the agency runs the store: answering 304 to the crawl for a page it changed for
shoppers would freeze what the audit sees (a price cut under the floor, an infringing picture
behind an old address). So the word is checked. A share of the 304s, drawn at random so that
a store cannot tell which, are followed by the same request without validators. A true 304's
whole answer has the bytes it vouched for; one whose bytes differ is read and compared with
what the 304 vouched for: a page's audited values (a page may vary bytes that show nothing),
an image's hashes. A 304 found false is named in the crawl's result, and the crawl trusts none
after it: every later page and image is read whole, as the next crawls are told to
(`trusted=False`) for a while.
"""

from __future__ import annotations

import logging
import random

from .snapshot import ImageInfo, PageState

log = logging.getLogger(__name__)


# However small the store, a crawl checks about this many of its 304s: a store answering 304
# to everything is caught on its first night, and a big store pays only its share.
MIN_CHECKS = 10


def check_share(share: float, known: int) -> float:
    """The chance each 304 is checked in a crawl that knows `known` pages: `share`, or more
    for a small store, so that about MIN_CHECKS are; 0 turns checking off."""
    if share <= 0:
        return 0.0
    return min(1.0, max(share, MIN_CHECKS / known)) if known else share


class NotModifiedCheck:
    """Which 304s to check, and what was found. `share`: the chance each 304 is checked while
    the store is trusted; `trusted=False`: send no validators at all (every answer whole)."""

    def __init__(self, share: float, *, trusted: bool = True, rng: random.Random | None = None):
        self.share = share
        self.trusted = trusted
        self.rng = rng or random.SystemRandom()   # not the crawl's seed: a store must not guess
        self.checked = 0
        # each 304 that hid a change, in the order found: {"url": ..., "what": "price, title"}
        self.false: list[dict[str, str]] = []

    def validators(self, state: PageState | ImageInfo | None) -> PageState | ImageInfo | None:
        """What to ask conditionally from: `state`, or nothing once 304s are not trusted."""
        return state if self.trusted else None

    def draw(self) -> bool:
        """Whether to check this 304 (counted when it is)."""
        chosen = self.share > 0 and self.rng.random() < self.share
        self.checked += chosen
        return chosen

    def found_false(self, url: str, what: str) -> None:
        """`url` answered 304 though `what` ("its price, title") had changed: trust no later
        304 of this crawl."""
        self.false.append({"url": url, "what": what})
        if self.trusted:
            log.warning("%s answered 304 Not Modified, but %s changed: every later page and "
                        "image of this crawl is read whole", url, what)
        self.trusted = False


__all__ = ["MIN_CHECKS", "NotModifiedCheck", "check_share"]
