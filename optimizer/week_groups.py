"""The named-staff week for a hall with counter groups: one CP-SAT model across groups.

Each person works the counters of their own group (``group:`` in the staff file). The week is one
model, not one per group, because three things couple the groups every day:

- the hall: the counters of all groups on the floor at once never exceed ``counters.physical``
  (one cap on the sum per slot, instead of fixed shares per group);
- the shift rules' minimum on duty counts everybody on the floor (store-wide);
- the pitch rule: cross-selling is a store policy (a suspend window applies to every counter), so one
  pitch flag per (day, interval) is shared by all groups; where it pitches, every group must cover
  its need *with* pitching, and the flag earns the store's expected margin there.

Per person, as in the one-pool week (:mod:`optimizer.week`, whose builders this module reuses):
availability, at most one shift a day, days worked, minimum rest, contract hours (maximum hard,
minimum soft) and a fair share of closings (here among the people of each group: tellers close the
tellers' desks). Who works is one Boolean per (person, day, base shift); break placement is decided
in aggregate per (day, group, base shift), as in the one-pool week.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from ortools.sat.python import cp_model

from simulation import format_clock
from simulation.scenario import WEEKDAYS

from .roster import RosterInput, add_pitch_windows, canonical_solution, seeded_solver, status_name
from .shifts import coverage_matrix, interval_staffed
from .staff import StaffRules
from .week import (
    Assignment,
    WeekRoster,
    _add_full_hint,
    _base_shifts,
    _greedy_week,
    _interval_label,
    _penalty,
    _WeekModel,
    add_contract_hours,
    add_days_worked,
    add_fair_closings,
    add_labour_cost,
    add_min_rest,
    add_person_days,
    add_symmetry_breaking,
    day_assignments,
    empty_week,
    symmetric_hint,
)

__all__ = ["GroupWeekRoster", "solve_week_group_roster"]

PitchChoice = Literal["decide", "always", "never"]


@dataclass(frozen=True)
class GroupWeekRoster:
    """A solved week across groups: the store's roster (sums per day and interval, every assignment
    tagged by its group, the whole model's status/objective/bound/gap) and each group's own.

    A group's :class:`WeekRoster` carries its people's assignments, its staffed/required/shortfall per
    day and interval, the store's pitch flags, and as ``objective`` its own labour and shortfall
    cost (no bound: a bound exists only for the whole model).
    """

    store: WeekRoster
    groups: tuple[WeekRoster, ...]
    names: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return self.store.feasible


@dataclass
class _GroupVars:
    """The per-group families on top of the one-pool week model."""

    member: list[int]
    """Group index of each person's own group."""
    n_groups: int
    can: list[tuple[int, ...]] = field(default_factory=list)
    """Group indices each person can work, their own first (skills); just their own if empty."""
    z: dict[tuple[int, int, int, int], cp_model.IntVar] = field(default_factory=dict)
    """(person, day, base shift, group) → that shift of a person with several groups goes to that group."""
    floors: list[list[list[cp_model.IntVar]]] = field(default_factory=list)
    """[day][group][slot]: that group's counters on the floor."""
    group_x: list[list[list[cp_model.IntVar]]] = field(default_factory=list)
    """[day][group][template]: that group's people on each template (break placement in aggregate)."""
    shorts: list[list[list[cp_model.IntVar]]] = field(default_factory=list)
    """[day][group][interval]: counters missing."""
    flags: list[list[cp_model.IntVar]] = field(default_factory=list)
    """[day][interval]: the store's pitch flag."""


