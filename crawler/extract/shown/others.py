"""What on the page is not this listing's, marked so that no reader takes it for the
listing's: other products (a card: a box with a picture and a link to another page, one of
a row of like boxes; a section under a heading such as "Related products", "看了又看",
"Complete the set"), and the description's own pictures for the gallery (what follows a
"商品详情" / "Description" label). The title's own boxes are never marked.
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import (DESCRIPTION_MARK, OTHER_MARK, links_elsewhere,
                                         words)

# A heading over other products: "You may also like", "看了又看", "Ähnliche Produkte".
_OTHER_HEADING = re.compile(
    r"related|you\s+may\s+also|you\s+might\s+also|also\s+like|customers\s+(?:also|who)|"
    r"recommend|similar|recently\s+viewed|frequently\s+bought|more\s+from|complete\s+the\s+(?:look|set)|"
    r"best\s*sellers?|top\s+sellers|popular\s+(?:products|items)|trending|"
    r"goes\s+(?:well\s+)?with|pairs?\s+(?:well\s+)?with|shop\s+the\s+look|you'?ll\s+also|"
    r"相关|相關|推荐|推薦|看了又看|猜你喜欢|猜你喜歡|相似|同类|同店|店铺热卖|店鋪熱賣|热销|人气|"
    r"更多|其他商品|精选商品|搭配|"
    r"大家都在|为你|為你|浏览|瀏覽|"
    r"おすすめ|関連|この商品を見た|よく一緒に|"
    r"함께\s*본|비슷한|추천|"
    r"produits\s+similaires|vous\s+aimerez|vous\s+pourriez|articles\s+similaires|"
    r"ähnliche|das\s+könnte|passend\s+dazu|kunden\s+kauften|zuletzt\s+angesehen|"
    r"también\s+te|productos\s+relacionados|te\s+puede|"
    r"potrebbe|prodotti\s+correlati|ti\s+potrebbe|"
    r"ook\s+interessant|misschien\s+ook|vergelijkbare|"
    r"polecane|podobne|może\s+ci|"
    r"relacionados|você\s+também|"
    r"liknande|du\s+kanske|"
    r"منتجات\s+مشابهة|قد\s+يعجبك",
    re.I)
_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6")
_HEADING_WORDS = {"title", "heading", "hd", "tit", "head"}
_CARD_CLIMB = 6
_CARD_TEXT = 300  # a card is a picture, a name and a price: a box with more text is more


def mark_other_products(tree: Any, title_el: Any | None, page_url: str) -> None:
    """Mark (OTHER_MARK) what shows other products: each box with a picture and a link to
    another page (a card: as large as holds no other such link and little text, one of a
    row of like boxes), and each section
    under a heading such as "Related products". The title's own containers are never
    marked."""
    keep = set() if title_el is None else {title_el, *title_el.iterancestors()}
    elsewhere: dict[Any, bool] = {}
    found_links: dict[Any, set[str]] = {}
    lengths: dict[Any, int] = {}

    def goes_elsewhere(a: Any) -> bool:
        if a not in elsewhere:
            elsewhere[a] = links_elsewhere(a.get("href"), page_url)
        return elsewhere[a]

    def links(root: Any) -> set[str]:
        if root not in found_links:
            found_links[root] = {a.get("href").strip() for a in root.iter("a")
                                 if goes_elsewhere(a)}
        return found_links[root]

    def length(root: Any) -> int:
        if root not in lengths:
            lengths[root] = len(collapse_text(element_text(root)) or "")
        return lengths[root]

    for a in list(tree.iter("a")):
        if a in keep or not goes_elsewhere(a):
            continue
        box = a
        for _ in range(_CARD_CLIMB):
            parent = box.getparent()
            if parent is None or parent in keep or parent.tag in ("body", "html") \
                    or len(links(parent)) > 1 or length(parent) > _CARD_TEXT:
                break
            box = parent
        if any(_a_picture(img) for img in box.iter("img")) and _one_of_several(box, links):
            box.set(OTHER_MARK, "")
    if not _OTHER_HEADING.search(tree.text_content()):
        return
    for text_node in tree.xpath("//text()[string-length(normalize-space(.)) > 1 and "
                                "string-length(normalize-space(.)) <= 40]"):
        heading = _holder(text_node)
        if heading is None or not _is_heading(heading) or heading in keep:
            continue
        text = collapse_text(element_text(heading)) or ""
        if not text or len(text) > 40 or not _OTHER_HEADING.search(text):
            continue
        section = heading
        while section.getparent() is not None and section.getparent() not in keep \
                and section.getparent().tag not in ("body", "html"):
            section = section.getparent()
        if section is heading:
            # The heading sits in the product's own container: what follows it is the section.
            for sibling in heading.itersiblings():
                sibling.set(OTHER_MARK, "")
        section.set(OTHER_MARK, "")


def _holder(text: Any) -> Any | None:
    """The element a text node of an XPath answer is written in (a tail's is its parent's)."""
    el = text.getparent()
    return el.getparent() if el is not None and text.is_tail else el


def _is_heading(el: Any) -> bool:
    return isinstance(el.tag, str) and (el.tag in _HEADING_TAGS or (
        el.tag in ("div", "p", "span", "strong", "dt") and bool(words(el) & _HEADING_WORDS)))


def _one_of_several(box: Any, links: Any) -> bool:
    """The box is one of a row of like boxes (same tag and class) that link elsewhere: a
    list of products, not the listing's own box with a link in it."""
    parent = box.getparent()
    if parent is None:
        return False
    alike = [s for s in parent if s is not box and s.tag == box.tag
             and (s.get("class") or "") == (box.get("class") or "")]
    return any(links(s) for s in alike)


