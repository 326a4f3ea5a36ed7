"""The words stores write beside a price, in the languages they write them in: what makes a
price the old one, the one to pay, or not this listing's price at all. Kept apart from the
reading (`price`) so that a language is added here and nowhere else.

Each is a regular expression over the collapsed text of a part of the page, or a set of
class/id words (`block.class_words`).
"""

from __future__ import annotations

import re

# Before a price, these make it the old price (the list price): "RRP £30", "原价 ¥299".
_OLD = (
    r"原价|原價|市场价|市場價|吊牌价|吊牌價|划线价|劃線價|参考价|參考價|定价|定價|专柜价|專櫃價|"
    r"指导价|建议零售价|门市价|门店价|优惠前|"
    r"定価|参考価格|希望小売価格|メーカー希望小売価格|"
    r"정가|소비자가|"
    r"\bwas\b|\brrp\b|\buvp\b|\bmsrp\b|\bstatt\b|\bsrp\b|typical\s+price|list\s+price|"
    r"compare\s+at|usual\s+price|original\s+price|before\s+discount|"
    r"prix\s+barré|prix\s+conseillé|prix\s+de\s+référence|prix\s+initial|au\s+lieu\s+de|"
    r"precio\s+anterior|precio\s+original|precio\s+de\s+lista|\bantes\b|\bpvpr?\b|"
    r"prezzo\s+consigliato|prezzo\s+originale|prezzo\s+pieno|invece\s+di|"
    r"streichpreis|listenpreis|ursprünglich|ehemals|\bvorher\b|"
    r"adviesprijs|van\s*prijs|"
    r"cena\s+regularna|przed\s+obniżką|stara\s+cena|"
    r"ord\.?\s+pris|tidigare\s+pris|rek\.?\s+pris|"
    r"preço\s+original|\bde\s*:|"
    r"السعر\s+الأصلي|السعر\s+قبل|كان"
)
# Before a price, these make it the old price only when another price is beside it: a
# theme writes "Regular price" before a price that is not on sale, too.
_REGULAR = (
    r"regular\s+price|\bregular\b|prix\s+habituel|prix\s+normal|normaler\s+preis|normalpreis|"
    r"precio\s+habitual|precio\s+normal|prezzo\s+di\s+listino|prezzo\s+normale|"
    r"normale\s+prijs|ordinarie\s+pris|ordinarie|cena\s+normalna|preço\s+normal|"
    r"日常价|一般价|通常価格|通常販売価格"
)
OLD_LABEL = re.compile(r"(?:" + _OLD + r")\s*[:：]?\s*$", re.I)          # just before
OLD_LABEL_FIRST = re.compile(r"^\s*(?:" + _OLD + r")\s*[:：]?", re.I)   # "原价 ¥1,699.00"
REGULAR_LABEL = re.compile(r"(?:" + _REGULAR + r")\s*[:：]?\s*$", re.I)
REGULAR_LABEL_FIRST = re.compile(r"^\s*(?:" + _REGULAR + r")\s*[:：]?", re.I)

# Just after an amount, these make it a price per something: per unit, per month, per
# instalment ("$5.40 / 100 g", "¥733/期", "€12 /mo").
PER_SOMETHING = re.compile(
    r"^\s*(?:/\s*\d*\s*(?:袋|包|斤|克|千克|公斤|毫升|升|片|瓶|盒|支|粒|枚|卷|罐|箱|本|個|点)|"
    r"/\s*\d*\s*(?:kg|g|l|ml|cl|100\s*g|100\s*ml|m|m²|m2|lb|oz|stk|期|mo|month|mes|"
    r"mois|monat|mese|maand|mån|miesiąc|月)\b|/\s*期|per\s+(?:month|kg|unit|100|lb)|"
    r"a\s+month|al\s+mes|par\s+mois|pro\s+monat|[x×]\s*\d+\s*期?)", re.I)

