"""storeq's decisions: staff needed per interval, the cheapest roster, and when to stop pitching.

Pure: no printing, no UI, and no file I/O outside :mod:`optimizer.io`. Every plan is verified by
simulation (``simulation.run``) before it is returned.

Public API (stable; the app and the CLI use only these names):

- :func:`optimize_day` ``(scenario, target=ServiceTarget(...), *, rules=None, method="simulation",
  pitch="decide", search_replications=30, replications=100, seed=None, time_limit_s=20, workers=1,
  solver_workers=2, tune_threshold=True, progress=None) -> DayPlan``
- :func:`optimize_week` ``(scenario_or_7_scenarios, staff, target=None, *, rules=None, method=...,
  time_limit_s=60, ..., progress=None) -> WeekPlan`` for named staff over a week.
- ``DayPlan`` / ``WeekPlan``: ``.status``, ``.roster`` (status, objective, bound, gap, shifts,
  staffed per interval, staff hours, cost, explanation), ``.verification`` (per-interval service
  level with CI, missed intervals), ``.pitch_rule`` ("no pitches 15:00-17:30"), ``.scenario`` (the
  input scenario with the roster and pitch windows applied), ``.to_json()``, ``.frames()``.
- :class:`ServiceTarget` ``(service_level=0.8, target_wait_min=None, max_abandon=None)``.
- :func:`analytic_requirement`, :func:`refine_requirement`: counters needed per interval.
- Erlang formulas: :func:`erlang_c_wait_prob`, :func:`erlang_c_mean_wait`,
  :func:`erlang_c_service_level`, :func:`erlang_a` (→ :class:`ErlangA`).
- Files: :func:`load_staff`, :func:`load_shift_rules` (YAML/CSV, errors name file, key and value).

>>> from optimizer import erlang_c_wait_prob
>>> round(erlang_c_wait_prob(2.0, 1.0, 3), 4)
0.4444
"""

from .erlang import ErlangA, erlang_a, erlang_b, erlang_c_mean_wait, erlang_c_service_level, erlang_c_wait_prob
from .io import load_shift_rules, load_staff, shift_rules_from_data, staff_from_text
from .plan import DayPlan, Verification, WeekDay, WeekPlan, optimize_day, optimize_week, verify, week_scenarios
from .requirement import Requirement, ServiceTarget, analytic_requirement, refine_requirement
from .roster import DayRoster, RosterInput, solve_day_roster
from .staff import StaffMember, StaffRules, staff_from_data
from .week import WeekRoster, solve_week_roster
from .workload import Workload, workload

__all__ = [
    "DayPlan",
    "DayRoster",
    "ErlangA",
    "Requirement",
    "RosterInput",
    "ServiceTarget",
    "StaffMember",
    "StaffRules",
    "Verification",
    "WeekDay",
    "WeekPlan",
    "WeekRoster",
    "Workload",
    "analytic_requirement",
    "erlang_a",
    "erlang_b",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_wait_prob",
    "load_shift_rules",
    "load_staff",
    "optimize_day",
    "optimize_week",
    "refine_requirement",
    "shift_rules_from_data",
    "solve_day_roster",
    "solve_week_roster",
    "staff_from_data",
    "staff_from_text",
    "verify",
    "week_scenarios",
    "workload",
]
