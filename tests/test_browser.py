"""Finding Chromium: the environment override, then Playwright's own, then the system's."""

from __future__ import annotations

import stat

import pytest

from crawler import browser
from crawler.browser import BrowserNotFound, find_chromium


def make_exe(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_environment_override_wins(tmp_path, monkeypatch):
    exe = make_exe(tmp_path / "my-chrome")
    monkeypatch.setenv(browser.ENV_VAR, str(exe))
    assert find_chromium() == str(exe)


def test_a_wrong_override_is_reported_not_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(browser.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(BrowserNotFound, match="STOREAUDIT_CHROMIUM"):
        find_chromium()


def test_playwrights_own_browser_comes_before_the_system_one(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    own = make_exe(tmp_path / "chromium-1234" / "chrome-linux" / "chrome")
    assert find_chromium() == str(own)


def test_the_system_browser_is_found_on_path(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))
    bindir = tmp_path / "bin"
    exe = make_exe(bindir / "chromium")
    monkeypatch.setenv("PATH", str(bindir))
    assert find_chromium() == str(exe)


def test_no_browser_anywhere_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserNotFound) as caught:
        find_chromium()
    assert "apt-get install chromium" in str(caught.value)
    assert "playwright install chromium" in str(caught.value)


def test_the_crawler_prefers_a_headless_shell_and_the_override_still_wins(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    full = make_exe(tmp_path / "pw" / "chromium-1234" / "chrome-linux" / "chrome")
    bindir = tmp_path / "bin"
    system_shell = make_exe(bindir / "chromium-headless-shell")
    monkeypatch.setenv("PATH", str(bindir))
    assert find_chromium() == str(full)  # what a person sees, and extensions, need the browser
    assert find_chromium(prefer_headless_shell=True) == str(system_shell)
    own_shell = make_exe(tmp_path / "pw" / "chromium_headless_shell-1234" / "chrome-linux"
                         / "headless_shell")
    assert find_chromium(prefer_headless_shell=True) == str(own_shell)
    exe = make_exe(tmp_path / "my-chrome")
    monkeypatch.setenv(browser.ENV_VAR, str(exe))
    assert find_chromium(prefer_headless_shell=True) == str(exe)


def test_without_a_headless_shell_the_crawler_uses_the_browser(tmp_path, monkeypatch):
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "empty"))
    exe = make_exe(tmp_path / "bin" / "chromium")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_chromium(prefer_headless_shell=True) == str(exe)
