"""The review as a PDF a person can print: Chromium (the one the crawler finds) prints the
review's HTML document.

The document is ours (every store text escaped, pictures none, charts inline SVG), and it is
printed with JavaScript off and every request refused: nothing in it can reach anywhere.
A sync Playwright of its own, in a thread of its own: Playwright's sync API refuses a thread
that runs an event loop, and the caller may be one (a test's browser, an async server).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from crawler.browser import LAUNCH_ARGS, find_chromium

PRINT_TIMEOUT_MS = 60_000
# One print at a time: each starts a Chromium, and anyone logged in may ask for a PDF.
PRINTING = threading.BoundedSemaphore(1)
PRINT_WAIT_S = 30


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why."""


def html_to_pdf(html: str, *, title: str = "") -> bytes:
    """`html` printed as an A4 PDF (backgrounds kept, page numbers in the footer). PdfError
    when another print holds the printer for longer than PRINT_WAIT_S."""
    if not PRINTING.acquire(timeout=PRINT_WAIT_S):
        raise PdfError(f"another review is being printed; {title or 'this one'} can be "
                       "printed in a minute")
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="pdf") as pool:
            return pool.submit(_print, html, title).result()
    finally:
        PRINTING.release()


def _print(html: str, title: str) -> bytes:
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(prefer_headless_shell=True),
                                         args=LAUNCH_ARGS, headless=True)
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                context.route("**/*", lambda route: route.abort())
                page = context.new_page()
                page.set_default_timeout(PRINT_TIMEOUT_MS)
                page.set_content(html, wait_until="load")
                return page.pdf(
                    format="A4", print_background=True, display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=('<div style="font-size:8px;width:100%;text-align:center;'
                                     'color:#667085"><span class="pageNumber"></span> / '
                                     '<span class="totalPages"></span></div>'),
                    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except PlaywrightError as e:
        raise PdfError(f"Chromium could not print {title or 'the review'}: "
                       f"{str(e).splitlines()[0]}") from None
