"""One definition of a store origin (`crawler.origins.origin_of`), used alike by the contract's
store.origins, the spot-check and the crawl's guards: what the spot-check accepts, the crawler
fetches, and what one refuses, the other refuses too."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from audits.contract import ContractError, parse_contract
from audits.spot_check import SpotCheckRefused, check_store_url
from crawler.origins import (OffOrigin, normal_origins, origin_guard, origin_of, refusal,
                             same_origin)


def contract_with(origins: list[str] | None = None, base_url: str = "https://shop.example.com"):
    lines = ["[store]", 'name = "Shop"', f'base_url = "{base_url}"']
    if origins is not None:
        lines.append("origins = [" + ", ".join(f'"{o}"' for o in origins) + "]")
    return parse_contract("\n".join(lines) + "\n")


def guard_lets_through(url: str, origins: list[str]) -> bool:
    """Whether the crawl's request hook lets `url` through (run on a loop of its own: a test
    before this one may have left this thread's loop running)."""
    guard = origin_guard(origins)
    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, guard(httpx.Request("GET", url))).result()
        except OffOrigin:
            return False
    return True


def test_a_default_port_is_the_same_origin_for_the_spot_check_and_the_crawler():
    contract = contract_with(["https://shop.example.com"])
    url = check_store_url(contract, "https://shop.example.com:443/p/1")
    # Written as the nightly crawl writes it: the spot-check looks at the same listing.
    assert url == "https://shop.example.com/p/1"
    allowed = normal_origins(contract.store.origins)
    # What the spot-check hands the crawler is what the browser path checks, as written ...
    assert refusal(url, allowed) is None
    assert refusal("https://shop.example.com:443/p/1", allowed) is None
    # ... and what the crawl's HTTP client and discovery check.
    assert guard_lets_through(url, contract.store.origins)
    assert same_origin(url, contract.store.origins)


@pytest.mark.parametrize("url", ["http://shop.example.com:8080/p/1",
                                 "https://shop.example.com:8443/p/1",
                                 "http://shop.example.com/p/1",       # the other scheme
                                 "http://shop.example.com:443/p/1"])  # https's port, http
def test_another_port_or_scheme_is_still_refused_by_both(url):
    contract = contract_with(["https://shop.example.com"])
    with pytest.raises(SpotCheckRefused, match="not one of the store's origins"):
        check_store_url(contract, url)
    allowed = normal_origins(contract.store.origins)
    assert "not one of the store's origins" in refusal(url, allowed)
    assert not guard_lets_through(url, contract.store.origins)
    assert not same_origin(url, contract.store.origins)


def test_a_contract_origin_is_written_as_the_crawler_compares_it():
    contract = contract_with(["HTTPS://Shop.Example.com:443"])
    assert contract.store.origins == ["https://shop.example.com"]
    assert contract.store.origins == contract_with().store.origins  # base_url's, by default
    assert contract_with(base_url="HTTPS://Shop.Example.com:443").store.origins == [
        "https://shop.example.com"]
    assert contract_with(["http://127.0.0.1:80/", "http://[::1]:8080"]).store.origins == [
        "http://127.0.0.1", "http://[::1]:8080"]
    assert contract.crawl_config().allowed_origins() == ["https://shop.example.com"]


@pytest.mark.parametrize("origin", ["https://shop.example.com/shop", "ftp://shop.example.com",
                                    "https://user@shop.example.com", "https://shop.example.com:x",
                                    "https://shop.example.com?x=1", "https://"])
def test_what_is_not_an_origin_is_refused_in_the_contract(origin):
    with pytest.raises(ContractError) as refused:
        contract_with([origin])
    assert refused.value.key == "store.origins"
    assert refused.value.problem.startswith(f"{origin!r} is not an origin like "
                                            "https://shop.example.com")


@pytest.mark.parametrize("url, origin", [
    ("HTTPS://Shop.Example.COM/p/1?x#y", "https://shop.example.com"),
    ("https://shop.example.com:443/", "https://shop.example.com"),
    ("http://shop.example.com:80", "http://shop.example.com"),
    ("http://shop.example.com:443/", "http://shop.example.com:443"),
    ("https://shop.example.com:80/", "https://shop.example.com:80"),
    ("http://[::1]:80/x", "http://[::1]"),
    ("http://[::1]:8080/x", "http://[::1]:8080"),
    ("http://[FE80::1]/", "http://[fe80::1]"),
    ("http://user:pw@shop.example.com:80/", "http://shop.example.com"),
    ("http://shop.example.com:x/p", "http://shop.example.com:x"),  # unreadable: as written
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize("other", ["http://localhost:8765", "http://[::1]:8765",
                                   "http://2130706433:8765", "http://0x7f000001:8765",
                                   "http://127.1:8765", "http://127.0.0.1.:8765"])
def test_another_spelling_of_the_same_machine_is_another_origin(other):
    store = "http://127.0.0.1:8765"
    assert origin_of(other) != origin_of(store)
    contract = contract_with(base_url=store)
    with pytest.raises(SpotCheckRefused, match="not one of the store's origins"):
        check_store_url(contract, other + "/p/1")
    assert refusal(other + "/p/1", normal_origins(contract.store.origins)) is not None


@pytest.mark.parametrize("url", ["http://@shop.example.com/p/1",
                                 "http://user@shop.example.com/p/1",
                                 "http://user:pw@shop.example.com/p/1"])
def test_credentials_are_refused_even_though_an_origin_has_none(url):
    allowed = normal_origins(["http://shop.example.com"])
    assert refusal(url, allowed) == "addresses with credentials are not fetched"
    assert not same_origin(url, allowed)
