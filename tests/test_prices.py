"""Price strings as real stores print them -> amount, ISO currency and note."""

from decimal import Decimal

import pytest

from crawler.prices import ParsedPrice, format_price, parse_price

D = Decimal

# (text, default_currency, amount, currency, note); amount None means "no price here".
PRICES = [
    # Chinese stores
    ("¥1,299.00", None, D("1299.00"), "CNY", None),
    ("￥1299", None, D("1299"), "CNY", None),
    ("￥１，２９９.００", None, D("1299.00"), "CNY", None),
    ("RMB 88", None, D("88"), "CNY", None),
    ("CNY 1,299.00", None, D("1299.00"), "CNY", None),
    ("1299元", None, D("1299"), "CNY", None),
    ("1299元起", None, D("1299"), "CNY", "from"),
    ("¥ 1 299,00", None, D("1299.00"), "CNY", None),
    ("价格：¥199.00", None, D("199.00"), "CNY", None),
    ("售价 ¥ 88.50", None, D("88.50"), "CNY", None),
    ("¥99-199", None, D("99"), "CNY", "range 99–199"),
    ("¥99 ~ ¥199", None, D("99"), "CNY", "range 99–199"),
    ("99.00 - 199.00 元", None, D("99.00"), "CNY", "range 99.00–199.00"),
    ("¥1,299.00 ¥1,599.00", None, D("1299.00"), "CNY", None),
    ("１２９９", None, D("1299"), None, None),
    ("１２９９", "CNY", D("1299"), "CNY", None),
    # Japan: the same sign, told apart by the store's default currency
    ("¥ 12,800", "JPY", D("12800"), "JPY", None),
    ("12,800円", None, D("12800"), "JPY", None),
    ("JP¥ 12,800", None, D("12800"), "JPY", None),
    # dollars
    ("$19.99", None, D("19.99"), "USD", None),
    ("US$ 1,234.56", None, D("1234.56"), "USD", None),
    ("$1,234,567.89", None, D("1234567.89"), "USD", None),
    ("from $20", None, D("20"), "USD", "from"),
    ("$5 to $9", None, D("5"), "USD", "range 5–9"),
    ("$10", "CAD", D("10"), "CAD", None),
    ("HK$ 88", None, D("88"), "HKD", None),
    ("19.99 USD", None, D("19.99"), "USD", None),
    # euro, with both decimal conventions
    ("€1.234,56", None, D("1234.56"), "EUR", None),
    ("1.234,56 €", None, D("1234.56"), "EUR", None),
    ("12,50 €", None, D("12.50"), "EUR", None),
    ("€19,99 – €29,99", None, D("19.99"), "EUR", "range 19.99–29.99"),
    ("1 234 567,89 €", None, D("1234567.89"), "EUR", None),
    # other currencies
    ("£9.99", None, D("9.99"), "GBP", None),
    ("₹1,23,456.00", None, D("123456.00"), "INR", None),
    ("Rs. 499", None, D("499"), "INR", None),
    ("R$ 1.299,90", None, D("1299.90"), "BRL", None),
    ("CHF 1'299.50", None, D("1299.50"), "CHF", None),
    ("CHF 1’299.50", None, D("1299.50"), "CHF", None),
    ("₽ 1 299", None, D("1299"), "RUB", None),
    ("1 299 ₽", None, D("1299"), "RUB", None),
    ("₩12,000", None, D("12000"), "KRW", None),
    ("1.299,00 kr", "SEK", D("1299.00"), "SEK", None),
    # no currency shown: the default, else None
    (" 299.00 ", None, D("299.00"), None, None),
    (" 299.00 ", "cny", D("299.00"), "CNY", None),
    ("1,299", None, D("1299"), None, None),  # one comma + three digits: thousands
    ("1,29", None, D("1.29"), None, None),  # one comma + two digits: decimals
    # free is a price of zero, said so in the note
    ("免费", None, D("0"), None, "free"),
    ("Free", "USD", D("0"), "USD", "free"),
    ("¥0", None, D("0"), "CNY", None),
    # no price at all: None, never 0
    ("", None, None, None, None),
    ("   ", None, None, None, None),
    ("N/A", None, None, None, None),
    ("暂无报价", None, None, None, None),
    ("面议", "CNY", None, None, None),
    ("¥", None, None, None, None),
    ("—", None, None, None, None),
    ("abc", None, None, None, None),
    ("SH-0001", None, None, None, None),
    ("-5", None, None, None, None),
    ("-¥5", None, None, None, None),
    ("¥-5", None, None, None, None),
    (None, "CNY", None, None, None),
    # odd and hostile text (issue #9): read right, or refused, never misread
    ("¥1,299.00起", None, D("1299.00"), "CNY", "from"),
    ("RMB1299", None, D("1299"), "CNY", None),
    ("1299 RMB", None, D("1299"), "CNY", None),
    ("人民币 1,299.00", None, D("1299.00"), "CNY", None),
    ("¥ 1299.00 元", None, D("1299.00"), "CNY", None),
    ("１２９９元起", None, D("1299"), "CNY", "from"),
    ("＄19.99", None, D("19.99"), "USD", None),
    ("¥99—199", None, D("99"), "CNY", "range 99–199"),
    ("¥99～199", None, D("99"), "CNY", "range 99–199"),
    ("¥199-99", None, D("99"), "CNY", "range 99–199"),
    ("¥1,299.00 - ¥1,599.00", None, D("1299.00"), "CNY", "range 1299.00–1599.00"),
    ("١٢٣٤", "CNY", D("1234"), "CNY", None),  # Arabic-Indic digits
    ("¥١٬٢٩٩٫٠٠", None, D("1299.00"), "CNY", None),  # ... with the Arabic separators
    ("۱۲۳", "CNY", D("123"), "CNY", None),  # Persian digits
    ("१२३", "CNY", D("123"), "CNY", None),  # Devanagari digits
    ("¥0.001", None, D("0.001"), "CNY", None),  # a leading 0: decimals, not 1
    ("¥.99", None, D("0.99"), "CNY", None),
    ("¥ 88\u200b8", None, D("888"), "CNY", None),  # zero-width space inside
    ("\u202e¥1299", None, D("1299"), "CNY", None),  # right-to-left override
    ("\ufeff¥1\u200d299\u200e", None, D("1299"), "CNY", None),  # BOM, joiner, LTR mark
    ("\x00¥9\x009", None, D("99"), "CNY", None),  # NUL
    ("<b>¥99</b>", None, D("99"), "CNY", None),
    ("NaN", "CNY", None, None, None),
    ("¥nan", None, None, None, None),
    ("inf", "CNY", None, None, None),
    ("¥Infinity", None, None, None, None),
    ("-inf", "CNY", None, None, None),
    ("1e5", "CNY", None, None, None),  # price-parser alone reads 1
    ("¥1E+10", None, None, None, None),
    ("1.5e3元", None, None, None, None),
    ("0x10", "CNY", None, None, None),  # price-parser alone reads 0
    ("¥1_000", None, None, None, None),
    ("¥5²", None, None, None, None),  # NFKC alone reads 52
    ("½", "CNY", None, None, None),
    ("①", "CNY", None, None, None),
    ("9" * 10_000, "CNY", None, None, None),  # 10,000 digits: not cut to a wrong price
    ("¥" + "9" * 301, None, None, None, None),
    ("¥1,000,000,000,000", None, None, None, None),  # MAX_AMOUNT
    ("¥999,999,999,999", None, D("999999999999"), "CNY", None),
    ("−¥5", None, None, None, None),  # U+2212 minus
    ("－５", "CNY", None, None, None),  # full-width minus
    ("¥--5", None, None, None, None),
    ("¥-99-199", None, None, None, None),
    ("面议", None, None, None, None),
    ("价格面议", "CNY", None, None, None),
    ("¥", "CNY", None, None, None),
]


