"""What the crawler says it is: an ordinary desktop Chromium, on both paths.

A store can serve a crawler other content than a shopper gets. Chromium's headless shell
announces itself (`HeadlessChrome` in its user agent and client hints, `navigator.webdriver`
true under automation), and a plain-HTTP client that names itself is told apart at once. So
the plain-HTTP requests and the rendered pages send the same headers as the desktop Chromium
installed here (its own version), and the browser is launched without the automation flag.

What is out of reach: a store that fingerprints deeper (the canvas, the fonts, timing) or shows
the real page only to logged-in shoppers. The merchant's own browser, through the extension, is
the witness for those.
"""

from __future__ import annotations

import functools
import logging
import re
import subprocess

log = logging.getLogger(__name__)

FALLBACK_VERSION = "131.0.0.0"  # when the installed Chromium cannot be asked
LANGUAGES = "zh-CN,zh,en"  # navigator.languages; Chromium weighs them into the header below
ACCEPT_LANGUAGE = "zh-CN,zh;q=0.9,en;q=0.8"
ACCEPT_HTML = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
               "image/apng,*/*;q=0.8")
# Chromium's flag that sets navigator.webdriver; off, a page's script reads false, as in a
# browser a person uses.
NOT_AUTOMATED_ARGS = ["--disable-blink-features=AutomationControlled"]


def brands(version: str) -> list[dict[str, str]]:
    """The client-hint brands of a desktop Chromium of this version."""
    return [{"brand": "Chromium", "version": version}, {"brand": "Not-A.Brand", "version": "24"}]


def user_agent(version: str) -> str:
    """Desktop Chromium's user agent on Linux, in the reduced form Chrome sends (the major
    version only)."""
    major = version.split(".", 1)[0]
    return (f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{major}.0.0.0 Safari/537.36")


def client_hints(version: str) -> dict[str, str]:
    """The `Sec-CH-UA` headers that go with `user_agent(version)` (the brands of `brands`)."""
    major = version.split(".", 1)[0]
    return {"Sec-CH-UA": ", ".join(f'"{b["brand"]}";v="{b["version"]}"' for b in brands(major)),
            "Sec-CH-UA-Mobile": "?0", "Sec-CH-UA-Platform": '"Linux"'}


def http_headers(version: str) -> dict[str, str]:
    """What a plain-HTTP request sends: a desktop Chromium's navigation headers."""
    return {"User-Agent": user_agent(version), "Accept": ACCEPT_HTML,
            "Accept-Language": ACCEPT_LANGUAGE, **client_hints(version)}


@functools.cache
def installed_version() -> str:
    """The version of the Chromium this machine renders with ("156.0.8078.114"), asked
    once; FALLBACK_VERSION when there is none or it does not say."""
    from .browser import find_chromium  # the browser module finds it; asked only here

    try:
        path = find_chromium(prefer_headless_shell=True)
        out = subprocess.run([path, "--version"], capture_output=True, text=True,
                             timeout=20).stdout
    except Exception as e:  # no Chromium, or it would not answer: any version will do
        log.info("Chromium's version unknown (%s): saying %s", e, FALLBACK_VERSION)
        return FALLBACK_VERSION
    found = re.search(r"\b(\d+\.\d+\.\d+\.\d+)\b", out)
    return found.group(1) if found else FALLBACK_VERSION



async def present_as_desktop(page, version: str) -> None:
    """Make a Playwright page of the headless shell say what a desktop Chromium says: the
    user agent, the client hints (headers and `navigator.userAgentData`, which a context's
    `user_agent` leaves naming HeadlessChrome) and the languages."""
    major = version.split(".", 1)[0]
    session = await page.context.new_cdp_session(page)
    await session.send("Emulation.setUserAgentOverride", {
        "userAgent": user_agent(version), "acceptLanguage": LANGUAGES,
        "platform": "Linux x86_64",
        "userAgentMetadata": {
            "brands": brands(major), "fullVersionList": brands(version),
            "fullVersion": version, "platform": "Linux", "platformVersion": "6.1.0",
            "architecture": "x86", "model": "", "mobile": False, "bitness": "64",
            "wow64": False}})
