"""How a mistake in the contract file is named: by file, line and key, in TOML's words.

`ContractError` is what loading a contract raises. `refuse_dates` and `quoted_number` catch
the mistakes that validating the file as JSON would miss or misname (a TOML date, a number in
quotes for a Decimal setting); `contract_error` turns pydantic's validation errors into one
ContractError, the first problem by line, said as a person who writes TOML would say it;
`line_of_key` finds the line a dotted key is set on (or its nearest table header). What the
file may hold, and the loading, are in audits/contract.py.
"""

from __future__ import annotations

import json
import re
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, ValidationError


class ContractError(ValueError):
    """A contract file mistake, named by file, line and key."""

    def __init__(self, path: Path | str, line: int | None, key: str | None, problem: str):
        self.path, self.line, self.key, self.problem = str(path), line, key, problem
        where = self.path + (f", line {line}" if line else "") + (f", key '{key}'" if key else "")
        super().__init__(f"{where}: {problem}")


def refuse_dates(value, loc: tuple[str, ...], text: str, path: Path | str) -> None:
    """No setting is a TOML date or time: `nightly = 02:00:00` is a time of day in quotes."""
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_dates(item, loc + (key,), text, path)
    elif isinstance(value, list):
        for item in value:
            refuse_dates(item, loc, text, path)
    elif isinstance(value, (date, time)):
        raise ContractError(path, line_of_key(text, loc), ".".join(loc) or None,
                            f"{value.isoformat()} is a TOML date/time; no setting takes one "
                            f"(a time of day is text in quotes, like \"02:00\")")


def quoted_number(data: dict, model: type[BaseModel],
                   loc: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where a number is written in quotes for a Decimal setting (strict JSON validation
    takes "1.5" for a Decimal, and refuses it for every int or float setting)."""
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            continue  # unknown keys are named by validation
        kinds = (field.annotation, *get_args(field.annotation))
        if isinstance(value, str) and Decimal in kinds:
            return loc + (key,)
        for kind in kinds:
            if isinstance(value, dict) and isinstance(kind, type) and issubclass(kind, BaseModel):
                found = quoted_number(value, kind, loc + (key,))
                if found:
                    return found
    return None


def contract_error(e: ValidationError, text: str, path: Path | str,
                   root: type[BaseModel]) -> ContractError:
    """The first problem, by line in the file, as a ContractError. An unknown key comes first:
    a misspelt key is usually why a required one is "missing". `root` is the model the whole
    file was validated as (the Contract)."""
    errors = []
    for error in e.errors():
        loc = tuple(str(p) for p in error["loc"] if not isinstance(p, int))
        errors.append((line_of_key(text, loc) or 0, loc, error))
    errors.sort(key=lambda item: (item[2]["type"] != "extra_forbidden", item[0]))
    line, loc, first = errors[0]
    kind = first["type"]
    msg = _IN_TOML_WORDS.get(kind) or first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        msg = "unknown key (check the spelling against `storeaudit init`'s template)"
    elif kind == "missing":
        msg = (f"required section [{'.'.join(loc)}] is missing" if _is_section(root, loc)
               else "required key is missing")
    elif loc and "password" not in loc[-1]:  # never echo a secret
        got = first.get("input")
        if isinstance(got, (bool, int, float, str)) and len(repr(got)) <= 60 \
                and not (isinstance(got, str) and repr(got) in msg):
            msg += f" (got {_toml(got)})"
    if len(errors) > 1:
        msg += f"; {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} after this one"
    return ContractError(path, line or None, ".".join(loc) or None, msg)


# Pydantic's words for a wrong type are JSON's; the file is TOML.
_IN_TOML_WORDS = {
    "model_type": "should be a section: a [table] or an inline table { key = value }",
    "dict_type": "should be a table of key = value pairs",
    "list_type": "should be a list, like [\"a\", \"b\"]",
    "string_type": "should be text in quotes",
    "int_type": "should be a whole number (no quotes, no decimal point)",
    "float_type": "should be a number (no quotes)",
    "decimal_type": "should be a number (no quotes)",
    "decimal_parsing": "should be a number (no quotes)",
    "bool_type": "should be true or false (no quotes)",
}


def _is_section(root: type[BaseModel], loc: tuple[str, ...]) -> bool:
    model: type[BaseModel] = root
    for part in loc:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return True


def _toml(value) -> str:
    """A value as it is written in TOML: true, 1.5, "text"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def line_of_key(text: str, loc: tuple[str, ...]) -> int | None:
    """The line where a dotted key is set, or its nearest enclosing table header."""
    if not loc:
        return None
    best: tuple[int, int] | None = None  # (depth matched, line)
    inside: int | None = None  # the first line setting something under `loc`
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = tuple(_unquote(p) for p in header.group(1).split("."))
            depth = _prefix_depth(table, loc)
            if depth == len(loc) and inside is None:
                inside = number
            if depth == len(table) and (best is None or depth > best[0]):
                best = (depth, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            key = table + tuple(_unquote(p) for p in assign.group(1).split("."))
            depth = _prefix_depth(key, loc)
            if depth == len(loc) and inside is None:
                inside = number
            if depth == len(key) and (best is None or depth > best[0]):
                best = (depth, number)
    if best and (best[0] == len(loc) or inside is None):
        return best[1]
    return inside if inside is not None else (best[1] if best else None)


def _unquote(part: str) -> str:
    return part.strip().strip("\"'")


def _prefix_depth(key: tuple[str, ...], loc: tuple[str, ...]) -> int:
    depth = 0
    for a, b in zip(key, loc):
        if a != b:
            break
        depth += 1
    return depth