def add_group_coverage(
    wm: _WeekModel,
    gv: _GroupVars,
    days: Sequence[Sequence[RosterInput]],
    physical: int,
    pitch: PitchChoice,
    pitch_flags: Sequence[Sequence[bool]] | None,
) -> None:
    """Per day: each group's people on each base shift split over its break placements, each group's
    counters on the floor per slot, the hall's cap on their sum, the store-wide minimum on duty, one
    pitch flag per interval for every group, and each group's coverage of its need in force.

    ``pitch_flags`` fixes the flags (a re-roster after verification keeps the chosen windows); then a
    shortfall in a pitching interval is priced, not forbidden (the windows are decided).
    """
    g = wm.grid
    cov = coverage_matrix(wm.templates, g)
    m = wm.model
    can = gv.can
    for d, store in enumerate(wm.days):
        label = wm.labels[d]
        day_floor: list[list[cp_model.IntVar]] = []
        day_x: list[list[cp_model.IntVar]] = []
        for gi in range(gv.n_groups):
            x_k = [
                m.new_int_var(0, len(wm.people), f"on_template[{label},g{gi},{t.label(g.open_min)}]")
                for t in wm.templates
            ]
            for j, key in enumerate(wm.base):
                count = sum(
                    wm.y[(p, d, j)] if len(can[p]) == 1 else gv.z[(p, d, j, gi)]
                    for p in wm.allowed.get((d, j), [])
                    if gi in can[p]
                )
                m.add(sum(x_k[k] for k in wm.groups[key]) == count)
            floor = []
            for s in range(g.n_slots):
                v = m.new_int_var(0, physical, f"on_floor[{label},g{gi},{format_clock(g.open_min + s * g.slot_min)}]")
                m.add(v == sum(x_k[int(k)] for k in np.flatnonzero(cov[:, s])))
                floor.append(v)
            day_floor.append(floor)
            day_x.append(x_k)
        terms: list[tuple[int, cp_model.IntVar]] = []
        for s in range(g.n_slots):
            m.add(sum(f[s] for f in day_floor) <= physical)
            if store.min_on_duty > 0:
                lack = m.new_int_var(
                    0, store.min_on_duty, f"below_min_on_duty[{label},{format_clock(g.open_min + s * g.slot_min)}]"
                )
                m.add(sum(f[s] for f in day_floor) + lack >= store.min_on_duty)
                terms.append((wm.penalty, lack))
        flags = []
        for i in range(g.n_intervals):
            p = m.new_bool_var(f"pitch[{label},{format_clock(g.open_min + i * g.per_interval * g.slot_min)}]")
            if pitch_flags is not None:
                m.add(p == int(bool(pitch_flags[d][i])))
            elif pitch == "never" or (pitch == "decide" and store.pitch_value[i] <= 0):
                m.add(p == 0)
            elif pitch == "always":
                m.add(p == 1)
            terms.append((-round(store.pitch_value[i] * 100), p))
            flags.append(p)
        day_short: list[list[cp_model.IntVar]] = []
        for gi, data in enumerate(days[d]):
            shorts = []
            for i in range(g.n_intervals):
                lo, hi = data.need_no_pitch[i], max(data.need_pitch[i], data.need_no_pitch[i])
                sh = m.new_int_var(0, max(hi, 0), f"short[{label},g{gi},{i}]")
                for s in range(i * g.per_interval, (i + 1) * g.per_interval):
                    m.add(day_floor[gi][s] + sh >= lo + (hi - lo) * flags[i])
                if pitch == "decide" and pitch_flags is None:
                    m.add(sh == 0).only_enforce_if(flags[i])  # no pitching where any group is short
                # A flat price per missing counter-interval, as in the one-pool week (the convex
                # terms of the day roster slow the week's search far too much).
                terms.append((wm.penalty, sh))
                shorts.append(sh)
            day_short.append(shorts)
        terms += add_pitch_windows(m, replace(store, allow_pitch=pitch == "decide" or pitch_flags is not None), flags)
        wm.terms += terms
        wm.day_terms[d] += terms
        wm.day_pitch.append(flags)
        gv.floors.append(day_floor)
        gv.group_x.append(day_x)
        gv.shorts.append(day_short)
        gv.flags.append(flags)


