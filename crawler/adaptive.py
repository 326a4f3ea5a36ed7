"""Whether a page needs the browser: the adaptive crawler's guess, per page type, kept honest.

As in Crawlee's adaptive crawler: every page type (the URL's pattern: origin and path with
its variable parts wildcarded) has a running count of pages plain HTTP was enough for and
pages that needed the browser. A type whose pages nearly all need the browser goes straight
to it (a store whose pages all fill in by JavaScript pays for no useless HTTP request), but a
few of its pages are still tried over HTTP first in case the store changed. A page HTTP was
enough for is, now and then, rendered as well and the two results compared: a difference
means HTTP cannot be trusted for that type, which then goes to the browser.

A page that needed the browser last time (the caller's records say so) is remembered on its
own: a store whose product pages mostly serve their price in the HTML, but not all, sends
exactly those to the browser.

The counts start from the states the caller hands over (the last crawl's pages), so what one
crawl learnt, the next one knows. Randomness comes from an explicit seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .snapshot import PageState

# A path segment that varies from page to page of one type: digits, or a slug with digits.
_VARIABLE = re.compile(r"\d")


def page_type(url: str) -> str:
    """The URL's pattern: "http://shop/p/*" for every product page of the sample store."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    shape = ["*" if (_VARIABLE.search(s) or i == len(segments) - 1 and i > 0) else s
             for i, s in enumerate(segments)]
    return f"{parts.scheme}://{parts.netloc}/" + "/".join(shape)


class RenderingPredictor:
    def __init__(self, history: Iterable[PageState] = (), *, seed: int = 0,
                 recheck_share: float = 0.02, probe_share: float = 0.05,
                 min_samples: int = 8, browser_share: float = 0.9):
        self.rng = random.Random(seed)
        self.recheck_share = recheck_share
        self.probe_share = probe_share
        self.min_samples = min_samples
        self.browser_share = browser_share
        self.counts: dict[str, list[int]] = {}  # type -> [http was enough, needed the browser]
        self.untrusted: set[str] = set()  # types where HTTP and browser results differed
        for state in history:
            self.learn(state.url, state.fetched_with == "browser")

    def browser_first(self, url: str) -> bool:
        """Skip the HTTP attempt: this page type (nearly) always needs the browser."""
        kind = page_type(url)
        if kind in self.untrusted:
            return True
        http, browser = self.counts.get(kind, (0, 0))
        total = http + browser
        if total < self.min_samples or browser < self.browser_share * total:
            return False
        return self.rng.random() >= self.probe_share  # now and then, try HTTP anyway

    def recheck(self) -> bool:
        """Render a page HTTP was enough for, too, and compare: keeps the guess honest."""
        return self.recheck_share > 0 and self.rng.random() < self.recheck_share

    def learn(self, url: str, needed_browser: bool) -> None:
        self.counts.setdefault(page_type(url), [0, 0])[int(needed_browser)] += 1

    def mismatch(self, url: str) -> None:
        """HTTP and the browser saw different values on a page of this type."""
        self.untrusted.add(page_type(url))
