"""``python -m storeq`` is the ``storeq`` command."""

from storeq.cli.interrupts import console_main

console_main()