def add_group_skills(wm: _WeekModel, gv: _GroupVars) -> None:
    """A shift of someone who can work several groups goes to exactly one of them (chosen per shift)."""
    for (p, d, j), y in wm.y.items():
        if len(gv.can[p]) > 1:
            for gi in gv.can[p]:
                gv.z[(p, d, j, gi)] = wm.model.new_bool_var(f"works[{wm.people[p].name},{wm.labels[d]},{j},g{gi}]")
            wm.model.add(sum(gv.z[(p, d, j, gi)] for gi in gv.can[p]) == y)


def add_group_fair_closings(wm: _WeekModel, gv: _GroupVars, weight: float) -> None:
    """The closing spread among each group's own people (the one-pool builder on each group's part)."""
    for gi in range(gv.n_groups):
        view = replace(wm, y={k: v for k, v in wm.y.items() if gv.member[k[0]] == gi}, terms=[])
        add_fair_closings(view, weight)
        wm.terms += view.terms


def _group_hint(
    wm: _WeekModel,
    gv: _GroupVars,
    days: Sequence[Sequence[RosterInput]],
    staff: StaffRules,
) -> dict[tuple[int, int, int], int]:
    """Each group's greedy week from its own people (fewest hours first), in the week's indices."""
    hint: dict[tuple[int, int, int], int] = {}
    for gi in range(gv.n_groups):
        members = [p for p in range(len(wm.people)) if gv.member[p] == gi]
        if not members:
            continue
        local = {p: q for q, p in enumerate(members)}
        allowed = {key: [local[p] for p in ps if p in local] for key, ps in wm.allowed.items()}
        pool = StaffRules(tuple(wm.people[p] for p in members), staff.min_rest_hours, staff.fair_closing_weight)
        group_days = [replace(days[d][gi], min_on_duty=0) for d in range(len(days))]
        for (q, d, j), v in _greedy_week(group_days, pool, wm.base, wm.groups, allowed, wm.close_rel).items():
            hint[(members[q], d, j)] = v
    return hint


def build_week_groups_model(
    days: Sequence[Sequence[RosterInput]],
    staff: StaffRules,
    member: Sequence[int],
    labels: list[str],
    weekdays: list[int],
    close_rel: int,
    physical: int,
    min_on_duty: int | Sequence[int],
    pitch_value: Sequence[Sequence[float]],
    pitch: PitchChoice,
    pitch_flags: Sequence[Sequence[bool]] | None = None,
    can: Sequence[tuple[int, ...]] | None = None,
) -> tuple[_WeekModel, _GroupVars]:
    """The joint week model, family by family (the one-pool builders, then the group families)."""
    store_days = [
        replace(
            days[d][0],
            physical=physical,
            min_on_duty=min_on_duty if isinstance(min_on_duty, int) else int(min_on_duty[d]),
            pitch_value=tuple(float(v) for v in pitch_value[d]),
            allow_pitch=pitch != "never",
        )
        for d in range(len(days))
    ]
    base, shift_groups = _base_shifts(store_days[0].templates)
    wm = _WeekModel(
        cp_model.CpModel(), store_days, staff.staff, labels, weekdays, close_rel, base, shift_groups,
        _penalty(store_days),
    )  # fmt: skip
    gv = _GroupVars(list(member), len(days[0]), list(can) if can is not None else [(gi,) for gi in member])
    add_person_days(wm)
    add_days_worked(wm)
    add_min_rest(wm, staff.min_rest_hours)
    add_contract_hours(wm)
    add_labour_cost(wm)
    add_group_skills(wm, gv)
    add_group_coverage(wm, gv, days, physical, pitch, pitch_flags)
    add_group_fair_closings(wm, gv, staff.fair_closing_weight)
    add_symmetry_breaking(wm)  # classes include the group, so swaps stay within a group
    wm.model.minimize(sum(c * v for c, v in wm.terms))
    return wm, gv


