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
- a greedy roster is passed as a solution hint.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from simulation import format_clock
from simulation.scenario import WEEKDAYS

from .roster import RosterInput, add_coverage, add_min_on_duty, add_pitch_windows, status_name
from .shifts import Grid, ShiftTemplate, coverage_matrix, greedy_cover, interval_staffed
from .staff import StaffRules

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


def aggregate_bound(
    days: Sequence[RosterInput],
    staff: StaffRules,
    weekdays: Sequence[int],
    time_limit_s: float,
    workers: int,
    seed: int,
) -> float | None:
    """A proven lower bound on the week objective from an aggregate (anonymous) relaxation.

    People become counts: per day and base shift at most as many as are available for it, per day
    at most as many as work that day, on the floor never more than the hall; weekly hours at most
    the sum of contract maxima, and the contract-minimum penalty applied to the total shortfall
    below the sum of minima (never more than the per-person penalties). Fairness (≥ 0) is dropped.
    Every named roster is feasible here at no higher objective, so this model's proven bound is a
    bound for the week. It keeps shift lengths and pitch decisions integral — exactly what the
    named model's LP relaxes — so it is much tighter on the pitch decision.
    """
    grid = days[0].grid
    templates = days[0].templates
    base, groups = _base_shifts(templates)
    cov = coverage_matrix(templates, grid)
    cost_h = days[0].cost_per_hour
    longest = max((t.length for t in templates), default=60)
    penalty = max(1, round(longest / 60 * max(cost_h, 1.0) * 100) * 1000)
    model = cp_model.CpModel()
    terms: list[tuple[int, cp_model.IntVar]] = []
    hours_terms = []
    for d, data in enumerate(days):
        wd = weekdays[d]
        x = [model.new_int_var(0, len(staff.staff), f"agg[{d},{t.label(grid.open_min)}]") for t in templates]
        day_total = []
        for start, length in base:
            avail = sum(
                1 for p in staff.staff if p.available(wd, grid.open_min + start, grid.open_min + start + length)
            )
            group = [x[k] for k in groups[(start, length)]]
            model.add(sum(group) <= avail)
            day_total.extend(group)
        workers_today = sum(1 for p in staff.staff if p.availability[wd] and p.max_days > 0)
        model.add(sum(day_total) <= workers_today)
        on_floor = []
        for s in range(grid.n_slots):
            v = model.new_int_var(0, data.physical, f"agg_floor[{d},{s}]")
            model.add(v == sum(x[int(k)] for k in np.flatnonzero(cov[:, s])))
            on_floor.append(v)
        _short, pitch, cov_terms = add_coverage(model, data, on_floor, penalty)
        _lack, duty_terms = add_min_on_duty(model, data, on_floor, penalty)
        terms += cov_terms + duty_terms + add_pitch_windows(model, data, pitch)
        for k, t in enumerate(templates):
            terms.append((round(t.length / 60 * cost_h * 100), x[k]))
            hours_terms.append(t.length * x[k])
    total = sum(hours_terms)
    model.add(total <= round(sum(p.max_hours for p in staff.staff) * 60))
    min_total = round(sum(p.min_hours for p in staff.staff) * 60)
    if min_total > 0:
        under = model.new_int_var(0, min_total, "agg_under_contract")
        model.add(total + under >= min_total)
        terms.append((max(1, penalty // (10 * 60)), under))
    model.minimize(sum(c * v for c, v in terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(workers)
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.random_seed = int(seed)
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return float(solver.best_objective_bound) / 100


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
        fractionally and so proves bounds slowly (≈3% on a 15-person week in 60 s).
        ``two_phase`` spends 85% of the time on the joint model, then fixes its pitch windows and
        re-solves the (tight) rostering model, reporting the result against the joint bound.
    pitch_flags : fixed pitch flags per day (used by the two-phase steps).
    hint_keys : (person, day, base shift) triples of a previous solution, used as the solution hint
        instead of the greedy roster.

    Objective: labour cost − pitch margin + fairness weight × (max − min closings among people who
    can close) + penalties for coverage shortfall, min-on-duty shortfall and contract hours below
    the minimum (soft, so a thin staff list still gets the best partial plan, explained).
    """
    started = time.perf_counter()
    nd = len(days)
    if nd == 0:
        raise ValueError("days must hold at least one day")
    if pitch_mode == "two_phase" and pitch_flags is None and any(d.allow_pitch for d in days):
        # 1. Roster without pitching: a tight model, solved fast; its plan is a safe fallback and
        #    the starting point (hint) of the joint search, so the result is never worse than it.
        # 2. The joint model (exact; its LP pitches fractionally, so it proves bounds slowly)
        #    searches for pitch windows from that hint and proves a bound valid for the whole problem.
        # 3. The rostering model re-solved with the joint model's windows fixed (tight again).
        # The best plan is reported against the joint bound, so the gap is honest.
        n_int = len(days[0].need_no_pitch)
        no_pitch = solve_week_roster(
            days,
            staff,
            day_labels,
            weekdays,
            close_rel,
            time_limit_s * 0.15,
            workers,
            seed,
            relative_gap,
            "joint",
            [[False] * n_int for _ in days],
        )
        agg = aggregate_bound(
            days,
            staff,
            weekdays if weekdays is not None else [d % 7 for d in range(len(days))],
            time_limit_s * 0.15,
            workers,
            seed,
        )
        left = max(1.0, time_limit_s * 0.85 - (time.perf_counter() - started))
        joint = solve_week_roster(
            days,
            staff,
            day_labels,
            weekdays,
            close_rel,
            left,
            workers,
            seed,
            relative_gap,
            "joint",
            hint_keys=no_pitch.solution_keys,
        )
        candidates = [r for r in (no_pitch, joint) if r.feasible and r.objective is not None]
        if joint.feasible:
            left = max(1.0, time_limit_s - (time.perf_counter() - started))
            fixed = solve_week_roster(
                days,
                staff,
                day_labels,
                weekdays,
                close_rel,
                left,
                workers,
                seed,
                relative_gap,
                "joint",
                joint.pitch,
                hint_keys=joint.solution_keys,
            )
            if fixed.feasible:
                candidates.append(fixed)
        if not candidates:
            return joint
        best = min(candidates, key=lambda r: r.objective if r.objective is not None else math.inf)
        assert best.objective is not None
        bound = max(joint.bound if joint.bound is not None else -math.inf, agg if agg is not None else -math.inf)
        if not math.isfinite(bound):
            return replace(best, solve_time_s=time.perf_counter() - started)
        gap = abs(best.objective - bound) / max(abs(best.objective), 1.0)
        status = "OPTIMAL" if best.objective - bound < 0.005 else "FEASIBLE"
        note = (
            f"pitch windows searched by the joint model from the no-pitch roster (objective {no_pitch.objective or 0:,.2f}), "
            f"then the named roster re-solved with the chosen windows fixed; bound {bound:,.2f}: the better of the joint "
            f"model's ({joint.bound or 0:,.2f}) and the aggregate relaxation's ({agg or 0:,.2f})"
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
    fixed_pitch: list[tuple[bool, ...]] | None = None
    if pitch_flags is not None:
        fixed_pitch = []
        fixed_days = []
        for data, flags_d in zip(days, pitch_flags, strict=True):
            flags = tuple(bool(v) for v in flags_d)
            fixed_pitch.append(flags)
            need = tuple(
                max(data.need_pitch[i], data.need_no_pitch[i]) if flags[i] else data.need_no_pitch[i]
                for i in range(len(flags))
            )
            fixed_days.append(replace(data, need_no_pitch=need, need_pitch=need, allow_pitch=False))
        original_days = list(days)
        days = fixed_days
    grid = days[0].grid
    templates = days[0].templates
    weekdays = list(weekdays) if weekdays is not None else [d % 7 for d in range(nd)]
    labels = list(day_labels) if day_labels is not None else [WEEKDAYS[w] for w in weekdays]
    close_rel = close_rel if close_rel is not None else grid.n_slots * grid.slot_min
    people = staff.staff
    cost_h = days[0].cost_per_hour
    base, groups = _base_shifts(templates)
    cov = coverage_matrix(templates, grid)
    model = cp_model.CpModel()
    longest = max((t.length for t in templates), default=60)
    penalty = max(1, round(longest / 60 * max(cost_h, 1.0) * 100) * 1000)

    # Person-day-shift Booleans, only where the person is available for the whole shift.
    y: dict[tuple[int, int, int], cp_model.IntVar] = {}
    allowed: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p, person in enumerate(people):
        for d in range(nd):
            for j, (start, length) in enumerate(base):
                closing = start + length >= close_rel
                if closing and not person.can_close:
                    continue
                if not person.available(weekdays[d], grid.open_min + start, grid.open_min + start + length):
                    continue
                y[(p, d, j)] = model.new_bool_var(
                    f"works[{person.name},{labels[d]},{format_clock(grid.open_min + start)}+{length / 60:g}h]"
                )
                allowed[(d, j)].append(p)

    terms: list[tuple[int, cp_model.IntVar]] = []
    # Family: one shift a day, max days.
    for p, person in enumerate(people):
        worked_days = []
        for d in range(nd):
            vars_d = [y[(p, d, j)] for j in range(len(base)) if (p, d, j) in y]
            if vars_d:
                model.add_at_most_one(vars_d)
                worked_days.extend(vars_d)
        if person.max_days < nd and worked_days:
            model.add(sum(worked_days) <= person.max_days)

    # Family: minimum rest between consecutive days' shifts.
    rest = round(staff.min_rest_hours * 60)
    for p in range(len(people)):
        for d in range(nd - 1):
            for j, (s1, l1) in enumerate(base):
                if (p, d, j) not in y:
                    continue
                clash = [
                    y[(p, d + 1, j2)]
                    for j2, (s2, _l2) in enumerate(base)
                    if (p, d + 1, j2) in y and (24 * 60 + s2) - (s1 + l1) < rest
                ]
                for v in clash:
                    model.add_bool_or([y[(p, d, j)].Not(), v.Not()])

    # Family: contract hours (max hard, min soft).
    hours_expr = {}
    for p, person in enumerate(people):
        expr = sum(base[j][1] * y[(p, d, j)] for d in range(nd) for j in range(len(base)) if (p, d, j) in y)
        hours_expr[p] = expr
        model.add(expr <= round(person.max_hours * 60))
        if person.min_hours > 0:
            under = model.new_int_var(0, round(person.min_hours * 60), f"under_contract[{person.name}]")
            model.add(expr + under >= round(person.min_hours * 60))
            # Per missing minute: far above cost, below a coverage shortfall.
            terms.append((max(1, penalty // (10 * 60)), under))

    # Family: labour cost.
    for (_p, _d, j), v in y.items():
        terms.append((round(base[j][1] / 60 * cost_h * 100), v))

    # Family: aggregate coverage per day with breaks placed in aggregate.
    day_pitch: list[list[cp_model.IntVar]] = []
    day_short: list[list[cp_model.IntVar]] = []
    day_floor: list[list[cp_model.IntVar]] = []
    day_x: list[list[cp_model.IntVar]] = []
    for d, data in enumerate(days):
        x_k = [
            model.new_int_var(0, len(people), f"on_template[{labels[d]},{t.label(grid.open_min)}]") for t in templates
        ]
        day_x.append(x_k)
        for j, key in enumerate(base):
            count = sum(y[(p, d, j)] for p in allowed.get((d, j), []))
            model.add(sum(x_k[k] for k in groups[key]) == count)
        on_floor = []
        for s in range(grid.n_slots):
            v = model.new_int_var(
                0, data.physical, f"on_floor[{labels[d]},{format_clock(grid.open_min + s * grid.slot_min)}]"
            )
            model.add(v == sum(x_k[k] for k in np.flatnonzero(cov[:, s])))
            on_floor.append(v)
        short, pitch, cov_terms = add_coverage(model, data, on_floor, penalty)
        _lack, duty_terms = add_min_on_duty(model, data, on_floor, penalty)
        terms += cov_terms + duty_terms + add_pitch_windows(model, data, pitch)
        day_pitch.append(pitch)
        day_short.append(short)
        day_floor.append(on_floor)

    # Family: fair closings (spread between the most and least closings among those who can close).
    # Only people who could close at least once this week share the closings (a mornings-only
    # part-timer is not "unfairly" spared).
    closing_vars: dict[int, list[cp_model.IntVar]] = {
        p: [
            y[(p, d, j)]
            for d in range(nd)
            for j, (st, ln) in enumerate(base)
            if st + ln >= close_rel and (p, d, j) in y
        ]
        for p in range(len(people))
    }
    closers = [p for p in range(len(people)) if closing_vars[p]]
    closings = {p: sum(closing_vars[p]) for p in closers}
    if len(closers) > 1 and staff.fair_closing_weight > 0:
        most = model.new_int_var(0, nd, "closings_max")
        least = model.new_int_var(0, nd, "closings_min")
        for p in closers:
            model.add(most >= closings[p])
            model.add(least <= closings[p])
        spread = model.new_int_var(0, nd, "closings_spread")
        model.add(spread == most - least)
        terms.append((round(staff.fair_closing_weight * cost_h * 100), spread))

    model.minimize(sum(c * v for c, v in terms))
    hint = _greedy_week(days, staff, base, groups, allowed, close_rel)
    greedy_cost = sum(base[j][1] / 60 * cost_h for (_p, _d, j) in hint)
    if hint_keys is not None:
        hint = {tuple(k): 1 for k in hint_keys}  # type: ignore[misc]
    for ykey, v in y.items():
        model.add_hint(v, hint.get(ykey, 0))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(workers)
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.random_seed = int(seed)
    # The gap limit is taken relative to labour cost, not to the objective: when a peak cannot be
    # covered, shortfall penalties dominate the objective and a relative limit would stop at once.
    solver.parameters.absolute_gap_limit = float(relative_gap * max(greedy_cost, 1.0) * 100)
    code = solver.solve(model)
    status = status_name(code)
    if status == "OPTIMAL" and solver.objective_value - solver.best_objective_bound > 0.5:
        # CP-SAT says OPTIMAL once the relative gap limit is reached; say what was proven instead.
        status = "FEASIBLE"
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return WeekRoster(
            status=status,
            objective=None,
            bound=None,
            gap=None,
            solve_time_s=elapsed,
            assignments=(),
            staffed=tuple((0,) * grid.n_intervals for _ in days),
            required=tuple(tuple(d.need_no_pitch) for d in days),
            pitch=tuple((False,) * grid.n_intervals for _ in days),
            shortfall=tuple(tuple(d.need_no_pitch) for d in days),
            hours_by_person={},
            closings_by_person={},
            staff_hours=0.0,
            staff_cost=0.0,
            pitch_value=0.0,
            explanation=(f"CP-SAT returned {status} within {time_limit_s:g} s: no roster found",),
            greedy_cost=greedy_cost,
        )

    # Read the solution; hand the aggregate break slots to the people on each base shift in turn.
    assignments: list[Assignment] = []
    staffed_days, required_days, pitch_days, short_days = [], [], [], []
    pitch_value = 0.0
    explanation: list[str] = []
    for d, data in enumerate(days):
        slots = np.array([solver.value(v) for v in day_floor[d]], dtype=int)
        staffed = interval_staffed(slots, grid)
        pitched = list(fixed_pitch[d]) if fixed_pitch is not None else [bool(solver.value(v)) for v in day_pitch[d]]
        required = [
            max(data.need_pitch[i], data.need_no_pitch[i]) if pitched[i] else data.need_no_pitch[i]
            for i in range(grid.n_intervals)
        ]
        staffed_days.append(tuple(int(v) for v in staffed))
        pitch_days.append(tuple(pitched))
        required_days.append(tuple(int(v) for v in required))
        short_days.append(tuple(max(0, required[i] - int(staffed[i])) for i in range(grid.n_intervals)))
        values = original_days[d].pitch_value if fixed_pitch is not None else data.pitch_value
        pitch_value += sum(values[i] for i in range(grid.n_intervals) if pitched[i])
        for j, key in enumerate(base):
            workers_j = [p for p in allowed.get((d, j), []) if solver.value(y[(p, d, j)])]
            breaks: list[int | None] = []
            for k in groups[key]:
                breaks.extend([templates[k].break_start] * int(solver.value(day_x[d][k])))
            for idx, p in enumerate(workers_j):
                start, length = key
                b = breaks[idx] if idx < len(breaks) else None
                assignments.append(
                    Assignment(
                        name=people[p].name,
                        day=d,
                        day_label=labels[d],
                        start=format_clock(grid.open_min + start),
                        end=format_clock(grid.open_min + start + length),
                        break_start=format_clock(grid.open_min + b) if b is not None else None,
                        hours=length / 60,
                        closing=start + length >= close_rel,
                    )
                )
        for i in range(grid.n_intervals):
            if short_days[-1][i] > 0:
                why = (
                    f"the hall has {data.physical}"
                    if required[i] > data.physical
                    else "not enough staff available then: availability, contract hours, one shift a day"
                )
                explanation.append(
                    f"{labels[d]} {_interval_label(grid, i)} needs {required[i]} counters, has {staffed[i]} ({why})"
                )
    hours_by_person = {person.name: 0.0 for person in people}
    closings_by_person = {person.name: 0 for person in people}
    for a in assignments:
        hours_by_person[a.name] += a.hours
        closings_by_person[a.name] += int(a.closing)
    for person in people:
        if hours_by_person[person.name] + 1e-9 < person.min_hours:
            explanation.append(
                f"{person.name} works {hours_by_person[person.name]:g} h, below the contract minimum {person.min_hours:g} h "
                f"(availability: {person.describe_availability()})"
            )
    total_hours = float(sum(a.hours for a in assignments))
    objective = solver.objective_value / 100
    bound = solver.best_objective_bound / 100
    if fixed_pitch is not None:
        # The pitch margin of the fixed windows is a constant the week model did not see.
        objective -= pitch_value
        bound -= pitch_value
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
        solution_keys=tuple(key for key, v in y.items() if solver.value(v)),
        hours_by_person=hours_by_person,
        closings_by_person=closings_by_person,
        staff_hours=total_hours,
        staff_cost=total_hours * cost_h,
        pitch_value=pitch_value,
        explanation=tuple(explanation),
        greedy_cost=greedy_cost,
    )


def _interval_label(grid: Grid, i: int) -> str:
    step = grid.per_interval * grid.slot_min
    a = grid.open_min + i * step
    return f"{format_clock(a)}-{format_clock(a + step)}"
