"""Peak memory of a process and its descendants (Chromium, the hashing workers), measured from
a process of its own: polling /proc from a thread of the measured process would take its
interpreter lock from the audit being timed.

    python -m bench.peak_memory ROOT_PID [EXCLUDED_PID ...]

polls every POLL_S until its stdin closes, then prints the peak in kB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

POLL_S = 0.2


def pss_kb(pid: int) -> int:
    """Proportional set size: memory shared by Chromium's processes counted once, not once
    per process (summing plain RSS would count the shared libraries a dozen times)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root: int, exclude: set[int]) -> list[int]:
    """`root` and every process under it, but none of `exclude` nor what they started."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class PeakRss:
    """Peak proportional set size of this process (or of `root`) and its children, polled by
    `python -m bench.peak_memory`; the processes in `exclude` (the sample store, the API
    server) do not count."""

    def __init__(self, exclude: set[int], root: int | None = None):
        self.exclude = exclude
        self.root = root if root is not None else os.getpid()
        self.peak_kb = 0

    def __enter__(self) -> "PeakRss":
        self._poller = subprocess.Popen(
            [sys.executable, "-m", "bench.peak_memory", str(self.root),
             *map(str, self.exclude)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc) -> None:
        out, _ = self._poller.communicate(timeout=30)
        self.peak_kb = int(out.strip() or 0)


def main(argv: list[str]) -> int:
    root, *excluded = map(int, argv)
    exclude = {*excluded, os.getpid()}
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    peak = 0
    while not done.is_set():
        peak = max(peak, sum(pss_kb(p) for p in descendants(root, exclude)))
        done.wait(POLL_S)
    print(peak)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
