"""Stock as a listing page shows it: an availability constant and, when the page says, a count.

`parse_stock` reads visible text ("缺货", "仅剩 3 件", "库存 23 件", "Only 3 left", "Sold out");
`normalize_availability` reads machine values (schema.org URLs, OpenGraph's "instock"/"oos",
a `data-availability` attribute) and falls back to `parse_stock` for free text.

Decisions: "BackOrder"/"PreSale" count as PRE_ORDER (orderable, not on the shelf);
"Discontinued"/"已下架" is DISCONTINUED; a count of 0 ("库存 0 件") is OUT_OF_STOCK.
"""

from __future__ import annotations

import re
import unicodedata

from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER

__all__ = ["parse_stock", "normalize_availability"]

_MAX_TEXT = 500

_OUT = re.compile(
    r"(缺货|缺貨|无货|無貨|没货|没有货|暂无现货|无现货|已?售罄|已?售完|已?卖完|已?賣完|已抢光|已搶光|"
    r"抢光了|暂时无货|暫時無貨|暂不销售|补货中|補貨中|到货通知|到貨通知|缺货登记|"
    r"品切れ|在庫切れ|在庫なし|売り切れ|入荷待ち|再入荷|품절|일시품절|재고\s*없음|"
    r"\bout[\s-]*of[\s-]*stock\b|\bsold[\s-]*out\b|\bnot\s+in\s+stock\b|\bno\s+stock\b|"
    r"\bunavailable\b|\bnot\s+available\b|\bcurrently\s+unavailable\b|"
    r"\bback\s+in\s+stock\s+soon\b|\bnotify\s+me\b|\bemail\s+me\s+when\b|"
    r"\bausverkauft\b|\bnicht\s+(?:mehr\s+)?(?:verfügbar|lieferbar|auf\s+lager|vorrätig)\b|"
    r"\bvergriffen\b|\bderzeit\s+nicht\b|\bbenachrichtigen\b|"
    r"\bagotad[oa]s?\b|\bsin\s+(?:stock|existencias)\b|\bno\s+disponible\b|\bavísame\b|"
    r"\bépuisée?s?\b|\brupture\b|\bindisponible\b|\bnon\s+disponible\b|\bprévenez-moi\b|"
    r"\besaurit[oa]\b|\bnon\s+disponibile\b|\bavvisami\b|"
    r"\besgotad[oa]\b|\bindisponível\b|\bsem\s+estoque\b|\bavise-me\b|"
    r"\buitverkocht\b|\bniet\s+op\s+voorraad\b|\btijdelijk\s+niet\b|"
    r"\bwyprzedan[ey]\b|\bniedostępn[ya]\b|\bbrak\s+(?:w\s+magazynie|towaru)\b|"
    r"\bslutsåld\b|\bslut\s+i\s+lager\b|\btillfälligt\s+slut\b|\bej\s+i\s+lager\b|"
    r"\butsolgt\b|\budsolgt\b|\bikke\s+på\s+lager\b|\bloppuunmyyty\b|\bnedostupné\b|"
    r"\bvyprodáno\b|\bnení\s+skladem\b|\btükendi\b|\bhết\s+hàng\b|\bstok\s+habis\b|"
    r"\btidak\s+tersedia\b|\belfogyott\b|\bstoc\s+epuizat\b|εξαντλήθηκε|สินค้าหมด|"
    r"نفد|نفذت|غير\s+متوفر|нет\s+в\s+наличии|распродан[оа])",
    re.IGNORECASE,
)
_DISCONTINUED = re.compile(
    r"(已下架|已下柜|下架|下柜|停产|停售|已停售|停止销售|販売終了|生産終了|販売を終了|판매\s*종료|단종|"
    r"\bdiscontinued\b|\bno\s+longer\s+(?:available|sold|produced|made)\b|"
    r"\bend\s+of\s+life\b|\bausgelaufen\b|\bnicht\s+mehr\s+im\s+sortiment\b|"
    r"\bn'est\s+plus\s+(?:disponible|fabriqué|commercialisé)\b|\barticle\s+retiré\b|"
    r"\bdescatalogad[oa]\b|\bfuori\s+produzione\b|\bnon\s+più\s+disponibile\b|"
    r"\buit\s+(?:het\s+)?assortiment\b|\bniet\s+meer\s+leverbaar\b|\bwycofan[ya]\b|"
    r"\butgått\b|\bfora\s+de\s+linha\b)",
    re.IGNORECASE)
