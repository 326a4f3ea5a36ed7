"""Bad input of every kind (issue #9), the merchant's files: contract and catalog files with
mistakes, a table each, through the loaders and through the `storeaudit audit` command. Each is
refused naming the file, the line (or row) and the key (or column), in one error line with no
traceback, never taking the process down or writing half a result (nothing is written to the
ledger).

The basic contract/catalog mistakes are in tests/test_contract.py and tests/test_catalog.py;
the tables here add the other kinds. The other bad input: corrupt and enormous images in
tests/test_bad_input_images.py, hostile listing titles in tests/test_bad_input_titles.py, odd
price strings in tests/test_prices.py, the API fuzz in tests/test_fuzz_api.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audits.catalog import CatalogError, load_catalog
from storeaudit.cli import app
from audits.contract import load_contract
from audits.contract_errors import ContractError
from audits.ledger import Ledger

runner = CliRunner()

STORE = '[store]\nname = "Shop"\nbase_url = "https://shop.example.com"\n'  # lines 1-3


def _rule(section: str, body: str) -> str:
    """STORE, a blank line, then `[section]` on line 5 and `body` from line 6."""
    return f"{STORE}\n[{section}]\n{body}\n"


# --------------------------------------------------------------------------- contract mistakes

# (id, file text or bytes, line, key, words the message must hold). A line or key of None:
# there is none to name (an empty file, a section missing altogether).
CONTRACT_MISTAKES = [
    # unknown keys, at every depth
    ("unknown top-level key", 'strore_name = "x"\n' + STORE, 1, "strore_name", ["unknown key"]),
    ("unknown section", STORE + '\n[stor]\nname = "x"\n', 5, "stor", ["unknown key"]),
    ("unknown key in a rule", _rule("rules.prices.below_floor", "multiplier = 2"), 6,
     "rules.prices.below_floor.multiplier", ["unknown key"]),
    ("unknown rule id", _rule("rules.prices.below_flor", "multiple = 2"), 5,
     "rules.prices.below_flor", ["unknown key"]),
    ("unknown rule family", _rule("rules.price.below_floor", "multiple = 2"), 5, "rules.price",
     ["unknown key"]),
    ("unknown key in an inline table", STORE + 'selectors = { prise = ".p" }\n', 4,
     "store.selectors.prise", ["unknown key"]),
    ("unknown key in [email.smtp]", _rule("email", 'to = ["a@b.c"]\n[email.smtp]\nhots = "x"'),
     8, "email.smtp.hots", ["unknown key"]),
    # the floor multiple and other numbers out of range
    ("negative floor multiple", _rule("rules.prices.below_floor", "multiple = -1.5"), 6,
     "rules.prices.below_floor.multiple", ["greater than 0", "got -1.5"]),
    ("zero floor multiple", _rule("rules.prices.below_floor", "multiple = 0"), 6,
     "rules.prices.below_floor.multiple", ["greater than 0"]),
    ("NaN floor multiple", _rule("rules.prices.below_floor", "multiple = nan"), 6,
     "rules.prices.below_floor.multiple", ["finite"]),
    ("infinite floor multiple", _rule("rules.prices.below_floor", "multiple = inf"), 6,
     "rules.prices.below_floor.multiple", ["finite"]),
    ("discount of 150%", _rule("rules.prices.unapproved_discount", "max_discount = 1.5"), 6,
     "rules.prices.unapproved_discount.max_discount", ["less than 1"]),
    ("negative discount", _rule("rules.prices.unapproved_discount", "max_discount = -0.1"), 6,
     "rules.prices.unapproved_discount.max_discount", ["greater than or equal to 0"]),
    ("zero stale days", _rule("rules.titles.stale", "max_days = 0"), 6,
     "rules.titles.stale.max_days", ["greater than or equal to 1"]),
    ("zero weekly quota", _rule("rules.titles.weekly_quota", "per_week = 0"), 6,
     "rules.titles.weekly_quota.per_week", ["greater than or equal to 1"]),
    ("zero quota share", _rule("rules.titles.weekly_quota", "share = 0"), 6,
     "rules.titles.weekly_quota.share", ["greater than 0"]),
    ("NaN quota share", _rule("rules.titles.weekly_quota", "share = nan"), 6,
     "rules.titles.weekly_quota.share", ["got nan"]),
    ("negative low-stock threshold", _rule("rules.stock.promoted_low_stock", "threshold = -1"),
     6, "rules.stock.promoted_low_stock.threshold", ["greater than or equal to 0"]),
    ("negative failed percent", _rule("rules.crawl.incomplete", "max_failed_percent = -5"), 6,
     "rules.crawl.incomplete.max_failed_percent", ["greater than or equal to 0"]),
    ("zero title length", _rule("rules.titles.length", "max_chars = 0"), 6,
     "rules.titles.length.max_chars", ["greater than or equal to 1"]),
    ("zero concurrency", _rule("crawl", "concurrency = 0"), 6, "crawl.concurrency",
     ["greater than or equal to 1"]),
    ("infinite request rate", _rule("crawl", "max_requests_per_second = inf"), 6,
     "crawl.max_requests_per_second", ["got inf"]),
    ("SMTP port 0", _rule("email", 'to = ["a@b.c"]\n[email.smtp]\nhost = "h"\nport = 0'), 9,
     "email.smtp.port", ["greater than or equal to 1"]),
    # wrong types: TOML values have types, and none is coerced
    ("number in quotes", _rule("rules.prices.below_floor", 'multiple = "1.5"'), 6,
     "rules.prices.below_floor.multiple", ["should be a number", "no quotes"]),
    ("words for a number", _rule("rules.prices.below_floor", 'multiple = "one and a half"'), 6,
     "rules.prices.below_floor.multiple", ["should be a number"]),
    ("true for a number", _rule("rules.prices.below_floor", "multiple = true"), 6,
     "rules.prices.below_floor.multiple", ["should be a number", "got true"]),
    ("true for a count", _rule("crawl", "retries = true"), 6, "crawl.retries",
     ["whole number", "got true"]),
    ("fraction for a count", _rule("crawl", "concurrency = 2.5"), 6, "crawl.concurrency",
     ["whole number", "got 2.5"]),
    ("text for a yes/no", _rule("rules.prices.below_floor", 'enabled = "yes"'), 6,
     "rules.prices.below_floor.enabled", ["true or false", 'got "yes"']),
    ("number for text", _rule("rules.titles.keywords", "keywords = [1, 2]"), 6,
     "rules.titles.keywords.keywords", ["text in quotes"]),
    ("text for a list", _rule("rules.titles.keywords.by_category", 'apparel = "加厚"'), 6,
     "rules.titles.keywords.by_category.apparel", ["should be a list"]),
    ("text for a section", 'store = "Shop"\n', 1, "store", ["should be a section"]),
    ("text for a list of addresses", _rule("email", 'to = "a@b.c"'), 6, "email.to",
     ["should be a list"]),
    # schedule times
    ("time without a colon", _rule("schedule", 'nightly = "2am"'), 6, "schedule.nightly",
     ["not a time of day", "HH:MM"]),
    ("hour 24", _rule("schedule", 'nightly = "24:00"'), 6, "schedule.nightly",
     ["not a time of day"]),
    ("time as a TOML time", _rule("schedule", "nightly = 02:00:00"), 6, "schedule.nightly",
     ["TOML date/time", "in quotes"]),
    ("a bad extra crawl time", _rule("schedule", 'extra_crawls = ["14:00", "25:61"]'), 6,
     "schedule.extra_crawls", ["'25:61' is not a time of day"]),
    ("extra crawl at the nightly time", _rule("schedule", 'nightly = "02:00"\n'
                                                          'extra_crawls = ["02:00"]'),
     5, "schedule", ["repeats the nightly time"]),
    ("catch-up of two days", _rule("schedule", "catch_up_hours = 48"), 6,
     "schedule.catch_up_hours", ["less than or equal to 24"]),
    # names that are not what they should be
    ("unknown severity", _rule("rules.prices.below_floor", 'severity = "urgent"'), 6,
     "rules.prices.below_floor.severity", ["'critical', 'major' or 'minor'", 'got "urgent"']),
    ("severity in capitals", _rule("rules.titles.stale", 'severity = "Critical"'), 6,
     "rules.titles.stale.severity", ["'critical', 'major' or 'minor'"]),
    ("unknown applies_to", _rule("rules.prices.below_floor", 'applies_to = "everything"'), 6,
     "rules.prices.below_floor.applies_to", ["'promoted' or 'all'"]),
    ("lower-case currency", STORE + 'currency = "cny"\n', 4, "store.currency", ["pattern"]),
    ("a blank store name", STORE.replace('"Shop"', '"   "'), 2, "store.name", ["blank"]),
    ("a line break in the store name", STORE.replace('"Shop"', '"Shop\\nBcc: x@y.z"'), 2,
     "store.name", ["control character", "one line"]),
    ("an RTL override in the store name", STORE.replace('"Shop"', '"\\u202eShop"'), 2,
     "store.name", ["text-direction override"]),
    ("not an email address", _rule("email", 'to = ["merchant"]'), 6, "email.to",
     ["not an email address"]),
    ("SMTP without recipients", _rule("email.smtp", 'host = "smtp.example.com"'), 5, "email",
     ["no one to send to"]),
    # TOML that does not parse
    ("unclosed string", STORE + 'currency = "CNY\n', 4, None, ["not valid TOML"]),
    ("key set twice", _rule("crawl", "retries = 1\nretries = 2"), 7, None,
     ["not valid TOML", "overwrite"]),
    ("section twice", _rule("crawl", "retries = 1\n[crawl]\nretries = 2"), 7, None,
     ["not valid TOML", "twice"]),
    ("a NUL character", STORE + "\x00\n", 4, None, ["not valid TOML"]),
    ("a bare word", STORE + "currency = CNY\n", 4, None, ["not valid TOML"]),
    # encodings and line ends
    ("Latin-1 (not UTF-8) on line 2", STORE.replace("Shop", "Café").encode("latin-1"), 2, None,
     ["not UTF-8", "byte 0xe9", "save it as UTF-8"]),
    ("GB18030 on line 3", (STORE + 'currency = "CNY"\n').replace(
        "https://shop.example.com", "https://店铺.example.com").encode("gb18030"), 3, None,
     ["not UTF-8"]),
    ("UTF-16 (Notepad's \"Unicode\")", ("\ufeff" + STORE).encode("utf-16-le"), None, None,
     ["UTF-16", "save it as UTF-8"]),
    ("a PNG picture", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 1, None,
     ["not UTF-8"]),
    ("a BOM, then a mistake", ("\ufeff" + _rule("crawl", "concurency = 2")).encode(), 6,
     "crawl.concurency", ["unknown key"]),
    ("CRLF, then a mistake", _rule("crawl", "concurency = 2").replace("\n", "\r\n").encode(), 6,
     "crawl.concurency", ["unknown key"]),
    ("BOM and CRLF, then a mistake", ("\ufeff" + _rule("schedule", 'nightly = "7pm"'))
     .replace("\n", "\r\n").encode(), 6, "schedule.nightly", ["not a time of day"]),
    ("old-Mac CR line ends, then a mistake", _rule("crawl", "concurency = 2")
     .replace("\n", "\r").encode(), 6, "crawl.concurency", ["unknown key"]),
    # nothing, or not enough
    ("empty file", b"", None, None, ["empty", "[store]", "storeaudit init"]),
    ("only blank lines", b"\r\n\n  \n", None, None, ["empty"]),
    ("a BOM and nothing else", b"\xef\xbb\xbf", None, None, ["empty"]),
    ("only comments", "# my contract\n# TODO\n", None, "store",
     ["required section [store] is missing"]),
    ("no [store] section", "[crawl]\nconcurrency = 2\n", None, "store",
     ["required section [store] is missing"]),
    ("no base_url", '[store]\nname = "Shop"\n', 1, "store.base_url", ["required key is missing"]),
]


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _assert_names_the_place(e, path: Path, line, key, words, line_word="line", key_word="key"):
    message = str(e)
    assert message.startswith(str(path)), message
    if line:
        assert f", {line_word} {line}" in message, message
    if key:
        assert f", {key_word} '{key}'" in message, message
    for word in words:
        assert word in message, message
    assert "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("data,line,key,words", [m[1:] for m in CONTRACT_MISTAKES],
                         ids=[m[0] for m in CONTRACT_MISTAKES])
def test_a_contract_mistake_is_refused_naming_file_line_and_key(tmp_path, data, line, key, words):
    path = _write(tmp_path, "contract.toml", data)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    e = caught.value
    assert (e.path, e.line, e.key) == (str(path), line, key), str(e)
    _assert_names_the_place(e, path, line, key, words)


def test_the_contract_table_covers_the_issue():
    assert len(CONTRACT_MISTAKES) >= 60
    ids = " ".join(m[0] for m in CONTRACT_MISTAKES)
    for kind in ("unknown top-level", "unknown rule id", "negative floor multiple",
                 "number in quotes", "unknown severity", "time without", "not UTF-8", "BOM",
                 "CRLF", "empty file", "no [store] section", "unclosed string"):
        assert kind in ids, kind


@pytest.mark.parametrize("data", [
    pytest.param(("\ufeff" + STORE).encode(), id="BOM"),
    pytest.param(STORE.replace("\n", "\r\n").encode(), id="CRLF"),
    pytest.param(("\ufeff" + STORE).replace("\n", "\r\n").encode(), id="BOM and CRLF"),
    pytest.param(STORE.replace("\n", "\r").encode(), id="CR"),
    pytest.param((STORE + '\n[rules.titles.keywords]\nkeywords = ["加厚", "保暖"]\n').encode(),
                 id="Chinese keywords"),
])
def test_a_good_contract_with_a_bom_or_windows_line_ends_loads(tmp_path, data):
    contract = load_contract(_write(tmp_path, "contract.toml", data))
    assert contract.store.name == "Shop"
    assert contract.store.base_url == "https://shop.example.com"


# --------------------------------------------------------------------------- catalog mistakes

HEADER = "sku,cost,reference_price,promoted\n"
CATALOG_MISTAKES = [
    ("duplicate SKU, BOM and CRLF", ("\ufeff" + HEADER + "SH-1,1,2,yes\nSH-2,1,2,no\nSH-1,3,4,no\n")
     .replace("\n", "\r\n").encode(), 4, "sku", ["duplicate SKU 'SH-1'", "rows 2 and 4"]),
    ("duplicate SKU hidden by a zero-width space", HEADER + "SH-1,1,2,no\nSH-1\u200b,1,2,no\n", 3,
     "sku", ["invisible", "U+200B ZERO WIDTH SPACE", "position 5"]),
    ("SKU with an RTL override", HEADER + "\u202eSH-1,1,2,no\n", 2, "sku",
     ["U+202E RIGHT-TO-LEFT OVERRIDE"]),
    ("SKU with a NUL", HEADER + "SH-\x001,1,2,no\n", 2, "sku", ["NUL character"]),
    ("SKU with a line break", HEADER + '"SH\n1",1,2,no\n', 2, "sku", ["U+000A"]),
    ("SKU of 10,000 characters", HEADER + "S" * 10_000 + ",1,2,no\n", 2, "sku",
     ["10,000 characters", "at most 255"]),
    ("category with a control character", "sku,cost,reference_price,promoted,category\n"
     "SH-1,1,2,no,out\x07door\n", 2, "category", ["U+0007"]),
    ("missing promoted column", "sku,cost,reference_price\nSH-1,1,2\n", 1, "promoted",
     ["required column is missing"]),
    ("extra named columns", HEADER.rstrip("\n") + ",colour,size\nSH-1,1,2,no,red,M\n", 1,
     "colour", ["unknown column"]),
    ("cost in words", HEADER + "SH-1,one hundred,299,no\n", 2, "cost", ["is not a number"]),
    ("cost NaN", HEADER + "SH-1,NaN,299,no\n", 2, "cost", ["'NaN' is not a number"]),
    ("cost inf", HEADER + "SH-1,inf,299,no\n", 2, "cost", ["is not a number"]),
    ("cost with an exponent", HEADER + "SH-1,1e5,299,no\n", 2, "cost", ["is not a number"]),
    ("cost of 10,000 digits", HEADER + "SH-1," + "9" * 10_000 + ",299,no\n", 2, "cost",
     ["too large", "(10,000 characters)"]),
    ("cost a trillion", HEADER + 'SH-1,"¥1,000,000,000,000",2,no\n', 2, "cost", ["too large"]),
    ("cost as a formula", HEADER + "SH-1,=A1*2,299,no\n", 2, "cost", ["is not a number"]),
    ("cost 'price on request'", HEADER + "SH-1,面议,299,no\n", 2, "cost", ["is not a number"]),
    ("cost from-price", HEADER + "SH-1,¥99起,299,no\n", 2, "cost", ["is not a number"]),
    ("negative cost, full-width", HEADER + "SH-1,－５,299,no\n", 2, "cost", ["negative"]),
    ("negative reference price", HEADER + "SH-1,5,-299,no\n", 2, "reference_price",
     ["more than 0"]),
    ("non-numeric cost after CRLF rows", (HEADER + "SH-1,1,2,no\nSH-2,1,2,no\nSH-3,abc,2,no\n")
     .replace("\n", "\r\n"), 4, "cost", ["'abc' is not a number"]),
    ("Latin-1 category on row 3", ("sku,cost,reference_price,promoted,category\nSH-1,1,2,no,home\n"
                                    "SH-2,1,2,no,café\n").encode("latin-1"), 3, "category",
     ["not UTF-8 text", "byte 0xe9"]),
    ("Windows-1252 quotes in a SKU", HEADER.encode() + b"\x93SH-1\x94,1,2,no\n", 2, "sku",
     ["not UTF-8 text"]),
    ("UTF-16 with its BOM", ("\ufeff" + HEADER).encode("utf-16-le"), None, None, ["UTF-16"]),
    ("a BOM and nothing else", b"\xef\xbb\xbf", None, None, ["empty", "header"]),
    ("empty file", b"", None, None, ["empty", "header"]),
]


@pytest.mark.parametrize("data,row,column,words", [m[1:] for m in CATALOG_MISTAKES],
                         ids=[m[0] for m in CATALOG_MISTAKES])
def test_a_catalog_mistake_is_refused_naming_file_row_and_column(tmp_path, data, row, column,
                                                                  words):
    path = _write(tmp_path, "catalog.csv", data)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    e = caught.value
    assert (e.path, e.row, e.column) == (str(path), row, column), str(e)
    _assert_names_the_place(e, path, row, column, words, "row", "column")
    assert len(str(e)) < 400  # a 10,000-character cell is quoted by its start


def test_a_header_only_catalog_with_bom_and_crlf_is_an_empty_catalog(tmp_path):
    # What `storeaudit init` writes, saved again by Excel: not a mistake, just no products yet.
    path = _write(tmp_path, "catalog.csv", ("\ufeff" + HEADER).replace("\n", "\r\n").encode())
    assert load_catalog(path) == {}


# --------------------------------------------------------------------------- through the command


def _contract_for(folder: Path, catalog: str = "catalog.csv") -> Path:
    return _write(folder, "contract.toml", STORE + f'catalog = "{catalog}"\n')


def _refused(result, *expected: str) -> str:
    """The command failed as a person should see it: exit 1, one error line, no traceback."""
    output = result.output
    assert result.exit_code == 1, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert output.startswith("error: "), output
    for text in expected:
        assert text in output, output
    return output


@pytest.mark.parametrize("data,line,key,words", [m[1:] for m in CONTRACT_MISTAKES],
                         ids=[m[0] for m in CONTRACT_MISTAKES])
def test_audit_refuses_a_bad_contract_and_writes_nothing(tmp_path, data, line, key, words):
    contract = _write(tmp_path, "contract.toml", data)
    _write(tmp_path, "catalog.csv", HEADER)
    db = tmp_path / "ledger.db"
    result = runner.invoke(app, ["audit", "-c", str(contract), "--db", str(db)])
    _refused(result, str(contract), *([f"line {line}"] if line else []),
             *([f"key '{key}'"] if key else []), *words)
    assert not db.exists() and not list(tmp_path.glob("ledger.db*"))


@pytest.mark.parametrize("data,row,column,words", [m[1:] for m in CATALOG_MISTAKES],
                         ids=[m[0] for m in CATALOG_MISTAKES])
def test_audit_refuses_a_bad_catalog_and_changes_no_ledger(tmp_path, data, row, column, words):
    contract = _contract_for(tmp_path)
    catalog = _write(tmp_path, "catalog.csv", data)
    db = tmp_path / "ledger.db"
    Ledger(db).close()  # an existing ledger: refusing must leave it as it was
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.glob("ledger.db*")}
    result = runner.invoke(app, ["audit", "-c", str(contract), "--db", str(db)])
    _refused(result, str(catalog), *([f"row {row}"] if row else []),
             *([f"column '{column}'"] if column else []), *words)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.glob("ledger.db*")}
    assert after == before
    with Ledger(db) as ledger:
        assert ledger.runs(5) == []


def test_a_missing_catalog_is_refused_before_anything_is_written(tmp_path):
    contract = _contract_for(tmp_path, "nowhere/catalog.csv")
    result = runner.invoke(app, ["audit", "-c", str(contract), "--db", str(tmp_path / "l.db")])
    _refused(result, "catalog.csv", "not found", "storeaudit init")
    assert not (tmp_path / "l.db").exists()


def test_markup_in_a_mistake_is_printed_as_written(tmp_path):
    """The message is text: "[store]" and a value like "[bold]x" must not vanish as markup."""
    contract = _write(tmp_path, "contract.toml", _rule("schedule", 'nightly = "[bold]x"'))
    result = runner.invoke(app, ["audit", "-c", str(contract), "--db", str(tmp_path / "l.db")])
    _refused(result, "'[bold]x' is not a time of day")
    contract = _write(tmp_path, "contract.toml", "[crawl]\nretries = 1\n")
    result = runner.invoke(app, ["audit", "-c", str(contract), "--db", str(tmp_path / "l.db")])
    _refused(result, "required section [store] is missing")


@pytest.mark.parametrize("contract_text,catalog_data,expected", [
    (_rule("rules.prices.below_floor", "multiple = -2"), HEADER,
     ["contract.toml, line 6, key 'rules.prices.below_floor.multiple'"]),
    (STORE, HEADER + "SH-1,1,2,yes\nSH-1,1,2,no\n",
     ["catalog.csv, row 3, column 'sku'", "duplicate SKU"]),
])
def test_the_storeaudit_process_prints_one_line_and_no_traceback(tmp_path, contract_text,
                                                                  catalog_data, expected):
    _write(tmp_path, "contract.toml", contract_text)
    _write(tmp_path, "catalog.csv", catalog_data)
    done = subprocess.run([sys.executable, "-m", "storeaudit", "audit", "-c", "contract.toml",
                           "--db", "ledger.db"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("error: ")
    for text in expected:
        assert text in done.stderr
    assert not (tmp_path / "ledger.db").exists()