_ICON_NAME = re.compile(r"-tps-\d{1,3}-\d{1,3}\.|icon|logo|badge|sprite", re.I)


def _a_picture(img: Any) -> bool:
    """A product's picture, not an icon: no declared size of a few pixels, no icon's name."""
    for attr in ("width", "height"):
        try:
            if img.get(attr) is not None and float(img.get(attr)) <= 48:
                return False
        except ValueError:
            pass
    return not _ICON_NAME.search(img.get("src") or img.get("data-src") or "")


# The label of the listing's description: its pictures (a "详情" page of long images, a
# size chart) are not the gallery's.
_DESCRIPTION_LABEL = re.compile(
    r"^\s*(?:商品详情|商品詳情|图文详情|圖文詳情|宝贝详情|寶貝詳情|产品详情|產品詳情|商品介绍|商品介紹|"
    r"详情|詳情|商品説明|商品の説明|商品情報|상세\s*정보|상품\s*정보|상세설명|"
    r"(?:product\s+)?description|(?:product\s+)?details|beschreibung|produktbeschreibung|"
    r"description\s+du\s+produit|descripción|descrizione|beschrijving|opis(?:\s+produktu)?|"
    r"beskrivning|descrição|الوصف)\s*(?:\(\d+\))?\s*$", re.I)
_LABEL_TAGS = ("h2", "h3", "h4", "li", "a", "span", "div", "dt", "button")
# The same words anywhere in the page: a page without any is not searched label by label.
_DESCRIPTION_ANYWHERE = re.compile(_DESCRIPTION_LABEL.pattern.replace("^\\s*(?:", "(?:")
                                   .replace("\\s*$", ""), re.I)
_TABS = {"tab", "tabs", "tablist", "nav", "hd", "menu"}


def mark_description(tree: Any, title_el: Any | None) -> None:
    """Mark (DESCRIPTION_MARK) what follows the description's label ("商品详情",
    "Description": a heading, or a tab over its panels), short of the title's own boxes."""
    if title_el is None or not _DESCRIPTION_ANYWHERE.search(tree.text_content()):
        return
    keep = {title_el, *title_el.iterancestors()}
    for text_node in tree.xpath("//text()[string-length(normalize-space(.)) > 1 and "
                                "string-length(normalize-space(.)) <= 30]"):
        label = _holder(text_node)
        if label is None or label.tag not in _LABEL_TAGS or label in keep or len(label) > 2 \
                or not _DESCRIPTION_LABEL.match(collapse_text(element_text(label)) or ""):
            continue
        node = label
        if label.tag in ("li", "a", "span", "button"):  # a tab: its list, then the panels
            while node.getparent() is not None and node.getparent() not in keep \
                    and node.tag not in ("ul", "ol") and not words(node) & _TABS:
                node = node.getparent()
        while node.getnext() is None and node.getparent() is not None \
                and node.getparent() not in keep:
            node = node.getparent()
        for sibling in node.itersiblings():
            if sibling not in keep:
                sibling.set(DESCRIPTION_MARK, "")


__all__ = ["mark_description", "mark_other_products"]
