"""Ctrl+C at any moment of a ``storeq`` command: exit code 130, no traceback, no partial output.

Kept apart from :mod:`storeq.cli.common` because it must work *before* the heavy imports (numpy,
pandas, the simulation) that a command pulls in on first use: an interrupt while those load has
nothing to clean up, so the process exits 130 at once instead of showing an import traceback or
click's "Aborted!" (exit 1). Once a command body starts, :func:`storeq.cli.common.handle_errors`
puts Python's own handler back, so a KeyboardInterrupt unwinds through the output-set cleanup.
When the body has ended (its output complete, or its error reported), the process that
`console_main` owns exits 130 at once on Ctrl+C again: the interpreter's own shutdown
(tearing down numpy, pandas and the simulation) takes a noticeable moment, and a KeyboardInterrupt
there would end the process by the signal, or as click's "Aborted!", instead of 130. Once the
last exit handler has run, Python puts the default action back (the process dies by the signal, exit
-2, no message) while it tears its modules down; from that moment Ctrl+C is ignored, so the process
ends with the command's own exit code a fraction of a second later.
"""

from __future__ import annotations

import atexit
import contextlib
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


def _exit_130_finishing(signum: int, frame: Any) -> None:
    for stream in (sys.stdout, sys.stderr):  # what the command printed must still reach its reader
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        sys.stderr.write("storeq: interrupted while exiting; the command had already finished.\n")
        sys.stderr.flush()
    os._exit(130)


_owns_process = False  # set by console_main: this process is the storeq command, not a caller's


def command_ended() -> None:
    """The command body has ended: in storeq's own process, Ctrl+C from here on exits 130 at once.

    Only in the process :func:`console_main` started; a caller running a command in-process (a test's
    CliRunner, a notebook) gets Python's own handler back.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) not in (signal.default_int_handler, _exit_130, _exit_130_finishing):
        return  # ignored (a background job) or someone else's handler: leave it
    signal.signal(signal.SIGINT, _exit_130_finishing if _owns_process else signal.default_int_handler)


def _ignore_sigint_in_teardown() -> None:
    # Python resets a Python-level handler to the default action before it tears its modules down
    # (pandas, numpy: a noticeable moment), but leaves an ignored signal ignored.
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _exit_130, _exit_130_finishing):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def restore_sigint() -> None:
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) in (_exit_130, _exit_130_finishing):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def console_main() -> None:
    """The ``storeq`` console script and ``python -m storeq``: Ctrl+C handling first, then the CLI.

    The handler goes in before click, the group and the command modules are imported, so an interrupt
    at any moment after the interpreter itself has started exits 130 with nothing written.
    """
    global _owns_process
    _owns_process = True
    atexit.register(_ignore_sigint_in_teardown)  # registered first, so it runs after every other exit handler
    exit_130_until_a_command_starts()
    try:
        from storeq.cli.group import main

        main()
    finally:
        command_ended()
