"""Image hashing in worker processes, so a big crawl's decoding and hashing runs on every core.

In a thread, hashing would share the interpreter lock with the event loop that fetches pages:
each of the loop's socket calls then waits for the hashing thread to let go of the lock, and
the crawl slows down as a whole. A worker process has an interpreter of its own.

Each worker is `python -m crawler.hash_workers`, fed over its stdin/stdout pipes: a request is
the image's bytes, the answer its hashes and thumbnail (`crawler.hashing.hash_and_thumbnail`)
or the reason it was refused (JSON), each framed by a 4-byte length. A worker is a plain
subprocess, not a multiprocessing pool, because the latter starts its workers by re-importing
the calling program's main module, which runs whatever it does at import in every worker.
A worker reads until its stdin closes, so it ends with the crawl, or with the process that
started it, however that one stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

from imaging import ImageRefused

from .hashing import from_json, hash_and_thumbnail, to_json

_FRAME = struct.Struct(">I")
log = logging.getLogger(__name__)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Worker:
    def __init__(self):
        env = dict(os.environ)
        # The worker imports this package the way this process did, installed or not.
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root,
                                                          env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler.hash_workers"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env)

    def ask(self, data: bytes) -> dict:
        """The image's hashes and thumbnail (blocking: called on a thread), or ImageRefused."""
        try:
            self.process.stdin.write(_FRAME.pack(len(data)) + data)
            self.process.stdin.flush()
            answer = _read_frame(self.process.stdout)
        except OSError:  # a broken pipe: the worker is gone
            answer = None
        if answer is None:
            # The worker died on this image (out of memory, a crash in a decoder): the image
            # is refused and the worker replaced; the crawl goes on.
            self.close()
            raise ImageRefused("could not be hashed: the hashing process stopped "
                               f"(exit status {self.process.returncode})")
        reply = json.loads(answer)
        if "refused" in reply:
            raise ImageRefused(reply["refused"])
        return from_json(reply["hashed"])

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class HashWorkers:
    """Up to `processes` workers, started on first use; `hash` waits for a free one."""

    def __init__(self, processes: int):
        self.processes = max(1, processes)
        self._idle: asyncio.Queue[_Worker] | None = None
        self._started = 0
        self._broken = False
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    async def hash(self, data: bytes) -> dict:
        """`crawler.hashing.hash_and_thumbnail(data)`, in a worker process."""
        if self._idle is None:
            self._idle = asyncio.Queue()
        if self._broken:
            return await asyncio.to_thread(hash_and_thumbnail, data)
        if self._idle.empty() and self._started < self.processes:
            self._started += 1
            worker = await asyncio.to_thread(self._start)
        else:
            worker = await self._idle.get()
        if worker is None:
            return await asyncio.to_thread(hash_and_thumbnail, data)
        try:
            return await asyncio.to_thread(worker.ask, data)
        finally:
            if not worker.alive:
                worker = await asyncio.to_thread(self._start)
            self._idle.put_nowait(worker)

    def _start(self) -> _Worker | None:
        """A new worker; None (and threads from now on) when none can be started."""
        try:
            worker = _Worker()
        except OSError as e:
            log.warning("cannot start an image-hashing process (%s); hashing in threads", e)
            self._broken = True
            return None
        with self._lock:
            self._all.append(worker)
        return worker

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()

    async def __aenter__(self) -> "HashWorkers":
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.close)


def _read_frame(stream) -> bytes | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def _serve(stdin, stdout) -> None:
    while (data := _read_frame(stdin)) is not None:
        try:
            reply = {"hashed": to_json(hash_and_thumbnail(data))}
        except ImageRefused as e:
            reply = {"refused": str(e)}
        except Exception as e:  # a decoder bug must not end the worker: report, go on
            reply = {"refused": f"could not be hashed: {type(e).__name__}: {e}"}
        answer = json.dumps(reply).encode()
        stdout.write(_FRAME.pack(len(answer)) + answer)
        stdout.flush()


if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    _serve(sys.stdin.buffer, answers)
