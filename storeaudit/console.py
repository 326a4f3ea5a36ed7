"""What the `storeaudit` command shows a person: progress bars and summary tables (rich).

Store text (titles above all) is untrusted: it goes into rich as plain Text, never as markup,
cut to a glance's length (`audits.clipped_text`; the dashboard shows the whole of it).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from crawler.prices import format_price
from crawler.snapshot import Snapshot

from audits.clipped_text import MESSAGE, SKU, clip
from audits.clock import store_time
from audits.rules.crawl import AVAILABILITY_WORDS
from audits.ledger import FieldChange, Finding, Ledger, Run


class RichCrawlProgress:
    """A progress bar for one crawl; implements crawler.crawl.CrawlProgress."""

    def __init__(self, console: Console, label: str = "Crawling"):
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
            console=console, transient=True,
        )
        self.label = label
        self.task = None

    def __enter__(self) -> "RichCrawlProgress":
        self.progress.start()
        self.task = self.progress.add_task(f"{self.label}: finding listings", total=None, failed=0)
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def discovered(self, total: int) -> None:
        self.progress.update(self.task, total=total, description=f"{self.label}: {total} listings")

    def page_done(self, snapshot: Snapshot) -> None:
        failed = self.progress.tasks[0].fields["failed"] + (0 if snapshot.ok else 1)
        self.progress.update(self.task, advance=1, failed=failed)


def run_table(run: Run, ledger: Ledger, zone: tzinfo | None = None) -> Table:
    table = Table(title=f"Run {run.id} ({run.kind}) — {run.status}", title_justify="left")
    table.add_column("listings seen", justify="right")
    table.add_column("pages ok", justify="right")
    table.add_column("pages failed", justify="right")
    table.add_column("image downloads", justify="right")
    table.add_column("finished")
    table.add_row(str(run.pages_ok + run.pages_failed), str(run.pages_ok),
                  Text(str(run.pages_failed), style="red" if run.pages_failed else ""),
                  str(run.image_downloads), store_time(run.finished, zone))
    return table


def setup_table(snapshots, currency: str | None) -> Table:
    """What `init --from` read on the sample of listings, for the merchant to confirm."""
    table = Table(title="What storeaudit read (check it against the store's pages)",
                  title_justify="left")
    for name in ("listing", "title", "price", "stock", "images", "read from"):
        table.add_column(name, overflow="fold")
    for snap in snapshots:
        if not snap.ok:
            table.add_row(Text(clip(snap.url)), Text(snap.error or "not read", style="red"),
                          "", "", "", "")
            continue
        stock = AVAILABILITY_WORDS.get(snap.availability, snap.availability or "?") + (
            f" ({snap.stock_count})" if snap.stock_count is not None else "")
        table.add_row(Text(snap.sku or snap.url), Text(clip(snap.title or "—", 60)),
                      format_price(snap.price, snap.currency or currency) or "—", stock,
                      str(len(snap.image_urls)), snap.source or "—")
    return table


def shared_images_warning(ledger: Ledger, run: Run) -> Text | None:
    """The pictures this crawl found on many listings and left out of their images."""
    found = ledger.shared_images(run.id)
    if not found:
        return None
    text = Text()
    for s in found:
        text.append("warning: ", style="bold yellow")
        text.append(f"the same picture is on {s['listings']} of {s['of_listings']} listings "
                    f"({', '.join(s['urls'][:2])}): taken for the store's placeholder, logo or "
                    "badge, and not counted as a listing image (it is still checked against "
                    "the registry of infringing images, once). If it is a product photo, "
                    "narrow [store.selectors] images to the gallery.\n")
    return text


def failures_table(ledger: Ledger, run: Run) -> Table | None:
    """The pages that could not be read, and those whose store said the listing is not there
    (a listing is removed once its page says so twice running)."""
    failed = [s for s in ledger.run_snapshots(run.id) if not s.ok]
    if not failed:
        return None
    table = Table(title="Pages that could not be read, or say the listing is not there",
                  title_justify="left")
    table.add_column("URL")
    table.add_column("answer", style="red")
    for snap in failed:
        said = snap.error or ""
        if snap.absent:
            said += " (not there: removed if so again next time)"
        table.add_row(Text(snap.url), Text(said))
    return table


def _show(value: object, field: str, currency: str | None) -> str:
    if value is None:
        return "—"
    if field in ("price", "list_price"):
        return format_price(value, currency or "CNY")
    if field == "image_urls":
        return f"{len(value)} images"
    if field == "promoted":
        return "promoted" if value else "not promoted"
    return str(value)


def changes_table(changes: list[FieldChange], skus_gone: list[str], currency: str | None) -> Table:
    table = Table(title_justify="left", show_header=True)
    table.add_column("listing")
    table.add_column("what")
    table.add_column("before")
    table.add_column("after")
    for ch in changes:
        table.add_row(Text(clip(ch.sku, SKU) or f"#{ch.listing_id}"), ch.field,
                      Text(clip(_show(ch.before, ch.field, currency))),
                      Text(clip(_show(ch.after, ch.field, currency))))
    for sku in skus_gone:
        table.add_row(Text(clip(sku, SKU)), "listing", "on the store", Text("gone", style="red"))
    return table


SEVERITY_STYLE = {"critical": "bold white on red", "major": "bold black on yellow",
                  "minor": "black on grey70"}


def findings_table(findings: list[Finding], title: str = "Open findings",
                   zone: tzinfo | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("severity")
    table.add_column("rule")
    table.add_column("listing")
    table.add_column("what", ratio=3)
    table.add_column("status")
    table.add_column("answer by")
    for f in findings:
        table.add_row(
            str(f.id), Text(f" {f.severity} ", style=SEVERITY_STYLE.get(f.severity, "")),
            f.rule_id,
            Text(clip(f.sku, SKU) or ("store" if f.listing_id is None else f"#{f.listing_id}")),
            Text(clip(f.message, MESSAGE)), f.status + (" (waived: " + f.waive_reason + ")" if f.waive_reason and f.status == "waived" else ""),
            store_time(f.deadline, zone),
        )
    return table


def findings_summary(findings: list[Finding]) -> str:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("critical", "major", "minor")}
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def _relative(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    later = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        text = f"{int(seconds // 60)} min"
    elif seconds < 48 * 3600:
        text = f"{seconds / 3600:.1f} h"
    else:
        text = f"{seconds / 86400:.1f} days"
    return f"in {text}" if later else f"{text} ago"


def schedule_table(runs: list[dict], now: datetime, zone: tzinfo | None = None) -> Table:
    """The scheduler's next runs (from audits.scheduler.next_runs)."""
    table = Table(title="Next scheduled runs", title_justify="left")
    for column in ("job", "next run", "", "then"):
        table.add_column(column)
    for r in runs:
        when = datetime.fromisoformat(r["next_run"])
        note = "audit + email" if r["email"] else "audit"
        if r["catch_up_due"]:
            note += "; missed one runs as soon as the scheduler starts"
        table.add_row(r["job"], f"{when.astimezone(zone):%Y-%m-%d %H:%M} ({r['timezone']})",
                      _relative(when, now), note)
    return table