def solve_week_group_roster(
    days: Sequence[Sequence[RosterInput]],
    staff: StaffRules,
    names: Sequence[str],
    physical: int,
    min_on_duty: int | Sequence[int],
    pitch_value: Sequence[Sequence[float]],
    pitch: PitchChoice = "decide",
    day_labels: Sequence[str] | None = None,
    weekdays: Sequence[int] | None = None,
    close_rel: int | None = None,
    time_limit_s: float = 60.0,
    workers: int = 2,
    seed: int = 1,
    relative_gap: float = 0.005,
    pitch_flags: Sequence[Sequence[bool]] | None = None,
    hint_keys: Sequence[tuple[int, int, int]] | None = None,
    hint_pitch: Sequence[Sequence[bool]] | None = None,
) -> GroupWeekRoster:
    """The named-staff week of every group at once, with one pitch flag per (day, interval).

    Parameters
    ----------
    days : per day, one :class:`RosterInput` per group (same grid and templates): that group's need
        per interval without and with pitching, its customers and the staff cost. Their ``physical``,
        ``min_on_duty`` and ``pitch_value`` are ignored: the store's are the arguments.
    staff : the people; each one's ``group`` (and ``also``: other groups they can work, skills) must
        be among ``names`` (the caller narrows the rest). A shift of someone with several groups goes
        to one of them, chosen by the model.
    names : the groups, in the order of each day's inputs.
    physical : the hall's counters: the cap on the groups' sum per slot.
    min_on_duty : people on the floor in every slot, everybody counted (store-wide), soft like the
        coverage; one number, or one per day (0 on a day the store has no customers).
    pitch_value : per day and interval, the store's expected pitch margin if it pitches.
    pitch : ``decide`` (a flag is chosen where its margin pays for the extra staff summed over the
        groups, never where a group is short), ``always`` or ``never``.
    pitch_flags : fixed flags per day (a re-roster after verification keeps the chosen windows).
    hint_keys, hint_pitch : (person, day, base shift) of a previous solution and its flags: the hint
        instead of each group's greedy week.
    relative_gap : stop once the gap is proven below this share of the greedy week's labour cost.

    Objective: labour cost − pitch margin + switch cost of the pitch rule + fairness weight × each
    group's closing spread + penalties for coverage shortfall per group, minimum-on-duty shortfall and
    contract hours below the minimum (soft, so a thin staff list gets the best partial week, explained).
    """
    if len(days) == 0 or len(days[0]) != len(names):
        raise ValueError("days must hold, for at least one day, one RosterInput per group")
    started = time.perf_counter()
    nd = len(days)
    weekdays = list(weekdays) if weekdays is not None else [d % 7 for d in range(nd)]
    labels = list(day_labels) if day_labels is not None else [WEEKDAYS[w] for w in weekdays]
    grid = days[0][0].grid
    close_rel = close_rel if close_rel is not None else grid.n_slots * grid.slot_min
    index = {name: k for k, name in enumerate(names)}
    unknown = [p.name for p in staff.staff if not p.groups or any(name not in index for name in p.groups)]
    if unknown:
        raise ValueError(f"people naming a group this store lacks: {', '.join(unknown)} (groups: {', '.join(names)})")
    member = [index[str(p.group)] for p in staff.staff]
    can = [tuple(index[name] for name in p.groups) for p in staff.staff]
    wm, gv = build_week_groups_model(
        days, staff, member, labels, weekdays, close_rel, physical, min_on_duty, pitch_value, pitch, pitch_flags, can
    )
    greedy = _group_hint(wm, gv, days, staff)
    greedy_cost = sum(wm.base[j][1] / 60 * wm.days[0].cost_per_hour for (_p, _d, j) in greedy)
    hint = {(int(p), int(d), int(j)): 1 for p, d, j in hint_keys} if hint_keys is not None else greedy
    hint = symmetric_hint(wm.people, wm.base, hint)
    flags_hint = pitch_flags if pitch_flags is not None else (hint_pitch if hint_keys is not None else None)
    if pitch == "always" and flags_hint is None:
        flags_hint = [[True] * grid.n_intervals for _ in range(nd)]
    _add_full_hint(wm, hint, flags_hint, workers, seed)
    solver = seeded_solver(workers, time_limit_s, seed)
    # As in the one-pool week: the gap limit relative to labour cost, since shortfall penalties can
    # dominate the objective when a peak cannot be covered.
    solver.parameters.absolute_gap_limit = float(relative_gap * max(greedy_cost, 1.0) * 100)
    code = solver.solve(wm.model)
    status = status_name(code)
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _no_roster(days, names, status, elapsed, time_limit_s, greedy_cost)
    if status == "OPTIMAL" and solver.objective_value - solver.best_objective_bound > 0.5:
        status = "FEASIBLE"  # stopped by the gap limit: say what was proven
    objective, bound = solver.objective_value / 100, float(solver.best_objective_bound) / 100
    # Same input and seed → same week: among weeks of the cost found, the one a one-worker pass with
    # a deterministic limit picks (the day roster's canonicalising pass; see canonical_solution).
    decisions = [*wm.y.values(), *gv.z.values(), *(v for flags in gv.flags for v in flags)]
    breaks = [*gv.z.values(), *(x for day in gv.group_x for group in day for x in group)]
    # Distinct pseudo-random weights (fixed, not the seed's): a key of ranks (k × y) ties between
    # different weeks with equal rank sums, and a rerun could then report either.
    weights = np.random.default_rng(20_261_130).integers(1, 1_000_000, size=len(wm.y) + len(breaks))
    key = sum(int(w) * v for w, v in zip(weights, [*wm.y.values(), *breaks], strict=True))
    values = canonical_solution(wm.model, sum(c * v for c, v in wm.terms), solver, decisions, key, seed)
    elapsed = time.perf_counter() - started
    return _read(wm, gv, values, days, names, status, elapsed, greedy_cost, objective, bound)


