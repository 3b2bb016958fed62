"""End-to-end plans: requirement → CP-SAT roster with pitch windows → scenario → simulated verification.

:func:`optimize_day` and :func:`optimize_week` are the public entry points (see ``optimizer/__init__``).
Every plan they return has been simulated (``replications`` ≥ 100 by default) and carries the
per-interval service level with its confidence interval, the intervals that miss, the cost, the
pitch margin, the solver's status/objective/bound/gap and a plain explanation of anything impossible.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from simulation import Scenario, format_clock, with_updates
from simulation.executors import Executor, using
from simulation.scenario import WEEKDAYS, ShiftRules
from storeq.present import some

from .requirement import (
    DAYS_MEETING_QUANTILE_CAP,
    Requirement,
    ServiceTarget,
    analytic_requirement,
    day_factor_quantile,
    interval_service,
    refine_requirement,
)
from .roster import DayRoster, RosterInput, solve_day_roster, windows_text
from .shifts import Grid, build_grid, build_templates, coverage_matrix, interval_staffed
from .staff import StaffRules
from .week import WeekRoster, solve_week_roster
from .workload import workload

if TYPE_CHECKING:
    from simulation.runner import ExecutorArg

__all__ = [
    "DayPlan",
    "EqualHoursAlternative",
    "PitchMode",
    "Verification",
    "WeekDay",
    "WeekPlan",
    "optimize_day",
    "optimize_week",
    "pitch_rule_text",
    "policy_for",
    "staffing_to_replace",
    "verify",
    "week_scenarios",
]

PitchMode = Literal["decide", "always", "never"]
Progress = Callable[[int, int], None] | None
RequirementMethod = Literal["simulation", "erlang_a", "erlang_a_lagged", "erlang_c", "erlang_c_lagged"]


# ---------------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """A plan simulated: per-interval service level with 95% CI and the intervals that miss.

    ``missed`` names intervals whose mean service level is below the target (or whose abandonment
    is above the cap); ``clearly_missed`` those whose whole CI is below it.
    """

    replications: int
    seed: int
    target: float
    intervals: pd.DataFrame
    missed: tuple[str, ...]
    clearly_missed: tuple[str, ...]
    kpis: dict[str, dict[str, float]]

    @property
    def share_meeting(self) -> float:
        """Share of intervals (with customers) that meet the whole target: service level, and the
        abandonment cap and share of days where the target sets them (the ``meets`` column), so it
        agrees with ``missed``; a frame without that column is judged on the service level alone."""
        sl = self.intervals["service_level_mean"].to_numpy(float)
        have = ~np.isnan(sl)
        if not have.any():
            return 1.0
        meets = self.intervals["meets"].to_numpy(bool) if "meets" in self.intervals else sl >= self.target
        return float(meets[have].mean())

    @property
    def share_within_ci(self) -> float:
        """Share of intervals (with customers) not clearly missing the target (``clearly_missed``:
        the whole CI on the wrong side of the service level, the abandonment cap or the share of days)."""
        hi = self.intervals["service_level_ci_high"].to_numpy(float)
        have = ~np.isnan(hi)
        if not have.any():
            return 1.0
        if "clearly_misses" in self.intervals:
            return float((~self.intervals["clearly_misses"].to_numpy(bool)[have]).mean())
        return float((hi[have] >= self.target).mean())

    def to_json(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "seed": self.seed,
            "target_service_level": self.target,
            "share_of_intervals_meeting": self.share_meeting,
            "share_of_intervals_within_ci": self.share_within_ci,
            "missed_intervals": list(self.missed),
            "clearly_missed_intervals": list(self.clearly_missed),
            "kpis": self.kpis,
        }


_DAY_KPIS = (
    "service_level",
    "abandonment_rate",
    "mean_wait_min",
    "cross_sell_revenue",
    "staff_hours",
    "staff_cost",
    "utilization",
)


def _f0(x: Any) -> float:
    return float(x)


def _label(scenario: Scenario, i: int) -> str:
    a = scenario.store.open_min + i * scenario.store.interval_min
    return f"{format_clock(a)}-{format_clock(a + scenario.store.interval_min)}"


def verify(
    scenario: Scenario,
    target: ServiceTarget,
    replications: int = 100,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress = None,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
) -> Verification:
    """Simulate ``scenario`` and judge each interval against ``target``.

    ``executor``/``scheduler``: where the replications run (see :func:`simulation.run`); an open
    :class:`~simulation.executors.Executor` is reused and left open. Results do not depend on it.
    """
    from simulation import run

    wait = target.wait_for(scenario)
    if scenario.store.target_wait_min != wait:
        scenario = with_updates(scenario, {"store.target_wait_min": wait})
    seed = scenario.simulation.seed if seed is None else seed
    res = run(
        scenario, replications=replications, seed=seed, workers=workers, progress=progress,
        executor=executor, scheduler=scheduler,
    )  # fmt: skip
    svc = interval_service(res, scenario, target)
    svc.insert(2, "staffed", scenario.staffed_schedule())
    sl = svc["service_level_mean"].to_numpy(float)
    hi = svc["service_level_ci_high"].to_numpy(float)
    miss = ~np.isnan(sl) & (sl < target.service_level)
    clear = ~np.isnan(hi) & (hi < target.service_level)
    if target.max_abandon is not None:
        ab = svc["abandonment_rate_mean"].to_numpy(float)
        ab_lo = svc["abandonment_rate_ci_low"].to_numpy(float)
        miss |= ~np.isnan(ab) & (ab > target.max_abandon)
        clear |= ~np.isnan(ab_lo) & (ab_lo > target.max_abandon)
    if target.days_meeting is not None:
        # Judged on days too: the share of simulated days the interval met the target.
        miss |= svc["days_meeting_mean"].to_numpy(float) < target.days_meeting - 1e-12
        clear |= svc["days_meeting_ci_high"].to_numpy(float) < target.days_meeting
    svc["meets"] = ~miss
    svc["clearly_misses"] = clear
    kpis = {
        k: {c: _f0(res.kpis.loc[k, c]) for c in ("mean", "ci_low", "ci_high")} for k in _DAY_KPIS if k in res.kpis.index
    }
    return Verification(
        replications=replications,
        seed=seed,
        target=target.service_level,
        intervals=svc,
        missed=tuple(_label(scenario, int(i)) for i in np.flatnonzero(miss)),
        clearly_missed=tuple(_label(scenario, int(i)) for i in np.flatnonzero(clear)),
        kpis=kpis,
    )


# ---------------------------------------------------------------------------------------------
# pitch windows → policy
# ---------------------------------------------------------------------------------------------


def policy_for(pitch: Sequence[bool], grid: Grid) -> dict[str, Any]:
    """The ``cross_sell.policy`` for per-interval pitch flags: always, never, or suspend windows."""
    if all(pitch):
        return {"mode": "always"}
    if not any(pitch):
        return {"mode": "never"}
    return {"mode": "windows", "suspend": windows_text(pitch, grid, value=False)}


def pitch_rule_text(pitch: Sequence[bool], grid: Grid) -> str:
    """The rule a manager can follow: "no pitches 15:00-17:30"."""
    if all(pitch):
        return "pitch all day"
    if not any(pitch):
        return "no pitches all day"
    return "no pitches " + ", ".join(windows_text(pitch, grid, value=False))


# ---------------------------------------------------------------------------------------------
# the day plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayPlan:
    """An optimized, verified day: roster, pitch windows, the plan's scenario, and its simulation.

    ``scenario`` is the input scenario with the roster (``counters.staffed``), the pitch policy
    (``cross_sell.policy``), the shift rules and the target wait applied — ready to save and rerun.
    ``pitch_windows`` are the windows with **no** pitching ("HH:MM-HH:MM", the policy's ``suspend``
    list); ``pitch_rule`` says the same in words.
    """

    scenario: Scenario
    target: ServiceTarget
    requirement_no_pitch: Requirement
    requirement_pitch: Requirement | None
    roster: DayRoster
    verification: Verification
    pitch_windows: tuple[str, ...]
    pitch_rule: str
    policies: pd.DataFrame | None
    explanation: tuple[str, ...]
    grid: Grid = field(repr=False)
    alternative: EqualHoursAlternative | None = None
    """For a partial plan (some interval short): the simplest equal-hours roster, simulated alike."""
    groups: tuple[GroupPlan, ...] = ()
    """With ``counters.groups``: each group's requirement, roster and verification."""

    @property
    def status(self) -> str:
        return self.roster.status

    def intervals_frame(self) -> pd.DataFrame:
        """Per-interval plan: required, staffed, pitch, and the simulated service level with CI."""
        v = self.verification.intervals
        return pd.DataFrame(
            {
                "interval": v["interval"],
                "start": v["start"],
                "required": list(self.roster.required),
                "required_no_pitch": list(self.requirement_no_pitch.needed),
                "required_pitch": list(self.requirement_pitch.needed) if self.requirement_pitch else [None] * len(v),
                "staffed": list(self.roster.staffed),
                "shortfall": list(self.roster.shortfall),
                "pitch": list(self.roster.pitch),
                "service_level_mean": v["service_level_mean"],
                "service_level_ci_low": v["service_level_ci_low"],
                "service_level_ci_high": v["service_level_ci_high"],
                "abandonment_rate_mean": v["abandonment_rate_mean"],
                "share_of_days_meeting": v["days_meeting_mean"],
                "meets_target": v["meets"],
            }
        )

    def shifts_frame(self) -> pd.DataFrame:
        cols = ["start", "end", "hours", "break_start", "count"] + (["group"] if self.groups else [])
        return pd.DataFrame(
            [
                {
                    "start": s.start,
                    "end": s.end,
                    "hours": s.length_hours,
                    "break_start": s.break_start or "",
                    "count": s.count,
                    "group": s.group or "",
                }
                for s in self.roster.shifts
            ],
            columns=cols,
        )

    def verification_frame(self) -> pd.DataFrame:
        rows = [{"kpi": k, **v} for k, v in self.verification.kpis.items()]
        rows.append(
            {
                "kpi": "share_of_intervals_meeting",
                "mean": self.verification.share_meeting,
                "ci_low": None,
                "ci_high": None,
            }
        )
        return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high"])

    def frames(self) -> dict[str, pd.DataFrame]:
        """Tables for ``--out``: roster (one row per shift), per-interval plan, verification, policies."""
        out = {"roster": self.shifts_frame(), "plan": self.intervals_frame(), "verification": self.verification_frame()}
        if self.groups:
            out["groups"] = pd.concat([g.frame() for g in self.groups], ignore_index=True)
        if self.policies is not None:
            out["policies"] = self.policies
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``storeq optimize --format json`` object."""
        r = self.roster
        frame = self.intervals_frame()
        intervals = []
        for row in frame.itertuples(index=False):
            intervals.append(
                {
                    "start": row.start,
                    "required": _i(row.required),
                    "required_no_pitch": _i(row.required_no_pitch),
                    "required_pitch": None if row.required_pitch is None else _i(row.required_pitch),
                    "staffed": _i(row.staffed),
                    "shortfall": _i(row.shortfall),
                    "pitch": bool(row.pitch),
                    "service_level": {
                        "mean": _f(row.service_level_mean),
                        "ci_low": _f(row.service_level_ci_low),
                        "ci_high": _f(row.service_level_ci_high),
                    },
                    "abandonment_rate": _f(row.abandonment_rate_mean),
                    "share_of_days_meeting": _f(row.share_of_days_meeting),
                    "meets_target": bool(row.meets_target),
                }
            )
        return {
            "scenario": self.scenario.name,
            "target": {
                "service_level": self.target.service_level,
                "target_wait_min": self.target.wait_for(self.scenario),
                "max_abandon": self.target.max_abandon,
                "days_meeting": self.target.days_meeting,
            },
            "status": r.status,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "solve_time_s": r.solve_time_s,
            "staff_hours": r.staff_hours,
            "staff_cost": r.staff_cost,
            "expected_pitch_margin": r.pitch_value,
            "greedy_cost": r.greedy_cost,
            "pitch_windows": list(self.pitch_windows),
            "pitch_rule": self.pitch_rule,
            "requirement": {
                "method": self.requirement_no_pitch.method,
                "converged": self.requirement_no_pitch.converged
                and (self.requirement_pitch is None or self.requirement_pitch.converged),
                "iterations": self.requirement_no_pitch.iterations
                + (self.requirement_pitch.iterations if self.requirement_pitch else 0),
            },
            "shifts": [
                {
                    "start": s.start,
                    "end": s.end,
                    "hours": s.length_hours,
                    "break_start": s.break_start,
                    "count": s.count,
                    **({"group": s.group} if s.group is not None else {}),
                }
                for s in r.shifts
            ],
            "intervals": intervals,
            **({"groups": [g.to_json() for g in self.groups]} if self.groups else {}),
            "verification": self.verification.to_json(),
            "policies": None if self.policies is None else self.policies.to_dict(orient="records"),
            "equal_hours_alternative": None if self.alternative is None else self.alternative.to_json(),
            "explanation": list(self.explanation),
        }


def _i(x: Any) -> int:
    return int(x)


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _requirements(
    scenario: Scenario,
    target: ServiceTarget,
    method: RequirementMethod,
    pitch: PitchMode,
    search_replications: int,
    seed: int | None,
    workers: int,
    executor: ExecutorArg = "processes",
    search_max_replications: int | None = None,
) -> tuple[Requirement, Requirement | None]:
    w = workload(scenario)
    want_pitch = pitch != "never" and w.pitch_margin_per_customer > 0
    want_no_pitch = pitch != "always" or not want_pitch

    def one(pitching: bool) -> Requirement:
        if method == "simulation":
            return refine_requirement(
                scenario,
                target,
                pitching=pitching,
                replications=search_replications,
                seed=seed,
                workers=workers,
                executor=executor,
                max_replications=search_max_replications,
            )
        return analytic_requirement(scenario, target, method, pitching=pitching)

    req_p = one(True) if want_pitch else None
    req_np = one(False) if want_no_pitch else req_p
    assert req_np is not None
    if pitch == "always" and req_p is not None:
        req_np = req_p  # the roster must cover the pitching need everywhere
    return req_np, req_p


def _roster_input(
    scenario: Scenario, rules: ShiftRules, req_np: Requirement, req_p: Requirement | None, pitch: PitchMode
) -> RosterInput:
    grid = build_grid(scenario, rules)
    templates = tuple(build_templates(scenario, rules))
    w = workload(scenario)
    value = tuple(
        float(lam * scenario.store.interval_min * w.pitch_margin_per_customer) for lam in w.counter_rate_per_min
    )
    need_p = req_p.needed if req_p is not None else req_np.needed
    return RosterInput(
        grid=grid,
        templates=templates,
        need_no_pitch=req_np.needed,
        need_pitch=need_p,
        pitch_value=value,
        physical=scenario.physical_counters,
        min_on_duty=rules.min_on_duty,
        cost_per_hour=scenario.costs.staff_hour,
        allow_pitch=req_p is not None and pitch != "never",
        customers=tuple(float(lam * scenario.store.interval_min) for lam in w.counter_rate_per_min),
    )


def _plan_scenario(
    scenario: Scenario, staffed: Sequence[int], pitch: Sequence[bool], grid: Grid, rules: ShiftRules, wait: float
) -> tuple[Scenario, list[str]]:
    notes: list[str] = []
    floor = max(1, scenario.counters.vip)
    sched = [max(int(v), floor) for v in staffed]
    if any(int(v) < floor for v in staffed):
        low = [scenario.interval_labels[i] for i, v in enumerate(staffed) if int(v) < floor]
        notes.append(
            f"the roster leaves fewer than {floor} counter(s) at {', '.join(low)}; the simulated scenario staffs {floor} there "
            "(the store needs someone serving, and VIP counters must be staffed)"
        )
    rules_data = rules.model_dump(by_alias=True, exclude_none=True)
    updates: dict[str, Any] = {
        "counters.staffed": sched,
        "counters.physical": scenario.physical_counters,
        "cross_sell.policy": policy_for(pitch, grid),
        "store.target_wait_min": wait,
        "shifts": rules_data,
    }
    return with_updates(scenario, updates, source="optimized plan"), notes


def _tune_threshold(
    plan: Scenario,
    target: ServiceTarget,
    thresholds: Sequence[int],
    search_replications: int,
    replications: int,
    seed: int,
    workers: int,
    executor: ExecutorArg = "processes",
) -> pd.DataFrame:
    """Compare the pitch-window plan with queue-threshold policies on the same roster (CRN).

    Thresholds are screened with ``search_replications``; the best one that keeps the day's service
    level at the target and misses no more intervals than the window policy is rerun with
    ``replications`` next to the window policy, so the two final rows compare like with like.
    """
    screened = []
    for n in thresholds:
        s = with_updates(plan, {"cross_sell.policy": {"mode": "queue_threshold", "threshold": int(n)}})
        v = verify(s, target, replications=search_replications, seed=seed, workers=workers, executor=executor)
        screened.append((int(n), v))
    base = verify(plan, target, replications=search_replications, seed=seed, workers=workers, executor=executor)
    ok = [
        (n, v)
        for n, v in screened
        if v.kpis["service_level"]["mean"] >= target.service_level and len(v.missed) <= len(base.missed)
    ]
    rows = []
    for n, v in screened:
        rows.append(_policy_row(f"queue_threshold {n}", v, search_replications, "screen"))
    best = max(ok, key=lambda nv: nv[1].kpis["cross_sell_revenue"]["mean"]) if ok else None
    final = [("windows (optimized)", plan)]
    if best is not None:
        final.append(
            (
                f"queue_threshold {best[0]}",
                with_updates(plan, {"cross_sell.policy": {"mode": "queue_threshold", "threshold": best[0]}}),
            )
        )
    for name, s in final:
        rows.append(
            _policy_row(
                name,
                verify(s, target, replications=replications, seed=seed, workers=workers, executor=executor),
                replications,
                "final",
            )
        )
    return pd.DataFrame(rows)


def _policy_row(name: str, v: Verification, reps: int, stage: str) -> dict[str, Any]:
    return {
        "policy": name,
        "stage": stage,
        "replications": reps,
        "service_level": v.kpis["service_level"]["mean"],
        "service_level_ci_low": v.kpis["service_level"]["ci_low"],
        "service_level_ci_high": v.kpis["service_level"]["ci_high"],
        "missed_intervals": len(v.missed),
        "pitch_margin": v.kpis["cross_sell_revenue"]["mean"],
        "pitch_margin_ci_low": v.kpis["cross_sell_revenue"]["ci_low"],
        "pitch_margin_ci_high": v.kpis["cross_sell_revenue"]["ci_high"],
    }


def policy_verdict(policies: pd.DataFrame | None) -> str | None:
    """One sentence: which final policy earns more margin at (at least) the same service level."""
    if policies is None:
        return None
    final = policies[policies["stage"] == "final"]
    if len(final) < 2:
        return "no queue-threshold policy kept the service level; the pitch windows stand"
    w, q = final.iloc[0], final.iloc[1]
    figures = (
        f"windows {w['pitch_margin']:.0f} vs {q['policy']} {q['pitch_margin']:.0f} margin a day, "
        f"service level {w['service_level']:.1%} vs {q['service_level']:.1%}"
    )
    if q["pitch_margin"] > w["pitch_margin"]:
        if q["missed_intervals"] <= w["missed_intervals"]:
            return f"{q['policy']} earns more at the same service target: {figures}"
        return (
            f"{q['policy']} earns more but misses the target in {int(q['missed_intervals'])} interval(s) "
            f"(windows: {int(w['missed_intervals'])}); the pitch windows stand: {figures}"
        )
    return f"the pitch windows earn more: {figures}"


@dataclass(frozen=True)
class GroupPlan:
    """One counter group of a plan: its requirement, its own roster and its customers' service."""

    name: str
    requirement: Requirement
    roster: DayRoster
    service: pd.DataFrame
    """Per interval: service level (mean, 95% CI), abandonment, share of days meeting and ``meets``
    of the group's own customers (:func:`.groups.group_service`)."""
    target: float

    def _meets(self) -> np.ndarray:
        # ``meets`` is judged on the whole target (abandonment cap and share of days included);
        # a service frame without it (built by hand) is judged on the service level alone.
        if "meets" in self.service:
            return self.service["meets"].to_numpy(bool)
        sl = self.service["service_level_mean"].to_numpy(float)
        return ~(~np.isnan(sl) & (sl < self.target))

    def interval_meets(self) -> np.ndarray:
        """Per interval: the group's own customers meet the whole target (True without customers)."""
        return self._meets()

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(str(self.service["start"].iloc[i]) for i in np.flatnonzero(~self._meets()))

    def frame(self) -> pd.DataFrame:
        n = len(self.service)
        nan = [math.nan] * n
        return pd.DataFrame(
            {
                "group": self.name,
                "interval": self.service["interval"],
                "start": self.service["start"],
                "required": list(self.roster.required),  # with pitching where the store pitches
                "staffed": list(self.roster.staffed),
                "shortfall": list(self.roster.shortfall),
                "service_level_mean": self.service["service_level_mean"],
                "service_level_ci_low": self.service["service_level_ci_low"],
                "service_level_ci_high": self.service["service_level_ci_high"],
                "share_of_days_meeting": self.service.get("days_meeting_mean", nan),
                "meets_target": self._meets(),
            }
        )

    def to_json(self) -> dict[str, Any]:
        r = self.roster
        return {
            "name": self.name,
            "status": r.status,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "staff_hours": r.staff_hours,
            "staff_cost": r.staff_cost,
            "missed_intervals": list(self.missed),
            "intervals": [
                {
                    "start": row.start,
                    "required": _i(row.required),
                    "staffed": _i(row.staffed),
                    "shortfall": _i(row.shortfall),
                    "service_level": {
                        "mean": _f(row.service_level_mean),
                        "ci_low": _f(row.service_level_ci_low),
                        "ci_high": _f(row.service_level_ci_high),
                    },
                    "share_of_days_meeting": _f(row.share_of_days_meeting),
                    "meets_target": bool(row.meets_target),
                }
                for row in self.frame().itertuples(index=False)
            ],
        }


