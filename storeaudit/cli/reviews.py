"""The weekly and monthly review from the command line: `storeaudit review`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .common import ContractOption, DbOption, app, console, contract_and_ledger, fail, store_zone


@app.command()
def review(
    period: str = typer.Argument("week", help="week or month (the one now, to date), or a "
                                             "week like 2026-W46, a month like 2026-11."),
    contract: Path = ContractOption,
    db: Path = DbOption,
    html: Path | None = typer.Option(None, help="Also write the review as an HTML file."),
    pdf: Path | None = typer.Option(None, help="Also write the review as a PDF to print."),
) -> None:
    """The weekly or monthly review: every clause against the period before, the agency's
    response times, and for a month the penalty statement and the renewal conditions. The
    same review is on the dashboard (/reviews) and goes by email after each week and month."""
    from audits.review.build import review_of
    from audits.review.pdf import PdfError, html_to_pdf
    from audits.periods import parse_period, period_of
    from audits.review.render import review_document

    loaded, ledger = contract_and_ledger(contract, db)
    zone = store_zone(loaded)
    now = ledger.clock.now().astimezone(zone)
    try:
        chosen = (period_of(period, now) if period in ("week", "month")
                  else parse_period(period, zone))
    except ValueError as e:
        fail(str(e))
    r = review_of(loaded, ledger, chosen, now=now)
    console.print(f"[bold]{r.title}[/bold] — {r.store}, figures as of {r.as_of}",
                  highlight=False)
    console.print(f"{len(r.clauses) - len(r.broken)} of {len(r.clauses)} clauses kept",
                  highlight=False)
    times = Table(title="How fast the agency answered", title_justify="left")
    for column in ("level", "the contract asks", "raised", "in time", "missed", "waiting",
                   "share in time"):
        times.add_column(column)
    for t in r.times:
        share = "—" if t.share_in_time is None else f"{t.share_in_time * 100:.0f} %"
        times.add_row(t.severity, t.answer_text, str(t.raised), str(t.answered_in_time),
                      str(t.missed), str(t.waiting), share)
    console.print(times)
    if r.penalties is not None:
        p = r.penalties
        console.print(f"Penalties{' so far' if r.to_date else ''}: [bold]{r.money(p.total)}"
                      f"[/bold] of a {r.money(p.fee)} fee", highlight=False)
        for c in p.clauses:
            console.print(f"  {c.label}: {r.money(c.charged)} ({len(c.lines)} lines)",
                          highlight=False)
    for c in r.conditions:
        console.print(f"{'[bold red]Met[/bold red]' if c.met else 'Not met'}: {c.clause}",
                      highlight=False)
    document = review_document(r) if html or pdf else None
    if html:
        html.write_text(document, encoding="utf-8")
        console.print(f"HTML: {html}", highlight=False)
    if pdf:
        try:
            pdf.write_bytes(html_to_pdf(document, title=r.title))
        except PdfError as e:
            fail(str(e))
        console.print(f"PDF: {pdf}", highlight=False)
