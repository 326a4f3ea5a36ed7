"""Login and verification walls: a page that answers 200 but shows "log in" or "prove you are
human" (a slider, a captcha, a password form) instead of the listing.

Stores put these in front of crawlers that ask too often or look automated. Read as a listing,
such a page has no price and no title, and would look like a listing whose values vanished;
the crawl must record it as what it is. `wall_reason` is only asked about a page that gave no
listing data, so a login link in a product page's header is never taken for a wall.

A page is a wall when it shows a password field or a captcha widget (reCAPTCHA, hCaptcha,
Turnstile, GeeTest, Alibaba's slider "nc_"/baxia), or when its title or a heading uses wall
words (登录, 验证, 滑块, captcha, "verify you are human", "sign in" ...).
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, parse_html, element_text

# Words a wall's title or heading uses; matched case-insensitively.
WALL_WORDS = (
    "登录", "登陆", "验证", "滑块", "安全检查", "人机", "访问受限", "访问异常",
    "captcha", "verify you are human", "verify that you are human", "are you a robot",
    "not a robot", "unusual traffic", "checking your browser", "security check",
    "sign in", "log in", "login", "access denied",
)
# Captcha and anti-bot widgets, as they appear in id, class or a script/iframe address.
_WIDGET = re.compile(
    r"captcha|recaptcha|hcaptcha|turnstile|geetest|nocaptcha|\bnc[_-](?:wrapper|container|"
    r"scale|verify)|baxia|challenge-(?:form|platform|running)|cf-challenge|slide-?verify",
    re.IGNORECASE,
)
_MAX_ATTRS = 5000  # elements looked at for widget markers: a wall page is small


def wall_reason(html: str | bytes | None) -> str | None:
    """What shows the page is a login or verification wall, or None if nothing does.

    Call it only for a page that gave no listing data (no price, no product markup)."""
    tree = parse_html(html)
    if tree is None:
        return None
    seen: list[str] = []
    if tree.xpath("//input[translate(@type, 'PASSWORD', 'password')='password']"):
        seen.append("a password field")
    widget = _widget(tree)
    if widget:
        seen.append(f"a verification widget ({widget})")
    words = _wall_words(tree)
    if words:
        seen.append("the words " + ", ".join(f"“{w}”" for w in words) + " in its title or heading")
    return "; ".join(seen) or None


def _widget(tree: Any) -> str | None:
    for i, el in enumerate(tree.iter()):
        if i >= _MAX_ATTRS:
            break
        if not isinstance(el.tag, str):
            continue
        for name in ("id", "class", "src", "data-sitekey"):
            value = el.get(name)
            if value:
                hit = _WIDGET.search(value)
                if hit:
                    return hit.group(0)
        if el.get("role") == "slider":
            return "a slider"
    return None


def _wall_words(tree: Any) -> list[str]:
    texts = [collapse_text(element_text(el)) or "" for el in tree.xpath("//title | //h1 | //h2 | //h3")]
    heading = " ".join(texts).lower()
    return [w for w in WALL_WORDS if w in heading]
