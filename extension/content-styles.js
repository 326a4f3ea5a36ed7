/* storeaudit overlay: its CSS. Only ever inside its own closed shadow roots, so the store's CSS
   does not apply and this does not leak onto the store. */
(function () {
  "use strict";
  var O = window.__storeauditOverlay;
  if (!O || O.started) { return; } // already running in this page: the first copy stays in charge
  var h = O.h;

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".sa { font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif;",
    "  font-size: 13px; line-height: 1.45; color: #1f2933; -webkit-font-smoothing: antialiased; }",
    ".sev { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 11px; font-weight: 600;",
    "  letter-spacing: .02em; text-transform: uppercase; color: #fff; line-height: 18px; white-space: nowrap; }",
    ".sev-ok { background: #15803d; } .sev-critical { background: #c62828; } .sev-major { background: #b45309; } .sev-minor { background: #6b7280; }",
    ".dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; flex: none; }",
    ".dot-critical { background: #c62828; } .dot-major { background: #d97706; } .dot-minor { background: #9ca3af; } .dot-plain { background: #cbd5e1; width: 5px; height: 5px; }",
    /* panel */
    ".panel { position: fixed; right: 16px; bottom: 16px; width: 380px; max-height: calc(100vh - 32px);",
    "  display: flex; flex-direction: column; background: #fff; border: 1px solid #d5dbe1; border-radius: 10px;",
    "  box-shadow: 0 10px 30px rgba(15, 23, 42, .18), 0 2px 6px rgba(15, 23, 42, .08); overflow: hidden;",
    "  pointer-events: auto; }",
    ".head { display: flex; align-items: center; gap: 8px; padding: 9px 10px 9px 12px; background: #1e293b; color: #f8fafc; }",
    ".brand { font-weight: 700; letter-spacing: .01em; font-size: 13px; }",
    ".brand small { font-weight: 400; color: #94a3b8; margin-left: 6px; font-size: 11px; }",
    ".chips { display: flex; gap: 4px; margin-left: auto; }",
    ".toggle { all: unset; cursor: pointer; color: #cbd5e1; font-size: 16px; line-height: 1; padding: 2px 6px; border-radius: 4px; }",
    ".toggle:hover, .toggle:focus-visible { background: #334155; color: #fff; }",
    ".body { overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 12px; }",
    ".collapsed .body { display: none; }",
    ".title { font-weight: 600; font-size: 14px; color: #0f172a; word-break: break-word; }",
    ".sub { color: #64748b; font-size: 12px; margin-top: 2px; }",
    ".section h4 { margin: 0 0 6px; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: #64748b; font-weight: 600; }",
    ".finding { border: 1px solid #e2e8f0; border-left-width: 4px; border-radius: 6px; padding: 8px 10px; margin-bottom: 6px; }",
    ".finding.critical { border-left-color: #c62828; background: #fef6f6; }",
    ".finding.major { border-left-color: #d97706; background: #fffaf0; }",
    ".finding.minor { border-left-color: #9ca3af; background: #f8fafc; }",
    ".finding .msg { margin: 4px 0; color: #111827; word-break: break-word; }",
    ".meta { font-size: 12px; color: #475569; }",
    ".meta .overdue { color: #b91c1c; font-weight: 600; }",
    ".meta .rule { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: 11px; color: #64748b; }",
    ".row-actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; align-items: center; }",
    ".ack { font-size: 12px; color: #15803d; }",
    ".empty { color: #15803d; font-weight: 500; }",
    "table.values { width: 100%; border-collapse: collapse; font-size: 12.5px; }",
    "table.values th { text-align: left; font-weight: 500; color: #64748b; padding: 3px 8px 3px 0; width: 92px; vertical-align: top; }",
    "table.values td { padding: 3px 0; color: #0f172a; }",
    ".bad { color: #b91c1c; font-weight: 600; } .ok { color: #15803d; } .muted { color: #64748b; }",
    ".spark { display: block; width: 100%; height: 64px; }",
    ".spark-legend { display: flex; justify-content: space-between; gap: 8px; font-size: 11px; color: #64748b; white-space: nowrap; }",
    ".spark-key { font-size: 11px; color: #64748b; margin-top: 2px; } .spark-key i { display: inline-block; width: 14px; border-top: 1px dashed #dc2626; vertical-align: middle; margin-right: 4px; }",
    "button.btn { all: unset; cursor: pointer; font: inherit; font-size: 12px; font-weight: 600; padding: 5px 10px;",
    "  border-radius: 5px; border: 1px solid #cbd5e1; background: #fff; color: #1e293b; white-space: nowrap; }",
    "button.btn:hover, button.btn:focus-visible { background: #f1f5f9; border-color: #94a3b8; }",
    "button.btn.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }",
    "button.btn.primary:hover, button.btn.primary:focus-visible { background: #1e40af; }",
    "button.btn.danger { color: #b91c1c; border-color: #fca5a5; }",
    "button.btn[disabled] { opacity: .6; cursor: default; }",
    ".actions { display: flex; gap: 8px; flex-wrap: wrap; }",
    ".form { display: flex; flex-direction: column; gap: 6px; padding: 8px; border: 1px solid #e2e8f0; border-radius: 6px; background: #f8fafc; }",
    ".form label { font-size: 12px; color: #334155; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }",
    ".form input { font: inherit; font-size: 12.5px; padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 4px; background: #fff; color: #0f172a; }",
    ".form input.wide { flex: 1; min-width: 0; }",
    ".form input.num { width: 64px; }",
    ".form-slot:empty, .status-slot:empty { display: none; }",
    ".status { font-size: 12px; padding: 6px 8px; border-radius: 5px; background: #f1f5f9; color: #334155; word-break: break-word; }",
    ".status.error { background: #fef2f2; color: #b91c1c; }",
    ".status.done { background: #f0fdf4; color: #166534; }",
    ".progress { height: 3px; background: #e2e8f0; border-radius: 2px; overflow: hidden; margin-top: 5px; }",
    ".progress span { display: block; height: 100%; width: 30%; background: #1d4ed8; animation: slide 1.1s ease-in-out infinite; }",
    "@keyframes slide { 0% { margin-left: -30%; } 100% { margin-left: 100%; } }",
    ".foot { display: flex; justify-content: space-between; align-items: center; font-size: 12px; color: #475569;",
    "  border-top: 1px solid #e2e8f0; padding: 8px 12px; background: #f8fafc; }",
    ".foot a { color: #1d4ed8; text-decoration: none; font-weight: 600; } .foot a:hover { text-decoration: underline; }",
    ".quota-bar { display: inline-block; width: 60px; height: 6px; background: #e2e8f0; border-radius: 3px; vertical-align: middle; margin: 0 6px; overflow: hidden; }",
    ".quota-bar span { display: block; height: 100%; background: #64748b; }",
    ".quota-bar.met span { background: #16a34a; }",
    /* badge on a product card */
    ".badge { position: absolute; top: 8px; left: 8px; display: inline-flex; align-items: center; gap: 5px;",
    "  padding: 2px 8px 2px 6px; border-radius: 999px; color: #fff; font-size: 12px; font-weight: 700;",
    "  line-height: 18px; box-shadow: 0 1px 3px rgba(0,0,0,.3); pointer-events: auto; cursor: help; white-space: nowrap; }",
    ".badge.critical { background: #c62828; } .badge.major { background: #b45309; } .badge.minor { background: #6b7280; }",
    ".badge .mark { display: inline-block; width: 14px; height: 14px; border-radius: 50%; background: rgba(255,255,255,.25);",
    "  text-align: center; line-height: 14px; font-size: 10px; }",
    ".badge .word { font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: .03em; opacity: .95; }",
    /* tooltip for badges, in the page-level layer so no card can clip it */
    ".tooltip { position: fixed; z-index: 2; max-width: 340px; background: #0f172a; color: #f1f5f9; border-radius: 6px;",
    "  padding: 8px 10px; font-size: 12px; box-shadow: 0 6px 20px rgba(0,0,0,.25); pointer-events: none; }",
    ".tooltip[hidden] { display: none; }",
    ".tooltip .tt-head { font-weight: 700; margin-bottom: 4px; color: #fff; }",
    ".tooltip ul { margin: 0; padding: 0; list-style: none; }",
    ".tooltip li { display: flex; align-items: baseline; margin: 3px 0; word-break: break-word; }",
    ".tooltip .dot { position: relative; top: -1px; }",
    /* the quiet notice when the API is away */
    ".notice { position: fixed; left: 12px; bottom: 12px; display: flex; align-items: center; gap: 8px; padding: 4px 6px 4px 10px;",
    "  background: rgba(30, 41, 59, .88); color: #e2e8f0; border-radius: 999px; font-size: 12px; pointer-events: auto; }",
    ".notice button { all: unset; cursor: pointer; color: #94a3b8; padding: 0 4px; font-size: 14px; line-height: 1; }",
    ".notice button:hover { color: #fff; }"
  ].join("\n");

  var sharedSheet = null;
  function adoptStyles(root) {
    try {
      if (!sharedSheet) { sharedSheet = new CSSStyleSheet(); sharedSheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sharedSheet];
    } catch (e) { // browsers without constructable sheets in content scripts
      root.appendChild(h("style", {text: CSS}));
    }
  }

  O.adoptStyles = adoptStyles;
})();