_PRE = re.compile(
    r"(预售|預售|预订|預訂|预定|预约(?:购买|抢购|中)|立即预约|可预约|定金|订金|予約|예약\s*판매|"
    r"\bpre[\s-]?order|\bpre[\s-]?sale\b|\bback[\s-]?order|^\W*coming\s+soon\W*$|\bbackorder|"
    r"\bprécommande|\bpré-?commande|\bvorbestell|\bvorbestellung\b|\bpreventa\b|"
    r"\bpreordin|\bprenota|\bpré-?venda\b|\bvoorbestel|\bförhandsboka|\bförbeställ|"
    r"\bprzedsprzedaż|\bforudbestil|\bforhåndsbestill|\bennakkotilau|\bpředobjednáv|"
    r"\bpředprodej|\bön\s+sipariş|предзаказ|พรีออเดอร์|\bđặt\s+trước\b|예약)",
    re.IGNORECASE,
)
# "仅剩 3 件", "只剩3件", "Only 3 left", "Hurry, 2 left!", "最后 1 件", "3 restant(s)"
_LOW_COUNT = re.compile(
    r"(?:仅剩|只剩|仅余|只余|最后|仅有|只有|僅剩|只剩下|残り)\s*(\d+)|\bonly\s+(\d+)\s+(?:\w+\s+)?left\b"
    r"|\b(\d+)\s+left\b|\bonly\s+(\d+)\s+(?:available|remaining|in\s+stock)\b|\bplus\s+que\s+(\d+)\b|\bil\s+(?:ne\s+)?reste\s+(?:plus\s+que\s+)?(\d+)"
    r"|\b(\d+)\s+restant|\bnur\s+noch\s+(\d+)\b|\bs[oó]lo\s+quedan?\s+(\d+)\b"
    r"|\bquedan?\s+(\d+)\b|\bsolo\s+(\d+)\s+disponibil[ei]\b|\b(?:restano|rimasti|ultimi)\s+(\d+)"
    r"|\bnog\s+(?:maar\s+)?(\d+)\b|\bzostał[ayo]?\s+(\d+)\b|\bendast\s+(\d+)\s+kvar\b"
    r"|\b(\d+)\s+kvar\b|\bsisa\s+(\d+)\b|\bchỉ\s+còn\s+(\d+)\b|(\d+)\s*개\s*남"
    r"|\bapenas\s+(\d+)\b|\bsó\s+restam\s+(\d+)\b|\bposledn[íié]\s+(\d+)\s+kus|\bzbývá\s+(\d+)"
    r"|\butolsó\s+(\d+)|\bultimele\s+(\d+)|\bkun\s+(\d+)\s+(?:tilbage|igjen)\b"
    r"|\bvain\s+(\d+)\s+jäljellä|\bson\s+(\d+)\s+ürün|เหลือ\s*(\d+)|осталось\s+(\d+)",
    re.IGNORECASE,
)
_LOW = re.compile(
    r"(仅剩|只剩|库存不足|库存紧张|庫存緊張|即将售罄|即將售罄|少量库存|少量現貨|残りわずか|在庫わずか|"
    r"품절\s*임박|\blow\s+(?:in\s+)?stock\b|\blimited\s+(?:stock|availability|quantit)|"
    r"\balmost\s+gone\b|\bfew\s+(?:units\s+|items\s+)?left\b|\bselling\s+fast\b|"
    r"\bonly\s+a\s+few\b|\blast\s+(?:one|item|few)\b|\blimited\s+quantit|"
    r"\búltim[oa]s?\s+disponibles?\b|\bpocos\s+disponibles\b|"
    r"\bstock\s+faible\b|\bderni(?:ers|ères)\s+(?:articles|pièces|exemplaires)\b|"
    r"\bstock\s+limité\b|\bwenige\s+(?:verfügbar|auf\s+lager|vorrätig)\b|\bnur\s+noch\s+wenige\b|"
    r"\bgeringer\s+bestand\b|\bbald\s+ausverkauft\b|\búltimas?\s+(?:unidades|piezas)\b|"
    r"\búltimos\s+artículos\b|\bpocas\s+unidades\b|\bultimi\s+(?:articoli|pezzi)\b|"
    r"\bpoche\s+unità\b|\bdisponibilità\s+limitata\b|\blaatste\s+(?:stuks|exemplaren)\b|"
    r"\bbeperkte\s+voorraad\b|\bostatnie\s+sztuki\b|\bfå\s+kvar\b|\bfåtal\b|"
    r"\búltimas\s+peças\b|\bestoque\s+baixo\b|\bstok\s+terbatas\b|\bposledn[íé]\s+kusy\b|"
    r"\bfå\s+tilbage\b|\bvähän\s+jäljellä\b|\bson\s+ürünler\b)",
    re.IGNORECASE)