@dataclass(frozen=True)
class EqualHoursAlternative:
    """The simplest roster the shift rules allow with the plan's hours, simulated on the same seed.

    Half the people on the longest shift from the earliest start, half on it to the latest end (the
    "4 staff 09:00-17:00 + 4 staff 10:00-18:00" a manager would write by hand), never more on the
    floor than the hall. A partial plan is checked against it: the optimizer's job is the best
    service the hall can give, so its day service level must be at least this one's.
    """

    description: str
    staff_hours: float
    staffed: tuple[int, ...]
    verification: Verification

    def to_json(self) -> dict[str, Any]:
        sl = self.verification.kpis.get("service_level", {})
        return {
            "description": self.description,
            "staff_hours": self.staff_hours,
            "staffed": list(self.staffed),
            "service_level": {k: _f(sl.get(k)) for k in ("mean", "ci_low", "ci_high")},
            "share_of_intervals_meeting": self.verification.share_meeting,
        }


def equal_hours_roster(data: RosterInput, hours: float) -> tuple[str, float, tuple[int, ...]] | None:
    """Early/late halves on the longest allowed shift with about ``hours`` staff-hours, or None.

    Returns (description, staff hours, staffed per interval). Breaks, if the rules place them, sit in
    the middle of the allowed window. People are capped at the hall's counters, so on a long day
    the alternative may have fewer hours than the plan (never more).
    """
    if not data.templates:
        return None
    longest = max(t.length for t in data.templates)
    options = [t for t in data.templates if t.length == longest]
    early_start = min(t.start for t in options)
    late_start = max(t.start for t in options)

    def middle(start: int) -> int:
        same = [k for k, t in enumerate(data.templates) if t.length == longest and t.start == start]
        return same[len(same) // 2]

    k_early, k_late = middle(early_start), middle(late_start)
    people = min(round(hours * 60 / longest), data.physical)
    if people <= 0:
        return None
    n_early = (people + 1) // 2
    n_late = people - n_early
    cov = coverage_matrix(data.templates, data.grid).astype(int)
    slots = n_early * cov[k_early] + n_late * cov[k_late]
    staffed = tuple(int(v) for v in interval_staffed(slots, data.grid))
    o = data.grid.open_min
    te, tl = data.templates[k_early], data.templates[k_late]
    text = f"{n_early} staff {format_clock(o + te.start)}-{format_clock(o + te.end)}"
    if n_late:
        text += f" + {n_late} staff {format_clock(o + tl.start)}-{format_clock(o + tl.end)}"
    return text, people * longest / 60, staffed


def customers_affected(plan: Verification, customers: Sequence[float], short: Sequence[int]) -> tuple[float, float]:
    """(customers reaching the counters in short intervals, those expected not served within target).

    Per short interval: expected counter customers × (1 − simulated service level), summed.
    """
    sl = plan.intervals["service_level_mean"].to_numpy(float)
    total = hurt = 0.0
    for i, s in enumerate(short):
        if s > 0:
            total += customers[i]
            hurt += customers[i] * (1.0 - (sl[i] if np.isfinite(sl[i]) else 1.0))
    return total, hurt


def _check_partial_plan(
    scenario: Scenario,
    data: RosterInput,
    roster: DayRoster,
    verification: Verification,
    rules: ShiftRules,
    target: ServiceTarget,
    replications: int,
    seed: int,
    workers: int,
    executor: ExecutorArg = "processes",
) -> tuple[EqualHoursAlternative | None, list[str]]:
    """Customers hit by a partial plan, and the plan against the simplest equal-hours roster."""
    lines = []
    wait = target.wait_for(scenario)
    customers = data.customers or (0.0,) * len(roster.shortfall)
    total, hurt = customers_affected(verification, customers, roster.shortfall)
    n_short = sum(1 for v in roster.shortfall if v > 0)
    lines.append(
        f"in the {n_short} short interval(s) about {total:.0f} customers reach the counters; about {hurt:.0f} of them "
        f"are expected to wait longer than {wait:g} min or leave (simulated)"
    )
    alt = equal_hours_roster(data, roster.staff_hours)
    if alt is None:
        return None, lines
    text, hours, staffed = alt
    # The same pitch rule as the plan, except where the alternative is short (as the plan does).
    flags = [bool(roster.pitch[i]) and staffed[i] >= roster.required[i] for i in range(len(staffed))]
    alt_scn, _ = _plan_scenario(scenario, staffed, flags, data.grid, rules, wait)
    v = verify(alt_scn, target, replications=replications, seed=seed, workers=workers, executor=executor)
    result = EqualHoursAlternative(text, hours, staffed, v)
    mine = verification.kpis["service_level"]["mean"]
    theirs = v.kpis["service_level"]["mean"]
    verdict = "the plan is no worse" if mine >= theirs else "the simple roster serves better: consider it"
    lines.append(
        f"partial plan vs the simplest equal-hours roster ({text}, {hours:g} h), same seed: day service level "
        f"{mine:.1%} vs {theirs:.1%}; {verdict}"
    )
    return result, lines


def staffing_to_replace(scenario: Scenario, updates: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Let ``--set counters.physical=N`` shrink the hall below today's staffing, for the optimizer.

    The file's ``counters.staffed`` is the plan being replaced, not a constraint: a hall of 8 whose
    file staffs 9 today is a fair question. ``storeq run`` keeps refusing it (nobody can staff 9
    counters in a hall of 8); here the old staffing is capped at the new hall so the scenario loads,
    and a note says so. Returns the updates to apply and the notes.
    """
    physical = updates.get("counters.physical")
    if (
        "counters.staffed" in updates
        or "counters" in updates
        or "counters.groups" in updates
        or not isinstance(physical, int)
        or physical < 1
    ):
        return updates, []
    staffed = scenario.staffed_schedule()
    if int(staffed.max()) <= physical:
        return updates, []
    note = (
        f"the file staffs up to {int(staffed.max())} counters today; with counters.physical={physical} that staffing "
        f"is the plan being replaced, so it was capped at {physical} to load and the optimizer chose its own"
    )
    raw = scenario.counters.staffed
    if raw is None:  # counter groups: each group capped at its share of the smaller hall
        groups = scenario.counters.groups or ()
        schedules = [g.staffed_schedule(scenario.n_intervals) for g in groups]
        caps = _hall_shares([[int(v) for v in sched] for sched in schedules], physical)
        if sum(caps) > physical:  # fewer counters than groups: refused when the scenario loads, as it should be
            return updates, []
        capped_groups = [
            {**g.model_dump(exclude_none=True), "staffed": [min(int(v), cap) for v in sched]}
            for g, sched, cap in zip(groups, schedules, caps, strict=True)
        ]
        return {**updates, "counters.groups": capped_groups}, [note]
    capped: int | list[int] = min(raw, physical) if isinstance(raw, int) else [min(int(v), physical) for v in raw]
    return {**updates, "counters.staffed": capped}, [note]


def _hall_shares(needs: Sequence[Sequence[int]], physical: int) -> list[int]:
    """Counters of the hall each group may staff at once: its largest need, trimmed (largest first)
    until they fit the hall, never below one for a group with customers."""
    caps = [max(1, max(n, default=0)) if max(n, default=0) > 0 else 0 for n in needs]
    while sum(caps) > physical and max(caps) > 1:
        caps[caps.index(max(caps))] -= 1
    return caps


def _group_rosters(
    scenario: Scenario,
    inputs: Sequence[RosterInput],
    rules: ShiftRules,
    time_limit_s: float,
    solver_workers: int,
    seed: int,
) -> Any:
    """Every group's roster (one staff pool each) from one CP-SAT model with pitching off
    (:func:`.groups.solve_group_rosters`): the hall's counters bound the groups' sum per slot, and
    the shift rules' ``min_on_duty`` counts everybody on the floor — a store-wide number of people,
    met by whichever groups it costs least to add to (not by the busiest group on its own)."""
    from .groups import solve_group_rosters

    n = inputs[0].grid.n_intervals
    return solve_group_rosters(
        inputs, scenario.physical_counters, rules.min_on_duty, (0.0,) * n, "never",
        time_limit_s=time_limit_s, workers=solver_workers, seed=seed,
    )  # fmt: skip


def _simulated_floor(demand: Sequence[Any]) -> list[int]:
    """Counters each group is simulated with at the least: one where it has customers (somebody must
    serve them), none where it has not; on a day without any customer (the store shut) one per
    group, so the verified scenario still loads (a customer type no staffed group serves is refused)."""
    if all(sum(d.customers) <= 0 for d in demand):
        return [1] * len(demand)
    return [1 if sum(d.customers) > 0 else 0 for d in demand]


def _simulated_staffing(
    rosters: Sequence[Any], floor: Sequence[int], physical: int, names: Sequence[str], labels: Sequence[str]
) -> tuple[list[list[int]], list[str]]:
    """Each group's counters as simulated: its roster, raised to its floor (:func:`_simulated_floor`),
    within the hall. Where the roster leaves a group with customers no counter and the hall is full
    (a partial plan shorts that group), the group with most counters then gives one up, so the
    simulated scenario stays a real one; the notes say where the simulation differs from the roster."""
    staffed = [[max(int(v), floor[g]) for v in r.staffed] for g, r in enumerate(rosters)]
    raised = [[labels[i] for i, v in enumerate(r.staffed) if int(v) < floor[g]] for g, r in enumerate(rosters)]
    moved: list[str] = []
    for i in range(len(labels)):
        while sum(row[i] for row in staffed) > physical:
            spare = [g for g in range(len(staffed)) if staffed[g][i] > max(floor[g], 1)]
            if not spare:
                break
            big = max(spare, key=lambda g: (staffed[g][i], -g))
            staffed[big][i] -= 1
            moved.append(f"{labels[i]} ({names[big]})")
    notes = [
        f"the roster leaves {names[g]} with no counter at {', '.join(low)}; the simulated scenario staffs 1 there "
        "(its customers need someone serving)"
        for g, low in enumerate(raised)
        if low
    ]
    if moved:
        notes.append(
            f"the hall is full at {', '.join(moved)}: the group named gave up one counter in the simulation to the "
            "group the roster left with none"
        )
    return staffed, notes


def _repair_group_day(
    scenario: Scenario,
    target: ServiceTarget,
    names: Sequence[str],
    inputs: Sequence[RosterInput],
    joint: Any,
    allowed: list[bool],
    may_stop: bool,
    rounds: int,
    solve: Callable[[Sequence[RosterInput]], Any],
    simulate: Callable[[Any], tuple[Scenario, Verification, list[pd.DataFrame]]],
) -> tuple[list[RosterInput], Any, tuple[Scenario, Verification, list[pd.DataFrame]], list[str]]:
    """A group day simulated and repaired, as a one-pool day is: where a group's own customers miss on
    the verification's means (share of days included) and the hall has room, one more counter of
    that group; where they miss while pitching in a full hall (``may_stop``), pitching stops there;
    then every group is re-rostered (``solve``) and simulated again, up to ``rounds`` times. An ask
    the rules and the hall cannot honour is said once. Returns the inputs, roster and simulation it
    ended with, and what it did in the explanation's words."""
    checked = simulate(joint)
    said: list[str] = []
    for _round in range(rounds):
        tried, asked, stopped = _group_repairs(scenario, target, names, inputs, joint, checked[2], allowed, may_stop)
        if not asked and not stopped:
            break
        again = solve(tried)
        if not stopped and not _raised_somewhere(inputs, tried, joint, again):
            said.append(_refused_ask(", ".join(asked)))
            break
        inputs, joint = tried, again
        checked = simulate(joint)
        if asked:
            said.append(f"after verification, asked for one more counter at {', '.join(asked)} and re-rostered")
        if stopped:
            said.append(
                f"after verification, customers missed the target while pitching with the hall full at {', '.join(stopped)}: "
                "pitching suspended there too and re-rostered"
            )
    return list(inputs), joint, checked, said


def _raised_somewhere(before: Sequence[RosterInput], after: Sequence[RosterInput], old: Any, new: Any) -> bool:
    """A repair's re-roster added a counter in some (group, interval) whose need it raised: without
    that, the shift rules and the hall allow none there and another round would ask the same again."""
    for g, (b, a) in enumerate(zip(before, after, strict=True)):
        for i in range(len(a.need_no_pitch)):
            raised = a.need_no_pitch[i] > b.need_no_pitch[i] or a.need_pitch[i] > b.need_pitch[i]
            if raised and new.rosters[g].staffed[i] > old.rosters[g].staffed[i]:
                return True
    return False


def _combine_rosters(joint: Any, names: Sequence[str]) -> DayRoster:
    """The store's roster from one joint group model (:class:`.groups.JointRoster`): the model's
    status, objective, bound, gap, pitch flags and margin; sums per interval; shifts tagged by group."""
    rosters = joint.rosters
    n = len(rosters[0].staffed)
    return DayRoster(
        status=joint.status,
        objective=joint.objective,
        bound=joint.bound,
        gap=joint.gap,
        shifts=tuple(replace(sc, group=name) for r, name in zip(rosters, names, strict=True) for sc in r.shifts),
        staffed=tuple(sum(r.staffed[i] for r in rosters) for i in range(n)),
        pitch=joint.pitch,
        required=tuple(sum(r.required[i] for r in rosters) for i in range(n)),
        shortfall=tuple(sum(r.shortfall[i] for r in rosters) for i in range(n)),
        staff_hours=sum(r.staff_hours for r in rosters),
        staff_cost=sum(r.staff_cost for r in rosters),
        pitch_value=joint.pitch_value,
        solve_time_s=joint.solve_time_s,
        explanation=tuple(f"{name}: {e}" for r, name in zip(rosters, names, strict=True) for e in r.explanation),
        greedy_cost=sum(r.greedy_cost or 0.0 for r in rosters),
    )


def _group_day_plans(
    names: Sequence[str],
    reqs: Sequence[Requirement],
    inputs: Sequence[RosterInput],
    joint: Any,
    service: Sequence[pd.DataFrame],
    target: ServiceTarget,
) -> tuple[tuple[GroupPlan, ...], list[str]]:
    """Each group's part of a day plan (its requirement as repaired, roster and own customers'
    service) and the explanation's line for each group whose customers still miss."""
    groups = tuple(
        GroupPlan(name, replace(req, needed=data.need_no_pitch), r, svc, target.service_level)
        for name, req, data, r, svc in zip(names, reqs, inputs, joint.rosters, service, strict=True)
    )
    missed = [f"{gp.name}: simulated, its customers miss the target at {', '.join(gp.missed)}" for gp in groups if gp.missed]
    return groups, missed


def _group_day_simulator(
    scenario: Scenario,
    target: ServiceTarget,
    rules: ShiftRules,
    names: Sequence[str],
    demand: Sequence[Any],
    policy: Callable[[Any], dict[str, Any]],
    sim_notes: list[str],
    replications: int,
    seed: int,
    workers: int,
    executor: ExecutorArg,
) -> Callable[[Any], tuple[Scenario, Verification, list[pd.DataFrame]]]:
    """How a group day's roster is checked: every group staffed as rostered (a group with customers
    gets a counter within the hall, said in ``sim_notes``), the pitch rule ``policy(roster)``, the
    target's wait; the store verified and each group's own customers judged."""
    from simulation import run

    from .groups import group_service, groups_scenario

    floor = _simulated_floor(demand)
    wait = target.wait_for(scenario)

    def simulate(joint: Any) -> tuple[Scenario, Verification, list[pd.DataFrame]]:
        staffed, sim_notes[:] = _simulated_staffing(
            joint.rosters, floor, scenario.physical_counters, names, scenario.interval_labels
        )
        updates = {
            "cross_sell.policy": policy(joint),
            "store.target_wait_min": wait,
            "shifts": rules.model_dump(by_alias=True, exclude_none=True),
        }
        scn = groups_scenario(scenario, staffed, **updates)
        verification = verify(scn, target, replications=replications, seed=seed, workers=workers, executor=executor)
        res = run(scn, replications=replications, seed=seed, workers=workers, keep_customers=True, executor=executor)
        return scn, verification, group_service(res, scn, target)

    return simulate


def _optimize_groups(
    scenario: Scenario,
    target: ServiceTarget,
    rules: ShiftRules,
    method: RequirementMethod,
    pitch: PitchMode,
    search_replications: int,
    replications: int,
    seed: int,
    time_limit_s: float,
    workers: int,
    solver_workers: int,
    notes: Sequence[str],
    repair_rounds: int = 2,
    executor: ExecutorArg = "processes",
    thresholds: Sequence[int] = (),
) -> DayPlan:
    """A day plan for a hall with counter groups: requirement per group (refined on the whole store,
    with the descent), a roster per group (one staff pool each), verification per group.

    With a pitch margin and ``pitch`` ``decide`` or ``always`` the pitch rule is a store-wide
    decision: :func:`_optimize_groups_pitch` rosters every group in one model with one pitch flag per
    interval. Otherwise (``never``, or nothing to earn) pitching stays off and the same joint model
    rosters every group with no pitch flag (:func:`_group_rosters`): the hall's counters bound the
    groups' sum per slot and ``min_on_duty`` counts everybody on the floor. ``target.days_meeting``
    judges each group's cells on the share of days too, in the search and in verification and repair.
    """

    from .groups import group_demand, refine_group_requirements

    names = [g.name for g in scenario.counter_groups()]
    reqs = refine_group_requirements(
        scenario, target, search_replications, seed, workers=workers, simulate=method == "simulation", executor=executor
    )
    if pitch != "never" and workload(scenario).pitch_margin_per_customer > 0:
        return _optimize_groups_pitch(
            scenario, target, rules, method, pitch, reqs, search_replications, replications, seed, time_limit_s,
            workers, solver_workers, notes, repair_rounds, executor=executor, thresholds=thresholds,
        )  # fmt: skip
    demand = group_demand(scenario)
    grid = build_grid(scenario, rules)
    templates = tuple(build_templates(scenario, rules))
    n = grid.n_intervals
    inputs = [
        RosterInput(
            grid=grid,
            templates=templates,
            need_no_pitch=req.needed,
            need_pitch=req.needed,
            pitch_value=(0.0,) * n,
            physical=scenario.physical_counters,
            min_on_duty=0,
            cost_per_hour=scenario.costs.staff_hour,
            allow_pitch=False,
            customers=demand[g].customers,
        )
        for g, req in enumerate(reqs)
    ]
    policy = {"mode": "never"}
    why = "--pitch never" if pitch == "never" else "pitching earns no margin in this store"
    explanation = [
        *notes,
        f"counter groups rostered together ({', '.join(names)}), one staff pool each: no pitches all day ({why}); "
        "the hall's counters and the minimum on duty count every group",
    ]

    sim_notes: list[str] = []
    simulate = _group_day_simulator(
        scenario, target, rules, names, demand, lambda joint: policy, sim_notes, replications, seed, workers, executor
    )

    def solve(data: Sequence[RosterInput]) -> Any:
        return _group_rosters(scenario, data, rules, time_limit_s, solver_workers, seed)

    nothing_to_stop = [False] * n  # pitching is off: a repair only adds counters
    inputs, joint, (plan_scn, verification, service), repairs = _repair_group_day(
        scenario, target, names, inputs, solve(inputs), nothing_to_stop, False, repair_rounds, solve, simulate
    )
    explanation += repairs
    roster = _combine_rosters(joint, names)
    groups, missed = _group_day_plans(names, reqs, inputs, joint, service, target)
    explanation += [*roster.explanation, *sim_notes, *missed]
    total_req = Requirement(
        method=reqs[0].method,
        pitching=False,
        needed=tuple(sum(d.need_no_pitch[i] for d in inputs) for i in range(n)),
        physical=scenario.physical_counters,
        labels=tuple(scenario.interval_labels),
        converged=all(r.converged for r in reqs),
        iterations=reqs[0].iterations,
    )
    return DayPlan(
        scenario=plan_scn,
        target=target,
        requirement_no_pitch=total_req,
        requirement_pitch=None,
        roster=roster,
        verification=verification,
        pitch_windows=(),
        pitch_rule="no pitches all day",
        policies=None,
        explanation=tuple(explanation),
        grid=grid,
        groups=groups,
    )


def _optimize_groups_pitch(
    scenario: Scenario,
    target: ServiceTarget,
    rules: ShiftRules,
    method: RequirementMethod,
    pitch: PitchMode,
    reqs_np: list[Requirement],
    search_replications: int,
    replications: int,
    seed: int,
    time_limit_s: float,
    workers: int,
    solver_workers: int,
    notes: Sequence[str],
    repair_rounds: int = 2,
    executor: ExecutorArg = "processes",
    thresholds: Sequence[int] = (),
) -> DayPlan:
    """The group day plan with the pitch rule decided store-wide, as :func:`optimize_day` does for one pool.

    Each group's need is refined with pitching all day and without (both on the whole store); one
    CP-SAT model rosters every group with one pitch flag per interval shared by all
    (:func:`.groups.solve_group_rosters`): an interval pitches when the store's expected margin there
    pays for the extra staff summed over the groups, and never where a group would be short. The
    windows become the plan's ``cross_sell.policy`` suspend list, the plan is verified by simulation
    with them, and where a group's own customers still miss (and the hall has room) that group's
    need in force there is raised and the model solved again. The explanation prices the rule
    against the same model solved with pitching off.
    """

    from .groups import group_demand, refine_group_requirements, solve_group_rosters

    names = [g.name for g in scenario.counter_groups()]
    reqs_p = refine_group_requirements(
        scenario, target, search_replications, seed, workers=workers, simulate=method == "simulation",
        executor=executor, pitching=True,
    )  # fmt: skip
    demand = group_demand(scenario)
    grid = build_grid(scenario, rules)
    templates = tuple(build_templates(scenario, rules))
    physical = scenario.physical_counters
    n = grid.n_intervals
    w = workload(scenario)
    value = tuple(
        float(lam * scenario.store.interval_min * w.pitch_margin_per_customer) for lam in w.counter_rate_per_min
    )
    inputs = [
        RosterInput(
            grid=grid,
            templates=templates,
            need_no_pitch=rn.needed,
            need_pitch=tuple(max(a, b) for a, b in zip(rp.needed, rn.needed, strict=True)),
            pitch_value=(0.0,) * n,
            physical=physical,
            min_on_duty=0,
            cost_per_hour=scenario.costs.staff_hour,
            allow_pitch=True,
            customers=demand[g].customers,
        )
        for g, (rn, rp) in enumerate(zip(reqs_np, reqs_p, strict=True))
    ]
    mode: Literal["decide", "always"] = "always" if pitch == "always" else "decide"

    # Intervals where verification showed pitching hurts a group the hall cannot add to: their margin
    # is taken out, so the model suspends pitching there.
    allowed = [True] * n

    def solve(data: Sequence[RosterInput], how: Literal["decide", "always", "never"] = mode) -> Any:
        worth = [v if allowed[i] else 0.0 for i, v in enumerate(value)]
        return solve_group_rosters(
            data, physical, rules.min_on_duty, worth, how, time_limit_s=time_limit_s, workers=solver_workers, seed=seed
        )

    sim_notes: list[str] = []
    simulate = _group_day_simulator(
        scenario, target, rules, names, demand, lambda joint: policy_for(joint.pitch, grid), sim_notes,
        replications, seed, workers, executor,
    )  # fmt: skip

    inputs, joint, (plan_scn, verification, service), repairs = _repair_group_day(
        scenario, target, names, inputs, solve(inputs), allowed, mode == "decide", repair_rounds, solve, simulate
    )
    explanation = [*notes, *repairs]
    explanation.insert(
        len(notes), _group_pitch_text(scenario, grid, inputs, joint, solve(inputs, "never"), value, allowed)
    )
    roster = _combine_rosters(joint, names)
    groups, missed = _group_day_plans(names, reqs_np, inputs, joint, service, target)
    explanation += [*roster.explanation, *sim_notes, *missed]
    policies = None
    if thresholds and mode == "decide":
        # The same comparison as for one pool, on the whole store's service level and intervals.
        policies = _tune_threshold(
            plan_scn, target, thresholds, search_replications, replications, seed, workers, executor=executor
        )
        verdict = policy_verdict(policies)
        if verdict:
            explanation.append(verdict + " (store-wide figures; each group's customers are judged above)")

    def total(reqs: Sequence[Requirement], needs: Sequence[Sequence[int]], pitching: bool) -> Requirement:
        return Requirement(
            method=reqs[0].method,
            pitching=pitching,
            needed=tuple(sum(v[i] for v in needs) for i in range(n)),
            physical=physical,
            labels=tuple(scenario.interval_labels),
            converged=all(r.converged for r in reqs),
            iterations=reqs[0].iterations,
        )

    return DayPlan(
        scenario=plan_scn,
        target=target,
        requirement_no_pitch=total(reqs_np, [d.need_no_pitch for d in inputs], False),
        requirement_pitch=total(reqs_p, [d.need_pitch for d in inputs], True),
        roster=roster,
        verification=verification,
        pitch_windows=tuple(windows_text(joint.pitch, grid, value=False)),
        pitch_rule=pitch_rule_text(joint.pitch, grid),
        policies=policies,
        explanation=tuple(explanation),
        grid=grid,
        groups=groups,
    )


def _group_repairs(
    scenario: Scenario,
    target: ServiceTarget,
    names: Sequence[str],
    inputs: Sequence[RosterInput],
    joint: Any,
    service: Sequence[pd.DataFrame],
    allowed: list[bool],
    may_stop: bool,
) -> tuple[list[RosterInput], list[str], list[str]]:
    """After verification of a joint group plan: where a group's own customers miss on their means (the
    service level, the abandonment cap and, with ``days_meeting``, the share of days) and the hall has room, one more counter of that group (the need in force: with or without pitching);
    where they miss while the store pitches and the hall is full, pitching is stopped there
    (``allowed[i] = False``, only when ``may_stop``). Returns the new inputs and what was asked/stopped.
    """
    from .groups import _group_misses

    physical = scenario.physical_counters
    n = len(allowed)
    out = list(inputs)
    asked: list[str] = []
    stopped: list[str] = []
    room = [sum(r.staffed[i] for r in joint.rosters) < physical for i in range(n)]
    for g, svc in enumerate(service):
        missed = [int(i) for i in np.flatnonzero(_group_misses(svc, target))]
        for i in missed:
            if not room[i] and joint.pitch[i] and may_stop and allowed[i]:
                allowed[i] = False
                stopped.append(f"{names[g]} {_label(scenario, i)}")
        fix = [i for i in missed if room[i]]
        if not fix:
            continue
        r = joint.rosters[g]
        need_np, need_p = list(out[g].need_no_pitch), list(out[g].need_pitch)
        for i in fix:
            if joint.pitch[i]:
                need_p[i] = max(need_p[i], r.staffed[i] + 1)
            else:
                need_np[i] = max(need_np[i], r.staffed[i] + 1)
                need_p[i] = max(need_p[i], need_np[i])
        out[g] = replace(out[g], need_no_pitch=tuple(need_np), need_pitch=tuple(need_p))
        asked += [f"{names[g]} {_label(scenario, i)}" for i in fix]
    return out, asked, stopped


def _group_pitch_text(
    scenario: Scenario,
    grid: Grid,
    inputs: Sequence[RosterInput],
    joint: Any,
    no_pitch: Any,
    value: Sequence[float],
    allowed: Sequence[bool],
) -> str:
    """What the store-wide pitch rule is and why: its margin against the staff it costs, and why
    each suspended window is suspended (the hall too small to pitch there, or the extra staff dearer
    than the margin)."""
    n = grid.n_intervals
    physical = scenario.physical_counters
    hours = scenario.store.interval_min / 60
    cost = scenario.costs.staff_hour
    cur = scenario.costs.currency
    rule = pitch_rule_text(joint.pitch, grid)
    head = f"counter groups rostered together with one pitch rule for every counter: {rule.replace('no pitches', 'no pitching')}"
    reasons = []
    for window in windows_text(joint.pitch, grid, value=False):
        a, b = window.split("-")
        idx = [i for i in range(n) if a <= _label(scenario, i) < b]
        hurt = [i for i in idx if not allowed[i]]
        full = [i for i in idx if allowed[i] and sum(d.need_pitch[i] for d in inputs) > physical]
        rest = [i for i in idx if i not in hurt and i not in full]
        parts = []
        if hurt:
            parts.append(
                "verification showed customers missing the target while pitching with the hall full at "
                + ", ".join(_label(scenario, i) for i in hurt)
            )
        if full:
            parts.append(
                f"pitching needs more counters than the hall's {physical} at "
                + ", ".join(_label(scenario, i) for i in full)
            )
        if rest:
            extra = sum(d.need_pitch[i] - d.need_no_pitch[i] for d in inputs for i in rest) * hours
            margin = sum(value[i] for i in rest)
            where = ", ".join(_label(scenario, i) for i in rest) if (hurt or full) else "there"
            if extra * cost >= margin:
                parts.append(
                    f"pitching {where} needs {extra:g} more counter-hours across the groups "
                    f"(about {extra * cost:.0f} {cur}) for {margin:.0f} {cur} of margin"
                )
            else:
                parts.append(
                    f"pitching {where} needs {extra:g} more counter-hours (about {extra * cost:.0f} {cur}) for "
                    f"{margin:.0f} {cur} of margin, which "
                    "does not pay once whole shifts and the cost of switching the rule are counted"
                )
        reasons.append(f"{window}: {'; '.join(parts)}")
    text = head
    if reasons:
        text += " (" + "; ".join(reasons) + ")"
    if joint.objective is not None and no_pitch.objective is not None and any(joint.pitch):
        extra_cost = sum(r.staff_cost for r in joint.rosters) - sum(r.staff_cost for r in no_pitch.rosters)
        text += (
            f"; expected pitch margin {joint.pitch_value:.0f} {cur} a day for {extra_cost:.0f} {cur} more staff than the "
            f"same groups rostered without pitching (net {joint.pitch_value - extra_cost:+.0f} {cur})"
        )
    elif not any(joint.pitch):
        text += "; pitching pays for its extra staff in no interval"
    return text


def _rules_for(scenario: Scenario, rules: ShiftRules | None) -> ShiftRules:
    return rules if rules is not None else (scenario.shifts or ShiftRules())


def _shut_day(scenario: Scenario, rules: ShiftRules, notes: Sequence[str]) -> tuple[ShiftRules, tuple[str, ...], bool]:
    """A day without customers (weekday factor 0: the store shut) needs nobody on duty, as in a week:
    the rules without their minimum on duty, the explanation saying so, and whether the day is shut."""
    if float(scenario.arrival_rates_per_hour().sum()) > 0 or rules.min_on_duty <= 0:
        return rules, tuple(notes), False
    why = "no customers expected this day (the store is shut), so nobody is rostered: the shift rules' minimum on duty is not applied"
    return rules.model_copy(update={"min_on_duty": 0}), (*notes, why), True


def _day_factor_note(scenario: Scenario, target: ServiceTarget, method: str) -> list[str]:
    """With an Erlang method and ``--days-meeting`` on a store with day-to-day spread: what it sized for."""
    factor = day_factor_quantile(scenario, target)
    if method == "simulation" or factor == 1.0 or target.days_meeting is None:
        return []
    share = min(target.days_meeting, DAYS_MEETING_QUANTILE_CAP)
    capped = f" (a share of 100% is sized at {share:.1%}: the busiest day has no bound)" if share < target.days_meeting else ""
    return [
        f"{method} sized each interval for a day {factor - 1:.0%} busier than forecast, the {share:.1%} quantile of the "
        f"day's demand factor (demand.day_cv {scenario.demand.day_cv:g}){capped}, so an interval meeting the target there "
        "meets it on that share of days in steady state; within-day randomness is left to the verification"
    ]


def optimize_day(
    scenario: Scenario,
    target: ServiceTarget | None = None,
    *,
    rules: ShiftRules | None = None,
    method: RequirementMethod = "simulation",
    pitch: PitchMode = "decide",
    search_replications: int = 30,
    replications: int = 100,
    seed: int | None = None,
    time_limit_s: float = 20.0,
    workers: int = 1,
    solver_workers: int = 2,
    tune_threshold: bool = True,
    thresholds: Sequence[int] = (2, 4, 6, 8, 12),
    repair_rounds: int = 2,
    notes: Sequence[str] = (),
    progress: Progress = None,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
    search_max_replications: int | None = None,
) -> DayPlan:
    """The cheapest verified roster for one day, with the pitch windows decided jointly.

    Parameters
    ----------
    scenario : the store day (its ``counters.physical`` caps staffing; its ``shifts`` are the rules
        unless ``rules`` is given).
    target : service goal (default 80% within the scenario's target wait).
    method : how the requirement is found: ``simulation`` (Erlang A lagged start, refined by
        simulation) or an analytic method.
    pitch : ``decide`` (per interval, priced by margin against staff), ``always`` or ``never``.
    search_replications, replications : replications during the refinement search / for the
        final verification (≥ 100 recommended).
    search_max_replications : the most replications the requirement's descent may spend to settle
        a borderline removal (default 64 × ``search_replications``: leanest; an interactive caller
        such as the app passes 4 × for a plan in seconds that may keep a counter a longer search
        would remove).
    time_limit_s, solver_workers : CP-SAT limits; the seed is ``seed`` (or the scenario's).
    workers : simulation worker processes.
    executor, scheduler : where the simulations run (see :func:`simulation.run`). A name opens ONE
        executor for the whole plan (a Dask cluster is started once and reused by the search,
        verification, repair and policy tuning); an open Executor is reused and left open.
        The plan does not depend on it.
    tune_threshold : also screen queue-threshold policies and compare them with the windows.
    repair_rounds : after verification, intervals whose mean still misses (and have room) get one
        more counter and the roster is solved again, at most this many times.
    notes : sentences about the input to put first in the explanation (e.g. a staffing capped to a
        smaller hall by ``staffing_to_replace``).
    progress : ``callback(done, total)`` over the plan's stages.

    Examples
    --------
    >>> plan = optimize_day(load_scenario("scenarios/telecom_month_end.yaml"))  # doctest: +SKIP
    >>> plan.pitch_rule, plan.roster.staff_cost, plan.verification.missed  # doctest: +SKIP
    """
    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return optimize_day(
                scenario, target, rules=rules, method=method, pitch=pitch, search_replications=search_replications,
                replications=replications, seed=seed, time_limit_s=time_limit_s, workers=workers,
                solver_workers=solver_workers, tune_threshold=tune_threshold, thresholds=thresholds,
                repair_rounds=repair_rounds, notes=notes, progress=progress, executor=ex,
                search_max_replications=search_max_replications,
            )  # fmt: skip
    target = target or ServiceTarget()
    rules = _rules_for(scenario, rules)
    seed = scenario.simulation.seed if seed is None else seed
    wait = target.wait_for(scenario)
    rules, notes, shut = _shut_day(scenario, rules, notes)
    notes = [*notes, *_day_factor_note(scenario, target, method)]
    tune_threshold = tune_threshold and not shut
    if scenario.counters.groups is not None:
        return _optimize_groups(
            scenario, target, rules, method, pitch, search_replications, replications, seed, time_limit_s,
            workers, solver_workers, notes, repair_rounds, executor=executor,
            thresholds=thresholds if tune_threshold else (),
        )  # fmt: skip
    stages = 4 + int(tune_threshold)
    tick = progress or (lambda done, total: None)
    tick(0, stages)
    req_np, req_p = _requirements(
        scenario, target, method, pitch, search_replications, seed, workers, executor=executor,
        search_max_replications=search_max_replications,
    )
    tick(1, stages)
    data = _roster_input(scenario, rules, req_np, req_p, pitch)
    explanation: list[str] = list(notes)
    if not data.templates:
        explanation.append(
            f"no shift fits the rules: lengths {list(rules.lengths_hours)} h between "
            f"{rules.earliest_start or scenario.store.open} and {rules.latest_end or scenario.store.close}"
        )
    roster = solve_day_roster(data, time_limit_s=time_limit_s, workers=solver_workers, seed=seed)
    tick(2, stages)
    for req in (req_np, req_p):
        if req is not None and req.method == "simulation" and not req.converged:
            explanation.append(
                f"the simulation-refined requirement ({'with' if req.pitching else 'without'} pitching) was still changing "
                f"after {req.iterations} iterations; the last staffing is used"
            )
    plan_scn, notes = _plan_scenario(scenario, roster.staffed, roster.pitch, data.grid, rules, wait)
    verification = verify(plan_scn, target, replications=replications, seed=seed, workers=workers, executor=executor)
    # Repair: the search judged intervals on fewer replications; where the verification's mean still
    # misses and the hall has room, ask for one more counter there and re-roster (a few rounds).
    for _round in range(repair_rounds):
        miss = ~verification.intervals["meets"].to_numpy(bool)
        staffed_now = np.asarray(roster.staffed)
        fix = [int(i) for i in np.flatnonzero(miss & (staffed_now < data.physical))]
        if not fix:
            break
        need_np = list(data.need_no_pitch)
        need_p = list(data.need_pitch)
        for i in fix:
            if roster.pitch[i]:
                need_p[i] = max(need_p[i], int(staffed_now[i]) + 1)
            else:
                need_np[i] = max(need_np[i], int(staffed_now[i]) + 1)
                need_p[i] = max(need_p[i], need_np[i])
        tried_data = replace(data, need_no_pitch=tuple(need_np), need_pitch=tuple(need_p))
        tried = solve_day_roster(tried_data, time_limit_s=time_limit_s, workers=solver_workers, seed=seed)
        asked = ", ".join(_label(scenario, i) for i in fix)
        if not any(tried.staffed[i] > staffed_now[i] for i in fix):
            # The shift rules and the hall allow no more there: keep the verified roster (another
            # round would only ask the same again).
            explanation.append(_refused_ask(asked))
            break
        data, roster = tried_data, tried
        plan_scn, notes = _plan_scenario(scenario, roster.staffed, roster.pitch, data.grid, rules, wait)
        verification = verify(
            plan_scn, target, replications=replications, seed=seed, workers=workers, executor=executor
        )
        explanation.append(f"after verification, asked for one more counter at {asked} and re-rostered")
    explanation += notes
    explanation += [e for e in roster.explanation if e not in explanation]
    tick(3, stages)
    if verification.missed:
        explanation.append(
            f"simulated with {replications} replications, {len(verification.missed)} interval(s) miss the target: "
            + ", ".join(verification.missed)
        )
    alternative = None
    if any(roster.shortfall):
        alternative, lines = _check_partial_plan(
            scenario, data, roster, verification, rules, target, replications, seed, workers, executor=executor
        )
        explanation += lines
    policies = None
    if tune_threshold and workload(scenario).pitch_margin_per_customer > 0 and pitch != "never":
        policies = _tune_threshold(
            plan_scn, target, thresholds, search_replications, replications, seed, workers, executor=executor
        )
        verdict = policy_verdict(policies)
        if verdict:
            explanation.append(verdict)
        tick(4, stages)
    tick(stages, stages)
    return DayPlan(
        scenario=plan_scn,
        target=target,
        requirement_no_pitch=req_np,
        requirement_pitch=req_p,
        roster=roster,
        verification=verification,
        pitch_windows=tuple(windows_text(roster.pitch, data.grid, value=False)),
        pitch_rule=pitch_rule_text(roster.pitch, data.grid),
        policies=policies,
        explanation=tuple(explanation),
        grid=data.grid,
        alternative=alternative,
    )


# ---------------------------------------------------------------------------------------------
# the named-staff week
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekDay:
    """One day of a week plan: its label, scenario (roster and pitch applied) and verification."""

    label: str
    weekday: int
    scenario: Scenario
    requirement_no_pitch: Requirement
    requirement_pitch: Requirement | None
    verification: Verification
    pitch_rule: str
    groups: tuple[GroupPlan, ...] = ()
    """With counter groups: each group's requirement, staffing and own customers' service that day."""


@dataclass(frozen=True)
class WeekPlan:
    """A named-staff week: the CP-SAT roster and each day's verified plan."""

    roster: WeekRoster
    days: tuple[WeekDay, ...]
    target: ServiceTarget
    explanation: tuple[str, ...]
    grid: Grid = field(repr=False)

    @property
    def status(self) -> str:
        return self.roster.status

    @property
    def scenario(self) -> Scenario:
        """The first day's planned scenario (each day's is in ``days``)."""
        return self.days[0].scenario

    def roster_frame(self) -> pd.DataFrame:
        # With counter groups, the group each person-day works (a one-pool week keeps its columns).
        grouped = any(a.group is not None for a in self.roster.assignments)
        return pd.DataFrame(
            [
                {
                    "name": a.name,
                    **({"group": a.group} if grouped else {}),
                    "day": a.day_label,
                    "start": a.start,
                    "end": a.end,
                    "break_start": a.break_start or "",
                    "hours": a.hours,
                    "closing": a.closing,
                }
                for a in self.roster.assignments
            ],
            columns=["name", *(["group"] if grouped else []), "day", "start", "end", "break_start", "hours", "closing"],
        )

    def intervals_frame(self) -> pd.DataFrame:
        frames = []
        for d, day in enumerate(self.days):
            v = day.verification.intervals
            frames.append(
                pd.DataFrame(
                    {
                        "day": day.label,
                        "interval": v["interval"],
                        "start": v["start"],
                        "required": list(self.roster.required[d]),
                        "staffed": list(self.roster.staffed[d]),
                        "shortfall": list(self.roster.shortfall[d]),
                        "pitch": list(self.roster.pitch[d]),
                        "service_level_mean": v["service_level_mean"],
                        "service_level_ci_low": v["service_level_ci_low"],
                        "service_level_ci_high": v["service_level_ci_high"],
                        "meets_target": v["meets"],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def verification_frame(self) -> pd.DataFrame:
        rows = []
        for day in self.days:
            for k, v in day.verification.kpis.items():
                rows.append({"day": day.label, "kpi": k, **v})
            rows.append({"day": day.label, "kpi": "share_of_intervals_meeting", "mean": day.verification.share_meeting})
        return pd.DataFrame(rows, columns=["day", "kpi", "mean", "ci_low", "ci_high"])

    def people_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"name": n, "hours": h, "closings": self.roster.closings_by_person.get(n, 0)}
                for n, h in self.roster.hours_by_person.items()
            ]
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "roster": self.roster_frame(),
            "plan": self.intervals_frame(),
            "verification": self.verification_frame(),
            "people": self.people_frame(),
            **({"groups": self.groups_frame()} if any(day.groups for day in self.days) else {}),
        }

    def groups_frame(self) -> pd.DataFrame:
        """With counter groups: per day, group and interval, required, staffed and own customers' service."""
        frames = [gp.frame().assign(day=day.label) for day in self.days for gp in day.groups]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        return out[["day", *[c for c in out.columns if c != "day"]]]

    def to_json(self) -> dict[str, Any]:
        r = self.roster
        plan = self.intervals_frame()
        return {
            "status": r.status,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "gap_vs_labour_cost": r.gap_labour,
            "solve_time_s": r.solve_time_s,
            "staff_hours": r.staff_hours,
            "staff_cost": r.staff_cost,
            "expected_pitch_margin": r.pitch_value,
            "pitch_windows": {
                day.label: windows_text(r.pitch[d], self.grid, value=False) for d, day in enumerate(self.days)
            },
            "pitch_rules": {day.label: day.pitch_rule for day in self.days},
            "shifts": [
                {
                    "name": a.name,
                    "day": a.day_label,
                    "start": a.start,
                    "end": a.end,
                    "break_start": a.break_start,
                    "hours": a.hours,
                    "closing": a.closing,
                    **({"group": a.group} if a.group is not None else {}),
                }
                for a in r.assignments
            ],
            "people": self.people_frame().to_dict(orient="records"),
            "intervals": [
                {
                    "day": row.day,
                    "start": row.start,
                    "required": _i(row.required),
                    "staffed": _i(row.staffed),
                    "shortfall": _i(row.shortfall),
                    "pitch": bool(row.pitch),
                    "service_level": {
                        "mean": _f(row.service_level_mean),
                        "ci_low": _f(row.service_level_ci_low),
                        "ci_high": _f(row.service_level_ci_high),
                    },
                    "meets_target": bool(row.meets_target),
                }
                for row in plan.itertuples(index=False)
            ],
            "verification": {day.label: day.verification.to_json() for day in self.days},
            **(
                {"groups": {day.label: [gp.to_json() for gp in day.groups] for day in self.days}}
                if any(day.groups for day in self.days)
                else {}
            ),
            "explanation": list(self.explanation),
        }


def week_scenarios(scenario: Scenario) -> list[tuple[str, int, Scenario]]:
    """Seven day scenarios from one: the week (Monday first) containing ``store.date``.

    With a date, each day gets its own ``store.date`` so weekday and day-of-month factors apply.
    Without one, weekday factors (if any) scale demand and day-of-month factors cannot apply.
    """
    out = []
    if scenario.store.date is not None:
        monday = scenario.store.date - _dt.timedelta(days=scenario.store.date.weekday())
        for d in range(7):
            day = monday + _dt.timedelta(days=d)
            out.append((f"{WEEKDAYS[d]} {day.isoformat()}", d, with_updates(scenario, {"store.date": day.isoformat()})))
        return out
    wf = scenario.demand.weekday_factors or (1.0,) * 7
    for d in range(7):
        out.append((WEEKDAYS[d], d, with_updates(scenario, {"demand.scale": scenario.demand.scale * wf[d]})))
    return out


def _week_days_in(scenario: Scenario | Sequence[Scenario]) -> list[tuple[str, int, Scenario]]:
    """(label, weekday, scenario) per day, checked to share one grid."""
    if isinstance(scenario, Scenario):
        days_in = week_scenarios(scenario)
    else:
        days_in = [
            (
                s.store.date.isoformat() if s.store.date else WEEKDAYS[d % 7],
                (s.store.date.weekday() if s.store.date else d % 7),
                s,
            )
            for d, s in enumerate(scenario)
        ]
    first = days_in[0][2]
    for label, _wd, s in days_in:
        if (s.store.open, s.store.close, s.store.interval_min) != (
            first.store.open,
            first.store.close,
            first.store.interval_min,
        ):
            raise ValueError(f"day {label}: opening hours/interval differ from the first day's; a week needs one grid")
    return days_in


def _verify_week(
    days_in: Sequence[tuple[str, int, Scenario]],
    roster: WeekRoster,
    inputs: Sequence[RosterInput],
    reqs: Sequence[tuple[Requirement, Requirement | None]],
    rules: ShiftRules,
    target: ServiceTarget,
    replications: int,
    seed: int,
    workers: int,
    executor: ExecutorArg = "processes",
    shut: Sequence[int] = (),
) -> tuple[list[WeekDay], list[str]]:
    """Each day's roster and pitch windows written into its scenario and simulated; ``shut``: days
    without customers, rostered with nobody (simulated with one counter so the day loads)."""
    wait = target.wait_for(days_in[0][2])
    days: list[WeekDay] = []
    notes: list[str] = []
    for d, (label, wd, s) in enumerate(days_in):
        plan_scn, day_notes = _plan_scenario(s, roster.staffed[d], roster.pitch[d], inputs[d].grid, rules, wait)
        if d in shut:
            day_notes = ["no customers expected, so nobody is rostered (no minimum on duty); simulated with one counter "
                         "so the day loads"]  # fmt: skip
        notes += [f"{label}: {n}" for n in day_notes]
        v = verify(plan_scn, target, replications=replications, seed=seed, workers=workers, executor=executor)
        days.append(
            WeekDay(label, wd, plan_scn, reqs[d][0], reqs[d][1], v, pitch_rule_text(roster.pitch[d], inputs[d].grid))
        )
    return days, notes


def _week_repairs(
    days: Sequence[WeekDay], roster: WeekRoster, inputs: Sequence[RosterInput]
) -> tuple[list[RosterInput], list[str]]:
    """One more counter asked where a day's verification misses and the hall has room (as for a day)."""
    out: list[RosterInput] = []
    asked: list[str] = []
    for d, (day, data) in enumerate(zip(days, inputs, strict=True)):
        miss = ~day.verification.intervals["meets"].to_numpy(bool)
        staffed_now = np.asarray(roster.staffed[d])
        fix = [int(i) for i in np.flatnonzero(miss & (staffed_now < data.physical))]
        need_np, need_p = list(data.need_no_pitch), list(data.need_pitch)
        for i in fix:
            if roster.pitch[d][i]:
                need_p[i] = max(need_p[i], int(staffed_now[i]) + 1)
            else:
                need_np[i] = max(need_np[i], int(staffed_now[i]) + 1)
                need_p[i] = max(need_p[i], need_np[i])
            asked.append(f"{day.label.split(' ')[0]} {_label(day.scenario, i)}")
        out.append(replace(data, need_no_pitch=tuple(need_np), need_pitch=tuple(need_p)))
    return out, asked


def optimize_week(
    scenario: Scenario | Sequence[Scenario],
    staff: StaffRules,
    target: ServiceTarget | None = None,
    *,
    rules: ShiftRules | None = None,
    method: RequirementMethod = "simulation",
    pitch: PitchMode = "decide",
    search_replications: int = 30,
    replications: int = 100,
    seed: int | None = None,
    time_limit_s: float = 60.0,
    workers: int = 1,
    solver_workers: int = 2,
    repair_rounds: int = 1,
    notes: Sequence[str] = (),
    progress: Progress = None,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
    search_max_replications: int | None = None,
) -> WeekPlan:
    """The named-staff week: requirement per day, one CP-SAT roster for the week, every day verified.

    ``scenario`` is one scenario (the week is built with :func:`week_scenarios`) or seven day
    scenarios (Monday first) sharing opening hours and interval. Like a day plan, the week is
    repaired by its verification: where a day's simulated mean misses the target and the hall has
    room, one more counter is asked for and the week re-rostered (``repair_rounds`` times) with the
    pitch windows kept and the previous roster as the hint; the explanation names what was asked.
    ``executor``/``scheduler`` and ``search_max_replications`` as for :func:`optimize_day` (one
    executor for the whole week).
    """
    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return optimize_week(
                scenario, staff, target, rules=rules, method=method, pitch=pitch,
                search_replications=search_replications, replications=replications, seed=seed,
                time_limit_s=time_limit_s, workers=workers, solver_workers=solver_workers,
                repair_rounds=repair_rounds, notes=notes, progress=progress, executor=ex,
                search_max_replications=search_max_replications,
            )  # fmt: skip
    target = target or ServiceTarget()
    days_in = _week_days_in(scenario)
    first = days_in[0][2]
    rules = _rules_for(first, rules)
    seed = first.simulation.seed if seed is None else seed
    notes = [*notes, *_day_factor_note(first, target, method)]
    if first.counters.groups is not None:
        return _optimize_week_groups(
            days_in, staff, target, rules, method, search_replications, replications, seed, time_limit_s,
            workers, solver_workers, notes, executor=executor, pitch=pitch, repair_rounds=repair_rounds,
            progress=progress, search_max_replications=search_max_replications,
        )  # fmt: skip
    total = 2 * len(days_in) + 1
    tick = progress or (lambda done, total_: None)
    reqs = []
    inputs = []
    shut: list[int] = []
    for d, (_label, _wd, s) in enumerate(days_in):
        req_np, req_p = _requirements(
            s, target, method, pitch, search_replications, seed, workers, executor=executor,
            search_max_replications=search_max_replications,
        )
        reqs.append((req_np, req_p))
        data = _roster_input(s, rules, req_np, req_p, pitch)
        if float(s.arrival_rates_per_hour().sum()) <= 0:
            # No customers (weekday factor 0: the store is shut that day): nobody works it, not even the
            # rules' minimum on duty, and no contract minimum pulls anyone in (the hall counts as closed).
            data = replace(data, physical=0, min_on_duty=0, allow_pitch=False)
            shut.append(d)
        inputs.append(data)
        tick(d + 1, total)
    solve = {
        "day_labels": [lab for lab, _wd, _s in days_in],
        "weekdays": [wd for _lab, wd, _s in days_in],
        "close_rel": first.store.duration_min,
        "workers": solver_workers,
        "seed": seed,
    }
    roster = solve_week_roster(inputs, staff, time_limit_s=time_limit_s, **solve)  # type: ignore[arg-type]
    tick(len(days_in) + 1, total)
    days, day_notes = _verify_week(
        days_in, roster, inputs, reqs, rules, target, replications, seed, workers, executor=executor, shut=shut
    )
    repairs: list[str] = []
    for _round in range(repair_rounds):
        repaired, asked = _week_repairs(days, roster, inputs)
        if not asked:
            break
        again = solve_week_roster(
            repaired,
            staff,
            time_limit_s=max(5.0, time_limit_s / 2),
            pitch_flags=roster.pitch,
            hint_keys=roster.solution_keys,
            **solve,  # type: ignore[arg-type]
        )
        if not again.feasible:
            repairs.append(f"after verification, re-rostering for {', '.join(asked)} found no roster ({again.status})")
            break
        first_gap = "-" if roster.gap is None else f"{roster.gap:.2%}"
        repairs.append(
            f"after verification, asked for one more counter at {', '.join(asked)} and re-rostered the week "
            f"(pitch windows kept; solver status, objective, bound and gap are the re-rostering's; the roster "
            f"before the repair: {roster.status}, objective {roster.objective or 0:,.2f}, bound "
            f"{roster.bound or 0:,.2f}, gap {first_gap})"
        )
        inputs, roster = repaired, again
        days, day_notes = _verify_week(
            days_in, roster, inputs, reqs, rules, target, replications, seed, workers, executor=executor, shut=shut
        )
    explanation = [*notes, *roster.explanation, *repairs, *day_notes]
    if isinstance(scenario, Scenario) and scenario.store.date is None and scenario.demand.weekday_factors is None:
        explanation.insert(
            len(notes),
            "the scenario has no store.date and no demand.weekday_factors, so all seven days have the same demand "
            "(set them, or pass seven day scenarios, for a real week)",
        )
    for day in days:
        if day.verification.missed:
            explanation.append(
                f"{day.label}: simulated, {len(day.verification.missed)} interval(s) miss the target: "
                + ", ".join(day.verification.missed)
            )
    tick(total, total)
    return WeekPlan(roster=roster, days=tuple(days), target=target, explanation=tuple(explanation), grid=inputs[0].grid)


# ---------------------------------------------------------------------------------------------
# the named-staff week with counter groups: one joint model across groups
# ---------------------------------------------------------------------------------------------


def _group_day_misses(svc: pd.DataFrame, target: ServiceTarget) -> np.ndarray:
    """Intervals where a group's own customers miss: its ``meets`` column where the judgement gives
    one (abandonment cap and share of days included), else the service level's mean."""
    if "meets" in svc:
        return ~svc["meets"].to_numpy(bool)
    sl = svc["service_level_mean"].to_numpy(float)
    return ~np.isnan(sl) & (sl < target.service_level)


def _week_group_plans(
    joint: Any,
    reqs: Sequence[Sequence[Requirement]],
    d: int,
    label: str,
    services: Sequence[pd.DataFrame],
    target: ServiceTarget,
) -> tuple[GroupPlan, ...]:
    """Day ``d`` of a joint group week as one :class:`GroupPlan` per group (its requirement without
    pitching, its staffing and shortfall with the need in force, its customers' simulated service),
    the per-group report a day plan gives."""
    out = []
    for g, (name, wr) in enumerate(zip(joint.names, joint.groups, strict=True)):
        hours = sum(a.hours for a in wr.assignments if a.day == d)
        rate = wr.staff_cost / wr.staff_hours if wr.staff_hours else 0.0
        day_roster = DayRoster(
            status=wr.status,
            objective=None,
            bound=None,
            gap=None,
            shifts=(),
            staffed=wr.staffed[d],
            pitch=wr.pitch[d],
            required=wr.required[d],
            shortfall=wr.shortfall[d],
            staff_hours=hours,
            staff_cost=hours * rate,
            pitch_value=0.0,
            solve_time_s=wr.solve_time_s,
            explanation=tuple(e for e in wr.explanation if e.startswith(f"{label} ")),
        )
        out.append(GroupPlan(name, reqs[d][g], day_roster, services[g], target.service_level))
    return tuple(out)


def _optimize_week_groups(
    days_in: Sequence[tuple[str, int, Scenario]],
    staff: StaffRules,
    target: ServiceTarget,
    rules: ShiftRules,
    method: RequirementMethod,
    search_replications: int,
    replications: int,
    seed: int,
    time_limit_s: float,
    workers: int,
    solver_workers: int,
    notes: Sequence[str],
    executor: ExecutorArg = "processes",
    pitch: PitchMode = "decide",
    repair_rounds: int = 1,
    progress: Progress = None,
    search_max_replications: int | None = None,
) -> WeekPlan:
    """A named-staff week for a hall with counter groups, in one CP-SAT model across groups.

    1. Requirement per group and day as a day plan finds it (refined on the whole store, then the
       firm-up and CI descent per (group, interval)): without pitching, and — with a pitch margin and
       ``pitch`` ``decide``/``always`` — with pitching all day.
    2. One week model (:func:`.week_groups.solve_week_group_roster`): each person works their own
       group's counters; per person the one-pool week's rules; the hall caps the groups' sum per slot,
       the minimum on duty counts everybody, and one pitch flag per (day, interval) is shared by all
       groups (pitching raises each group's need to its pitching need and earns the store's margin).
    3. Every day simulated with all groups staffed and its pitch windows, judged per group on its own
       customers (``WeekDay.groups``). Repair as for a one-pool week: where a group's customers miss
       and the hall has room, one more counter of that group (the need in force) and the week is
       re-rostered with the pitch windows kept and the previous roster as the hint; where they miss
       while pitching with the hall full, pitching stops there. The explanation names what was asked.
    """
    from types import SimpleNamespace

    from simulation import run

    from .groups import group_service, groups_scenario
    from .week_groups import solve_week_group_roster

    first = days_in[0][2]
    names = [g.name for g in first.counter_groups()]
    physical = first.physical_counters
    pool, explanation = week_group_pool(staff, names, notes)
    grid = build_grid(first, rules)
    templates = tuple(build_templates(first, rules))
    margin = workload(first).pitch_margin_per_customer
    want_pitch = pitch != "never" and margin > 0
    mode: PitchMode = ("always" if pitch == "always" else "decide") if want_pitch else "never"
    total_ticks = 2 * len(days_in) + 1
    tick = progress or (lambda done, total_: None)
    reqs_np, reqs_p, inputs, values, demands = _week_group_inputs(
        days_in, target, method, mode, grid, templates, search_replications, seed, workers, executor,
        search_max_replications, lambda d: tick(d + 1, total_ticks),
    )  # fmt: skip
    common: dict[str, Any] = {
        "day_labels": [lab for lab, _wd, _s in days_in],
        "weekdays": [wd for _lab, wd, _s in days_in],
        "close_rel": first.store.duration_min,
        "workers": solver_workers,
        "seed": seed,
    }
    # A day without customers (weekday factor 0: the branch shut) needs nobody on duty.
    duty = [0 if float(s.arrival_rates_per_hour().sum()) <= 0 else rules.min_on_duty for _lab, _wd, s in days_in]

    def solve(data: Sequence[Sequence[RosterInput]], **kw: Any) -> Any:
        return solve_week_group_roster(
            data, pool, names, physical, duty, values, mode, **common, **kw  # type: ignore[arg-type]
        )

    def simulate(joint: Any) -> tuple[list[WeekDay], list[list[pd.DataFrame]], list[str]]:
        wait = target.wait_for(first)
        out_days: list[WeekDay] = []
        services: list[list[pd.DataFrame]] = []
        day_notes: list[str] = []
        for d, (label, wd, s) in enumerate(days_in):
            shut = float(s.arrival_rates_per_hour().sum()) <= 0
            # As the day path does: a group with customers gets a counter in the simulation, within the hall.
            rows = [SimpleNamespace(staffed=joint.groups[g].staffed[d]) for g in range(len(names))]
            staffed, notes_d = _simulated_staffing(
                rows, _simulated_floor(demands[d]), physical, names, s.interval_labels
            )
            if not shut:
                day_notes += [f"{label}: {n}" for n in notes_d]
            else:
                day_notes.append(
                    f"{label}: no customers expected, so nobody is rostered (no minimum on duty); simulated with one "
                    "counter per group so the day loads"
                )
            updates = {
                "cross_sell.policy": policy_for(joint.store.pitch[d], grid),
                "store.target_wait_min": wait,
                "shifts": rules.model_dump(by_alias=True, exclude_none=True),
            }
            scn = groups_scenario(s, staffed, **updates)
            v = verify(scn, target, replications=replications, seed=seed, workers=workers, executor=executor)
            res = run(scn, replications=replications, seed=seed, workers=workers, keep_customers=True, executor=executor)
            svc = group_service(res, scn, target)
            services.append(svc)
            total = tuple(sum(reqs_np[d][g].needed[i] for g in range(len(names))) for i in range(grid.n_intervals))
            req_np = replace(reqs_np[d][0], needed=total, group=None)
            req_p = None
            if want_pitch:
                total_p = tuple(sum(inputs[d][g].need_pitch[i] for g in range(len(names))) for i in range(grid.n_intervals))
                req_p = replace(reqs_p[d][0], needed=total_p, group=None, pitching=True)
            day = WeekDay(label, wd, scn, req_np, req_p, v, pitch_rule_text(joint.store.pitch[d], grid))
            out_days.append(replace(day, groups=_week_group_plans(joint, reqs_np, d, label, svc, target)))
            tick(len(days_in) + 1 + d, total_ticks)
        return out_days, services, day_notes

    joint = solve(inputs, time_limit_s=time_limit_s)
    if not joint.feasible:
        explanation.append(f"no week roster found ({joint.store.status}); every day is simulated unstaffed")
    days, services, day_notes = simulate(joint)
    repairs: list[str] = []

    def where(cells: Sequence[tuple[int, int, int]]) -> str:
        return ", ".join(f"{days_in[d][0].split(' ')[0]} {names[g]} {_label(first, i)}" for d, g, i in cells)

    for _round in range(repair_rounds if joint.feasible else 0):
        repaired, flags, asked, stopped = _week_group_repairs(days_in, names, inputs, joint, services, target, mode)
        if not asked and not stopped:
            break
        again = solve(
            repaired,
            time_limit_s=max(5.0, time_limit_s / 2),
            pitch_flags=flags,
            hint_keys=joint.store.solution_keys,
        )
        if not again.feasible:
            repairs.append(
                f"after verification, re-rostering for {where(asked) or ', '.join(stopped)} found no roster "
                f"({again.store.status})"
            )
            break
        added = [(d, g, i) for d, g, i in asked if again.groups[g].staffed[d][i] > joint.groups[g].staffed[d][i]]
        refused = [c for c in asked if c not in added]
        repairs += _week_group_repair_text(where(added), where(refused), stopped, joint.store)
        if not added and not stopped:
            break  # nothing changed: the verified week stands
        inputs, joint = repaired, again
        days, services, day_notes = simulate(joint)
    roster = joint.store
    skilled = sum(len(p.groups) > 1 for p in pool.staff)
    explanation.insert(
        len(notes), _week_group_head(names, physical, mode, pitch, roster, first.costs.currency, skilled)
    )
    explanation += [*roster.explanation, *repairs, *day_notes]
    for day in days:
        if day.verification.missed:
            explanation.append(
                f"{day.label}: simulated, {len(day.verification.missed)} interval(s) miss the target: "
                + ", ".join(day.verification.missed)
            )
        explanation += [
            f"{day.label}: {gp.name}: its customers miss the target at {', '.join(gp.missed)}"
            for gp in day.groups
            if gp.missed
        ]
    tick(total_ticks, total_ticks)
    return WeekPlan(roster=roster, days=tuple(days), target=target, explanation=tuple(explanation), grid=grid)


def _week_group_inputs(
    days_in: Sequence[tuple[str, int, Scenario]],
    target: ServiceTarget,
    method: RequirementMethod,
    mode: PitchMode,
    grid: Grid,
    templates: tuple[Any, ...],
    search_replications: int,
    seed: int,
    workers: int,
    executor: ExecutorArg,
    search_max_replications: int | None,
    done: Callable[[int], None],
) -> tuple[list[list[Requirement]], list[list[Requirement]], list[list[RosterInput]], list[tuple[float, ...]], list[Any]]:
    """Per day: each group's requirement without and with pitching (as a day plan refines it, on the
    whole store), its roster input, the store's pitch margin per interval and the groups' demand."""
    from .groups import group_demand, refine_group_requirements

    first = days_in[0][2]
    reqs_np: list[list[Requirement]] = []
    reqs_p: list[list[Requirement]] = []
    inputs: list[list[RosterInput]] = []
    values: list[tuple[float, ...]] = []
    demands: list[Any] = []
    for d, (_day, _wd, s) in enumerate(days_in):
        # A day without customers (the branch shut on Sunday) has nothing to refine by simulation.
        simulate = method == "simulation" and float(s.arrival_rates_per_hour().sum()) > 0

        def refine(pitching: bool, s: Scenario = s, simulate: bool = simulate) -> list[Requirement]:
            return refine_group_requirements(
                s, target, search_replications, seed, workers=workers, simulate=simulate, executor=executor,
                pitching=pitching, max_replications=search_max_replications,
            )  # fmt: skip

        rn = refine(False) if mode != "always" else []
        rp = refine(True) if mode != "never" else rn
        rn = rn or rp  # pitching always: the roster covers the pitching need everywhere
        dem = group_demand(s)
        w = workload(s)
        reqs_np.append(rn)
        reqs_p.append(rp)
        demands.append(dem)
        values.append(tuple(float(lam * s.store.interval_min * w.pitch_margin_per_customer) for lam in w.counter_rate_per_min))
        inputs.append(
            [
                RosterInput(
                    grid=grid,
                    templates=templates,
                    need_no_pitch=a.needed,
                    need_pitch=tuple(max(x, y) for x, y in zip(a.needed, b.needed, strict=True)),
                    pitch_value=(0.0,) * grid.n_intervals,
                    physical=first.physical_counters,
                    min_on_duty=0,
                    cost_per_hour=first.costs.staff_hour,
                    allow_pitch=mode != "never",
                    customers=dem[g].customers,
                )
                for g, (a, b) in enumerate(zip(rn, rp, strict=True))
            ]
        )
        done(d)
    return reqs_np, reqs_p, inputs, values, demands


def _week_group_repairs(
    days_in: Sequence[tuple[str, int, Scenario]],
    names: Sequence[str],
    inputs: Sequence[Sequence[RosterInput]],
    joint: Any,
    services: Sequence[Sequence[pd.DataFrame]],
    target: ServiceTarget,
    mode: PitchMode,
) -> tuple[list[list[RosterInput]], list[list[bool]], list[tuple[int, int, int]], list[str]]:
    """After verification of a joint group week: where a group's own customers miss and the hall has
    room, one more counter of that group (the need in force: with or without pitching); where they
    miss while the store pitches with the hall full, pitching stops there (``decide`` only).
    Returns the new inputs, the pitch flags to keep, the (day, group, interval) asked and what stopped."""
    first = days_in[0][2]
    physical = first.physical_counters
    flags = [list(row) for row in joint.store.pitch]
    asked: list[tuple[int, int, int]] = []
    stopped: list[str] = []
    repaired = [list(day) for day in inputs]
    for d in range(len(days_in)):
        room = [v < physical for v in joint.store.staffed[d]]
        for g, svc in enumerate(services[d]):
            staffed_g = joint.groups[g].staffed[d]
            need_np, need_p = list(repaired[d][g].need_no_pitch), list(repaired[d][g].need_pitch)
            for i in (int(k) for k in np.flatnonzero(_group_day_misses(svc, target))):
                if room[i]:
                    if flags[d][i]:
                        need_p[i] = max(need_p[i], staffed_g[i] + 1)
                    else:
                        need_np[i] = max(need_np[i], staffed_g[i] + 1)
                        need_p[i] = max(need_p[i], need_np[i])
                    asked.append((d, g, i))
                elif flags[d][i] and mode == "decide":
                    flags[d][i] = False  # pitching lengthens every visit of a full hall already behind
                    stopped.append(f"{days_in[d][0].split(' ')[0]} {names[g]} {_label(first, i)}")
            repaired[d][g] = replace(repaired[d][g], need_no_pitch=tuple(need_np), need_pitch=tuple(need_p))
    return repaired, flags, asked, stopped


def week_group_pool(
    staff: StaffRules, names: Sequence[str], notes: Sequence[str]
) -> tuple[StaffRules, list[str]]:
    """The people of the store's groups, and the explanation so far (who is left out, and why)."""
    explanation = [*notes]
    stray = [p.name for p in staff.staff if not any(name in names for name in p.groups)]
    if stray:
        explanation.append(
            f"{some(stray, 20)}: no `group:` naming one of this store's counter groups ({', '.join(names)}); not rostered"
        )
    people = []
    for p in staff.staff:
        known = tuple(name for name in p.groups if name in names)
        if known and known != p.groups:
            dropped = [name for name in p.groups if name not in names]
            explanation.append(
                f"{p.name}: {some(dropped)} {'is' if len(dropped) == 1 else 'are'} not a counter group of this "
                f"store; works {' and '.join(known)} only"
            )
            p = replace(p, group=known[0], also=known[1:])
        if known:
            people.append(p)
    pool = StaffRules(tuple(people), staff.min_rest_hours, staff.fair_closing_weight)
    for name in names:
        if not any(name in p.groups for p in pool.staff):
            explanation.append(f"{name}: nobody in the staff file works this group (add `group: {name}`)")
    return pool, explanation


def _week_group_head(
    names: Sequence[str],
    physical: int,
    mode: PitchMode,
    pitch: PitchMode,
    roster: WeekRoster,
    currency: str,
    skilled: int = 0,
) -> str:
    """The first sentence of a group week's explanation: one model, the hall shared, the pitch rule."""
    skills = (
        f"; {skilled} {'person' if skilled == 1 else 'people'} with several groups work whichever the week needs, "
        "shift by shift"
        if skilled
        else ""
    )
    head = (
        f"counter groups rostered together in one week model ({', '.join(names)}; each person works their own "
        f"group{skills}), the hall's {physical} counters shared per slot"
    )
    if mode == "never":
        why = "--pitch never" if pitch == "never" else "pitching earns no margin in this store"
        return head + f"; no pitches all week ({why})"
    on = sum(sum(day) for day in roster.pitch)
    return head + (
        f"; one pitch rule for every counter, decided per day (pitching in {on} of "
        f"{sum(len(day) for day in roster.pitch)} intervals of the week), "
        f"expected pitch margin {roster.pitch_value:,.0f} {currency} a week"
    )


def _refused_ask(where: str, named_staff: bool = False) -> str:
    """A repair's ask for one more counter that the roster could not honour, said once (another round
    would only ask the same again): the same sentence for every plan."""
    limits = "the people, the shift rules and the hall" if named_staff else "the shift rules and the hall"
    return f"after verification, asked for one more counter at {where}; {limits} allow none there"


def _week_group_repair_text(added: str, refused: str, stopped: Sequence[str], before: WeekRoster) -> list[str]:
    """What a repair round of a group week asked for, got and stopped, in the explanation's words
    (a refused ask is said once: another round would only ask the same again)."""
    out = []
    if refused:
        out.append(_refused_ask(refused, named_staff=True))
    if added:
        first_gap = "-" if before.gap is None else f"{before.gap:.2%}"
        out.append(
            f"after verification, asked for one more counter at {added} and re-rostered the week (pitch windows kept; "
            f"solver status, objective, bound and gap are the re-rostering's; the roster before the repair: "
            f"{before.status}, objective {before.objective or 0:,.2f}, bound {before.bound or 0:,.2f}, gap {first_gap})"
        )
    if stopped:
        first_gap = "-" if before.gap is None else f"{before.gap:.2%}"
        out.append(
            f"after verification, customers missed the target while pitching with the hall full at {', '.join(stopped)}: "
            "pitching suspended there and the week re-rostered"
            + (
                ""
                if added
                else f" (the roster before: {before.status}, objective {before.objective or 0:,.2f}, bound "
                f"{before.bound or 0:,.2f}, gap {first_gap})"
            )
        )
    return out
