"""The ``storeq`` command line: arguments → Scenario → pure call → output (see :mod:`storeq.cli.commands`)."""

from storeq.cli.commands import main

__all__ = ["main"]
