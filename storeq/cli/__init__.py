"""The ``storeq`` command line: arguments → Scenario → pure call → output.

:mod:`storeq.cli.group` holds the click group and the command registry (name → module); each command
lives in its own module (``run``, ``compare``, ``check``, ``app``, ``optimize``, ``calibrate``, …) and
is imported only when used. :mod:`storeq.cli.common` is the plumbing they share (errors and exit codes,
progress, atomic writes, JSON); :mod:`storeq.cli.report` is what ``run`` and ``compare`` share.

Exit codes: 0 done, 1 failure, 2 bad input (one readable message on stderr), 130 interrupted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    # Lazy, so the console script can install its Ctrl+C handler (storeq.cli.interrupts) before click
    # and the group load: an interrupt during those imports then exits 130, not with a traceback.
    if name == "main":
        from storeq.cli.group import main

        return main
    raise AttributeError(f"module 'storeq.cli' has no attribute {name!r}")