def _no_roster(
    days: Sequence[Sequence[RosterInput]],
    names: Sequence[str],
    status: str,
    elapsed: float,
    time_limit_s: float,
    greedy: float,
) -> GroupWeekRoster:
    n = days[0][0].grid.n_intervals
    nd = len(days)

    def empty(need: Sequence[Sequence[int]]) -> WeekRoster:
        return empty_week(need, status, elapsed, time_limit_s, greedy)

    groups = tuple(empty([days[d][g].need_no_pitch for d in range(nd)]) for g in range(len(names)))
    total = [[sum(days[d][g].need_no_pitch[i] for g in range(len(names))) for i in range(n)] for d in range(nd)]
    return GroupWeekRoster(empty(total), groups, tuple(names))


def _read(
    wm: _WeekModel,
    gv: _GroupVars,
    solver: Any,
    days: Sequence[Sequence[RosterInput]],
    names: Sequence[str],
    status: str,
    elapsed: float,
    greedy_cost: float,
    objective: float,
    bound: float,
) -> GroupWeekRoster:
    """The solved week: each group's staffing, shortfalls and their reasons, people's hours."""
    g = wm.grid
    n = g.n_intervals
    nd = len(wm.days)
    cost_h = wm.days[0].cost_per_hour
    physical = wm.days[0].physical
    pitch = tuple(tuple(bool(solver.value(v)) for v in gv.flags[d]) for d in range(nd))
    pitch_value = sum(wm.days[d].pitch_value[i] for d in range(nd) for i in range(n) if pitch[d][i])
    per_group = []
    for gi, name in enumerate(names):
        staffed, required, short = [], [], []
        explanation: list[str] = []
        assignments: list[Assignment] = []
        for d in range(nd):
            data = days[d][gi]
            slots = np.array([solver.value(v) for v in gv.floors[d][gi]], dtype=int)
            on = [int(v) for v in interval_staffed(slots, g)]
            need = [
                max(data.need_pitch[i], data.need_no_pitch[i]) if pitch[d][i] else data.need_no_pitch[i]
                for i in range(n)
            ]
            staffed.append(tuple(on))
            required.append(tuple(int(v) for v in need))
            short.append(tuple(max(0, need[i] - on[i]) for i in range(n)))
            assignments += _assignments(wm, gv, solver, d, gi, name)
            for i in range(n):
                if short[-1][i] > 0:
                    on_all = sum(
                        int(interval_staffed(np.array([solver.value(v) for v in f]), g)[i]) for f in gv.floors[d]
                    )
                    why = (
                        f"the hall has {physical}, {on_all} staffed across the groups"
                        if on_all >= physical
                        else f"not enough {name} staff available then: availability, contract hours, one shift a day"
                    )
                    explanation.append(
                        f"{wm.labels[d]} {_interval_label(g, i)} needs {need[i]} {name} counters, has {on[i]} ({why})"
                    )
        # A group's people: its own, and anyone with the skill who worked a shift there this week
        own = [wm.people[p].name for p in range(len(wm.people)) if gv.member[p] == gi]
        worked = dict.fromkeys(own, 0.0)
        closings = dict.fromkeys(own, 0)
        for a in assignments:
            worked[a.name] = worked.get(a.name, 0.0) + a.hours
            closings[a.name] = closings.get(a.name, 0) + int(a.closing)
        group_hours = float(sum(a.hours for a in assignments))
        short_cost = sum(sum(r) for r in short) * wm.penalty / 100
        per_group.append(
            WeekRoster(
                status=status,
                objective=group_hours * cost_h + short_cost,
                bound=None,
                gap=None,
                solve_time_s=elapsed,
                assignments=tuple(assignments),
                staffed=tuple(staffed),
                required=tuple(required),
                pitch=pitch,
                shortfall=tuple(short),
                hours_by_person=worked,
                closings_by_person=closings,
                staff_hours=group_hours,
                staff_cost=group_hours * cost_h,
                pitch_value=0.0,
                explanation=tuple(explanation),
            )
        )
    hours = sum(r.staff_hours for r in per_group)
    every = [a for r in per_group for a in r.assignments]
    hours_by_person = {p.name: 0.0 for p in wm.people}
    closings_by_person = {p.name: 0 for p in wm.people}
    for a in every:  # a person's week over every group they worked in
        hours_by_person[a.name] += a.hours
        closings_by_person[a.name] += int(a.closing)
    for p, person in enumerate(wm.people):  # the contract is the person's, over every group worked
        if hours_by_person[person.name] + 1e-9 < person.min_hours:
            per_group[gv.member[p]] = replace(
                per_group[gv.member[p]],
                explanation=(
                    *per_group[gv.member[p]].explanation,
                    f"{person.name} works {hours_by_person[person.name]:g} h, below the contract minimum "
                    f"{person.min_hours:g} h (availability: {person.describe_availability()})",
                ),
            )

    def total(field_: str) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(sum(getattr(r, field_)[d][i] for r in per_group) for i in range(n)) for d in range(nd))

    store = WeekRoster(
        status=status,
        objective=objective,
        bound=bound,
        gap=abs(objective - bound) / max(abs(objective), 1.0),
        gap_labour=abs(objective - bound) / max(hours * cost_h, 1.0),
        solve_time_s=elapsed,
        assignments=tuple(every),
        staffed=total("staffed"),
        required=total("required"),
        pitch=pitch,
        shortfall=total("shortfall"),
        hours_by_person=hours_by_person,
        closings_by_person=closings_by_person,
        staff_hours=hours,
        staff_cost=hours * cost_h,
        pitch_value=float(pitch_value),
        explanation=tuple(f"{name}: {e}" for r, name in zip(per_group, names, strict=True) for e in r.explanation),
        greedy_cost=greedy_cost,
        solution_keys=tuple(key for key, v in wm.y.items() if solver.value(v)),
    )
    return GroupWeekRoster(store, tuple(per_group), tuple(names))


def _assignments(wm: _WeekModel, gv: _GroupVars, solver: Any, d: int, gi: int, name: str) -> list[Assignment]:
    """One group's person-days on day ``d``; its aggregate break slots handed to its people in turn."""

    def works_here(p: int, j: int) -> bool:
        z = gv.z.get((p, d, j, gi))
        return bool(solver.value(z)) if z is not None else gv.member[p] == gi and len(gv.can[p]) == 1

    return day_assignments(wm, solver, d, gv.group_x[d][gi], works_here, name)