@pytest.mark.parametrize(("text", "default", "amount", "currency", "note"), PRICES)
def test_price_strings_from_real_stores(text, default, amount, currency, note):
    parsed = parse_price(text, default)
    if amount is None:
        assert parsed is None
        return
    assert parsed == ParsedPrice(amount, currency, note)
    assert parsed.amount == amount and str(parsed.amount) == str(amount)


def test_price_table_is_broad():
    assert len(PRICES) >= 100
    currencies = {row[3] for row in PRICES if row[3]}
    assert {"CNY", "JPY", "USD", "EUR", "GBP", "INR", "BRL", "CHF", "RUB", "KRW"} <= currencies


def test_parsed_price_cannot_be_changed():
    parsed = parse_price("¥1,299.00")
    with pytest.raises(AttributeError):
        parsed.amount = D("1")  # type: ignore[misc]


def test_huge_price_text_is_read_from_its_start():
    assert parse_price("¥88.00 " + "x" * 1_000_000) == ParsedPrice(D("88.00"), "CNY", None)


def test_a_number_cut_by_the_length_limit_is_not_read_as_half_of_itself():
    assert parse_price("x" * 296 + "¥12345") is None  # the cut falls inside 12345
    assert parse_price("x" * 290 + "¥12345") == ParsedPrice(D("12345"), "CNY", None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 1e300, D("NaN"), D("1e20"), True])
