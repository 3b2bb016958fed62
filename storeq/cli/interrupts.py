"""Ctrl+C at any moment of a ``storeq`` command: exit code 130, no traceback, no partial output.

Kept apart from :mod:`storeq.cli.common` because it must work *before* the heavy imports (numpy,
pandas, the simulation) that a command pulls in on first use: an interrupt while those load has
nothing to clean up, so the process exits 130 at once instead of showing an import traceback or
click's "Aborted!" (exit 1). Once a command body starts, :func:`storeq.cli.common.handle_errors`
puts Python's own handler back, so a KeyboardInterrupt unwinds through the output-set cleanup.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any


def exit_130_until_a_command_starts() -> None:
    """Ctrl+C while a command is still being imported exits 130 at once (nothing to clean up yet).

    Without this, click turns that early interrupt into "Aborted!" and exit code 1. :func:`handle_errors`
    puts Python's own handler back when the command starts, so the command cleans up (no partial
    output set) and exits 130 itself; ``StoreqGroup.main`` restores it on the way out too.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # SIGINT ignored (a background job) or handled by someone else (a test runner): leave it
    signal.signal(signal.SIGINT, _exit_130)


def _exit_130(signum: int, frame: Any) -> None:
    sys.stderr.write("storeq: interrupted before the command started; nothing was written.\n")
    os._exit(130)


def restore_sigint() -> None:
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is _exit_130:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def console_main() -> None:
    """The ``storeq`` console script and ``python -m storeq``: Ctrl+C handling first, then the CLI.

    The handler goes in before click, the group and the command modules are imported, so an interrupt
    at any moment after the interpreter itself has started exits 130 with nothing written.
    """
    exit_130_until_a_command_starts()
    from storeq.cli.group import main

    main()