def recent_runs_table(runs: list[Run], zone: tzinfo | None = None) -> Table:
    table = Table(title="Last runs", title_justify="left")
    for column in ("#", "kind", "status", "started", "finished", "pages ok", "failed"):
        table.add_column(column, justify="right" if column in ("#", "pages ok", "failed") else "left")
    for run in runs:
        table.add_row(str(run.id), run.kind,
                      Text(run.status, style="red" if run.status in ("failed", "abandoned") else ""),
                      store_time(run.started, zone), store_time(run.finished, zone),
                      str(run.pages_ok), str(run.pages_failed))
    return table


def deliveries_table(deliveries: list, zone: tzinfo | None = None) -> Table:
    """Recent emails and other notifications (audits.ledger.Delivery), newest first."""
    style = {"sent": "green", "written": "green", "pending": "yellow", "failed": "red"}
    table = Table(title="Last emails and notifications", title_justify="left")
    for column in ("#", "by", "kind", "made", "status", "tries", "where / last error"):
        table.add_column(column)
    for e in deliveries:
        where = e.last_error if e.status in ("pending", "failed") else (
            ", ".join(e.recipients) if e.status == "sent" else e.path)
        table.add_row(str(e.id), e.notifier, e.kind, store_time(e.created, zone),
                      Text(e.status, style=style.get(e.status, "")), str(e.attempts),
                      Text(where or ""))
    return table
