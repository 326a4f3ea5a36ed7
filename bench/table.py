"""One row of the benchmark table and how the table is printed."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


@dataclass
class Row:
    section: str
    measure: str
    value: float
    unit: str
    naive: float | None = None       # the same measure done the naive way, same run
    target: str | None = None        # e.g. "<= 60 s", ">= 95 %"
    met: bool | None = None          # None: no target
    note: str = ""

    @property
    def ratio(self) -> str:
        # A speed-up for times; for rates (%) the two columns side by side say it better.
        if self.naive is None or not self.value or self.unit == "%":
            return ""
        return f"{self.naive / self.value:.1f}x"


RUNS = 3  # every figure that varies from run to run is the median of this many


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """The runs a median was taken of, as the table's note shows them."""
    return "runs " + " / ".join(fmt.format(v) for v in values)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def print_table(rows: list[Row], console: Console | None = None, *, busy: bool = False) -> None:
    console = console or Console()
    state = "busy: another process kept one core busy throughout" if busy else "no load added"
    table = Table(title=f"storeaudit bench — {machine()}; {state}", title_justify="left")
    for col, justify in (("section", "left"), ("measure", "left"), ("value", "right"),
                         ("naive way", "right"), ("ratio", "right"), ("target", "left"),
                         ("met", "center"), ("note", "left")):
        table.add_column(col, justify=justify)
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        naive = "" if r.naive is None else f"{r.naive:,.3g} {r.unit}"
        table.add_row(r.section, r.measure, f"{r.value:,.3g} {r.unit}", naive, r.ratio,
                      r.target or "", met, r.note)
    console.print(table)
