"""Finding a Chromium for Playwright to drive, and the flags it runs with here.

Order: the STOREAUDIT_CHROMIUM environment variable, then the browser Playwright downloaded
for itself, then the system's Chromium. Machines without internet cannot run
`playwright install chromium`, so the system package is a normal, supported path.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

ENV_VAR = "STOREAUDIT_CHROMIUM"

# Known to work with Debian's Chromium as root on closed networks: without the networking
# flags Chromium keeps trying to reach Google's hosts at every start.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

SYSTEM_CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]


class BrowserNotFound(RuntimeError):
    """No Chromium could be found; the message says how to get one."""


def _playwright_browsers_dir() -> Path:
    configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if configured and configured != "0":
        return Path(configured)
    return Path.home() / ".cache" / "ms-playwright"


def _playwright_own_chromium() -> str | None:
    root = _playwright_browsers_dir()
    patterns = [
        "chromium-*/chrome-linux*/chrome",
        "chromium_headless_shell-*/chrome-linux*/headless_shell",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "chromium-*/chrome-win*/chrome.exe",
    ]
    for pattern in patterns:
        # Newest revision first: the one the installed Playwright most likely expects.
        hits = sorted(glob.glob(str(root / pattern)), reverse=True)
        for hit in hits:
            if os.access(hit, os.X_OK):
                return hit
    return None


def find_chromium() -> str:
    """Return the path of a Chromium executable, or raise BrowserNotFound saying what to do."""
    override = os.environ.get(ENV_VAR)
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise BrowserNotFound(
            f"{ENV_VAR} is set to {override!r}, which is not an executable file. "
            f"Point it at a Chromium binary or unset it."
        )
    own = _playwright_own_chromium()
    if own:
        return own
    for name in SYSTEM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserNotFound(
        "No Chromium found for Playwright. Run `make setup` (it tries `playwright install "
        "chromium`, then the system package), or install one yourself: "
        "`python -m playwright install chromium` with internet access, or "
        "`apt-get install chromium` on Debian/Ubuntu; or set "
        f"{ENV_VAR}=/path/to/chromium."
    )
