"""`storeaudit serve --workers 2`: two API processes on one port, each with its own kept
answers; an action taken through one is seen through the other (the ledger's change
counter), and every answer is the same whichever process gives it."""

from __future__ import annotations

import time

import httpx

from audits.catalog import parse_catalog
from audits.engine import audit_run
from history import History, listing
from servers import free_port, wait_until_healthy
from storeaudit.children import serving_child
from test_api import contract_for


def test_two_workers_answer_alike_and_see_each_others_writes(tmp_path, ledger, clock):
    contract, path = contract_for("http://shop.test", tmp_path)
    catalog = parse_catalog((tmp_path / "catalog.csv").read_text())
    h = History(ledger, clock)
    for price in ("120", "118"):
        audit_run(ledger, contract, catalog, h.night(listing("A", price=price, promoted=True)),
                  full=True)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    port = free_port()
    args = ["-m", "storeaudit", "serve", "--no-schedule", "--workers", "2", "-c", str(path),
            "--db", str(ledger.path), "--port", str(port)]
    with serving_child(args, "the API with 2 workers") as (url, pid):
        url += "/"
        auth = {"Authorization": f"Bearer {merchant}"}
        wait_until_healthy(url, "the API with 2 workers")
        page = url + "api/overlay?url=http://shop.test/p/a"

        def statuses():   # a new connection each time: either worker may answer
            return {httpx.get(page, headers=auth).json()["listing"]["findings"][0]["status"]
                    for _ in range(20)}

        assert statuses() == {"open"}   # both workers now keep this answer
        fid = httpx.get(page, headers=auth).json()["listing"]["findings"][0]["id"]
        assert httpx.post(url + f"api/findings/{fid}/acknowledge", headers=auth,
                          json={"note": "on it"}).status_code == 200
        deadline = time.monotonic() + 2
        while statuses() != {"acknowledged"}:
            assert time.monotonic() < deadline, "a worker kept the answer from before"
        workers = _children_of(pid)
        assert len(workers) == 2, workers
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers):
        assert time.monotonic() < deadline, "a worker outlived the server"
        time.sleep(0.05)


def _children_of(pid: int) -> list[int]:
    """The worker processes uvicorn started (not multiprocessing's resource tracker)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    out = []
    for child in children:
        with open(f"/proc/{child}/cmdline", "rb") as f:
            if b"spawn_main" in f.read():
                out.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"   # a zombie has ended
    except OSError:
        return False
