"""The ``storeq`` command line: arguments → Scenario → pure call → output.

:mod:`storeq.cli.group` holds the click group and the command registry (name → module); each command
lives in its own module (``run``, ``compare``, ``check``, ``app``, ``optimize``, ``calibrate``, …) and
is imported only when used. :mod:`storeq.cli.common` is the plumbing they share (errors and exit codes,
progress, atomic writes, JSON); :mod:`storeq.cli.report` is what ``run`` and ``compare`` share.

Exit codes: 0 done, 1 failure, 2 bad input (one readable message on stderr), 130 interrupted.
"""

from storeq.cli.group import main

__all__ = ["main"]
