"""`storeaudit demo`: start the sample store, replay its two-week scenario day by day through
the real crawler on a simulated clock, and show what was seen.

The sample store runs as its own process and is driven over HTTP (its scenario endpoint), the
way a real store is only ever seen from outside. Each simulated night is an audit like the
scheduler's nightly one (`audits.audit_then_tell`): the audit slot, the run, then every
notifier, so the night's email is the one the merchant would get. After each night come the
day's random checks (`audits.random_checks`) at the times the contract's `random_checks` draws,
from the fixed DEMO_SECRET so that the replay is the same every time: the store is moved to the
hour of each, and what it shows then is audited.
"""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from api.settings import ApiSettings
from audits.audit_then_tell import audit_then_tell
from audits.catalog import load_catalog
from audits.clock import ManualClock
from audits.contract import Contract
from audits.ledger import Ledger
from audits.random_checks import SECRET_NAME, check_times, random_check_config
from audits.notify.escalation import NOTIFIER as ESCALATION
from audits.notify.review import write_review_files
from audits.registry import add_to_registry
from audits.review.build import monthly_review

from .console import (RichCrawlProgress, changes_table, failures_table, findings_summary,
                      findings_table, run_table)
from .demo_agency import AgencyDesk
from .sample_store import demo_contract, export_registry_images, sample_store, set_store_day
from .serving import run_api

NIGHTLY_HOUR = 2  # each scenario day is crawled at 02:00 store time, as the nightly audit is
# The ledger's random-check secret in the replay (a real ledger makes its own, unguessable):
# fixed, so the replay draws the same check times and listings every time.
DEMO_SECRET = "storeaudit demo replay"


def run_demo(console: Console, *, days: int = 14, size: int = 60,
             db_path: Path = Path("storeaudit-demo.db"), port: int = 0,
             serve_port: int | None = None, api_port: int = 8600, outbox: Path | None = None,
             hostile_titles: bool = False) -> Ledger:
    """Replay the scenario, writing each night's audit email to the outbox (`outbox`, else
    the contract's); then, with `serve_port`, keep the sample store, the API and the
    dashboard running on the replay's ledger until interrupted."""
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)  # the demo is a replay: start from an empty ledger
    contract = demo_contract()
    catalog = load_catalog(contract.catalog_path())
    email = contract.email.model_copy(update={
        "dashboard_url": f"http://127.0.0.1:{serve_port or api_port}",
        **({"outbox": str(outbox)} if outbox is not None else {})})
    contract = contract.model_copy(update={"email": email})
    with sample_store(size=size, port=port, hostile_titles=hostile_titles) as url, \
            tempfile.TemporaryDirectory() as tmp:
        contract = contract.with_base_url(url)
        zone = ZoneInfo(contract.store.timezone)
        clock = ManualClock(datetime.now(zone))
        ledger = Ledger(db_path, clock)
        ledger.set_secret(SECRET_NAME, DEMO_SECRET)
        console.print(f"Sample store running at [link={url}]{url}[/link]; ledger: {db_path}")
        added = add_to_registry(ledger, [export_registry_images(Path(tmp))],
                                source="rights holder's takedown notice (sample)")
        console.print(f"Registry: {len(added.added)} known infringing images "
                      f"({', '.join(e.label for e in added.added)})")
        email_record = None
        desk = AgencyDesk(contract, ledger, clock)
        for day in range(days):
            scenario = set_store_day(url, day)
            night = datetime.fromisoformat(scenario["date"]).replace(hour=NIGHTLY_HOUR, tzinfo=zone)
            if day == 0:
                clock.set(night)
            desk.until(night)   # the agency answers, the ladder looks, up to tonight
            console.print(Rule(f"Day {day} — {night:%a %Y-%m-%d %H:%M} ({contract.store.timezone})"))
            for event in scenario.get("events", []):
                console.print(Text(f"  agency: {event['description']}", style="dim"))
            # The night's audit, told to the notifiers as the scheduler's nightly one is.
            with RichCrawlProgress(console, f"Day {day}") as progress:
                told = audit_then_tell(contract, ledger, kind="demo", holder="the demo's replay",
                                       wait=0, nightly=True, catalog=catalog,
                                       progress=progress)
            told.raise_error()
            desk.raised(told.outcome.update.new + told.outcome.update.reopened)
            _print_day(console, ledger, told.outcome, contract.store.currency,
                       first=day == 0, zone=zone)
            _print_told(console, told.deliveries)
            emails = [d for d in told.deliveries if d.notifier == "email" and d.kind == "digest"]
            email_record = emails[-1] if emails else email_record
            _random_checks(console, contract, ledger, desk, url, day, night, catalog)
        desk.until(clock.now() + timedelta(hours=1))
        open_now = ledger.findings(status=["open", "acknowledged"])
        console.print(Rule("After two weeks" if days == 14 else f"After {days} days"))
        console.print(f"Open findings: {findings_summary(open_now)}")
        console.print(findings_table(open_now, zone=zone))
        if email_record is not None:
            console.print(f"Last night's email ({email_record.status}): "
                          f"[bold]{email_record.html_path}[/bold] — open it in a browser "
                          f"(the message itself: {email_record.path})", highlight=False,
                          soft_wrap=True)
        _print_escalations(console, ledger)
        _month_to_date(console, contract, ledger)
        if serve_port is not None:
            serve_ledger(console, ledger, contract, url, serve_port)
        return ledger


