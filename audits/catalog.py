"""The merchant's product sheet (`catalog.csv`): cost, reference price and the promoted list.

A bad sheet is refused with the file and the row and column at fault, before anything is
written: `load_catalog` and `parse_catalog` only read.

The sheet, as a merchant's spreadsheet program writes it:

* columns `sku,cost,reference_price,promoted` (required) and `category` (optional), in any
  order; header names are case-insensitive and trimmed ("Reference Price" and
  "reference-price" are `reference_price` too). Any other named column is refused, naming it;
  a column with no header name (a trailing comma) is allowed as long as it holds nothing.
* UTF-8 with or without a BOM, CRLF or LF line endings. Anything else (GBK/GB18030 from a
  Chinese Excel, UTF-16, an .xlsx workbook, binary) is refused with a hint to save it as
  "CSV UTF-8". Comma-separated; a sheet whose header is separated by semicolons or tabs
  (European Excel, "Unicode text") is read with that separator.
* `cost` and `reference_price`: a number, optionally with a currency sign or code and thousands
  separators ("160", "160.00", "¥1,299.00", "1 299,00 €", "160元"). A range ("99-199"),
  "free", or a number with other words ("12 pcs") is refused. cost >= 0 (a free gift costs
  nothing), reference_price > 0.
* `promoted`: yes/no, true/false, 1/0, y/n, 是/否 (case-insensitive); empty is no.
* `sku`: required, trimmed, unique (a duplicate names both rows), at most 255 characters, and
  free of control and invisible characters (a zero-width space would make "SH-1" two SKUs that
  look the same). `category`: trimmed, no control or invisible characters; empty is None.
* A cost or reference price of a trillion or more is refused (a 10,000-digit cell is a
  mistake, not a price).
* Blank lines (and Excel's all-empty ",,,," rows) are skipped. A header-only sheet is an empty
  catalog.

Rows are numbered as lines in the file, the header's line being 1 (a blank line before a row
counts), so "row 7" is where a text editor shows it.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from price_parser import Price

from crawler.prices import MAX_AMOUNT, currency_from_symbol, parse_price

__all__ = ["CatalogEntry", "CatalogError", "load_catalog", "parse_catalog", "COLUMNS", "REQUIRED"]


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    cost: Decimal
    reference_price: Decimal
    promoted: bool
    category: str | None = None


REQUIRED = ("sku", "cost", "reference_price", "promoted")
MAX_SKU = 255  # Shopify's limit; Taobao's outer ids are shorter
COLUMNS = REQUIRED + ("category",)

_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否", ""}
_SAVE_AS = "save it as UTF-8; Excel: File > Save As > CSV UTF-8 (Comma delimited)"
# A run of digits with the separators a sheet may put inside one number.
_NUMBER = re.compile(r"\d(?:[\d.,' ]*\d)?")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")


class CatalogError(ValueError):
    """A catalog sheet mistake, named by file, row (line in the file, header = 1) and column."""

    def __init__(self, path: Path | str, row: int | None, column: str | None, problem: str):
        self.path, self.row, self.column, self.problem = str(path), row, column, problem
        where = self.path + (f", row {row}" if row else "") + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {problem}")


def load_catalog(path: Path | str) -> dict[str, CatalogEntry]:
    """Read and check a catalog.csv; SKU -> entry. Raises CatalogError naming the fault."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(path, None, None,
                           "file not found (run `storeaudit init` to write an empty one with the "
                           "header sku,cost,reference_price,promoted, then add a row per SKU)") from None
    except IsADirectoryError:
        raise CatalogError(path, None, None, "the path is a folder, not a CSV file") from None
    except OSError as e:
        raise CatalogError(path, None, None, f"cannot be read ({e.strerror or e})") from None
    return parse_catalog(decode_catalog(raw, path), path)


