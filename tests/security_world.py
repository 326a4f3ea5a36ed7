"""The world the security tests attack (tests/test_security_*.py): a ledger with findings
and a token for each role, a contract and catalog beside it, and the API over it.

The `secured` and `running` fixtures (this world, and the same served on 127.0.0.1) are in
tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from api.app import create_app
from api.settings import ApiSettings
from audits.catalog import parse_catalog
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from history import History, listing

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
CATALOG = "sku,cost,reference_price,promoted\nA,100,130,yes\nB,100,299,no\n"


def write_contract(tmp_path: Path, base_url: str, extra: str = ""):
    (tmp_path / "catalog.csv").write_text(CATALOG)
    path = tmp_path / "contract.toml"
    path.write_text(f'[store]\nname = "Shop"\nbase_url = "{base_url}"\ncatalog = "catalog.csv"\n'
                    + extra)
    return parse_contract(path.read_text(), path), path


class Secured:
    """A ledger with findings and a token for each role, and the app over it (not started)."""

    def __init__(self, tmp_path: Path, ledger: Ledger, clock, base_url="http://shop.test",
                 extra_listings=()):
        self.tmp, self.ledger = tmp_path, ledger
        self.contract, self.contract_path = write_contract(tmp_path, base_url)
        catalog = parse_catalog(CATALOG)
        h = History(ledger, clock)
        for price in ("120", "118"):
            run = h.night(listing("A", price=price, promoted=True, url=f"{base_url}/p/a"),
                          listing("B", price="150", url=f"{base_url}/p/b"), *extra_listings)
            audit_run(ledger, self.contract, catalog, run, full=True)
        self.merchant, _ = ledger.create_token("Merchant Li", "merchant")
        self.agency, _ = ledger.create_token("Agency ops", "agency")
        self.settings = ApiSettings(db_path=ledger.path, contract_path=self.contract_path,
                                    extension_origins=[EXTENSION])

    def app(self):
        return create_app(self.settings, contract=self.contract)

    def finding(self, rule: str = "prices.below_floor") -> int:
        return next(f.id for f in self.ledger.findings() if f.rule_id == rule)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
