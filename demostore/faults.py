"""The sample store's fault injection: what a store does wrong, on demand, for the tests.

    store.faults["/p/sh-0001-down-jacket"] = "503"
    store.fault_times["/p/sh-0001-down-jacket"] = 2   # only the next two requests

Fault kinds (keyed by exact URL path, query ignored):
  "timeout"  hang `store.timeout_seconds` (asyncio.sleep), then answer 504
  "500" / "503" / "429" / "404"  that status with an error page (503/429 carry
             Retry-After: `store.retry_after`, "1" unless a test sets another)
  "halfpage" the real page, cut off part-way (200, truncated HTML: no price, no closing tags)
  "captcha"  a 200 login / slider-verification wall instead of the page
  "redirectloop" 302 to the same path with ?hop=N+1, for ever
  "offsite"  302 to `store.offsite_url` (another host or port, a file: address ...)
  "tohome"   302 to the store's home page, as many stores answer for a listing they took down
  "notimage" (for image paths) 200 image/jpeg whose body is an HTML error page, not an image
  "truncatedimage" (for image paths) 200 image/jpeg with only the first bytes of a JPEG
  "bomb"     (for image paths) 200 image/png: a 20,000 x 20,000 one-colour PNG of ~50 KB
  "hugeimage" (for image paths) 200 image/jpeg streaming 50 MB with no Content-Length
  "dribble"  the real answer (a page, an image, the sitemap), one byte every
             `store.dribble_seconds`: no single read ever waits long, the whole never comes
  "spinscript" the real page with a script that, once the page has loaded, keeps its main
             thread busy for ever (`for(;;){}`)
  "webrtc"   the real page with a script opening an RTCPeerConnection whose STUN server is
             `store.stun_url` (a UDP listener of the test's)
  "gzipbomb" 200 with Content-Encoding: gzip, ~0.5 MB that inflates to 512 MiB of spaces

`store.false_not_modified = True` answers every conditional request (If-None-Match or
If-Modified-Since) 304 Not Modified, whatever the page or image now is.

`store.fault_times[path] = N` makes the fault at that path a passing one: it plays for the next
N requests, then the path answers normally again.

The same middleware counts every request into `store.hits` (by path prefix) and
`store.path_hits` (by full path); the settings and counters are DemoStore's (demostore/app.py).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from urllib.parse import parse_qs

from jinja2 import Environment

from . import images as imagegen

FAULT_KINDS = ("timeout", "500", "503", "429", "404", "halfpage", "captcha", "redirectloop",
               "offsite", "notimage", "truncatedimage", "bomb", "hugeimage", "dribble",
               "spinscript", "webrtc", "gzipbomb")

# Put before </body> of the real page by the "spinscript" and "webrtc" faults.
SPIN_SCRIPT = "<script>addEventListener('load', () => setTimeout(() => { for (;;) {} }, 50));</script>"
WEBRTC_SCRIPT = """<script>(async () => {
  const pc = new RTCPeerConnection({iceServers: [{urls: %s}]});
  pc.createDataChannel("leak");
  await pc.setLocalDescription(await pc.createOffer());
})();</script>"""
GZIP_BOMB_INFLATED = 512 * 1024 * 1024
_gzip_bomb: bytes | None = None


def gzip_bomb() -> bytes:
    """A gzip body of about half a megabyte that inflates to GZIP_BOMB_INFLATED bytes (made
    once: compressing half a gigabyte takes a second)."""
    global _gzip_bomb
    if _gzip_bomb is None:
        packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        block = b" " * (1024 * 1024)
        parts = [packer.compress(block) for _ in range(GZIP_BOMB_INFLATED // len(block))]
        _gzip_bomb = b"".join(parts) + packer.flush()
    return _gzip_bomb


def _prefix(path: str) -> str:
    if path in ("", "/"):
        return "/"
    first = path.lstrip("/").split("/", 1)[0]
    return "/" + first


class StoreMiddleware:
    """Counts requests and plays the faults configured in `store.faults`. Error pages and the
    captcha wall are rendered from `env`, the store's own templates."""

    def __init__(self, app, store, env: Environment) -> None:
        # `store`: the DemoStore (demostore/app.py) whose fault settings and counters this reads
        self.app = app
        self.store = store
        self.env = env

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        store = self.store
        store.hits[_prefix(path)] += 1
        store.path_hits[path] += 1
        headers = dict(scope.get("headers") or [])
        if store.false_not_modified and (b"if-none-match" in headers
                                         or b"if-modified-since" in headers):
            store.hits["false304"] += 1
            await send({"type": "http.response.start", "status": 304, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        fault = store.faults.get(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if path in store.fault_times:
            store.fault_times[path] -= 1
            if store.fault_times[path] <= 0:
                del store.fault_times[path], store.faults[path]
        if fault == "timeout":
            await asyncio.sleep(store.timeout_seconds)
            await self._send_page(send, 504, "error.html", code=504, message="网关超时，请稍后再试。")
        elif fault in ("500", "503", "429", "404"):
            messages = {
                "500": "服务器开小差了，请稍后再试。",
                "503": "系统繁忙，请稍后再试。",
                "429": "访问过于频繁，请稍后再试。",
                "404": "您访问的页面不存在。",
            }
            headers = {"Retry-After": store.retry_after} if fault in ("503", "429") else {}
            await self._send_page(send, int(fault), "error.html", headers, code=int(fault), message=messages[fault])
        elif fault == "captcha":
            await self._send_page(send, 200, "captcha.html", path=path)
        elif fault == "halfpage":
            await self._rewritten(scope, receive, send, _cut_before_price)
        elif fault == "dribble":
            await self._rewritten(scope, receive, send, lambda body: body,
                                  every=store.dribble_seconds)
        elif fault in ("spinscript", "webrtc"):
            script = (SPIN_SCRIPT if fault == "spinscript"
                      else WEBRTC_SCRIPT % json.dumps(store.stun_url))
            await self._rewritten(scope, receive, send,
                                  lambda body: body.replace(b"</body>", script.encode() + b"</body>"))
        elif fault == "gzipbomb":
            body = gzip_bomb()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/xml"), (b"content-encoding", b"gzip"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif fault in ("redirectloop", "offsite", "tohome"):
            if fault == "offsite":
                target = store.offsite_url
            elif fault == "tohome":
                target = "/"
            else:
                hop = parse_qs(scope.get("query_string", b"").decode()).get("hop", ["0"])[0]
                target = f"{path}?hop={int(hop) + 1 if hop.isdigit() else 1}"
            await send({"type": "http.response.start", "status": 302, "headers": [
                (b"location", target.encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
        elif fault in ("notimage", "truncatedimage"):
            # Broken images, as CDNs serve them: an error page labelled image/jpeg, or a
            # JPEG cut off after its first bytes. The crawl must record an image error.
            body = (b"<!DOCTYPE html><html><body>403 Forbidden</body></html>"
                    if fault == "notimage" else b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40)
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/jpeg"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif fault == "bomb":
            body = imagegen.decompression_bomb_png()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/png"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif fault == "hugeimage":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"image/jpeg")]})
            for piece in imagegen.oversized_body():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            raise RuntimeError(f"unknown fault kind {fault!r} for {path}; known: {', '.join(FAULT_KINDS)}")

    async def _rewritten(self, scope, receive, send, change: Callable[[bytes], bytes],
                         every: float = 0.0) -> None:
        """The real answer with its body changed by `change`; with `every`, sent one byte
        each `every` seconds."""
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = change(b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        if every:
            await _dribble(body, every, receive, send)
        await send({"type": "http.response.body", "body": b"" if every else body})

    async def _send_page(self, send, status: int, template: str, headers: dict | None = None,
                         **ctx) -> None:
        body = self.env.get_template(template).render(**ctx).encode()
        raw = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _cut_before_price(body: bytes) -> bytes:
    """The page cut off where its price would start (half of it if it has none)."""
    cut = body.find(b'<div class="price-row')
    return body[:cut if cut >= 0 else len(body) // 2]


async def _dribble(body: bytes, every: float, receive, send) -> None:
    """Send `body` a byte each `every` seconds, until the client goes away."""
    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.create_task(gone())
    try:
        for i in range(len(body)):
            if watcher.done():
                return
            await send({"type": "http.response.body", "body": body[i:i + 1], "more_body": True})
            await asyncio.sleep(every)
    finally:
        watcher.cancel()
