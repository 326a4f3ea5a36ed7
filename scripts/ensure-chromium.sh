#!/usr/bin/env bash
# Make sure Playwright has a Chromium to drive. In order:
#   1. STOREAUDIT_CHROMIUM already points at a browser: nothing to do.
#   2. Playwright's own download (needs the internet; fails quietly on closed machines).
#   3. The system's Chromium (Debian package `chromium`), installed with apt-get when we are root.
# Fonts for Chinese text (fonts-noto-cjk) come along on the apt path so screenshots are readable.
# The crawler renders with Chromium's headless shell when there is one (a third less CPU per
# page): Playwright's download brings it; on the apt path it is `chromium-headless-shell`,
# added when missing and we are root. Without it the crawler uses the full browser.
set -uo pipefail
PY="${1:-python3}"

has_shell() { "$PY" -c 'import sys; from crawler.browser import headless_shell; sys.exit(headless_shell() is None)' 2>/dev/null; }
add_shell() {
    has_shell && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "storeaudit: adding Chromium's headless shell for the crawler (apt-get install chromium-headless-shell)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get install -y -qq chromium-headless-shell >/tmp/storeaudit-apt-shell.log 2>&1 \
            || { timeout 300 apt-get update -qq >/dev/null 2>&1; \
                 timeout 300 apt-get install -y -qq chromium-headless-shell >/tmp/storeaudit-apt-shell.log 2>&1; } \
            || echo "storeaudit: no headless shell (see /tmp/storeaudit-apt-shell.log); the crawler will use the full browser"
    fi
    return 0
}
found() { [ -n "${STOREAUDIT_CHROMIUM:-}" ] || add_shell; echo "storeaudit: using Chromium at $1"; exit 0; }

if [ -n "${STOREAUDIT_CHROMIUM:-}" ] && [ -x "${STOREAUDIT_CHROMIUM}" ]; then found "$STOREAUDIT_CHROMIUM"; fi

# Already there from an earlier run?
existing=$("$PY" -c 'from crawler.browser import find_chromium; print(find_chromium())' 2>/dev/null) && found "$existing"

echo "storeaudit: no Chromium yet; trying Playwright's own download"
if timeout 300 "$PY" -m playwright install chromium >/tmp/storeaudit-playwright-install.log 2>&1; then
    existing=$("$PY" -c 'from crawler.browser import find_chromium; print(find_chromium())' 2>/dev/null) && found "$existing"
fi

echo "storeaudit: Playwright's download is not reachable here; installing the system Chromium"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq chromium fonts-noto-cjk >/tmp/storeaudit-apt.log 2>&1 \
        || { echo "storeaudit: apt-get install chromium failed; see /tmp/storeaudit-apt.log"; }
else
    echo "storeaudit: not root or no apt-get; install Chromium yourself (e.g. 'sudo apt-get install chromium')"
fi

existing=$("$PY" -c 'from crawler.browser import find_chromium; print(find_chromium())' 2>&1) && found "$existing"
echo "$existing" >&2
exit 1
