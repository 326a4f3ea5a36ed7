"""The `storeaudit` command as a person uses it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from storeaudit.cli import app
from storeaudit.sample_store import demostore_dir

runner = CliRunner()


def test_init_writes_a_contract_template_and_an_empty_catalog(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "[store]" in (tmp_path / "contract.toml").read_text()
    assert (tmp_path / "catalog.csv").read_text() == "sku,cost,reference_price,promoted\n"


def test_init_will_not_overwrite_a_contract_without_force(tmp_path):
    (tmp_path / "contract.toml").write_text("# mine\n")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "--force" in result.output
    assert (tmp_path / "contract.toml").read_text() == "# mine\n"


def test_crawl_refuses_a_bad_contract_naming_line_and_key(tmp_path):
    contract = tmp_path / "contract.toml"
    contract.write_text('[store]\nname = "x"\nbase_url = "https://a.example"\n\n[crawl]\nconcurency = 3\n')
    result = runner.invoke(app, ["crawl", "-c", str(contract), "--db", str(tmp_path / "l.db")])
    assert result.exit_code == 1
    assert "line 6" in result.output and "crawl.concurency" in result.output
    assert not (tmp_path / "l.db").exists(), "nothing is written for a refused contract"


@pytest.mark.e2e
def test_crawl_records_the_sample_store_and_prints_a_summary(tmp_path, store):
    text = (demostore_dir() / "contract.toml").read_text(encoding="utf-8")
    text = text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{store.url}"')
    contract = tmp_path / "contract.toml"
    contract.write_text(text, encoding="utf-8")
    store.faults["/p/" + store.products()[0].slug] = "500"
    result = runner.invoke(app, ["crawl", "-c", str(contract), "--db", str(tmp_path / "l.db")])
    assert result.exit_code == 0, result.output
    listed = sum(1 for p in store.products() if not p.removed)
    assert f"{listed - 1}" in result.output  # pages ok
    assert "Pages that could not be read" in result.output
    assert "HTTP 500" in result.output


def test_audit_prints_what_changed_and_what_was_removed(tmp_path, store):
    """Issue #16: `storeaudit audit` printed nothing about a deleted listing, and no before
    → after."""
    from demostore import scenario

    text = (demostore_dir() / "contract.toml").read_text(encoding="utf-8")
    text = text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{store.url}"')
    text = text.replace('catalog = "catalog.csv"',
                        f'catalog = "{(demostore_dir() / "catalog.csv").as_posix()}"')
    text = text.replace("[email]\n", f'[email]\noutbox = "{(tmp_path / "outbox").as_posix()}"\n')
    contract = tmp_path / "contract.toml"
    contract.write_text(text, encoding="utf-8")
    args = ["audit", "-c", str(contract), "--db", str(tmp_path / "l.db")]
    rice = store.product(scenario.REMOVED_SKU)
    for day in (scenario.JACKET_DROP_DAY - 1, scenario.JACKET_DROP_DAY):
        store.day = day
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "¥299.00" in result.output and "¥199.00" in result.output  # the jacket's drop
    store.faults[rice.url_path] = "404"
    runner.invoke(app, args)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"{scenario.REMOVED_SKU} │ listing │ on the store │ gone" in result.output
    assert "was removed" in result.output  # the removal finding, among the open ones