# A line about something else than the price to pay now: instalments, savings, shipping,
# unit and tax-free prices, the cart, members' and coupon prices, deposits, the EU's "lowest
# price in 30 days", eco fees.
NOT_THE_PRICE = re.compile(
    # instalments
    r"[×x]\s*\d+\s*期|分\s*\d+\s*期|分期|/\s*期|\b\d+\s*[x×]\s*(?:de\s+|of\s+|à\s+)?\D{0,4}\s*\d|"
    r"/\s*(?:mo|month|mes|mois|monat|mese|maand|mån|miesiąc|月)\b|per\s+month|a\s+month|"
    r"\bmonthly\b|al\s+mes|par\s+mois|pro\s+monat|al\s+mese|per\s+maand|"
    r"install?ment|instalment|\braty\b|\brate\b|parcela|cuotas|termijn|ratenzahlung|"
    r"klarna|afterpay|clearpay|affirm|\bpaypal\b|\bin3\b|花呗|\bfinanc|"
    # savings and discounts, not prices
    r"\bsave\b|\bsaving|\bsparen\b|\bspare\b|économisez|\bahorr|risparmi|bespaar|oszczędz|"
    r"economize|節省|节省|省\s*[¥￥]|立减|立減|满\s*\d+\s*减|滿\s*\d+\s*減|\boff\b|korting|"
    r"rabatt|remise|descuento|sconto|desconto|rabat\b|할인\s*금액|"
    # shipping
    r"shipping|postage|delivery|versand|livraison|envío|spedizione|frete|verzending|"
    r"wysyłk|frakt|运费|運費|包邮|包郵|配送料|送料|배송비|"
    # per unit, without tax
    r"/\s*\d*\s*(?:kg|g|l|ml|cl|100\s*g|100\s*ml|m|m²|m2|lb|oz|stk)\b|\bper\s+(?:kg|unit|100|lb)|"
    r"/\s*\d*\s*(?:袋|包|斤|克|千克|公斤|毫升|升|片|瓶|盒|支|粒|枚|卷|罐|箱|本|個|点)|"
    r"grundpreis|prix\s+au\s+(?:kg|litre)|precio\s+por|prezzo\s+al|"
    r"\bex\.?\s*tax\b|excl\.?\s*(?:tax|vat|btw|mwst|iva|tva)|exkl\.|zzgl\.|hors\s+tax|"
    r"sans\s+tva|\bnetto\b|"
    # the cart
    r"\bcart\b|\bbasket\b|panier|warenkorb|carrito|carrello|winkelwagen|koszyk|"
    r"购物车|購物車|カート|장바구니|"
    # members', coupon and payment-method prices
    r"会员|會員|adhérent|membre|mitglied|socio|\bmember|vip|\bplus\s*价|plus\s*會員|plus价|券后|券後|用券|领券|領券|coupon|"
    r"with\s+code|\bprime\b|subscribe|abonn|\bwow\b|와우|쿠폰|\bpix\b|预估|需领券|"
    # deposits, the lowest price of 30 days, fees
    r"定金|订金|尾款|deposit|anzahlung|acompte|"
    r"lowest\s+price|niedrigster|prix\s+le\s+plus\s+bas|najniższa|más\s+bajo|più\s+basso|"
    r"laagste\s+prijs|30\s*(?:days|tage|jours|dni|días|giorni|dagen)|"
    r"éco-?part|écotaxe|eco\s*fee",
    re.I)

# Class/id words of a price's box that make it the old price only beside another ("Regular").
REGULAR_WORDS = {"regular", "regularprice"}
# Class/id words of a price's box that say it is the price to pay (a sale, a promotion, the
# final price), or that it is the old one.
PAY_WORDS = {"sale", "promo", "promotion", "special", "current", "final", "now", "deal",
             "actual", "highlight", "main", "primary", "discount", "discounted", "offer",
             "selling", "ins", "new", "reduced", "pay", "real", "jiage", "buy"}
OLD_WORDS = {"was", "old", "compare", "compareat", "original", "orig", "origin", "listprice",
             "strike", "strikethrough", "striked", "crossed", "barre", "rrp", "uvp", "msrp",
             "streichpreis", "statt", "antes", "anterior", "prima", "before", "del",
             "market", "marketprice", "tagprice", "reference", "retail", "previous",
             "nonsale", "lined", "through", "linethrough"}
PRICE_WORDS = re.compile(r"price|preis|prix|precio|prezzo|prijs|pris|cena|preço|amount|money|"
                         r"cost|kakaku|jiage|num|sale|current|final|special|now|jg|prc|fiyat|"
                         r"harga|giá|gia|가격|판매가", re.I)

# What marks a short text as holding a price: a currency sign or code, or a local word.
CURRENCY_MARK = re.compile(
    r"[¥￥$€£₩₹₫₱฿₺₪₽₴₦₲]|"
    r"\b(?:USD|EUR|GBP|CNY|RMB|JPY|CAD|AUD|NZD|KWD|BHD|OMR|QAR|SAR|AED|EGP|CHF|SEK|NOK|DKK|ISK|"
    r"PLN|CZK|HUF|RON|BGN|HKD|TWD|SGD|MYR|THB|IDR|VND|PHP|KRW|INR|BRL|MXN|ARS|CLP|COP|PEN|"
    r"ZAR|TRY|ILS|RUB|UAH)\b|"
    r"元|円|원|د\.ك|د\.إ|ر\.س|د\.ب|ر\.ع|درهم|ريال|دينار|جنيه|zł|Kč|лв|TL|"
    r"(?<![A-Za-z])(?:kr|Ft|lei|Rp|RM|BD|KD|Dhs?|RD\$|S/)(?![A-Za-z])",
    re.I)
