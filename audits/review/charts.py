"""The review's charts, laid out here as numbers for an inline SVG the template draws: the
findings raised each week by severity with the problems still open at each week's end, and
the titles optimised each week against the quota. Only numbers and our own labels go in: no
store text ever reaches a chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ..ledger import Spell
from ..rules import SEVERITIES
from ..periods import period_of

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 36
MAX_WEEKS = 26   # half a year of weeks reads; older ones are left off the chart


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str       # a severity, "quota", "changed", "short"
    tip: str        # "week of 2026-11-09: 3 critical"


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass
class BarChart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    line: list[tuple[float, float]] = field(default_factory=list)   # a series over the bars
    line_label: str = ""
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)     # (kind, words)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT
    top: int = TOP

    @property
    def empty(self) -> bool:
        return not self.bars


def _scale(top_value: float) -> tuple[float, list[float]]:
    """A round maximum for the y axis and its ticks."""
    if top_value <= 0:
        return 1, [0, 1]
    step = 10 ** math.floor(math.log10(top_value))
    for m in (1, 2, 5, 10):
        if top_value / (step * m) <= 5:
            step *= m
            break
    top = math.ceil(top_value / step) * step
    return top, [i * step for i in range(int(top / step) + 1)]


def _frame(chart: BarChart, n: int, top_value: float) -> tuple[float, callable]:
    top, ticks = _scale(top_value)
    plot_h = chart.bottom - chart.top
    chart.y_ticks = [Tick(chart.bottom - plot_h * t / top, f"{t:g}") for t in ticks]
    slot = (chart.right - chart.left) / max(n, 1)
    return slot, (lambda v: plot_h * v / top)


def trend_chart(spells: list[Spell], since: datetime, until: datetime,
                zone: ZoneInfo) -> BarChart:
    """Findings raised each week (stacked by severity) and those open at each week's end."""
    chart = BarChart("Findings raised each week, and problems open at each week's end")
    weeks = []
    week = period_of("week", since.astimezone(zone))
    while week.start < until and len(weeks) < 10_000:
        weeks.append(week)
        week = week.after()
    weeks = weeks[-MAX_WEEKS:]
    if not weeks:
        return chart
    raised = [{s: 0 for s in SEVERITIES} for _ in weeks]
    open_end = [0] * len(weeks)
    for sp in spells:
        opened = datetime.fromisoformat(sp.opened_at)
        for i, w in enumerate(weeks):
            if w.covers(opened):
                raised[i][sp.severity] = raised[i].get(sp.severity, 0) + 1
            open_end[i] += sp.open_at(min(w.end, until))
    slot, height = _frame(chart, len(weeks), max([sum(r.values()) for r in raised] + open_end))
    for i, w in enumerate(weeks):
        x, y = chart.left + i * slot + slot * 0.2, chart.bottom
        for s in reversed(SEVERITIES):   # minor at the bottom, critical on top
            h = height(raised[i][s])
            if h:
                y -= h
                chart.bars.append(Bar(x, y, slot * 0.6, h, s,
                                      f"{w.label}: {raised[i][s]} {s} raised"))
        chart.line.append((chart.left + i * slot + slot / 2, chart.bottom - height(open_end[i])))
        if len(weeks) <= 8 or i % math.ceil(len(weeks) / 8) == 0:
            chart.x_ticks.append(Tick(chart.left + i * slot + slot / 2, f"{w.start:%m-%d}"))
    chart.line_label = "open at the week's end"
    chart.legend = [(s, f"{s} raised") for s in SEVERITIES] + [("line", chart.line_label)]
    return chart


def quota_chart(weeks) -> BarChart:
    """Titles optimised each finished, judged week against the quota (audits.penalties'
    WeekQuota rows): a bar for each, red where the week fell short."""
    chart = BarChart("Titles optimised each week against the quota")
    shown = [w for w in weeks if w.judged][-MAX_WEEKS:]
    if not shown:
        return chart
    slot, height = _frame(chart, len(shown), max(max(w.quota, w.changed) for w in shown))
    for i, w in enumerate(shown):
        x = chart.left + i * slot
        short = w.changed < w.quota
        chart.bars.append(Bar(x + slot * 0.15, chart.bottom - height(w.quota), slot * 0.35,
                              height(w.quota), "quota", f"{w.label}: quota {w.quota}"))
        chart.bars.append(Bar(x + slot * 0.5, chart.bottom - height(w.changed), slot * 0.35,
                              height(w.changed), "short" if short else "changed",
                              f"{w.label}: {w.changed} optimised"
                              + ("" if w.finished else " so far")))
        chart.x_ticks.append(Tick(x + slot / 2, f"{w.start:%m-%d}"))
    chart.legend = [("quota", "quota"), ("changed", "optimised"), ("short", "short of it")]
    return chart

