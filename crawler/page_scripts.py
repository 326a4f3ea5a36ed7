"""JavaScript the browser fetcher (`crawler.browser_fetch`) runs in a rendered listing page."""

# The page's HTML once every element the selector matches has text (or there is none) and
# no shown price box is left empty, or the page has gone quiet, or `ms` have passed; read
# in one call in the page's own world: Playwright's wait_for_function
# and page.content() each go through its utility world and injected script, which cost
# Chromium ~50 ms of CPU per page (a third of a render). The page can tamper with what runs
# in its world; it could as well write what it likes into its DOM, so nothing is lost, and a
# read that does not come back as text in time falls back to page.content().
READ_WHEN_FILLED_JS = r"""([selector, ms]) => new Promise(resolve => {
  const started = Date.now();
  const QUIET_MS = 500, NO_CHANGE_MS = 1200;
  const PRICE_SLOTS = ["price", "preis", "prix", "precio", "prezzo", "prijs", "pris", "cena",
                       "preco", "jiage", "kakaku", "prc", "fiyat", "harga"].map(w => `[class*="${w}" i],[id*="${w}" i]`)
                      .join(",");
  const OLD_PRICE = /old|was|compare|origin|strike|regular|market|list-?price|del\b/i;
  const read = () => {
    markShown();
    const doctype = document.doctype;
    const root = document.documentElement;
    resolve((doctype ? new XMLSerializer().serializeToString(doctype) : "") +
            (root ? root.outerHTML : ""));
  };
  // What only the rendered page knows, written onto the elements it is about: a price
  // struck through by a style sheet, a part hidden by one (crawler.extract.shown). Any
  // such mark the page wrote itself is taken off first; nothing of the page's runs between.
  const markShown = () => {
    for (const el of document.querySelectorAll("[data-storeaudit-struck],[data-storeaudit-hidden]")) {
      el.removeAttribute("data-storeaudit-struck");
      el.removeAttribute("data-storeaudit-hidden");
    }
    const root = document.body || document.documentElement;
    if (!root) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    let node, left = 4000;
    while ((node = walker.nextNode()) && left > 0) {
      const el = node.parentElement;
      if (!el || seen.has(el) || !/\d/.test(node.nodeValue)) continue;
      seen.add(el);
      left--;
      for (let e = el, i = 0; e && i < 4; e = e.parentElement, i++) {
        if (getComputedStyle(e).textDecorationLine.includes("line-through")) {
          el.setAttribute("data-storeaudit-struck", "");
          break;
        }
      }
      if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true,
                                                     checkVisibilityCSS: true})) {
        el.setAttribute("data-storeaudit-hidden", "");
      }
    }
  };
  const filled = () => {
    if (!selector) return true;
    const els = document.querySelectorAll(selector);
    return els.length === 0 || Array.from(els).every(e => e.textContent.trim().length > 0);
  };
  // A shown price box with nothing in it yet ("price", "prijs", "jiage" in its class or id,
  // not an old price's): a script of the page's is still to fill it in.
  const emptySlot = () => {
    for (const el of document.querySelectorAll(PRICE_SLOTS)) {
      if (el.textContent.trim() || el.querySelector("img") || OLD_PRICE.test(
          (el.className && el.className.baseVal === undefined ? el.className : "") + " " + el.id)) continue;
      if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true,
                                                     checkVisibilityCSS: true})) continue;
      return true;
    }
    return false;
  };
  // Or the page has gone quiet: no change for QUIET_MS after its last one, or none at all
  // for NO_CHANGE_MS (a price that arrives later than that is waited for only up to `ms`).
  let changed = 0;
  const observer = new MutationObserver(() => { changed = Date.now(); });
  observer.observe(document.documentElement || document, {subtree: true, childList: true,
                                                          characterData: true});
  const quiet = () => changed ? Date.now() - changed >= QUIET_MS
                              : Date.now() - started >= NO_CHANGE_MS;
  const check = () => {
    if ((filled() && (!emptySlot() || quiet())) || Date.now() - started >= ms) {
      observer.disconnect();
      read();
    } else setTimeout(check, 50);
  };
  check();
})"""


__all__ = ["READ_WHEN_FILLED_JS"]
