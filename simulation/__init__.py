"""storeq's store model: scenarios, the SimPy engine, replications and KPIs.

Pure: no printing, no UI, and no file I/O outside :mod:`simulation.loader`.
"""

from .clock import format_clock, parse_clock
from .loader import load_scenario, scenario_from_yaml, scenario_to_yaml
from .results import KPI_NAMES, CompareResult, RunResult
from .runner import compare, run
from .scenario import Scenario, ScenarioError, parse_overrides, scenario_from_dict, with_updates
from .schedule import IntervalGrid, StepSchedule

__all__ = [
    "KPI_NAMES",
    "CompareResult",
    "IntervalGrid",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "StepSchedule",
    "compare",
    "format_clock",
    "load_scenario",
    "parse_clock",
    "parse_overrides",
    "run",
    "scenario_from_dict",
    "scenario_from_yaml",
    "scenario_to_yaml",
    "with_updates",
]
