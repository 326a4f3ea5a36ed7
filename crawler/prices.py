"""Price strings as stores show them, turned into an amount and an ISO 4217 currency.

`price-parser` does the number reading (thousands vs decimal separators, "1 299,00",
"1'299.50", "₹1,23,456.00"); this module wraps it for what it gets wrong or leaves open:

* full-width text ("￥１２９９", "价格：¥199.00") is NFKC-normalised first;
* the currency symbol is mapped to an ISO code: `¥`/`￥` is CNY unless the store's default
  currency is JPY, `$` is USD unless the default is another dollar, "元" is CNY, "円" is JPY;
* a range ("¥99-199", "¥99 ~ ¥199") gives its low end and the note "range 99–199";
  "from $20" / "¥99起" give the note "from";
* a negative amount ("-¥5") is refused (price-parser would drop the sign);
* Chinese myriads: "1.5万" is 15000 ("万" × 10,000, "亿" × 100,000,000);
* a labelled pair gives the current price and the list price: "原价¥299 现价¥199",
  "¥199 原价¥299", "到手价 ¥89", "券后价", "was $40 now $25", "RRP £30" (`list_price`);
* three-decimal currencies (KWD, BHD, OMR, JOD, TND, LYD, IQD) keep their decimals:
  "KWD 12.345" is 12.345, not 12345;
* text that holds no price ("", "N/A", "暂无报价", "面议", "call for price") gives None, never 0.

Hostile or odd text is refused (None) rather than misread, because a misread price is a
false finding: exponents ("1e5", which price-parser reads as 1), hex and underscores ("0x10",
"1_000"), superscripts and vulgar fractions ("¥5²", "½"), NaN/Infinity, and amounts of
`MAX_AMOUNT` or more (a 10,000-digit number is not a price, and cutting it short would be a
wrong one). Invisible characters (zero-width, direction marks, NUL) are dropped first, and
the Arabic decimal and thousands separators ("١٬٢٩٩٫٠٠") are read as "." and ",". "0.001" is
a decimal, never the thousands-separated 1 that the "one separator + three digits" rule gives.

Decision: a text that *says* the item is free ("Free", "免费", "gratis") is a price of 0 with
the note "free" (currency: the default). The store shows it as a price, and a promoted item
shown free is exactly what a price rule must see; it is not "no price".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from price_parser import Price

try:  # price-parser's own currency table: used for ISO codes and decimals only.
    from price_parser._currencies import CURRENCIES as _PP_CURRENCIES
except Exception:  # pragma: no cover - a future price-parser may move it
    _PP_CURRENCIES = {}

__all__ = ["ParsedPrice", "parse_price", "format_price", "currency_from_symbol"]

# Longest price text we read; a price element holding more than this is read from its start.
_MAX_TEXT = 300
# No listing costs a trillion of any currency (the dong and the rupiah included); an amount
# this large is a misread or a hostile page, and is not a price.
MAX_AMOUNT = Decimal(10) ** 12


@dataclass(frozen=True)
class ParsedPrice:
    amount: Decimal
    currency: str | None
    note: str | None = None
    list_price: Decimal | None = None  # a labelled "原价/was/RRP" beside the current price


# Labels that say which price of a pair is which (the current one, and the crossed-out one).
_CURRENT_LABEL = re.compile(
    r"(现价|到手价|券后价?|促销价|活动价|折后价|秒杀价|优惠价|特价|售价|"
    r"\bnow\b|\bsale price\b|\bour price\b|\bprice now\b|\bjetzt\b|\bahora\b)",
    re.IGNORECASE)
_LIST_LABEL = re.compile(
    r"(原价|划线价|市场价|参考价|吊牌价|专柜价|门市价|\bwas\b|\brrp\b|\bmsrp\b|\blist price\b|"
    r"\bcompare at\b|\bregular price\b|\boriginal price\b|\bstatt\b|\bantes\b|\bprix barré\b)",
    re.IGNORECASE)
# Chinese myriads after a number: "1.5万" is 15000.
_MYRIAD = {"万": Decimal(10_000), "萬": Decimal(10_000), "亿": Decimal(100_000_000),
           "億": Decimal(100_000_000)}
# Currencies with three decimals (ISO 4217): one separator and three digits is a decimal.
THREE_DECIMALS = {"KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD"}
_THREE_DECIMAL_NUMBER = re.compile(r"(\d{1,3})[.,](\d{3})")


_DOLLARS = {
    "USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN", "ARS", "CLP", "COP", "BND",
    "BSD", "BBD", "BZD", "BMD", "FJD", "GYD", "JMD", "KYD", "LRD", "SBD", "SRD", "TTD",
    "UYU", "XCD", "NAD", "ZWL",
}
_KRONER = {"SEK", "NOK", "DKK", "ISK"}
_POUNDS = {"GBP", "EGP", "GIP", "FKP", "SHP", "JEP", "GGP", "IMP"}
_RUPEES = {"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}

# Symbols and words as stores print them -> ISO code. "¥", "$", "kr", "£", "Rs" are settled
# against the default currency in `currency_from_symbol`.
_SYMBOLS: dict[str, str] = {
    "¥": "CNY", "￥": "CNY", "CN¥": "CNY", "RMB": "CNY", "元": "CNY", "人民币": "CNY",
    "块": "CNY", "YUAN": "CNY", "JP¥": "JPY", "円": "JPY", "YEN": "JPY",
    "$": "USD", "US$": "USD", "U$": "USD", "USD$": "USD",
    "€": "EUR", "EUR€": "EUR", "£": "GBP", "₹": "INR", "RS": "INR", "RS.": "INR",
    "₩": "KRW", "원": "KRW", "R$": "BRL", "CHF": "CHF", "FR.": "CHF", "SFR.": "CHF",
    "₽": "RUB", "РУБ": "RUB", "РУБ.": "RUB", "Р.": "RUB", "HK$": "HKD", "NT$": "TWD",
    "S$": "SGD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "NZ$": "NZD",
    "MX$": "MXN", "ZŁ": "PLN", "RM": "MYR", "RP": "IDR",
    "฿": "THB", "₫": "VND", "₺": "TRY", "TL": "TRY", "₱": "PHP", "KČ": "CZK", "FT": "HUF",
    "₪": "ILS", "R": "ZAR", "LEI": "RON", "₴": "UAH", "₦": "NGN", "₸": "KZT",
}
# Currency words price-parser does not see: suffixes such as "1299元".
_WORD_CURRENCY = re.compile(r"(人民币|元|块|円|원|JP¥|CN¥|\byuan\b|\byen\b)", re.IGNORECASE)

_FREE = re.compile(
    r"^(?:price|价格|售价)?\s*[:：]?\s*(free|免费|gratis|gratuit|kostenlos|無料|무료)\s*[!.！]?$",
    re.IGNORECASE,
)
_FROM = re.compile(
    r"(\bfrom\b|\bstarting (?:at|from)\b|\bstarts at\b|\bas low as\b|\bab\b|\bà partir de\b|起)",
    re.IGNORECASE,
)
# A run of digits with the separators stores use inside one number.
_NUMBER = re.compile(r"\d(?:[\d.,' ]*\d)?")
# What may stand between the two ends of a range: a dash or tilde, maybe a currency sign.
_RANGE_GAP = re.compile(
    r"^\s*[^\d\s]{0,4}\s*(?:-|–|—|~|〜|～|至|到|to|bis)\s*[^\d\s]{0,4}\s*$", re.IGNORECASE
)
# A minus sign stuck to the amount or its sign ("-¥5", "¥-5", "- 5"), not a label dash.
_MINUS_BEFORE = re.compile(r"(?:^\s*[-−]\s*[^\d\s]{0,4}\s*$|(?:^|[^\w])[-−][^\d\s]{0,4}$|[^\w\s]\s*[-−]\s*$)")


# Number notations no store prints as a price, which price-parser misreads ("1e5" as 1).
_NOT_A_PRICE = re.compile(r"\d(?:[eE][+-]?\d|[xX][0-9a-fA-F]|_\d)|\b(?:nan|inf(?:inity)?)\b",
                          re.IGNORECASE)
# "0.001", "0,050": a leading zero, so the separator is a decimal one.
_LEADING_ZERO = re.compile(r"0[.,](\d{3})")


def _normalize(text: str) -> str:
    # NFKC: full-width digits and signs (１２９９, ￥ -> ¥, ，) and no-break spaces become plain.
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("′", "'").replace("٫", ".").replace("٬", ",")
    # Zero-width spaces and joiners, direction marks, BOMs, NUL and other controls: invisible,
    # so a person reads the price without them.
    text = "".join(c for c in text if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(text.split())


def _odd_digits(text: str) -> bool:
    """Superscripts, subscripts, circled numbers and fractions ("¥5²", "½", "①"): NFKC would
    turn them into plain digits and a wrong amount."""
    return any(unicodedata.category(c) == "No" for c in text)


def _plausible(amount: Decimal | None) -> Decimal | None:
    if amount is None or not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        return None
    return amount


def _decimal_fix(number: str, amount: Decimal | None) -> Decimal | None:
    """price-parser reads "0.001" as 1 (a thousands separator); with a leading 0 it is not."""
    match = _LEADING_ZERO.fullmatch(number.strip())
    return Decimal(f"0.{match.group(1)}") if match else amount


def currency_from_symbol(symbol: str | None, default_currency: str | None = None) -> str | None:
    """The ISO 4217 code for a currency sign, word or code as a store prints it.

    Ambiguous signs follow `default_currency` when it is one of their currencies: "¥" is JPY
    when the default is JPY (else CNY), "$" is CAD/AUD/... when the default is that dollar
    (else USD), "kr" is the default krone/krona, "£" the default pound.
    """
    default = default_currency.upper() if default_currency else None
    if not symbol:
        return default
    sym = unicodedata.normalize("NFKC", str(symbol)).strip().upper()
    if not sym:
        return default
    if sym == "¥" and default == "JPY":
        return "JPY"
    if sym == "$" and default in _DOLLARS:
        return default
    if sym in {"KR", "KR.", "NKR"}:
        return default if default in _KRONER else None
    if sym == "£" and default in _POUNDS:
        return default
    if sym in {"RS", "RS.", "₨"} and default in _RUPEES:
        return default
    if sym in _SYMBOLS:
        return _SYMBOLS[sym]
    if sym == "NTD":
        return "TWD"
    if re.fullmatch(r"[A-Z]{3}", sym) and (sym in _PP_CURRENCIES or not _PP_CURRENCIES):
        return sym
    # Last resort: a symbol that price-parser's table gives to exactly one currency.
    owners = [
        code
        for code, info in _PP_CURRENCIES.items()
        if sym in {str(info.get("s", "")).upper(), str(info.get("sn", "")).upper()}
    ]
    if len(owners) == 1:
        return owners[0]
    if default and default in owners:
        return default
    return default


def _currency_in(text: str, pp_currency: str | None, default: str | None) -> str | None:
    if "JP¥" in text.upper() or re.search(r"\bJPY\b", text):
        return "JPY"
    if pp_currency:
        return currency_from_symbol(pp_currency, default)
    word = _WORD_CURRENCY.search(text)
    if word:
        return currency_from_symbol(word.group(1), default)
    return default.upper() if default else None


def _amount(text: str) -> Decimal | None:
    try:
        value = Price.fromstring(text).amount
    except (InvalidOperation, ValueError, ArithmeticError):
        return None
    return _plausible(_decimal_fix(text, value))


def _scaled(amount: Decimal | None, after: str) -> Decimal | None:
    """The amount times a myriad that follows it ("1.5万" -> 15000)."""
    unit = after.lstrip()[:1]
    if amount is None or unit not in _MYRIAD:
        return amount
    value = amount * _MYRIAD[unit]
    return _plausible(value.quantize(Decimal(1)) if value == value.to_integral() else value)


def _three_decimals(number: str, amount: Decimal | None, currency: str | None) -> Decimal | None:
    match = _THREE_DECIMAL_NUMBER.fullmatch(number.strip())
    if currency in THREE_DECIMALS and match:
        return Decimal(f"{match.group(1)}.{match.group(2)}")
    return amount


def _labelled(text: str, default_currency: str | None) -> ParsedPrice | None:
    """A text that labels its prices ("原价¥299 现价¥199"): the current one, with the list
    price beside it; None when it labels none, or only one number."""
    marks = sorted([(m.start(), m.end(), "current") for m in _CURRENT_LABEL.finditer(text)]
                   + [(m.start(), m.end(), "list") for m in _LIST_LABEL.finditer(text)])
    if not marks or len(_NUMBER.findall(text)) < 2 and marks[0][2] != "current":
        return None
    segments = [(None, text[:marks[0][0]])]
    for i, (_, end, kind) in enumerate(marks):
        part = text[end:(marks[i + 1][0] if i + 1 < len(marks) else len(text))]
        number = _NUMBER.search(part)
        # A label names the number right after it; what follows is unlabelled
        # ("RRP £30 £19.99": £19.99 is the current price).
        cut = number.end() if number else len(part)
        while cut < len(part) and part[cut] in _MYRIAD:
            cut += 1
        segments += [(kind, part[:cut]), (None, part[cut:])]
    read = [(kind, parse_price(part, default_currency)) for kind, part in segments
            if _NUMBER.search(part)]
    current = next((p for k, p in read if k == "current" and p), None) or \
        next((p for k, p in read if k is None and p), None)
    listed = next((p for k, p in read if k == "list" and p), None)
    if current is None:
        return None
    # "原价299元 现价199元": a sign written after a number is read with the part after it
    currency = current.currency or _currency_in(text, Price.fromstring(text).currency,
                                                default_currency)
    return ParsedPrice(current.amount, currency, current.note,
                       listed.amount if listed else current.list_price)


def _from_number(value: int | float | Decimal, default_currency: str | None) -> ParsedPrice | None:
    if isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if _plausible(amount) is None:
        return None
    return ParsedPrice(amount, default_currency.upper() if default_currency else None, None)


def parse_price(text: str | None, default_currency: str | None = None) -> ParsedPrice | None:
    """Read one price string as a store shows it; None when it holds no price.

    * The amount is a Decimal as written ("1,299.00" -> Decimal("1299.00")). One separator
      followed by exactly three digits is a thousands separator ("1,299" -> 1299,
      "12.800" -> 12800); with one or two digits it is a decimal one ("1,29" -> 1.29).
    * The currency is an ISO 4217 code: from the sign or code in the text, else
      `default_currency`, else None.
    * `note` is "range LOW–HIGH" for a range (the amount is the low end), "from" for a
      starting price, "free" for a text that says free (amount 0), else None.
    * "", "N/A", "暂无报价", garbage, negative amounts, NaN/Infinity, exponents, amounts of
      MAX_AMOUNT or more -> None.
    """
    if text is None:
        return None
    if isinstance(text, (int, float, Decimal)):
        return _from_number(text, default_currency)
    if not isinstance(text, str):
        return None
    head = text[: _MAX_TEXT * 4]
    if _odd_digits(head):
        return None
    full = _normalize(head)
    text = full[:_MAX_TEXT]
    if len(full) > _MAX_TEXT and full[_MAX_TEXT].isdigit():
        text = re.sub(r"\d[\d.,' ]*$", "", text)  # cut inside a number: not half of it
    if not text or _NOT_A_PRICE.search(text):
        return None
    default = default_currency.upper() if default_currency else None

    if _FREE.match(text):
        return ParsedPrice(Decimal(0), default, "free")
    if _CURRENT_LABEL.search(text) or _LIST_LABEL.search(text):
        labelled = _labelled(text, default)
        if labelled is not None:
            return labelled

    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return None
    first = numbers[0]
    prefix = text[: first.start()]
    if _MINUS_BEFORE.search(prefix):
        return None  # "-¥5", "¥-5", "−5": a negative price is not a price

    try:
        pp = Price.fromstring(text)
    except (InvalidOperation, ValueError, ArithmeticError):
        return None
    if pp.currency is None and re.search(r"[A-Za-z][-_#]?$", prefix):
        return None  # "SH-0001", "SKU123": a code, not a price
    currency = _currency_in(text, pp.currency, default)

    if len(numbers) >= 2 and _RANGE_GAP.match(text[first.end() : numbers[1].start()]):
        low = _scaled(_amount(first.group()), text[first.end():])
        high = _scaled(_amount(numbers[1].group()), text[numbers[1].end():])
        if low is not None and high is not None:
            if high < low:
                low, high = high, low
            if low == high:
                return ParsedPrice(low, currency, None)
            return ParsedPrice(low, currency, f"range {low}–{high}")

    amount = _plausible(_three_decimals(first.group(), _decimal_fix(first.group(), pp.amount),
                                        currency))
    amount = _scaled(amount, text[first.end():])
    if amount is None:
        return None
    note = "from" if _FROM.search(text) else None
    return ParsedPrice(amount, currency, note)


_DISPLAY: dict[str, tuple[str, str]] = {  # code -> (prefix, suffix)
    "CNY": ("¥", ""), "JPY": ("JP¥", ""), "USD": ("$", ""), "EUR": ("€", ""),
    "GBP": ("£", ""), "INR": ("₹", ""), "KRW": ("₩", ""), "RUB": ("₽", ""),
    "BRL": ("R$ ", ""), "CHF": ("CHF ", ""), "HKD": ("HK$", ""), "TWD": ("NT$", ""),
    "SGD": ("S$", ""), "AUD": ("A$", ""), "CAD": ("CA$", ""), "NZD": ("NZ$", ""),
    "MXN": ("MX$", ""),
}


def format_price(amount: Decimal | int | float | str | None, currency: str | None) -> str:
    """A price for display: "¥1,299.00" (CNY), "$19.99", "JP¥12,800", "1,299.00 SEK".

    Decimals follow the currency (0 for JPY and KRW, else 2) unless the amount has finer
    cents than that. None gives "".
    """
    if amount is None:
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    if not value.is_finite():
        return str(amount)
    code = currency.upper() if currency else None
    places = 2
    if code and code in _PP_CURRENCIES:
        try:
            places = int(_PP_CURRENCIES[code].get("d", 2))
        except (TypeError, ValueError):
            places = 2
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        places = max(places, 2)
    quantum = Decimal(1).scaleb(-places)
    shown = f"{abs(value).quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
    sign = "-" if value < 0 else ""
    if code in _DISPLAY:
        prefix, suffix = _DISPLAY[code]
        return f"{sign}{prefix}{shown}{suffix}"
    if code:
        return f"{sign}{shown} {code}"
    return f"{sign}{shown}"