def serve_ledger(console: Console, ledger: Ledger, contract: Contract, store_url: str,
                 port: int) -> None:
    """The API and dashboard on the replay's ledger, with a token for each role."""
    merchant, _ = ledger.create_token("Demo merchant", "merchant")
    agency, _ = ledger.create_token("Demo agency", "agency")
    settings = ApiSettings(db_path=ledger.path, contract_path=contract.path)
    console.print(Rule("Now running"))
    console.print(f"  Dashboard:    http://127.0.0.1:{port}/   (log in with the merchant token)")
    console.print(f"  API docs:     http://127.0.0.1:{port}/docs")
    console.print(f"  Sample store: {store_url}/")
    console.print(f"  Merchant token: {merchant}", highlight=False, soft_wrap=True)
    console.print(f"  Agency token:   {agency}", highlight=False, soft_wrap=True)
    console.print("  Press Ctrl+C to stop.")
    run_api(settings, contract, host="127.0.0.1", port=port)


def _random_checks(console: Console, contract: Contract, ledger: Ledger, desk: AgencyDesk,
                   url: str, day: int, night: datetime, catalog) -> None:
    """The day's random checks, each at its drawn time with the store as it is then."""
    zone = night.tzinfo
    for at in check_times(DEMO_SECRET, night.date(), contract.schedule, zone):
        set_store_day(url, day, at.hour)
        desk.until(at)
        rng = random.Random(f"{DEMO_SECRET} {at.isoformat()}")
        told = audit_then_tell(contract, ledger, kind="random", holder="the demo's replay",
                               wait=0, catalog=catalog,
                               config=random_check_config(contract, ledger, rng))
        told.raise_error()
        update = told.outcome.update
        desk.raised(update.new + update.reopened)
        raised = ledger.findings(ids=update.new + update.reopened)
        line = (f"  random check {at:%H:%M}: {told.outcome.run.pages_ok} listings read, "
                + (f"{len(raised)} new finding(s)" if raised else "nothing new"))
        console.print(Text(line, style="bold red" if raised else "dim"))
        if raised:
            console.print(findings_table(raised, title=f"Seen by the random check at {at:%H:%M}",
                                         zone=zone))
    set_store_day(url, day)


def _print_told(console: Console, deliveries) -> None:
    """The review emails a night's audit sent (the digest is printed at the end)."""
    for d in deliveries:
        if d.notifier == "review":
            console.print(Text(f"  {d.kind} review ({d.period}) {d.status}: {d.path}",
                               style="cyan"), soft_wrap=True)


def _print_escalations(console: Console, ledger: Ledger) -> None:
    """What the escalation ladder told people over the replay, by why."""
    told = ledger.deliveries(notifier=ESCALATION, limit=100_000)
    if not told:
        return
    by_kind = {kind: sum(d.kind == kind for d in told) for kind in ("raised", "unanswered", "unfixed")}
    where = sorted({str(Path(d.path).parent) for d in told if d.path})
    console.print(f"Escalation ladder: {', '.join(f'{n} {k}' for k, n in by_kind.items() if n)} "
                  f"message(s)" + (f", kept in {', '.join(where)}" if where else ""),
                  highlight=False, soft_wrap=True)


def _month_to_date(console: Console, contract: Contract, ledger: Ledger) -> None:
    """The month-to-date review with its penalty statement, as HTML and PDF in the outbox."""
    review = monthly_review(contract, ledger)
    html, pdf = write_review_files(contract, review, f"month-to-date_{review.period.key}")
    if review.penalties is not None:
        p = review.penalties
        console.print(f"Penalties so far this month: [bold]{review.money(p.total)}[/bold] of a "
                      f"{review.money(p.fee)} fee "
                      f"({sum(len(c.lines) for c in p.clauses)} lines, each tracing to findings "
                      f"and days)", highlight=False)
    console.print(f"Month-to-date review: [bold]{html}[/bold]" + (f" (PDF: {pdf})" if pdf else ""),
                  highlight=False, soft_wrap=True)


def _print_day(console: Console, ledger: Ledger, outcome, currency: str, first: bool,
               zone: ZoneInfo) -> None:
    run = outcome.run
    console.print(run_table(run, ledger, zone))
    failures = failures_table(ledger, run)
    if failures:
        console.print(failures)
    changes = ledger.changes_in_run(run.id)
    gone = [g.sku or g.url for g in ledger.gone_in_run(run.id)]
    if changes or gone:
        console.print(changes_table(changes, gone, currency))
    elif not first:
        console.print("  no listing changed since the previous night")
    update = outcome.update
    raised = ledger.findings(ids=update.new + update.reopened)
    if raised:
        console.print(findings_table(raised, title=f"New findings ({len(raised)})", zone=zone))
    resolved = ledger.findings(ids=update.resolved)
    for f in resolved:
        console.print(Text(f"  resolved #{f.id} {f.rule_id} {f.sku or 'store'}: {f.note}",
                           style="green"))
    for f in ledger.findings(ids=update.gone):
        console.print(Text(f"  gone, not fixed: #{f.id} {f.rule_id} {f.sku}: {f.note}",
                           style="yellow"))
