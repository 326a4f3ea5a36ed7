"""A whole-store audit yields the CPU to people (`audits.priority`): its thread runs at a lower
priority, the others (the API's) as they were, and what it starts inherits it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from audits.priority import AUDIT_NICENESS, yield_cpu

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")


def test_the_audits_thread_is_lowered_and_no_other_and_its_children_inherit_it():
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def audit_thread():
        seen["after"] = yield_cpu()
        seen["again"] = yield_cpu()          # once: not lowered twice
        seen["child"] = int(subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"],
                                           capture_output=True, text=True).stdout)

    t = threading.Thread(target=audit_thread)
    t.start()
    t.join()
    lowered = before if before >= AUDIT_NICENESS else min(19, before + AUDIT_NICENESS)
    assert seen["after"] == seen["again"] == lowered
    assert seen["child"] == seen["after"]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_what_the_audit_starts_cannot_raise_its_priority_back():
    """Chromium raises its browser and GPU processes to nice -8 where it may (as root): what an
    audit's thread starts must not be able to."""
    seen = {}

    def audit_thread():
        lowered = yield_cpu()
        seen["lowered"] = lowered
        seen["child"] = subprocess.run(
            [sys.executable, "-c",
             "import os\ntry:\n    os.setpriority(os.PRIO_PROCESS, 0, -8)\nexcept OSError:\n"
             "    pass\nprint(os.getpriority(os.PRIO_PROCESS, 0))"],
            capture_output=True, text=True).stdout

    t = threading.Thread(target=audit_thread)
    t.start()
    t.join()
    assert int(seen["child"]) == seen["lowered"]