def decode_catalog(raw: bytes, path: Path | str = "catalog.csv") -> str:
    """The sheet's bytes as text: UTF-8 (BOM optional), or a CatalogError saying what it is."""
    if raw.startswith(b"PK\x03\x04"):
        raise CatalogError(path, None, None, f"the file is an Excel workbook (.xlsx), not a CSV file; {_SAVE_AS}")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise CatalogError(path, None, None, f"the file is an old Excel workbook (.xls), not a CSV file; {_SAVE_AS}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogError(path, None, None, f"the file is UTF-16 text (Excel's \"Unicode text\"); {_SAVE_AS}")
    if b"\x00" in raw:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CatalogError(path, None, None, f"the file is binary data, not a CSV text file; "
                                                 f"{_SAVE_AS}") from None
        row, column = _locate(raw, raw.index(b"\x00"))  # UTF-8 text with a stray NUL in it
        raise CatalogError(path, row, column, f"a NUL character (byte 0x00) is in the text; retype "
                                              f"the cell, or {_SAVE_AS}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        row, column = _locate(raw, e.start)
        if _looks_chinese_legacy(raw):
            problem = (f"the file is not UTF-8: it looks like GBK/GB18030 (what a Chinese Excel or WPS saves "
                       f"by default); {_SAVE_AS}")
        else:
            problem = f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); {_SAVE_AS}"
        raise CatalogError(path, row, column, problem) from None


def _looks_chinese_legacy(raw: bytes) -> bool:
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F]
    cjk = [c for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"]
    return bool(wide) and len(cjk) >= 0.8 * len(wide)


def _locate(raw: bytes, offset: int) -> tuple[int, str | None]:
    """The line (1-based) of a bad byte and, when the header is readable, its column's name."""
    row = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    before = raw[start:offset].decode("utf-8", "replace")
    header_end = raw.find(b"\n")
    header = raw[: header_end if header_end >= 0 else len(raw)]
    if row == 1:
        return row, None
    try:
        line = header.decode("utf-8-sig").strip()
        delimiter = _delimiter(line)
        names = next(csv.reader([line], delimiter=delimiter))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return row, None
    index = before.count(delimiter)  # good enough: the bytes before the fault on its line
    if index < len(names) and names[index].strip():
        return row, names[index].strip()
    return row, None


def parse_catalog(text: str, path: Path | str = "catalog.csv") -> dict[str, CatalogEntry]:
    """Check a catalog sheet's text; SKU -> entry (in file order). Raises CatalogError."""
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip().strip(",;\t")), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    columns: dict[str, int] | None = None
    names: list[str] = []
    entries: dict[str, CatalogEntry] = {}
    rows_of: dict[str, int] = {}
    row = 1
    previous_end = 0
    while True:
        row = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise CatalogError(path, row, None, f"not valid CSV ({e}); a value with a comma or a quote "
                                                f"must be wrapped in double quotes, with inner quotes doubled") from None
        previous_end = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line, or Excel's ",,,,"
        if columns is None:
            names = [_display(c) for c in cells]
            columns = _header(names, path, row)
            continue
        sku, entry = _entry(cells, columns, names, path, row)
        if sku in rows_of:
            raise CatalogError(path, row, "sku", f"duplicate SKU {sku!r}: rows {rows_of[sku]} and {row} "
                                                 f"both describe it (keep one)")
        rows_of[sku] = row
        entries[sku] = entry
    if columns is None:
        raise CatalogError(path, None, None, "the file is empty: it needs at least the header line "
                                             "sku,cost,reference_price,promoted")
    return entries


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    if counts[","] == 0 and max(counts.values()) > 0:
        return max(counts, key=counts.get)
    return ","


def _display(name: str) -> str:
    return name.strip().strip("\ufeff").strip()


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", name).strip().lower())


def _header(names: list[str], path: Path | str, row: int) -> dict[str, int]:
    if not any(_key(name) in COLUMNS for name in names):
        raise CatalogError(path, row, None, f"the first line is not the header: it must name the columns "
                                            f"{', '.join(REQUIRED)} (category optional), e.g. "
                                            f"sku,cost,reference_price,promoted")
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue  # unnamed column: allowed while it stays empty (checked per row)
        key = _key(name)
        if key not in COLUMNS:
            close = difflib.get_close_matches(key, COLUMNS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise CatalogError(path, row, name, f"unknown column ({hint}the columns are "
                                                f"{', '.join(REQUIRED)} and optionally category)")
        if key in columns:
            raise CatalogError(path, row, name, f"column appears twice (columns {columns[key] + 1} "
                                                f"and {index + 1})")
        columns[key] = index
    for key in REQUIRED:
        if key not in columns:
            raise CatalogError(path, row, key, f"required column is missing (the header must name "
                                               f"{', '.join(REQUIRED)}; category is optional)")
    return columns


def _entry(cells: list[str], columns: dict[str, int], names: list[str], path: Path | str,
           row: int) -> tuple[str, CatalogEntry]:
    for index, cell in enumerate(cells):
        if cell.strip() and (index >= len(names) or not names[index]):
            raise CatalogError(path, row, f"#{index + 1}", f"value {_shown(cell.strip())} is in a column "
                                                           f"with no name in the header")

    def cell(key: str) -> str:
        index = columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    sku = cell("sku")
    if not sku:
        raise CatalogError(path, row, "sku", "SKU is empty (every row needs the SKU the store shows)")
    _visible(sku, "sku", path, row)
    if len(sku) > MAX_SKU:
        raise CatalogError(path, row, "sku", f"SKU is {len(sku):,} characters long; a SKU is a "
                                             f"short code (at most {MAX_SKU})")
    cost = _amount(cell("cost"), "cost", path, row)
    if cost < 0:
        raise CatalogError(path, row, "cost", f"{_shown(cell('cost'))} is negative; cost must be 0 or more")
    reference = _amount(cell("reference_price"), "reference_price", path, row)
    if reference <= 0:
        raise CatalogError(path, row, "reference_price",
                           f"{_shown(cell('reference_price'))}: the reference price must be more than 0")
    promoted = _flag(cell("promoted"), path, row)
    category = cell("category") or None
    if category:
        _visible(category, "category", path, row)
    return sku, CatalogEntry(sku, cost, reference, promoted, category)


def _shown(value: str, limit: int = 40) -> str:
    """A cell quoted in a message: a 10,000-character cell is shown by its start."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"… ({len(value):,} characters)"


def _visible(value: str, column: str, path: Path | str, row: int) -> None:
    """No control or invisible character: "SH-1" and "SH-1" + a zero-width space look the
    same in every spreadsheet and would be two SKUs."""
    for index, c in enumerate(value, start=1):
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
            name = unicodedata.name(c, "a control character")
            raise CatalogError(path, row, column, f"{_shown(value)} holds an invisible or control "
                                                  f"character (U+{ord(c):04X} {name}) at position "
                                                  f"{index}; retype the value")


def _amount(value: str, column: str, path: Path | str, row: int) -> Decimal:
    amount = _number(value, column, path, row)
    if abs(amount) >= MAX_AMOUNT:
        raise CatalogError(path, row, column, f"{_shown(value)} is too large to be a price "
                                              f"(a trillion or more); check the cell")
    return amount


def _number(value: str, column: str, path: Path | str, row: int) -> Decimal:
    if not value:
        raise CatalogError(path, row, column, "is empty (write a number such as 160 or 1,299.00)")
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    negative = bool(re.match(r"^[^\d\s]{0,4}\s*[-−]", text))
    unsigned = re.sub(r"[-−]", "", text, count=1) if negative else text
    if _PLAIN.fullmatch(unsigned):
        amount = Decimal(unsigned)
        return -amount if negative else amount
    numbers = _NUMBER.findall(unsigned)
    parsed = parse_price(unsigned)
    if parsed is None and len(numbers) == 1 and _only_currency_around(unsigned, numbers[0]):
        try:  # parse_price refuses a trillion or more as "no price": say so here
            huge = Price.fromstring(unsigned).amount
        except (InvalidOperation, ValueError, ArithmeticError):
            huge = None
        if huge is not None and huge.is_finite() and huge >= MAX_AMOUNT:
            return -huge if negative else huge
    if parsed is not None and parsed.note and parsed.note.startswith("range"):
        raise CatalogError(path, row, column, f"{_shown(value)} is a range; write one number")
    if parsed is None or parsed.note is not None or len(numbers) != 1 \
            or not _only_currency_around(unsigned, numbers[0]):
        raise CatalogError(path, row, column, f"{_shown(value)} is not a number (write e.g. 160, 1299.00 "
                                              f"or ¥1,299.00)")
    try:
        amount = Decimal(parsed.amount)
    except (InvalidOperation, ValueError):  # pragma: no cover - parse_price gives Decimals
        raise CatalogError(path, row, column, f"{_shown(value)} is not a number") from None
    return -amount if negative else amount


def _only_currency_around(text: str, number: str) -> bool:
    """Around the one number there is nothing but a currency sign or code."""
    before, _, after = text.partition(number)
    for part in (before.strip(), after.strip()):
        if part and currency_from_symbol(part) is None:
            return False
    return True


def _flag(value: str, path: Path | str, row: int) -> bool:
    v = unicodedata.normalize("NFKC", value).strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise CatalogError(path, row, "promoted", f"{_shown(value)} is not yes or no (write yes/no, true/false, "
                                              f"1/0, y/n or 是/否; empty means no)")
