"""The contract file: good ones load, mistakes are refused with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.contract import load_contract, parse_contract
from audits.contract_errors import ContractError
from storeaudit.sample_store import demostore_dir

GOOD = """\
[store]
name = "Shop"
base_url = "https://shop.example.com/"

[store.selectors]
price = ".price"

[crawl]
concurrency = 2
"""


def test_the_template_that_init_writes_loads():
    from audits.contract_template import contract_template

    contract = parse_contract(contract_template(), "contract.toml")
    assert contract.store.base_url == "https://shop.example.com"


def test_the_sample_stores_contract_loads():
    contract = load_contract(demostore_dir() / "contract.toml")
    assert contract.store.currency == "CNY"
    assert contract.catalog_path() == demostore_dir() / "catalog.csv"


def test_origins_default_to_the_base_urls_origin():
    contract = parse_contract(GOOD)
    assert contract.store.origins == ["https://shop.example.com"]
    assert contract.crawl_config().concurrency == 2
    assert contract.crawl_config().selectors.price == ".price"


@pytest.mark.parametrize("text, line, key, words", [
    (GOOD.replace("concurrency = 2", "concurency = 2"), 9, "crawl.concurency", "unknown key"),
    (GOOD.replace('price = ".price"', 'prise = ".price"'), 6, "store.selectors.prise",
     "unknown key"),
    (GOOD.replace("concurrency = 2", 'concurrency = "four"'), 9, "crawl.concurrency",
     "whole number"),
    (GOOD.replace("concurrency = 2", "concurrency = -1"), 9, "crawl.concurrency", "greater"),
    (GOOD.replace('base_url = "https://shop.example.com/"', 'base_url = "shop.example.com"'),
     3, "store.base_url", "http(s) URL"),
    (GOOD.replace('name = "Shop"\n', ""), 1, "store.name", "missing"),
    (GOOD + 'x = [1,\n', 10, None, "not valid TOML"),
    (GOOD.replace("concurrency = 2", "concurrency = = 2"), 9, None, "not valid TOML"),
    (GOOD.replace("[crawl]", '[crawl]\npage_timeout_seconds = 0'), 9,
     "crawl.page_timeout_seconds", "greater than 0"),
    (GOOD.replace('[store.selectors]', '[store.selectors]\n').replace(
        'name = "Shop"', 'name = "Shop"\ntimezone = "Mars/Olympus"'), 3, "store.timezone",
     "unknown time zone"),
    (GOOD.replace('name = "Shop"', 'name = "Shop"\nlisting_pattern = "(/p/"'), 3,
     "store.listing_pattern", "regular expression"),
])
def test_a_mistake_is_refused_with_line_and_key(text, line, key, words):
    with pytest.raises(ContractError) as caught:
        parse_contract(text, "contract.toml")
    error = caught.value
    assert (error.line, error.key) == (line, key), str(error)
    assert words in str(error)
    assert str(error).startswith("contract.toml")


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ContractError, match="storeaudit init"):
        load_contract(tmp_path / "contract.toml")


def test_a_file_with_a_bom_is_read(tmp_path):
    path = tmp_path / "contract.toml"
    path.write_text("\ufeff" + GOOD, encoding="utf-8")
    assert load_contract(path).store.name == "Shop"


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "contract.toml"
    path.write_bytes(GOOD.replace("Shop", "店铺").encode("gb18030"))
    with pytest.raises(ContractError, match="not UTF-8"):
        load_contract(path)


def test_the_readme_example_of_the_contracts_consequences_is_a_valid_contract():
    """README's [escalation]/[penalties]/[review] example, as a merchant would copy it."""
    import re

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### What the contract says happens next"):]
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    contract = parse_contract('[store]\nname = "x"\nbase_url = "https://shop.example.com"\n'
                              + example)
    assert contract.escalation.ladder_text()["critical"] == "answer within 1 h, fix within 24 h"
    assert contract.penalties.overdue.major.amount == 500
    assert contract.review.suspend_after_days_unanswered == 3