# "库存 23 件", "库存：23", "剩余 23 件", "23 in stock", "23 available", "In stock (23)"
_COUNT = re.compile(
    r"(?:库存|庫存|剩余|現貨|现货|有货|在庫|재고)\s*[:：]?\s*(\d+)"
    r"|(\d+)\s*(?:件|个|台|pcs?\b|items?\b|units?\b|stk\.?|pièces?|stück|unidades|pezzi|stuks)?\s*"
    r"(?:in\s+stock|available|auf\s+lager|en\s+stock|disponibles?|op\s+voorraad|på\s+lager|"
    r"i\s+lager|in\s+magazzino|em\s+estoque|na\s+stanie)\b"
    r"|\bin\s+stock\b\s*[(:：]?\s*(\d+)|\bstock\s*[:：]\s*(\d+)",
    re.IGNORECASE,
)
_IN = re.compile(
    r"(有货|有貨|现货|現貨|有库存|库存充足|在售|可购买|在庫あり|在庫有り|即納|재고\s*있음|"
    r"\bin[\s-]*stock\b|\bavailable\b|\binstock\b|\bready\s+to\s+ship\b|"
    r"\b(?:auf|an|ab)\s+lager\b|\blieferbar\b|\bsofort\s+lieferbar\b|\bvorrätig\b|"
    r"\ben\s+stock\b|\bdisponible\b|\ben\s+existencia\b|\bdisponibile\b|\bin\s+magazzino\b|"
    r"\bop\s+voorraad\b|\bleverbaar\b|\bpå\s+lager\b|\bi\s+lager\b|\bem\s+estoque\b|"
    r"\bdisponível\b|\bw\s+magazynie\b|\bdostępny\b|\bna\s+stanie\b|\bskladem\b|"
    r"\bstokta\b|\bcòn\s+hàng\b|\btersedia\b|\braktáron\b|\bîn\s+stoc\b|διαθέσιμο|"
    r"มีสินค้า|متوفر|в\s+наличии)",
    re.IGNORECASE)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[: _MAX_TEXT * 4])
    return " ".join(text.split())[:_MAX_TEXT]


def _first_int(match: re.Match[str]) -> int | None:
    for group in match.groups():
        if group is not None:
            try:
                return int(group)
            except ValueError:
                return None
    return None


def parse_stock(text: str | None) -> tuple[str | None, int | None]:
    """(availability, count) from a stock text; (None, None) when the text says nothing known.

    Availability is one of crawler.snapshot's IN_STOCK, OUT_OF_STOCK, LOW_STOCK, PRE_ORDER,
    DISCONTINUED. The count is what the text states, else None ("有货" -> (IN_STOCK, None));
    out of stock is always count 0.
    """
    if not isinstance(text, str):
        return None, None
    text = _clean(text)
    if not text:
        return None, None
    if _DISCONTINUED.search(text):
        return DISCONTINUED, None
    if _OUT.search(text):
        return OUT_OF_STOCK, 0
    if _PRE.search(text):
        return PRE_ORDER, None
    low = _LOW_COUNT.search(text)
    if low:
        count = _first_int(low)
        if count == 0:
            return OUT_OF_STOCK, 0
        return LOW_STOCK, count
    if _LOW.search(text):
        return LOW_STOCK, None
    counted = _COUNT.search(text)
    if counted:
        count = _first_int(counted)
        if count == 0:
            return OUT_OF_STOCK, 0
        return IN_STOCK, count
    if _IN.search(text):
        return IN_STOCK, None
    return None, None


# schema.org ItemAvailability names (lower-cased) and OpenGraph's product:availability values.
_MACHINE = {
    "instock": IN_STOCK,
    "in stock": IN_STOCK,
    "in_stock": IN_STOCK,
    "instoreonly": IN_STOCK,
    "onlineonly": IN_STOCK,
    "available": IN_STOCK,
    "available for order": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "out of stock": OUT_OF_STOCK,
    "out_of_stock": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "sold out": OUT_OF_STOCK,
    "sold_out": OUT_OF_STOCK,
    "unavailable": OUT_OF_STOCK,
    "limitedavailability": LOW_STOCK,
    "limited availability": LOW_STOCK,
    "low_stock": LOW_STOCK,
    "lowstock": LOW_STOCK,
    "low stock": LOW_STOCK,
    "preorder": PRE_ORDER,
    "pre-order": PRE_ORDER,
    "pre order": PRE_ORDER,
    "pre_order": PRE_ORDER,
    "presale": PRE_ORDER,
    "backorder": PRE_ORDER,
    "back order": PRE_ORDER,
    "discontinued": DISCONTINUED,
}


def normalize_availability(value: object) -> str | None:
    """An availability constant from a machine value, or None when it is not one we know.

    Accepts "https://schema.org/InStock", "http://schema.org/OutOfStock", "schema:SoldOut",
    "LimitedAvailability", OpenGraph's "instock"/"oos"/"preorder", our own constants, and
    free text such as "缺货" (read with `parse_stock`). A list gives its first known value.
    """
    if isinstance(value, (list, tuple)):
        for item in value:
            found = normalize_availability(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return normalize_availability(value.get("@id") or value.get("name") or value.get("@value"))
    if not isinstance(value, str):
        return None
    raw = _clean(value)
    if not raw:
        return None
    name = raw.strip().rstrip("/")
    # "https://schema.org/InStock", "schema:InStock", "http://schema.org/ItemAvailability/InStock"
    name = re.split(r"[/:#]", name)[-1].strip().lower()
    if name in _MACHINE:
        return _MACHINE[name]
    lowered = raw.lower()
    if lowered in _MACHINE:
        return _MACHINE[lowered]
    return parse_stock(raw)[0]
