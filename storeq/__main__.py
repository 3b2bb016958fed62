"""``python -m storeq`` is the ``storeq`` command."""

from storeq.cli import main

main()
