"""Servers run as child processes (the sample store, an API for the bench): started, waited for
until they print the URL they serve at, and stopped with their parent however it ends.

Shared by the demo and the bench, so neither reaches into the other."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

STARTUP_TIMEOUT_S = 30
URL_PATTERN = r"https?://[\w.\-\[\]:]+:\d+"  # the first URL a server child prints


@contextmanager
def serving_child(args: list[str], what: str, pattern: str = URL_PATTERN,
                  startup_s: float = STARTUP_TIMEOUT_S):
    """Run `python ARGS`, a server that prints the URL it serves at; yield (that URL, its pid).
    It is stopped at the end, and on Linux dies with this process however this one ends."""
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        url = wait_for_url(proc, what, pattern, startup_s)
        # Keep reading its output so a chatty child can never block on a full pipe.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def die_with_parent() -> None:
    """Linux: the child goes when its parent goes, however the parent ends (uvicorn re-raises
    SIGTERM after its shutdown, which skips our clean-up)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_for_url(proc: subprocess.Popen, what: str, pattern: str, startup_s: float) -> str:
    """The first URL the child prints, or RuntimeError with what it printed instead."""
    deadline = datetime.now() + timedelta(seconds=startup_s)
    seen = []
    while datetime.now() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(0)
    raise RuntimeError(f"{what} did not start:\n" + "".join(seen[-20:]))
