"""The SKU a page shows in its product details: a row "SKU: FS-KIT-001", "UPC 5060312400011",
"Artikelnummer", "商品编号", "品番" (a table's th/td, a dt/dd, or "label: value" in one line).
A store without structured data often shows it only so; `storeaudit init --from` keys its
catalog on it. The listing's own code comes before a barcode (UPC, EAN, GTIN)."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import in_another_part

_OWN = (r"sku|item\s*(?:no\.?|number|#|code)|product\s*(?:code|no\.?|number|id)|"
        r"article\s*(?:no\.?|number)|art\.?\s*-?\s*nr\.?|artikel\s*-?\s*(?:nr\.?|nummer)|"
        r"artikelnummer|bestellnummer|référence|réf\.?|reference|ref\.?|código|codice(?:\s+articolo)?|"
        r"numer\s+katalogowy|kod\s+produktu|varenummer|artikelnr\.?|model\s*(?:no\.?|number)|"
        r"商品编号|商品編號|货号|貨號|商品编码|商品編碼|款号|品番|商品番号|商品コード|型番|"
        r"상품\s*코드|상품\s*번호|품번")
_BARCODE = r"upc|ean|gtin|isbn|jan|barcode|条形码|條碼"
_LABEL = re.compile(rf"^\s*(?:({_OWN})|({_BARCODE}))\s*[:：#.]?\s*$", re.I)
_INLINE = re.compile(rf"^\s*(?:({_OWN})|({_BARCODE}))\s*[:：#]\s*(\S.{{0,40}})$", re.I)
_VALUE = re.compile(r"^[\w][\w\-./#]{1,39}$")
_LABEL_TAGS = ("th", "dt", "td", "span", "strong", "b", "label", "div", "p", "li")


def shown_sku(root: Any) -> str | None:
    """The listing's code as the page's details show it, or None."""
    own: str | None = None
    barcode: str | None = None
    for el in root.iter(*_LABEL_TAGS):
        if len(el) > 3 or in_another_part(el):
            continue
        text = collapse_text(element_text(el)) or ""
        if len(text) > 60:
            continue
        value, is_own = _labelled(el, text)
        if value is None:
            continue
        if is_own:
            own = own or value
            break
        barcode = barcode or value
    return own or barcode


def _labelled(el: Any, text: str) -> tuple[str | None, bool]:
    inline = _INLINE.match(text)
    if inline:
        value = inline.group(3).strip()
        return (value if _VALUE.match(value) else None), bool(inline.group(1))
    label = _LABEL.match(text)
    if not label:
        return None, False
    following = el.getnext()
    value = collapse_text(element_text(following)) if following is not None else None
    if not value and el.tail:
        value = collapse_text(el.tail)
    return (value if value and _VALUE.match(value) else None), bool(label.group(1))


__all__ = ["shown_sku"]
