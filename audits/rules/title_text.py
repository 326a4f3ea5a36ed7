"""Titles as a person reads them, for the title rules: full-width and half-width forms are
the same letter (ＬＥＤ is LED, １００％ is 100%), case does not matter, and invisible characters
(zero-width, soft hyphen, direction marks) hide nothing; a match is quoted as the page showed
it. Also the advertising law's banned terms and how platforms count a title's length."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Absolute claims China's advertising law (广告法 art. 9 (3)) bans: "national-level",
# "highest-grade", "best" and the like. A merchant's contract may replace or extend the list.
DEFAULT_FORBIDDEN_TERMS: tuple[str, ...] = (
    "最", "最佳", "最好", "最低价", "最高级", "最先进", "最优", "最便宜",
    "第一", "全网第一", "销量第一", "排名第一",
    "唯一", "独一无二", "顶级", "极品", "极致", "国家级", "世界级", "全球级",
    "全球首发", "首选", "史无前例", "万能", "100%", "绝对",
)


def fold(text: str) -> tuple[str, list[int]]:
    """`text` as matching sees it (NFKC, case-folded) and, for each of its characters, the
    index of the character of `text` it came from, so a match can be quoted as shown."""
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width, soft hyphen, direction marks: unseen, so they hide no term
        part = unicodedata.normalize("NFKC", ch).casefold()
        folded.append(part)
        origin.extend([i] * len(part))
    return "".join(folded), origin


@lru_cache(maxsize=4096)
def folded_text(phrase: str) -> str:
    """`phrase` as matching reads it (see `fold`). Kept: the same few terms are looked for
    in every title of the store."""
    return fold(phrase)[0]


def dedupe_phrases(phrases: list[str]) -> list[str]:
    """Phrases in order, dropping those that read the same once folded."""
    seen: set[str] = set()
    out = []
    for p in phrases:
        key = folded_text(p)
        if key and key not in seen:
            seen.add(key)
            out.append(p)
    return out


def find_terms(title: str, terms: list[str], allowed: list[str]) -> list[tuple[str, int, str]]:
    """The banned terms in `title`: (term, 1-based position of its first use, the text there).

    A term inside a longer term found at the same place is reported as the longer one only
    (全网第一, not also 第一); a term inside an allowed phrase is not reported.
    """
    folded, origin = fold(title)

    def spans(phrase: str) -> list[tuple[int, int]]:
        needle, out, at = folded_text(phrase), [], 0
        while (at := folded.find(needle, at)) != -1:
            out.append((at, at + len(needle)))
            at += 1
        return out

    allowed_spans = [s for p in allowed for s in spans(p)]
    hits = [(term, s) for term in dedupe_phrases(terms) for s in spans(term)
            if not any(a <= s[0] and s[1] <= b for a, b in allowed_spans)]
    found: dict[str, tuple[int, str]] = {}
    for term, (s, e) in hits:
        inside_longer = any(a <= s and e <= b and (b - a) > (e - s) for _, (a, b) in hits)
        if inside_longer or term in found:
            continue
        first, last = origin[s], origin[e - 1]
        found[term] = (first + 1, title[first:last + 1])
    return sorted(((t, pos, text) for t, (pos, text) in found.items()), key=lambda f: f[1])


def title_length(title: str, count: str = "chars") -> int:
    if count == "gbk_bytes":
        # GBK stores ASCII in one byte and every other character it has in two.
        return sum(1 if ord(ch) < 0x80 else 2 for ch in title)
    return len(title)
