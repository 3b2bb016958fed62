"""Where the example scenarios are, for a source checkout and for an installed package alike.

The example stores live in the top-level ``scenarios/`` folder of the repository: the README and the
docs name them there (``storeq run scenarios/telecom_month_end.yaml``) and they are edited there. A
wheel ships a copy of that folder inside the package as ``storeq/scenarios/`` (``setup.py`` copies
it at build time), so ``storeq app`` and the region planner find the examples for a user who
installed storeq without the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def scenarios_dir() -> Path:
    """The example scenarios folder: the copy installed in the package, else the checkout's ``scenarios/``."""
    installed = _PACKAGE / "scenarios"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "scenarios"  # a source checkout or an editable install
