"""The merchant's catalog.csv: good sheets load, mistakes are refused with file, row and column."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from audits.catalog import CatalogEntry, CatalogError, load_catalog, parse_catalog
from storeaudit.cli import CATALOG_HEADER
from storeaudit.sample_store import demostore_dir

HEADER = "sku,cost,reference_price,promoted\n"
GOOD_ROW = "SH-1,100,299,yes\n"


def _write(tmp_path, data: bytes | str, name: str = "catalog.csv"):
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- mistakes

# (id, file bytes or text, row, column, words the message must hold)
MISTAKES = [
    ("missing column", "sku,cost,promoted\nSH-1,1,yes\n", 1, "reference_price",
     ["required column is missing"]),
    ("unknown column", "sku,cost,reference_price,promoted,colour\nSH-1,1,2,yes,red\n", 1, "colour",
     ["unknown column", "category"]),
    ("misspelt column", "sku,cost,refrence_price,promoted\n", 1, "refrence_price",
     ["unknown column", "did you mean 'reference_price'"]),
    ("column twice", "sku,cost,reference_price,promoted,Cost\n", 1, "Cost", ["appears twice"]),
    ("no header", "SH-1,100,299,yes\n", 1, None, ["not the header"]),
    ("duplicate SKU", HEADER + "SH-1,1,2,yes\nSH-2,1,2,no\n\nSH-1,3,4,no\n", 5, "sku",
     ["duplicate SKU 'SH-1'", "rows 2 and 5"]),
    ("duplicate SKU after trimming", HEADER + "SH-1,1,2,yes\n  SH-1 ,1,2,yes\n", 3, "sku",
     ["duplicate", "rows 2 and 3"]),
    ("bad number", HEADER + "SH-1,100,299,yes\nSH-2,100,299,yes\nSH-3,100,299,no\n"
     "SH-4,100,299,no\nSH-5,100,299,no\nSH-6,abc,299,no\n", 7, "cost", ["'abc' is not a number"]),
    ("number with words", HEADER + "SH-1,12 pcs,299,yes\n", 2, "cost", ["'12 pcs' is not a number"]),
    ("price range", HEADER + "SH-1,10,99-199,yes\n", 2, "reference_price", ["range"]),
    ("empty cost", HEADER + "SH-1,,299,yes\n", 2, "cost", ["empty"]),
    ("negative cost", HEADER + "SH-1,-5,299,yes\n", 2, "cost", ["negative", "0 or more"]),
    ("negative cost with sign", HEADER + "SH-1,¥-5,299,yes\n", 2, "cost", ["negative"]),
    ("zero reference", HEADER + "SH-1,5,0,yes\n", 2, "reference_price", ["more than 0"]),
    ("zero reference with sign", HEADER + "SH-1,5,¥0.00,yes\n", 2, "reference_price", ["more than 0"]),
    ("bad promoted value", HEADER + "SH-1,5,9,maybe\n", 2, "promoted", ["'maybe' is not yes or no", "是/否"]),
    ("empty SKU", HEADER + "SH-1,5,9,no\n   ,5,9,no\n", 3, "sku", ["SKU is empty"]),
    ("value under no column", HEADER + "SH-1,5,9,no,surplus\n", 2, "#5", ["no name in the header"]),
    ("unclosed quote", HEADER + 'SH-1,"5,9,no\nSH-2,5,9,no\n', 2, None, ["not valid CSV", "double quotes"]),
    ("GBK file", ("sku,cost,reference_price,promoted,category\nSH-1,5,9,no,服装\nSH-2,5,9,否,家具\n")
     .encode("gbk"), 2, "category", ["not UTF-8", "GBK/GB18030", "CSV UTF-8"]),
    ("GB18030 header", "货号,成本\nSH-1,5\n".encode("gb18030"), 1, None, ["GBK/GB18030", "save it as UTF-8"]),
    ("UTF-16 (Excel Unicode text)", "\ufeffsku\tcost\treference_price\tpromoted\n".encode("utf-16-le"),
     None, None, ["UTF-16", "CSV UTF-8"]),
    ("not-a-CSV binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), None, None,
     ["binary", "save it as UTF-8"]),
    ("random bytes", bytes([0x80, 0xFF, 0xFE, 0x81, 0x9A, 0x41]) * 20, 1, None, ["not UTF-8 text"]),
    ("xlsx workbook", b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + bytes(40), None, None,
     ["Excel workbook", "CSV UTF-8"]),
    ("empty file", b"", None, None, ["empty", "header"]),
    ("blank lines only", b"\r\n\r\n,,,\r\n", None, None, ["empty", "header"]),
]


@pytest.mark.parametrize("data,row,column,words", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistakes_are_refused_naming_row_and_column(tmp_path, data, row, column, words):
    path = _write(tmp_path, data)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    e = caught.value
    assert isinstance(e, ValueError)
    assert (e.row, e.column) == (row, column)
    assert e.path == str(path)
    message = str(e)
    assert message.startswith(str(path))
    if row:
        assert f", row {row}" in message
    if column:
        assert f", column '{column}'" in message
    for word in words:
        assert word in message
    assert sorted(os.listdir(tmp_path)) == before  # refusing writes nothing
    assert path.read_bytes() == (data if isinstance(data, bytes) else data.encode())


def test_message_reads_like_the_design_says():
    text = HEADER + "".join(f"SH-{i},100,299,no\n" for i in range(1, 6)) + "SH-6,abc,299,no\n"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text)
    assert str(caught.value).startswith("catalog.csv, row 7, column 'cost': 'abc' is not a number")


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "nope.csv")
    e = caught.value
    assert (e.row, e.column) == (None, None)
    assert "not found" in str(e) and "storeaudit init" in str(e)
    assert not (tmp_path / "nope.csv").exists()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(CatalogError, match="folder"):
        load_catalog(tmp_path)


# --------------------------------------------------------------------------- good sheets


def test_plain_sheet():
    got = parse_catalog(HEADER + "SH-0001,160.00,299.00,yes\nSH-0002,2600,4999,no\n")
    assert got == {
        "SH-0001": CatalogEntry("SH-0001", Decimal("160.00"), Decimal("299.00"), True, None),
        "SH-0002": CatalogEntry("SH-0002", Decimal("2600"), Decimal("4999"), False, None),
    }
    assert list(got) == ["SH-0001", "SH-0002"]


def test_bom_and_crlf(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbf" + (HEADER + GOOD_ROW + "SH-2,1,2,no\n").replace("\n", "\r\n").encode())
    got = load_catalog(path)
    assert set(got) == {"SH-1", "SH-2"}
    assert got["SH-1"] == CatalogEntry("SH-1", Decimal("100"), Decimal("299"), True)


def test_lone_cr_line_endings():
    assert set(parse_catalog((HEADER + GOOD_ROW).replace("\n", "\r"))) == {"SH-1"}


@pytest.mark.parametrize("cost,reference,want_cost,want_reference", [
    ("¥160", "¥299.00", "160", "299.00"),
    ('"¥1,299.00"', '"2,599"', "1299.00", "2599"),
    ('"1,299.00"', "￥１２９９９", "1299.00", "12999"),
    ("160元", "RMB 299", "160", "299"),
    ("CNY 160.5", "$ 299", "160.5", "299"),
    ("0", "0.01", "0", "0.01"),
    (" 160 ", " 299 ", "160", "299"),
])
def test_currency_signs_and_thousands_separators(cost, reference, want_cost, want_reference):
    got = parse_catalog(HEADER + f"SH-1,{cost},{reference},yes\n")["SH-1"]
    assert (got.cost, got.reference_price) == (Decimal(want_cost), Decimal(want_reference))


@pytest.mark.parametrize("value,want", [
    ("yes", True), ("YES", True), ("y", True), ("True", True), ("1", True), ("是", True),
    ("no", False), ("N", False), ("false", False), ("0", False), ("否", False), ("", False), ("  ", False),
])
def test_promoted_values(value, want):
    assert parse_catalog(HEADER + f"SH-1,1,2,{value}\n")["SH-1"].promoted is want


def test_promoted_may_be_missing_at_the_end_of_a_row():
    assert parse_catalog(HEADER + "SH-1,1,2\n")["SH-1"].promoted is False


def test_optional_category():
    got = parse_catalog("sku,cost,reference_price,promoted,category\n"
                        "SH-1,1,2,yes, outdoor \nSH-2,1,2,no,\n")
    assert got["SH-1"].category == "outdoor"
    assert got["SH-2"].category is None


def test_header_only_is_an_empty_catalog(tmp_path):
    assert parse_catalog(HEADER) == {}
    assert parse_catalog(HEADER.rstrip("\n")) == {}
    assert load_catalog(_write(tmp_path, CATALOG_HEADER)) == {}  # what `storeaudit init` writes


def test_shuffled_columns_and_header_spelling():
    text = " Promoted ,CATEGORY,Reference Price, Cost ,Sku\nyes,kitchen,299,100,SH-1\n"
    assert parse_catalog(text) == {"SH-1": CatalogEntry("SH-1", Decimal("100"), Decimal("299"), True, "kitchen")}


def test_blank_lines_and_empty_excel_rows_are_skipped_and_rows_still_count_lines():
    text = "\n" + HEADER.rstrip("\n") + ",\n\nSH-1,1,2,yes,\n,,,,\n\nSH-2,x,2,no,\n"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text)
    assert (caught.value.row, caught.value.column) == (7, "cost")  # line 7 of the file; the header is on line 2
    assert set(parse_catalog(text.replace(",x,", ",3,"))) == {"SH-1", "SH-2"}


def test_quoted_values_with_commas_and_quotes():
    got = parse_catalog('sku,cost,reference_price,promoted,category\n'
                        '"SH-1","1,000.00","2,000.00","yes","home, ""garden"""\n')
    assert got["SH-1"].cost == Decimal("1000.00")
    assert got["SH-1"].category == 'home, "garden"'


def test_semicolon_separated_sheet():
    got = parse_catalog("sku;cost;reference_price;promoted\nSH-1;1.299,00 €;2000;1\n")
    assert got["SH-1"].cost == Decimal("1299.00") and got["SH-1"].promoted


def test_skus_keep_their_case_and_inner_text():
    got = parse_catalog(HEADER + "sh-1,1,2,no\nSH-1,1,2,no\n")
    assert set(got) == {"sh-1", "SH-1"}


# --------------------------------------------------------------------------- the sample store's sheet


def test_the_sample_stores_catalog_loads():
    catalog = load_catalog(demostore_dir() / "catalog.csv")
    assert len(catalog) == 60
    jacket = catalog["SH-0001"]
    assert jacket.cost == Decimal("160")
    assert jacket.reference_price == Decimal("299")
    assert jacket.promoted is True
    assert jacket.category == "apparel"
    assert {e.category for e in catalog.values()} == {"apparel", "furniture", "kitchen", "digital", "outdoor"}
    assert all(e.reference_price > 0 and e.cost >= 0 for e in catalog.values())
