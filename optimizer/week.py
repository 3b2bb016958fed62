"""The named-staff week roster with CP-SAT.

Who works which shift on which day, for a week of day requirements: each person's availability,
contract hours (min/max per week), days off, at most one shift a day, a minimum rest between
shifts, a fair share of closing shifts, and the same coverage/pitch/limit families as the day
roster.

Designed to solve a 15-person week to a proven small gap within a minute on 2 cores:
- people choose a *base shift* (start, length) per day — one Boolean per feasible (person, day,
  base shift) after availability filtering; break placement is decided in aggregate per (day, base
  shift) by integers, since who takes which break slot does not change cost or coverage;
- coverage is written on aggregate counts (people on each base shift), not per person;
- a complete solution hint (a greedy roster, or a previous solve's);
- with pitch windows free, bounds proven on each day alone (people counted per kind of
  availability) cut the LP, with bounds of each day without each part-timer (:func:`_two_phase`);
  with them the joint model's bound is its LP's, proven in seconds, and the rest of the minute
  searches for rosters by re-solving days one and two at a time (:func:`_day_pair_search`).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations, pairwise
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from simulation import format_clock
from simulation.scenario import WEEKDAYS

from .roster import RosterInput, add_coverage, add_min_on_duty, add_pitch_windows, seeded_solver, status_name
from .shifts import Grid, ShiftTemplate, coverage_matrix, greedy_cover, interval_staffed
from .staff import StaffMember, StaffRules

__all__ = ["Assignment", "WeekRoster", "solve_week_roster"]


@dataclass(frozen=True)
class Assignment:
    """One person-day: the shift worked, or nothing."""

    name: str
    day: int
    day_label: str
    start: str
    end: str
    break_start: str | None
    hours: float
    closing: bool
    group: str | None = None
    """The counter group worked (``counters.groups``); None: the store's one pool."""


