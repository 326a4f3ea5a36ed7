"""A crawl knob is written once, on its CrawlConfig field (`crawler.config.knob`): the
contract's [crawl] section is generated from the declarations, and a contract becomes a
CrawlConfig through them, units converted there and nowhere else."""

from __future__ import annotations

from dataclasses import fields

from audits.contract import CrawlSettings, parse_contract
from crawler.config import CONTRACT_KNOBS, CrawlConfig

STORE = '[store]\nname = "Shop"\nbase_url = "https://shop.example.com"\n'


def test_the_crawl_section_is_the_declared_knobs():
    assert list(CrawlSettings.model_fields) == [k.key for k in CONTRACT_KNOBS]
    assert {k.key for k in CONTRACT_KNOBS} == {
        "concurrency", "max_requests_per_second", "page_timeout_seconds", "retries",
        "max_pages", "render", "recheck_share", "check_not_modified_share",
        "reuse_fresh_images_hours", "deadline_minutes"}
    for k in CONTRACT_KNOBS:
        assert CrawlSettings.model_fields[k.key].description == k.help


def test_every_crawl_key_reaches_the_crawler_in_its_unit():
    contract = parse_contract(STORE + "[crawl]\nconcurrency = 7\nmax_requests_per_second = 2.5\n"
                              "page_timeout_seconds = 9\nretries = 3\nmax_pages = 12\n"
                              'render = "always"\nrecheck_share = 0.5\n'
                              "check_not_modified_share = 0.25\n"
                              "reuse_fresh_images_hours = 1.5\ndeadline_minutes = 2.5\n")
    config = contract.crawl_config()
    assert (config.concurrency, config.max_requests_per_second, config.page_timeout_s,
            config.retries, config.max_pages, config.render, config.recheck_share) == (
        7, 2.5, 9, 3, 12, "always", 0.5)
    assert config.reuse_fresh_images_s == 1.5 * 3600
    assert config.deadline_s == 2.5 * 60
    assert config.check_not_modified_share == 0.25


def test_a_contract_without_crawl_settings_crawls_as_a_bare_crawl_config():
    config = parse_contract(STORE).crawl_config()
    bare = CrawlConfig(config.base_url)
    for f in fields(CrawlConfig):
        if f.name not in ("origins", "selectors", "default_currency"):  # the store's
            assert getattr(config, f.name) == getattr(bare, f.name), f.name
