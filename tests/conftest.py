"""Suite-wide guard: a test that hangs must never stall the run.

pytest-timeout (``timeout`` in pyproject.toml) interrupts a test with SIGALRM, which gives its
traceback in the report. A hang inside C code that never returns to Python cannot be interrupted
that way, so a second, later deadline dumps every thread's stack and ends the worker process;
pytest-xdist then reports the test as crashed, by name, and goes on with a fresh worker.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import threading
from collections.abc import Iterator

import pytest

HARD_EXIT_AFTER_TIMEOUT_S = 120


def _hard_exit(nodeid: str) -> None:
    os.write(2, f"\n{nodeid} still running {HARD_EXIT_AFTER_TIMEOUT_S} s after its timeout; stacks:\n".encode())
    faulthandler.dump_traceback(file=2, all_threads=True)
    # Take this worker's own children along (worker pools, a cluster a fixture started): an orphan
    # would keep running and could hold a pipe the test runner waits on.
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(3)


@pytest.fixture(autouse=True)
def _hang_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("timeout")
    timeout = float(marker.args[0]) if marker and marker.args else float(request.config.getini("timeout") or 0)
    if timeout <= 0:
        yield
        return
    timer = threading.Timer(timeout + HARD_EXIT_AFTER_TIMEOUT_S, _hard_exit, (request.node.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
