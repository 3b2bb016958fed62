"""storeq: plan walk-in service stores.

The public API a notebook user imports, re-exported from the cores::

    import storeq
    hall = storeq.load_scenario("scenarios/telecom_month_end.yaml")
    res = storeq.run(hall, replications=100)

Names are resolved on first use, so ``import storeq`` stays cheap (no OR-Tools or calibration stack
until they are asked for) and the cores can import ``storeq`` submodules without an import cycle.

Inside: ``storeq.kpis`` (the KPI catalogue), ``storeq.present`` (number formats), ``storeq.outputs``
(``--out`` folders), ``storeq.results_store``, ``storeq.region``, ``storeq.cli`` (one module per
command), ``storeq.app`` (the Streamlit pages); docs/architecture.md maps every concept to its module.
"""

from __future__ import annotations

import importlib
from typing import Any

_API: dict[str, str] = {
    "load_scenario": "simulation",
    "scenario_from_yaml": "simulation",
    "scenario_to_yaml": "simulation",
    "with_updates": "simulation",
    "run": "simulation",
    "compare": "simulation",
    "Scenario": "simulation",
    "ScenarioError": "simulation",
    "RunResult": "simulation",
    "CompareResult": "simulation",
    "optimize_day": "optimizer",
    "optimize_week": "optimizer",
    "calibrate": "calibration",
    "sweep": "simulation.sweep",
    "load_region": "storeq.region.io",
    "rank_region": "storeq.region.rank",
    "plan_region": "storeq.region.plan",
    "moves_region": "storeq.region.moves",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'storeq' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