def test_numbers_from_structured_data_that_are_not_prices(value):
    assert parse_price(value, "CNY") is None


def test_numbers_from_structured_data():
    assert parse_price(1299, "CNY") == ParsedPrice(D("1299"), "CNY", None)
    assert parse_price(19.99, None) == ParsedPrice(D("19.99"), None, None)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (D("1299"), "CNY", "¥1,299.00"),
        (D("1299.5"), "cny", "¥1,299.50"),
        (D("19.99"), "USD", "$19.99"),
        (D("12800"), "JPY", "JP¥12,800"),
        (D("12000"), "KRW", "₩12,000"),
        (D("1234.56"), "EUR", "€1,234.56"),
        (D("1299.5"), "CHF", "CHF 1,299.50"),
        (D("1299"), "SEK", "1,299.00 SEK"),
        (D("5"), None, "5.00"),
        (None, "CNY", ""),
    ],
)
def test_prices_display_with_their_sign(amount, currency, shown):
    assert format_price(amount, currency) == shown


# Issue #17: the forms a Chinese or a three-decimal store prints, read as the shopper reads
# them. (text, default, amount, currency, note, list price)
SHOPPER_PRICES = [
    ("1.5万", "CNY", D("15000"), "CNY", None, None),
    ("¥1.25万", None, D("12500"), "CNY", None, None),
    ("2万-3万", "CNY", D("20000"), "CNY", "range 20000–30000", None),
    ("1.5 万元", None, D("15000"), "CNY", None, None),
    ("原价¥299 现价¥199", None, D("199"), "CNY", None, D("299")),
    ("¥199 原价¥299", None, D("199"), "CNY", None, D("299")),
    ("原价299元 现价199元", None, D("199"), "CNY", None, D("299")),
    ("划线价 ¥399 到手价 ¥299", None, D("299"), "CNY", None, D("399")),
    ("到手价¥199", None, D("199"), "CNY", None, None),
    ("券后价 ¥89", None, D("89"), "CNY", None, None),
    ("券后 ¥89 原价 ¥129", None, D("89"), "CNY", None, D("129")),
    ("¥99起", None, D("99"), "CNY", "from", None),
    ("was $40 now $25", None, D("25"), "USD", None, D("40")),
    ("RRP £30 £19.99", None, D("19.99"), "GBP", None, D("30")),
    ("Now $19.99", None, D("19.99"), "USD", None, None),
    ("statt 49,99 € jetzt 39,99 €", None, D("39.99"), "EUR", None, D("49.99")),
    ("KWD 12.345", None, D("12.345"), "KWD", None, None),
    ("12.345 KWD", None, D("12.345"), "KWD", None, None),
    ("BHD 1.250", None, D("1.250"), "BHD", None, None),
    ("3.500", "OMR", D("3.500"), "OMR", None, None),
    ("12.800", "CNY", D("12800"), "CNY", None, None),  # two decimals: still a thousands dot
]


@pytest.mark.parametrize(("text", "default", "amount", "currency", "note", "list_price"),
                         SHOPPER_PRICES)
def test_the_price_the_shopper_sees_and_its_list_price(text, default, amount, currency, note,
                                                       list_price):
    parsed = parse_price(text, default)
    assert parsed == ParsedPrice(amount, currency, note, list_price)
    assert str(parsed.amount) == str(amount)