@dataclass(frozen=True)
class WeekRoster:
    """A solved named-staff week. Never a sentinel: ``status`` says what the solver proved.

    ``OPTIMAL`` only when the objective equals the bound; a solve stopped by the gap limit
    (0.5% by default) or the time limit is ``FEASIBLE`` with its ``gap``.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solve_time_s: float
    assignments: tuple[Assignment, ...]
    staffed: tuple[tuple[int, ...], ...]
    required: tuple[tuple[int, ...], ...]
    pitch: tuple[tuple[bool, ...], ...]
    shortfall: tuple[tuple[int, ...], ...]
    hours_by_person: dict[str, float]
    closings_by_person: dict[str, int]
    staff_hours: float
    staff_cost: float
    pitch_value: float
    explanation: tuple[str, ...]
    greedy_cost: float | None = None
    gap_labour: float | None = None
    """Objective minus bound as a share of the plan's labour cost: the gap that matters when
    shortfall penalties dominate the objective."""
    solution_keys: tuple[tuple[int, int, int], ...] = field(default=(), repr=False)
    """(person, day, base shift) of every assignment: lets a later solve start from this one."""

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


def _base_shifts(templates: Sequence[ShiftTemplate]) -> tuple[list[tuple[int, int]], dict[tuple[int, int], list[int]]]:
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, t in enumerate(templates):
        groups[(t.start, t.length)].append(k)
    return sorted(groups), groups


def _greedy_week(
    days: Sequence[RosterInput],
    staff: StaffRules,
    base: Sequence[tuple[int, int]],
    groups: dict[tuple[int, int], list[int]],
    allowed: dict[tuple[int, int], list[int]],
    close_rel: int,
) -> dict[tuple[int, int, int], int]:
    """Assign the greedy day covers to people (fewest hours first): a feasible-looking hint."""
    hint: dict[tuple[int, int, int], int] = {}
    hours = np.zeros(len(staff.staff))
    days_worked = np.zeros(len(staff.staff), dtype=int)
    base_index = {b: j for j, b in enumerate(base)}
    for d, data in enumerate(days):
        need = np.maximum(np.asarray(data.need_no_pitch, dtype=int), data.min_on_duty)
        chosen = greedy_cover(data.templates, data.grid, need, data.physical, data.cost_per_hour / 60)
        busy: set[int] = set()
        for k in chosen:
            t = data.templates[k]
            j = base_index[(t.start, t.length)]
            closing = t.start + t.length >= close_rel
            cands = [
                p
                for p in allowed.get((d, j), [])
                if p not in busy
                and hours[p] + t.length / 60 <= staff.staff[p].max_hours + 1e-9
                and days_worked[p] < staff.staff[p].max_days
                and (staff.staff[p].can_close or not closing)
            ]
            if not cands:
                continue
            p = min(cands, key=lambda q: (hours[q] >= staff.staff[q].min_hours, hours[q]))
            busy.add(p)
            hours[p] += t.length / 60
            days_worked[p] += 1
            hint[(p, d, j)] = 1
    return hint


def _penalty(days: Sequence[RosterInput]) -> int:
    """Cents per uncovered counter-interval: far above the dearest shift, so coverage comes first."""
    longest = max((t.length for t in days[0].templates), default=60)
    return max(1, round(longest / 60 * max(days[0].cost_per_hour, 1.0) * 100) * 1000)


def _day_alone(data: RosterInput, people: Sequence[StaffMember], weekday: int, close_rel: int) -> cp_model.CpModel:
    """One day of the week model on its own, exactly: each person's availability, one shift and
    contract maximum, the same labour, coverage, minimum-on-duty and pitch terms, and nothing that
    couples days (rest, days worked, contract minimum, fairness).

    People who may work the same base shifts that day are interchangeable within it, so the model
    counts people per (kind, base shift) instead of naming them: the same optimum as the named day
    (a count per kind is a roster, by handing the shifts out within each kind), without the
    permutations that make the named day slow to prove.
    """
    grid = data.grid
    base, groups = _base_shifts(data.templates)
    kinds: dict[tuple[int, ...], int] = defaultdict(int)
    for person in people:
        if person.max_days <= 0:
            continue
        fits = tuple(
            j
            for j, (start, length) in enumerate(base)
            if length <= round(person.max_hours * 60)
            and (person.can_close or start + length < close_rel)
            and person.available(weekday, grid.open_min + start, grid.open_min + start + length)
        )
        if fits:
            kinds[fits] += 1
    model = cp_model.CpModel()
    cost_h = data.cost_per_hour
    terms: list[tuple[int, cp_model.IntVar]] = []
    on_shift: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for kind, (fits, n) in enumerate(sorted(kinds.items())):
        counts = [model.new_int_var(0, n, f"kind{kind}_on[{j}]") for j in fits]
        model.add(sum(counts) <= n)
        for j, c in zip(fits, counts, strict=True):
            on_shift[j].append(c)
            terms.append((round(base[j][1] / 60 * cost_h * 100), c))
    x = [model.new_int_var(0, len(people), f"on_template[{k}]") for k in range(len(data.templates))]
    for j, key in enumerate(base):
        model.add(sum(x[k] for k in groups[key]) == sum(on_shift[j]))
    cov = coverage_matrix(data.templates, grid)
    on_floor = []
    for s in range(grid.n_slots):
        v = model.new_int_var(0, data.physical, f"on_floor[{s}]")
        model.add(v == sum(x[int(k)] for k in np.flatnonzero(cov[:, s])))
        on_floor.append(v)
    penalty = _penalty([data])
    _short, pitch, cov_terms = add_coverage(model, data, on_floor, penalty, harm=False)
    _lack, duty_terms = add_min_on_duty(model, data, on_floor, penalty)
    terms += cov_terms + duty_terms + add_pitch_windows(model, data, pitch)
    model.minimize(sum(c * v for c, v in terms))
    return model


def _day_alone_solve(
    model: cp_model.CpModel, time_limit_s: float, workers: int, seed: int
) -> tuple[float | None, list[bool] | None]:
    """The day's proven bound (cents) and its best plan's pitch flags per interval."""
    solver = seeded_solver(workers, time_limit_s, seed)
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # INFEASIBLE cannot happen (coverage is soft); UNKNOWN: no bound worth using.
        return None, None
    flags = [
        bool(solver.value(model.get_bool_var_from_proto_index(i)))
        for i, v in enumerate(model.proto.variables)
        if v.name.startswith("pitch[")
    ]
    return float(solver.best_objective_bound), flags


def _day_alone_bound(model: cp_model.CpModel, time_limit_s: float, workers: int, seed: int) -> float | None:
    return _day_alone_solve(model, time_limit_s, workers, seed)[0]


def day_bounds(
    days: Sequence[RosterInput],
    staff: StaffRules,
    weekdays: Sequence[int],
    time_limit_s: float,
    workers: int,
    seed: int,
    close_rel: int | None = None,
) -> list[float | None]:
    """A proven lower bound (in cents) on each day's own objective terms: labour, coverage, minimum
    on duty and pitch, with that day's named people (:func:`_day_alone`).

    Each day alone is small and solves to optimality in about a second, and its bound keeps the
    pitch decisions, shift counts and who-works-which-shift integral — what the named week's LP
    relaxes. The week objective is the sum of these day parts plus terms that are never negative
    (contract minimum, fairness), and every week roster restricted to one day is a roster of that
    day alone, so ``day part ≥ bound`` is a valid cut for the week model and the sum of the bounds
    a valid bound for the week. (Named people, not anonymous counts: on the 15-person week one
    weekday's bound is 13% higher with them, because who may work when is a matching, not a count.)
    """
    return [b for b, _flags in _day_bounds_and_windows(days, staff, weekdays, time_limit_s, workers, seed, close_rel)]


def _day_bounds_and_windows(
    days: Sequence[RosterInput],
    staff: StaffRules,
    weekdays: Sequence[int],
    time_limit_s: float,
    workers: int,
    seed: int,
    close_rel: int | None = None,
) -> list[tuple[float | None, list[bool] | None]]:
    """:func:`day_bounds` with each day's own best pitch windows (a starting point for the week)."""
    grid = days[0].grid
    close = close_rel if close_rel is not None else grid.n_slots * grid.slot_min
    return [
        _day_alone_solve(_day_alone(data, staff.staff, weekdays[d], close), time_limit_s, workers, seed)
        for d, data in enumerate(days)
    ]


def absence_bounds(
    days: Sequence[RosterInput],
    staff: StaffRules,
    weekdays: Sequence[int],
    close_rel: int,
    time_limit_s: float,
    workers: int,
    seed: int,
    deadline: float = math.inf,
) -> dict[tuple[int, int], float]:
    """(day, person) → a proven lower bound (cents) on the day's own terms when that person is off.

    Only for people the week cannot give their longest shift on every day they are available (more
    such days than ``max_days``, or more hours than ``max_hours``): the LP spreads their days thinly
    across the week, and these bounds tell it, in integral terms, what each day loses without them
    (see :func:`add_absence_cuts`). Stops at ``deadline`` (``time.perf_counter``).

    Each bound is CP-SAT's proven bound of :func:`_day_alone` without p, so at most the optimum of
    that day without p, which any week roster in which p is off that day restricts to. One solve
    serves everyone of p's kind that day (the same shifts they fit): :func:`_day_alone` sees people
    only as counts per kind, so the day without any one of them is the same model.

    Tried and left out, on the 15-person week: the same for everyone (full-timers have as many
    available days as they may work, so their cuts never bind), and bounds with a part-timer on
    shorter shifts only (no day lost anything).
    """
    grid = days[0].grid
    todo: list[tuple[int, int]] = []
    for p, person in enumerate(staff.staff):
        longest_by_day: dict[int, int] = {}
        for d in range(len(days)):
            fits = [
                t.length
                for t in days[d].templates
                if t.length <= round(person.max_hours * 60)
                and person.available(weekdays[d], grid.open_min + t.start, grid.open_min + t.start + t.length)
                and (person.can_close or t.start + t.length < close_rel)
            ]
            if fits:
                longest_by_day[d] = max(fits)
        if len(longest_by_day) <= person.max_days and sum(longest_by_day.values()) <= round(person.max_hours * 60):
            continue
        todo += [(d, p) for d in sorted(longest_by_day)]
    out: dict[tuple[int, int], float] = {}
    # The day without p depends only on what p could have worked that day (:func:`_day_alone` counts
    # people per kind of shifts they fit), so one solve serves everyone of p's kind: on the
    # 15-person week about a third as many solves, and the list finishes inside its deadline.
    solved: dict[tuple[int, tuple[int, ...]], float | None] = {}
    for d, p in todo:
        key = (d, _fits(days[d], staff.staff[p], weekdays[d], close_rel))
        if key not in solved:
            if time.perf_counter() >= deadline:
                break
            others = [q for q in staff.staff if q is not staff.staff[p]]
            left = min(time_limit_s, max(0.1, deadline - time.perf_counter()))
            solved[key] = _day_alone_bound(_day_alone(days[d], others, weekdays[d], close_rel), left, workers, seed)
        bound = solved[key]
        if bound is not None:
            out[(d, p)] = bound
    return out


def _fits(data: RosterInput, person: StaffMember, weekday: int, close_rel: int) -> tuple[int, ...]:
    """The base shifts ``person`` may work that day, as :func:`_day_alone` groups people into kinds."""
    grid = data.grid
    if person.max_days <= 0:
        return ()
    base, _groups = _base_shifts(data.templates)
    return tuple(
        j
        for j, (start, length) in enumerate(base)
        if length <= round(person.max_hours * 60)
        and (person.can_close or start + length < close_rel)
        and person.available(weekday, grid.open_min + start, grid.open_min + start + length)
    )


@dataclass
class _WeekModel:
    """The named-staff week as CP-SAT sees it: variables by family, and the objective terms."""

    model: cp_model.CpModel
    days: list[RosterInput]
    people: tuple[StaffMember, ...]
    labels: list[str]
    weekdays: list[int]
    close_rel: int
    base: list[tuple[int, int]]
    groups: dict[tuple[int, int], list[int]]
    penalty: int
    y: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    allowed: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    terms: list[tuple[int, cp_model.IntVar]] = field(default_factory=list)
    day_x: list[list[cp_model.IntVar]] = field(default_factory=list)
    day_floor: list[list[cp_model.IntVar]] = field(default_factory=list)
    day_pitch: list[list[cp_model.IntVar]] = field(default_factory=list)
    day_terms: dict[int, list[tuple[int, cp_model.IntVar]]] = field(default_factory=lambda: defaultdict(list))
    """The objective terms that belong to one day (its labour, coverage, duty and pitch terms)."""

    @property
    def grid(self) -> Grid:
        return self.days[0].grid

    @property
    def templates(self) -> tuple[ShiftTemplate, ...]:
        return self.days[0].templates

    def closing(self, j: int) -> bool:
        start, length = self.base[j]
        return start + length >= self.close_rel


# ---------------------------------------------------------------------------------------------
# builders: one per constraint family
# ---------------------------------------------------------------------------------------------


def add_person_days(wm: _WeekModel) -> None:
    """One Boolean per (person, day, base shift), only where the person is available for all of it."""
    g = wm.grid
    for p, person in enumerate(wm.people):
        for d in range(len(wm.days)):
            for j, (start, length) in enumerate(wm.base):
                if wm.closing(j) and not person.can_close:
                    continue
                if not person.available(wm.weekdays[d], g.open_min + start, g.open_min + start + length):
                    continue
                wm.y[(p, d, j)] = wm.model.new_bool_var(
                    f"works[{person.name},{wm.labels[d]},{format_clock(g.open_min + start)}+{length / 60:g}h]"
                )
                wm.allowed[(d, j)].append(p)


def add_days_worked(wm: _WeekModel) -> None:
    """At most one shift a day, at most ``max_days`` days a week."""
    nd = len(wm.days)
    for p, person in enumerate(wm.people):
        worked_days = []
        for d in range(nd):
            vars_d = [wm.y[(p, d, j)] for j in range(len(wm.base)) if (p, d, j) in wm.y]
            if vars_d:
                wm.model.add_at_most_one(vars_d)
                worked_days.extend(vars_d)
        if person.max_days < nd and worked_days:
            wm.model.add(sum(worked_days) <= person.max_days)


def add_min_rest(wm: _WeekModel, rest_hours: float) -> None:
    """No two shifts on consecutive days closer than the minimum rest."""
    rest = round(rest_hours * 60)
    for p in range(len(wm.people)):
        for d in range(len(wm.days) - 1):
            for j, (s1, l1) in enumerate(wm.base):
                if (p, d, j) not in wm.y:
                    continue
                for j2, (s2, _l2) in enumerate(wm.base):
                    if (p, d + 1, j2) in wm.y and (24 * 60 + s2) - (s1 + l1) < rest:
                        wm.model.add_bool_or([wm.y[(p, d, j)].Not(), wm.y[(p, d + 1, j2)].Not()])


def add_contract_hours(wm: _WeekModel, minimum: bool = True) -> None:
    """Contract maximum hard; contract minimum soft (per missing minute far above cost, below coverage).
    ``minimum=False``: the maximum only (a day alone, where the weekly minimum means nothing)."""
    for p, person in enumerate(wm.people):
        expr = sum(
            wm.base[j][1] * wm.y[(p, d, j)]
            for d in range(len(wm.days))
            for j in range(len(wm.base))
            if (p, d, j) in wm.y
        )
        wm.model.add(expr <= round(person.max_hours * 60))
        if minimum and person.min_hours > 0:
            under = wm.model.new_int_var(0, round(person.min_hours * 60), f"under_contract[{person.name}]")
            wm.model.add(expr + under >= round(person.min_hours * 60))
            wm.terms.append((max(1, wm.penalty // (10 * 60)), under))


def add_labour_cost(wm: _WeekModel) -> None:
    """Paid minutes × hourly rate for every person-day worked."""
    cost_h = wm.days[0].cost_per_hour
    for (_p, d, j), v in wm.y.items():
        term = (round(wm.base[j][1] / 60 * cost_h * 100), v)
        wm.terms.append(term)
        wm.day_terms[d].append(term)


def add_day_coverage(wm: _WeekModel) -> None:
    """Per day: people on each base shift split over its break placements (in aggregate), on-floor
    counts per slot never above the hall, and the day roster's coverage / pitch / minimum-on-duty
    families on those counts."""
    g = wm.grid
    cov = coverage_matrix(wm.templates, g)
    for d, data in enumerate(wm.days):
        x_k = [
            wm.model.new_int_var(0, len(wm.people), f"on_template[{wm.labels[d]},{t.label(g.open_min)}]")
            for t in wm.templates
        ]
        for j, key in enumerate(wm.base):
            count = sum(wm.y[(p, d, j)] for p in wm.allowed.get((d, j), []))
            wm.model.add(sum(x_k[k] for k in wm.groups[key]) == count)
        on_floor = []
        for s in range(g.n_slots):
            v = wm.model.new_int_var(
                0, data.physical, f"on_floor[{wm.labels[d]},{format_clock(g.open_min + s * g.slot_min)}]"
            )
            wm.model.add(v == sum(x_k[k] for k in np.flatnonzero(cov[:, s])))
            on_floor.append(v)
        _short, pitch, cov_terms = add_coverage(wm.model, data, on_floor, wm.penalty, harm=False)
        _lack, duty_terms = add_min_on_duty(wm.model, data, on_floor, wm.penalty)
        day_terms = cov_terms + duty_terms + add_pitch_windows(wm.model, data, pitch)
        wm.terms += day_terms
        wm.day_terms[d] += day_terms
        wm.day_x.append(x_k)
        wm.day_floor.append(on_floor)
        wm.day_pitch.append(pitch)


def add_fair_closings(wm: _WeekModel, weight: float) -> None:
    """Spread of closing shifts (most − least) among people who could close at least once this week;
    a mornings-only part-timer is not "unfairly" spared."""
    nd = len(wm.days)
    closing_vars = {
        p: [wm.y[(p, d, j)] for d in range(nd) for j in range(len(wm.base)) if wm.closing(j) and (p, d, j) in wm.y]
        for p in range(len(wm.people))
    }
    closers = [p for p in closing_vars if closing_vars[p]]
    if len(closers) <= 1 or weight <= 0:
        return
    most = wm.model.new_int_var(0, nd, "closings_max")
    least = wm.model.new_int_var(0, nd, "closings_min")
    for p in closers:
        wm.model.add(most >= sum(closing_vars[p]))
        wm.model.add(least <= sum(closing_vars[p]))
    spread = wm.model.new_int_var(0, nd, "closings_spread")
    wm.model.add(spread == most - least)
    wm.terms.append((round(weight * wm.days[0].cost_per_hour * 100), spread))


def add_day_bounds(wm: _WeekModel, bounds: Sequence[float | None]) -> None:
    """Each day's own objective terms at least that day's proven bound (:func:`day_bounds`).

    The LP relaxation of the named week pitches fractionally and splits people across shifts; the
    per-day cut carries the integral day optimum into it, which is where its bound was weakest.
    """
    for d, lb in enumerate(bounds):
        if lb is not None and wm.day_terms.get(d):
            wm.model.add(sum(c * v for c, v in wm.day_terms[d]) >= math.ceil(lb - 1e-6))


def add_absence_cuts(
    wm: _WeekModel, bounds: Sequence[float | None], absences: dict[tuple[int, int], float] | None
) -> None:
    """Day part ≥ its bound without person p, unless p works that day (:func:`absence_bounds`).

    ``day part ≥ A − (A − B) × works(p, day)`` with A the day's bound without p and B its bound with
    everyone: valid both ways (if p is off, the day's roster is one without p; if not, B holds), and
    it prices, in the LP, the integral loss of a day a part-timer cannot work — the weekly coupling
    the per-day cuts alone leave to fractional people.
    """
    for (d, p), a in sorted((absences or {}).items()):
        b = bounds[d] if d < len(bounds) else None
        works = [wm.y[(p, d, j)] for j in range(len(wm.base)) if (p, d, j) in wm.y]
        if b is None or not works or not wm.day_terms.get(d):
            continue
        lo, hi = math.ceil(b - 1e-6), math.ceil(a - 1e-6)
        if hi <= lo:
            continue
        wm.model.add(sum(c * v for c, v in wm.day_terms[d]) + (hi - lo) * sum(works) >= hi)


def add_symmetry_breaking(wm: _WeekModel) -> None:
    """People with identical rules are interchangeable: order their weekly hours (first ≥ second ...).

    Two people with the same availability, contract, days cap and closing permission can swap
    their whole weeks without changing cost, coverage or fairness; the search would otherwise
    explore every permutation. Requiring non-increasing paid minutes along each class keeps one
    representative of each (hours are a permutation-invariant of a week, so an optimum survives).
    """
    nd = len(wm.days)
    for members in interchangeable(wm.people):
        minutes = [
            sum(wm.base[j][1] * wm.y[(p, d, j)] for d in range(nd) for j in range(len(wm.base)) if (p, d, j) in wm.y)
            for p in members
        ]
        for a, b in pairwise(minutes):
            wm.model.add(a >= b)


def interchangeable(people: Sequence[StaffMember]) -> list[list[int]]:
    """Classes of people with identical rules (availability, contract, days, closing, group)."""
    classes: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for p, person in enumerate(people):
        key = (person.availability, person.min_hours, person.max_hours, person.can_close, person.max_days, person.groups)
        classes[key].append(p)
    return [m for m in classes.values() if len(m) > 1]


def symmetric_hint(
    people: Sequence[StaffMember], base: Sequence[tuple[int, int]], hint: dict[tuple[int, int, int], int]
) -> dict[tuple[int, int, int], int]:
    """The hint with each class's weeks handed out longest first, so it obeys the symmetry ordering.

    Interchangeable people can swap whole weeks, so the permuted hint is as feasible as the original;
    a hint that broke the ordering would be useless to CP-SAT as a starting solution.
    """
    out = dict(hint)
    for members in interchangeable(people):
        weeks = {p: [(d, j) for (q, d, j), v in hint.items() if q == p and v] for p in members}
        ordered = sorted(members, key=lambda p: -sum(base[j][1] for _d, j in weeks[p]))
        for p in members:
            for d, j in weeks[p]:
                out.pop((p, d, j), None)
        for target, source in zip(members, ordered, strict=True):
            for d, j in weeks[source]:
                out[(target, d, j)] = 1
    return out


def build_week_model(
    days: Sequence[RosterInput],
    staff: StaffRules,
    labels: list[str],
    weekdays: list[int],
    close_rel: int,
    symmetry: bool = True,
    bounds: Sequence[float | None] = (),
    absences: dict[tuple[int, int], float] | None = None,
) -> _WeekModel:
    """The week model, family by family; ``bounds``: per-day lower bounds (:func:`day_bounds`);
    ``absences``: per (day, person) bounds of the day without that person (:func:`absence_bounds`)."""
    base, groups = _base_shifts(days[0].templates)
    wm = _WeekModel(
        cp_model.CpModel(), list(days), staff.staff, labels, weekdays, close_rel, base, groups, _penalty(days)
    )
    add_person_days(wm)
    add_days_worked(wm)
    add_min_rest(wm, staff.min_rest_hours)
    add_contract_hours(wm)
    add_labour_cost(wm)
    add_day_coverage(wm)
    add_fair_closings(wm, staff.fair_closing_weight)
    add_day_bounds(wm, bounds)
    add_absence_cuts(wm, bounds, absences)
    if symmetry:
        add_symmetry_breaking(wm)
    wm.model.minimize(sum(c * v for c, v in wm.terms))
    return wm


# ---------------------------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------------------------


def _fix_pitch(
    days: Sequence[RosterInput], pitch_flags: Sequence[Sequence[bool]]
) -> tuple[list[RosterInput], list[tuple[bool, ...]]]:
    """Days with the pitch decision fixed: the need becomes the pitching need where flags say so."""
    fixed_days, fixed_pitch = [], []
    for data, flags_d in zip(days, pitch_flags, strict=True):
        flags = tuple(bool(v) for v in flags_d)
        fixed_pitch.append(flags)
        need = tuple(
            max(data.need_pitch[i], data.need_no_pitch[i]) if flags[i] else data.need_no_pitch[i]
            for i in range(len(flags))
        )
        fixed_days.append(replace(data, need_no_pitch=need, need_pitch=need, allow_pitch=False))
    return fixed_days, fixed_pitch


def _no_roster(
    days: Sequence[RosterInput], status: str, elapsed: float, time_limit_s: float, greedy: float
) -> WeekRoster:
    return empty_week([d.need_no_pitch for d in days], status, elapsed, time_limit_s, greedy)


def empty_week(
    needs: Sequence[Sequence[int]], status: str, elapsed: float, time_limit_s: float, greedy: float
) -> WeekRoster:
    """The week when CP-SAT found no roster in time: nobody staffed, every day's need short (one
    row per day), and the status said (one pool, or a counter group of :mod:`optimizer.week_groups`)."""
    n = len(needs[0]) if needs else 0
    return WeekRoster(
        status=status,
        objective=None,
        bound=None,
        gap=None,
        solve_time_s=elapsed,
        assignments=(),
        staffed=tuple((0,) * n for _ in needs),
        required=tuple(tuple(int(v) for v in row) for row in needs),
        pitch=tuple((False,) * n for _ in needs),
        shortfall=tuple(tuple(int(v) for v in row) for row in needs),
        hours_by_person={},
        closings_by_person={},
        staff_hours=0.0,
        staff_cost=0.0,
        pitch_value=0.0,
        explanation=(f"CP-SAT returned {status} within {time_limit_s:g} s: no roster found",),
        greedy_cost=greedy,
    )


def _assignments_of_day(wm: _WeekModel, solver: cp_model.CpSolver, d: int) -> list[Assignment]:
    """Who works what on day ``d``; the aggregate break slots handed to the people of each base shift in turn."""
    return day_assignments(wm, solver, d, wm.day_x[d])


def day_assignments(
    wm: _WeekModel,
    solver: cp_model.CpSolver,
    d: int,
    x_k: Sequence[cp_model.IntVar],
    who: Callable[[int, int], bool] = lambda p, j: True,
    group: str | None = None,
) -> list[Assignment]:
    """The person-days on day ``d`` that ``who(person, base shift)`` admits, with the break placements counted
    by ``x_k`` (people per template) handed to the people of each base shift in turn: the model
    places breaks in aggregate, so any hand-out is the same plan. ``group`` tags each assignment
    (a counter group's week, :mod:`optimizer.week_groups`)."""
    g = wm.grid
    out = []
    for j, key in enumerate(wm.base):
        workers_j = [p for p in wm.allowed.get((d, j), []) if solver.value(wm.y[(p, d, j)]) and who(p, j)]
        breaks: list[int | None] = []
        for k in wm.groups[key]:
            breaks.extend([wm.templates[k].break_start] * int(solver.value(x_k[k])))
        start, length = key
        for idx, p in enumerate(workers_j):
            b = breaks[idx] if idx < len(breaks) else None
            out.append(
                Assignment(
                    name=wm.people[p].name,
                    day=d,
                    day_label=wm.labels[d],
                    start=format_clock(g.open_min + start),
                    end=format_clock(g.open_min + start + length),
                    break_start=format_clock(g.open_min + b) if b is not None else None,
                    hours=length / 60,
                    closing=wm.closing(j),
                    group=group,
                )
            )
    return out


def _fixed_pitch_cents(days: Sequence[RosterInput], flags: Sequence[Sequence[bool]]) -> int:
    """What the joint model's pitch terms (margin, switches) are worth for fixed windows, in cents.

    A fixed-pitch model has no pitch variables, so without this constant its objective would leave
    out the cost of switching between pitching and not (:func:`add_pitch_windows`) and look better
    than the same plan in the joint model: it did, by 290.00 on the 15-person week.
    """
    total = 0
    for data, day_flags in zip(days, flags, strict=True):
        total -= sum(round(data.pitch_value[i] * 100) for i, on in enumerate(day_flags) if on)
        cost = data.switch_cost if data.switch_cost is not None else 0.25 * data.cost_per_hour
        if data.allow_pitch and cost > 0:
            total += round(cost * 100) * sum(1 for a, b in pairwise(day_flags) if a != b)
    return total


def _read_week(
    wm: _WeekModel,
    solver: cp_model.CpSolver,
    status: str,
    elapsed: float,
    greedy_cost: float,
    fixed_pitch: list[tuple[bool, ...]] | None,
    original_days: Sequence[RosterInput],
    bound_cents: float,
) -> WeekRoster:
    """The solved week as a WeekRoster: staffing, shortfalls and their reasons, people's hours."""
    g = wm.grid
    cost_h = wm.days[0].cost_per_hour
    assignments: list[Assignment] = []
    staffed_days, required_days, pitch_days, short_days = [], [], [], []
    pitch_value = 0.0
    explanation: list[str] = []
    for d, data in enumerate(wm.days):
        slots = np.array([solver.value(v) for v in wm.day_floor[d]], dtype=int)
        staffed = interval_staffed(slots, g)
        pitched = list(fixed_pitch[d]) if fixed_pitch is not None else [bool(solver.value(v)) for v in wm.day_pitch[d]]
        required = [
            max(data.need_pitch[i], data.need_no_pitch[i]) if pitched[i] else data.need_no_pitch[i]
            for i in range(g.n_intervals)
        ]
        staffed_days.append(tuple(int(v) for v in staffed))
        pitch_days.append(tuple(pitched))
        required_days.append(tuple(int(v) for v in required))
        short_days.append(tuple(max(0, required[i] - int(staffed[i])) for i in range(g.n_intervals)))
        pitch_value += sum(original_days[d].pitch_value[i] for i in range(g.n_intervals) if pitched[i])
        assignments += _assignments_of_day(wm, solver, d)
        for i in range(g.n_intervals):
            if short_days[-1][i] > 0:
                why = (
                    f"the hall has {data.physical}"
                    if required[i] > data.physical
                    else "not enough staff available then: availability, contract hours, one shift a day"
                )
                explanation.append(
                    f"{wm.labels[d]} {_interval_label(g, i)} needs {required[i]} counters, has {staffed[i]} ({why})"
                )
    hours_by_person = {person.name: 0.0 for person in wm.people}
    closings_by_person = {person.name: 0 for person in wm.people}
    for a in assignments:
        hours_by_person[a.name] += a.hours
        closings_by_person[a.name] += int(a.closing)
    for person in wm.people:
        if hours_by_person[person.name] + 1e-9 < person.min_hours:
            explanation.append(
                f"{person.name} works {hours_by_person[person.name]:g} h, below the contract minimum {person.min_hours:g} h "
                f"(availability: {person.describe_availability()})"
            )
    total_hours = float(sum(a.hours for a in assignments))
    objective = solver.objective_value / 100
    bound = bound_cents / 100
    if fixed_pitch is not None:
        # The fixed windows' margin and switching cost are a constant the week model did not see; in
        # the joint model's cents, so a fixed-pitch plan and the joint bound compare like for like.
        constant = _fixed_pitch_cents(original_days, fixed_pitch) / 100
        objective += constant
        bound += constant
    return WeekRoster(
        status=status,
        objective=objective,
        bound=bound,
        gap=abs(objective - bound) / max(abs(objective), 1.0),
        gap_labour=abs(objective - bound) / max(total_hours * cost_h, 1.0),
        solve_time_s=elapsed,
        assignments=tuple(assignments),
        staffed=tuple(staffed_days),
        required=tuple(required_days),
        pitch=tuple(pitch_days),
        shortfall=tuple(short_days),
        solution_keys=tuple(key for key, v in wm.y.items() if solver.value(v)),
        hours_by_person=hours_by_person,
        closings_by_person=closings_by_person,
        staff_hours=total_hours,
        staff_cost=total_hours * cost_h,
        pitch_value=pitch_value,
        explanation=tuple(explanation),
        greedy_cost=greedy_cost,
    )


def _add_full_hint(
    wm: _WeekModel,
    hint: dict[tuple[int, int, int], int],
    pitch: Sequence[Sequence[bool]] | None,
    workers: int,
    seed: int,
) -> None:
    """Hint every variable, not only who works what: CP-SAT takes a complete, feasible hint as its
    first solution at once, while a partial one it must complete by search (often failing in a
    minute on the 15-person week). The rest is completed by a short solve of a copy of the model
    with those values fixed (break placements, on-floor counts, shortfalls, pitch); if that copy
    finds nothing (a hint breaking a rule), the partial hint is kept."""
    fixed = wm.model.clone()
    for key, v in wm.y.items():
        fixed.add(fixed.get_bool_var_from_proto_index(v.index) == hint.get(key, 0))
    for d, day_pitch in enumerate(wm.day_pitch):
        for i, pv in enumerate(day_pitch):
            fixed.add(fixed.get_bool_var_from_proto_index(pv.index) == int(bool(pitch[d][i]) if pitch else 0))
    solver = seeded_solver(workers, 2.0, seed)
    code = solver.solve(fixed)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for i in range(len(wm.model.proto.variables)):
            wm.model.add_hint(
                wm.model.get_int_var_from_proto_index(i), solver.value(fixed.get_int_var_from_proto_index(i))
            )
        return
    for ykey, v in wm.y.items():
        wm.model.add_hint(v, hint.get(ykey, 0))


def solve_week_roster(
    days: Sequence[RosterInput],
    staff: StaffRules,
    day_labels: Sequence[str] | None = None,
    weekdays: Sequence[int] | None = None,
    close_rel: int | None = None,
    time_limit_s: float = 60.0,
    workers: int = 2,
    seed: int = 1,
    relative_gap: float = 0.005,
    pitch_mode: Literal["two_phase", "joint"] = "two_phase",
    pitch_flags: Sequence[Sequence[bool]] | None = None,
    hint_keys: Sequence[tuple[int, int, int]] | None = None,
    hint_pitch: Sequence[Sequence[bool]] | None = None,
    cuts: tuple[Sequence[float | None], dict[tuple[int, int], float]] | None = None,
) -> WeekRoster:
    """Named-staff week roster.

    Parameters
    ----------
    days : one RosterInput per day (same grid and templates; needs and pitch values per day).
    staff : people and shared rules.
    day_labels : text per day (dates); defaults to weekday names.
    weekdays : weekday (0 = Monday) of each day, for availability; defaults to 0..6.
    close_rel : closing time in minutes since opening; a shift ending there is a closing shift.
    relative_gap : stop once the gap is proven below this (the target is < 1%).
    pitch_mode : ``two_phase`` (default) or ``joint``. Pitch windows are decided jointly with the roster
        either way; ``joint`` is one solve of the exact model, whose LP relaxation pitches
        fractionally and so proves bounds slowly. ``two_phase`` proves per-day bounds, rosters each
        day's own best windows with the named people, searches pitch windows with the joint model
        (cut by those bounds) from that roster, then fixes them and re-solves the (tight) rostering
        model, reporting the result against the best proven bound (see :func:`_two_phase`).
    pitch_flags : fixed pitch flags per day (used by the two-phase steps).
    hint_keys : (person, day, base shift) triples of a previous solution, used as the solution hint
        instead of the greedy roster.
    hint_pitch : that solution's pitch flags per day (with ``hint_keys``; default: no pitching).
    cuts : per-day bounds and per-(day, person) absence bounds already proven for these days
        (:func:`day_bounds`, :func:`absence_bounds`), so the two-phase path computes them once.

    Objective: labour cost − pitch margin + fairness weight × (max − min closings among people who
    can close) + penalties for coverage shortfall, min-on-duty shortfall and contract hours below
    the minimum (soft, so a thin staff list still gets the best partial plan, explained).
    """
    if len(days) == 0:
        raise ValueError("days must hold at least one day")
    weekdays = list(weekdays) if weekdays is not None else [d % 7 for d in range(len(days))]
    if pitch_mode == "two_phase" and pitch_flags is None and any(d.allow_pitch for d in days):
        return _two_phase(days, staff, day_labels, weekdays, close_rel, time_limit_s, workers, seed, relative_gap)
    started = time.perf_counter()
    original_days = list(days)
    fixed_pitch: list[tuple[bool, ...]] | None = None
    if pitch_flags is not None:
        days, fixed_pitch = _fix_pitch(days, pitch_flags)
    grid = days[0].grid
    labels = list(day_labels) if day_labels is not None else [WEEKDAYS[w] for w in weekdays]
    close_rel = close_rel if close_rel is not None else grid.n_slots * grid.slot_min
    # Per-day bounds cut the LP where it is weakest, the fractional pitch decision (see day_bounds):
    # spent only when pitch windows are free (a fixed-pitch week is tight).
    bounds: Sequence[float | None] = []
    absences: dict[tuple[int, int], float] = {}
    if fixed_pitch is None and any(d.allow_pitch for d in days):
        if cuts is not None:
            bounds, absences = cuts
        else:
            bounds = day_bounds(days, staff, weekdays, min(1.5, 0.025 * time_limit_s), workers, seed, close_rel)
    wm = build_week_model(days, staff, labels, weekdays, close_rel, bounds=bounds, absences=absences)
    hint = _greedy_week(days, staff, wm.base, wm.groups, wm.allowed, close_rel)
    greedy_cost = sum(wm.base[j][1] / 60 * days[0].cost_per_hour for (_p, _d, j) in hint)
    if hint_keys is not None:
        hint = {tuple(k): 1 for k in hint_keys}  # type: ignore[misc]
    hint = symmetric_hint(wm.people, wm.base, hint)
    _add_full_hint(wm, hint, hint_pitch if hint_keys is not None and fixed_pitch is None else None, workers, seed)
    solver = seeded_solver(workers, time_limit_s, seed)
    # The gap limit is taken relative to labour cost, not to the objective: when a peak cannot be
    # covered, shortfall penalties dominate the objective and a relative limit would stop at once.
    solver.parameters.absolute_gap_limit = float(relative_gap * max(greedy_cost, 1.0) * 100)
    code = solver.solve(wm.model)
    status = status_name(code)
    # The sum of the day bounds is valid whether or not CP-SAT's own bound has caught up with it.
    # (Only when every day has one: a day's pitch margin can make its part negative.)
    day_sum = sum(b for b in bounds if b is not None) if bounds and all(b is not None for b in bounds) else -math.inf
    bound_cents = max(float(solver.best_objective_bound), day_sum)
    if status == "OPTIMAL" and solver.objective_value - bound_cents > 0.5:
        # CP-SAT says OPTIMAL once the gap limit is reached; say what was proven instead.
        status = "FEASIBLE"
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _no_roster(days, status, elapsed, time_limit_s, greedy_cost)
    return _read_week(wm, solver, status, elapsed, greedy_cost, fixed_pitch, original_days, bound_cents)


def _values_of(
    wm: _WeekModel, keys: Sequence[tuple[int, int, int]], pitch: Sequence[Sequence[bool]], workers: int, seed: int
) -> list[int] | None:
    """Every variable's value for the roster ``keys`` with windows ``pitch`` (break placements,
    on-floor counts, shortfalls completed by a short solve of the model with those fixed)."""
    chosen = set(keys)
    fixed = wm.model.clone()
    for key, v in wm.y.items():
        fixed.add(fixed.get_bool_var_from_proto_index(v.index) == int(key in chosen))
    for d, day_pitch in enumerate(wm.day_pitch):
        for i, pv in enumerate(day_pitch):
            fixed.add(fixed.get_bool_var_from_proto_index(pv.index) == int(bool(pitch[d][i])))
    solver = seeded_solver(workers, 5.0, seed)
    if solver.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [solver.value(fixed.get_int_var_from_proto_index(i)) for i in range(len(wm.model.proto.variables))]


def _day_pair_search(
    wm: _WeekModel,
    keys: Sequence[tuple[int, int, int]],
    pitch: Sequence[Sequence[bool]],
    bounds: Sequence[float | None],
    deadline: float,
    workers: int,
    seed: int,
    step_s: float = 3.0,
    days_free: int = 2,
) -> tuple[list[tuple[int, int, int]], list[list[bool]], float] | None:
    """A better week from a good one: free two days at a time (who works what, breaks and pitch
    windows on those days), keep the other five days as they are, and re-solve; keep any change
    that lowers the week's objective. Returns (roster keys, pitch flags, objective in cents).

    The joint model's bound is proven within seconds (its LP with the day and absence cuts); what
    the rest of its minute buys is search for better rosters, which CP-SAT's generic
    neighbourhoods find slowly on the whole week. Two free days keep each sub-problem small (it
    often solves to optimality in a second or two) while still letting people's weekly hours move
    between the days. Pairs are tried worst first: the days whose own part exceeds their proven
    day bound the most (:func:`day_bounds`) have the most to gain; after an improvement, every pair
    may be tried again. A heuristic only: it never changes what is proven.
    """
    values = _values_of(wm, keys, pitch, workers, seed)
    if values is None:
        return None
    nd = len(wm.days)

    def objective(vals: Sequence[int]) -> int:
        return sum(c * vals[v.index] for c, v in wm.terms)

    def excess(vals: Sequence[int], d: int) -> float:
        own = sum(c * vals[v.index] for c, v in wm.day_terms.get(d, []))
        b = bounds[d] if d < len(bounds) else None
        return own - (b if b is not None else own)

    best = objective(values)
    tried: set[tuple[int, ...]] = set()
    step = 0
    while time.perf_counter() < deadline - 0.5:
        step += 1
        extra = [excess(values, d) for d in range(nd)]
        todo = sorted(
            (
                hood
                for size in range(1, min(days_free, nd) + 1)
                for hood in combinations(range(nd), size)
                if hood not in tried
            ),
            key=lambda hood: (len(hood), -sum(extra[d] for d in hood)),
        )
        if not todo:
            break
        free = set(todo[0])
        tried.add(todo[0])
        m = wm.model.clone()
        for (_p, d, _j), v in wm.y.items():
            if d not in free:
                m.add(m.get_bool_var_from_proto_index(v.index) == values[v.index])
        for d, day_pitch in enumerate(wm.day_pitch):
            if d not in free:
                for pv in day_pitch:
                    m.add(m.get_bool_var_from_proto_index(pv.index) == values[pv.index])
        for i, value in enumerate(values):
            m.add_hint(m.get_int_var_from_proto_index(i), value)
        # A seed per step: a pair tried again after an improvement elsewhere is searched anew.
        solver = seeded_solver(workers, max(0.2, min(step_s, deadline - time.perf_counter())), seed + step)
        if solver.solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE) and solver.objective_value < best - 0.5:
            values = [solver.value(m.get_int_var_from_proto_index(i)) for i in range(len(values))]
            best = objective(values)
            tried.clear()
    chosen = [key for key, v in wm.y.items() if values[v.index]]
    flags = [[bool(values[pv.index]) for pv in day_pitch] for day_pitch in wm.day_pitch]
    return chosen, flags, float(best)


def _two_phase(
    days: Sequence[RosterInput],
    staff: StaffRules,
    day_labels: Sequence[str] | None,
    weekdays: list[int],
    close_rel: int | None,
    time_limit_s: float,
    workers: int,
    seed: int,
    relative_gap: float,
    joint_share: float = 0.35,
) -> WeekRoster:
    """Pitch windows for the week in three solves, the gap reported against the best proven bound.

    0. Bounds, each a small solve: every day alone with its named people (:func:`day_bounds`), and
       each day without each part-timer the week cannot give all their days (:func:`absence_bounds`).
       Their sum bounds the week; as cuts they carry the integral day optima into the joint LP.
    1. Each day's own best windows (from step 0) rostered with the named people, fixed (a tight
       model, solved fast); intervals the week cannot staff stop pitching and it is re-solved. Its
       plan is a safe fallback and the starting point (complete hint) of the joint search.
    2. The joint model (exact; its LP pitches fractionally, so it proves bounds slowly) with those
       cuts searches for pitch windows from that hint and proves a bound valid for the whole problem
       (a third of the time: with every absence bound in, its bound is its LP's, reached in seconds).
    3. From the better of steps 1 and 2, days re-solved one and two at a time with the rest of the
       week fixed (:func:`_day_pair_search`): the search for better rosters and windows.
    4. The rostering model re-solved with the windows found fixed (tight again), hinted with that
       roster.

    The reported bound is the joint model's or the sum of the day bounds, whichever is higher; both
    hold for every roster of the week (see :func:`day_bounds`, :func:`add_absence_cuts`), so the gap
    is honest whatever roster steps 3-4 find. On the ordinary 15-person week (60 s, 2 workers,
    loaded 2-core machine) the bound is about 12,459 from second 30 on, and the day search takes
    the objective from about 12,605 to 12,530-12,550 (gap 0.56-0.70%); CP-SAT alone on the joint
    model reached 12,572 only after 300 s.
    """
    started = time.perf_counter()
    n_int = len(days[0].need_no_pitch)
    grid = days[0].grid
    close = close_rel if close_rel is not None else grid.n_slots * grid.slot_min
    common = dict(day_labels=day_labels, weekdays=weekdays, close_rel=close, workers=workers, seed=seed)
    per_day = _day_bounds_and_windows(days, staff, weekdays, min(3.0, 0.05 * time_limit_s), workers, seed, close)
    bounds = [bnd for bnd, _flags in per_day]
    # One worker each: these small models solve about as fast alone, with less overhead.
    absences = absence_bounds(
        days, staff, weekdays, close, min(1.5, 0.025 * time_limit_s), 1, seed,
        deadline=started + 0.3 * time_limit_s,
    )  # fmt: skip
    # Start: each day's own best windows, rostered with the named people; where the week's people
    # cannot staff a window (weekly hours, days), that interval stops pitching and the roster is
    # re-solved: a feasible plan close to the day optima, in a few seconds.
    windows = [flags if flags is not None else [False] * n_int for _bnd, flags in per_day]
    trial = solve_week_roster(
        days,
        staff,
        time_limit_s=max(1.0, time_limit_s * 0.08),
        relative_gap=relative_gap,
        pitch_mode="joint",
        pitch_flags=windows,
        **common,  # type: ignore[arg-type]
    )
    if trial.feasible:
        windows = [
            [bool(on and short == 0) for on, short in zip(day_flags, day_short, strict=True)]
            for day_flags, day_short in zip(trial.pitch, trial.shortfall, strict=True)
        ]
    start = solve_week_roster(
        days,
        staff,
        time_limit_s=max(1.0, time_limit_s * 0.08),
        relative_gap=relative_gap,
        pitch_mode="joint",
        pitch_flags=windows,
        hint_keys=trial.solution_keys if trial.feasible else None,
        **common,  # type: ignore[arg-type]
    )
    # The joint model proves its bound within seconds (its LP with the cuts), but only once its LP is
    # solved: at least 15% of the time even when the steps above ran long on a loaded machine (cut
    # shorter, the bound fell back to the day sum, 12,382 against 12,459 on the ordinary week). The
    # day search below uses most of the rest.
    left = max(1.0, time_limit_s * 0.15, time_limit_s * joint_share - (time.perf_counter() - started))
    joint = solve_week_roster(
        days,
        staff,
        time_limit_s=left,
        relative_gap=relative_gap,
        pitch_mode="joint",
        hint_keys=start.solution_keys if start.feasible else None,
        hint_pitch=start.pitch,
        cuts=(bounds, absences),
        **common,  # type: ignore[arg-type]
    )
    candidates = [r for r in (start, joint) if r.feasible and r.objective is not None]
    if candidates:
        # From the better of the two, two days at a time (_day_pair_search); then the roster is
        # re-solved with the windows found fixed (tight), hinted with the search's roster.
        seed_plan = min(candidates, key=lambda r: r.objective if r.objective is not None else math.inf)
        windows, keys = [list(f) for f in seed_plan.pitch], list(seed_plan.solution_keys)
        labels = list(day_labels) if day_labels is not None else [WEEKDAYS[w] for w in weekdays]
        searched = _day_pair_search(
            build_week_model(days, staff, labels, weekdays, close),
            keys,
            windows,
            bounds,
            started + time_limit_s * 0.92,
            workers,
            seed,
        )
        if searched is not None:
            keys, windows, _cents = searched
        left = max(1.0, time_limit_s - (time.perf_counter() - started))
        fixed = solve_week_roster(
            days,
            staff,
            time_limit_s=left,
            relative_gap=relative_gap,
            pitch_mode="joint",
            pitch_flags=windows,
            hint_keys=keys,
            **common,  # type: ignore[arg-type]
        )
        if fixed.feasible:
            candidates.append(fixed)
    if not candidates:
        return joint
    best = min(candidates, key=lambda r: r.objective if r.objective is not None else math.inf)
    assert best.objective is not None
    day_sum = sum(b for b in bounds if b is not None) / 100 if all(b is not None for b in bounds) else -math.inf
    bound = max(joint.bound if joint.bound is not None else -math.inf, day_sum)
    if not math.isfinite(bound):
        return replace(best, solve_time_s=time.perf_counter() - started)
    gap = abs(best.objective - bound) / max(abs(best.objective), 1.0)
    status = "OPTIMAL" if best.objective - bound < 0.005 else "FEASIBLE"
    note = (
        f"pitch windows searched by the joint model from each day's own best windows rostered with the named people "
        f"(objective {start.objective or 0:,.2f}; joint model {joint.objective or 0:,.2f}), then days re-solved one "
        f"and two at a time with the rest of the week fixed, then the named roster re-solved with the chosen windows "
        f"fixed; bound {bound:,.2f}: the better of the joint "
        f"model's ({joint.bound or 0:,.2f}) and the sum of the days' own bounds ({day_sum:,.2f}: each day alone "
        f"with its named people; {len(absences)} bounds of a day without someone the week cannot give all their available days cut the joint model too)"
    )
    return replace(
        best,
        status=status,
        bound=bound,
        gap=gap,
        gap_labour=abs(best.objective - bound) / max(best.staff_cost, 1.0),
        solve_time_s=time.perf_counter() - started,
        explanation=(*best.explanation, note),
    )


def _interval_label(grid: Grid, i: int) -> str:
    step = grid.per_interval * grid.slot_min
    a = grid.open_min + i * step
    return f"{format_clock(a)}-{format_clock(a + step)}"
