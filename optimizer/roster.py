"""The day roster with CP-SAT: how many shifts of each template, and when to pitch.

Data → one builder per constraint family (shift costs, coverage with pitch decisions, staff limits,
minimum on duty), each returning its objective/penalty terms → solve → a frozen result with status,
objective, bound and gap. Coverage and minimum-on-duty are soft with a penalty far above any labour
cost, so an impossible ask still returns the best partial plan and names the short intervals.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from simulation import format_clock

from .shifts import Grid, ShiftTemplate, coverage_matrix, greedy_cover, interval_staffed

__all__ = ["DayRoster", "RosterInput", "ShiftCount", "solve_day_roster", "status_name", "windows_text"]

Terms = list[tuple[int, cp_model.IntVar]]


@dataclass(frozen=True)
class RosterInput:
    """Everything the day roster needs, as plain numbers.

    ``need_no_pitch`` / ``need_pitch`` are counters needed per interval without / with pitching
    (may exceed ``physical``); ``pitch_value`` is the expected pitch margin per interval (money)
    earned if that interval pitches. ``cost_per_hour`` is the loaded staff cost.
    """

    grid: Grid
    templates: tuple[ShiftTemplate, ...]
    need_no_pitch: tuple[int, ...]
    need_pitch: tuple[int, ...]
    pitch_value: tuple[float, ...]
    physical: int
    min_on_duty: int
    cost_per_hour: float
    allow_pitch: bool = True
    switch_cost: float | None = None
    """Cost of each change between pitching and not (default a quarter staff-hour): keeps the rule a
    manager follows to a few whole windows instead of alternating half hours."""
    customers: tuple[float, ...] | None = None
    """Expected customers reaching the counters per interval: weighs each interval's shortfall by the
    people it hurts (``None``: every interval weighs the same)."""


@dataclass(frozen=True)
class ShiftCount:
    """``count`` people working ``template``."""

    start: str
    end: str
    length_hours: float
    break_start: str | None
    count: int
    template: ShiftTemplate = field(repr=False)
    group: str | None = None
    """The counter group these people staff (``counters.groups``); None: the store's one pool."""


@dataclass(frozen=True)
class DayRoster:
    """A solved day roster. ``status`` is CP-SAT's (OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, ...)."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    shifts: tuple[ShiftCount, ...]
    staffed: tuple[int, ...]
    pitch: tuple[bool, ...]
    required: tuple[int, ...]
    shortfall: tuple[int, ...]
    staff_hours: float
    staff_cost: float
    pitch_value: float
    solve_time_s: float
    explanation: tuple[str, ...]
    greedy_cost: float | None = None

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


def status_name(code: object) -> str:
    names: dict[object, str] = {
        cp_model.OPTIMAL: "OPTIMAL",
        cp_model.FEASIBLE: "FEASIBLE",
        cp_model.INFEASIBLE: "INFEASIBLE",
        cp_model.MODEL_INVALID: "MODEL_INVALID",
        cp_model.UNKNOWN: "UNKNOWN",
    }
    return names.get(code, str(code))


def _cents(x: float) -> int:
    return round(x * 100)


# ---------------------------------------------------------------------------------------------
# builders: one per constraint family, each returns its objective terms (coefficient, variable)
# ---------------------------------------------------------------------------------------------


def add_shift_costs(model: cp_model.CpModel, data: RosterInput) -> tuple[list[cp_model.IntVar], Terms]:
    """One integer per template (how many people work it); cost = paid minutes × hourly rate."""
    x = [model.new_int_var(0, data.physical, f"shifts[{t.label(data.grid.open_min)}]") for t in data.templates]
    terms = [(_cents(t.length / 60 * data.cost_per_hour), x[k]) for k, t in enumerate(data.templates)]
    return x, terms


def add_staff_limits(
    model: cp_model.CpModel, data: RosterInput, x: Sequence[cp_model.IntVar], cov: np.ndarray
) -> list[cp_model.IntVar]:
    """On the floor per slot = sum of covering templates, never above the hall's counters (hard)."""
    on_floor = []
    for s in range(data.grid.n_slots):
        v = model.new_int_var(
            0, data.physical, f"on_floor[{format_clock(data.grid.open_min + s * data.grid.slot_min)}]"
        )
        model.add(v == sum(x[int(k)] for k in np.flatnonzero(cov[:, s])))
        on_floor.append(v)
    return on_floor


MAX_HARM_RATIO = 1000.0
"""Cap on how much more one missing counter may cost in the worst interval than in the mildest, to
keep CP-SAT's coefficients moderate; far beyond any real hall's spread."""


def shortfall_unit_costs(data: RosterInput, penalty: int) -> list[list[int]]:
    """Cost of the k-th missing counter in each interval (k = 1..need): convex, weighted by customers.

    The harm of interval i staffed ``s`` short of its need ``n`` is ``a × (s / n)²``, ``a`` the
    customers reaching the counters then: the share of capacity missing, counted over the people
    who meet it, and squared because a queue grows faster than linearly as capacity falls (one
    counter missing of nine is a slower hour; eight missing is a hall that never catches up). So
    the k-th unit costs ``a × (2k − 1) / n²``. Scaled so the mildest first unit costs ``penalty``
    (far above any labour cost, so a coverable gap is never left to save money), a partial plan
    spreads what the rules cannot cover over the quiet intervals and never piles it into the peak,
    where a linear penalty saw every placement as equal.
    """
    g = data.grid
    n_int = g.n_intervals
    raw = data.customers if data.customers is not None else (1.0,) * n_int
    positive = [a for a in raw if a > 0]
    floor_a = 0.5 * min(positive) if positive else 1.0  # an interval with need but no forecast demand
    need = [max(1, data.need_no_pitch[i]) for i in range(n_int)]
    weight = [max(float(raw[i]), floor_a) / need[i] ** 2 for i in range(n_int)]
    base = min(weight)
    out = []
    for i in range(n_int):
        hi = max(data.need_pitch[i], data.need_no_pitch[i])
        out.append(
            [
                round(penalty * min(weight[i] * (2 * k - 1) / base, MAX_HARM_RATIO * (2 * k - 1)))
                for k in range(1, hi + 1)
            ]
        )
    return out


def add_coverage(
    model: cp_model.CpModel,
    data: RosterInput,
    on_floor: Sequence[cp_model.IntVar],
    penalty: int,
    harm: bool = True,
) -> tuple[list[cp_model.IntVar], list[cp_model.IntVar], Terms]:
    """Per interval: staffed + shortfall >= need, where need depends on the pitch decision.

    The pitch decision earns ``pitch_value`` and raises the need from ``need_no_pitch`` to
    ``need_pitch``: pitching is chosen only where its margin pays for the extra staff, and never in
    an interval left short (pitching there lengthens every visit of a hall already behind).
    The shortfall is priced by :func:`shortfall_unit_costs`: one Boolean per missing counter, the
    k-th dearer than the (k−1)-th, so the cheapest way to be ``s`` short takes the first ``s``.
    ``harm=False`` prices every missing counter-interval at ``penalty`` (the named-staff week: there a
    shortfall comes from who is available, and the convex terms slowed its search far too much).
    """
    g = data.grid
    terms: Terms = []
    short: list[cp_model.IntVar] = []
    pitch: list[cp_model.IntVar] = []
    unit_costs = shortfall_unit_costs(data, penalty)
    for i in range(g.n_intervals):
        label = format_clock(g.open_min + i * g.per_interval * g.slot_min)
        lo, hi = data.need_no_pitch[i], max(data.need_pitch[i], data.need_no_pitch[i])
        p = model.new_bool_var(f"pitch[{label}]")
        if not data.allow_pitch or data.pitch_value[i] <= 0:
            model.add(p == 0)
        sh = model.new_int_var(0, hi, f"short[{label}]")
        for s in range(i * g.per_interval, (i + 1) * g.per_interval):
            model.add(on_floor[s] + sh >= lo + (hi - lo) * p)
        model.add(sh == 0).only_enforce_if(p)
        if not harm:
            terms.append((penalty, sh))
            terms.append((-_cents(data.pitch_value[i]), p))
            short.append(sh)
            pitch.append(p)
            continue
        units = [model.new_bool_var(f"short[{label}]#{k + 1}") for k in range(hi)]
        if units:
            model.add(sh == sum(units))
            for k in range(1, len(units)):
                model.add_implication(units[k], units[k - 1])  # take the cheap units first: no symmetric twins
            terms += [(unit_costs[i][k], u) for k, u in enumerate(units)]
        terms.append((-_cents(data.pitch_value[i]), p))
        short.append(sh)
        pitch.append(p)
    return short, pitch, terms


def add_pitch_windows(model: cp_model.CpModel, data: RosterInput, pitch: Sequence[cp_model.IntVar]) -> Terms:
    """A small cost per switch between pitching and not, so windows come out whole."""
    cost = data.switch_cost if data.switch_cost is not None else 0.25 * data.cost_per_hour
    if cost <= 0 or not data.allow_pitch:
        return []
    terms: Terms = []
    for i in range(1, len(pitch)):
        sw = model.new_bool_var(f"pitch_switch[{pitch[i].name}]")
        model.add(sw >= pitch[i] - pitch[i - 1])
        model.add(sw >= pitch[i - 1] - pitch[i])
        terms.append((_cents(cost), sw))
    return terms


def add_min_on_duty(
    model: cp_model.CpModel, data: RosterInput, on_floor: Sequence[cp_model.IntVar], penalty: int
) -> tuple[list[cp_model.IntVar], Terms]:
    """At least ``min_on_duty`` on the floor in every slot while open (soft: the hall may be smaller)."""
    terms: Terms = []
    lack: list[cp_model.IntVar] = []
    if data.min_on_duty <= 0:
        return lack, terms
    for s, v in enumerate(on_floor):
        d = model.new_int_var(
            0, data.min_on_duty, f"below_min_on_duty[{format_clock(data.grid.open_min + s * data.grid.slot_min)}]"
        )
        model.add(v + d >= data.min_on_duty)
        terms.append((penalty, d))
        lack.append(d)
    return lack, terms


# ---------------------------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------------------------


CANONICAL_DETERMINISTIC_TIME = 5.0
"""CP-SAT deterministic-time budget of the canonicalising pass (a work count, not wall seconds)."""


def tie_break(x: Sequence[cp_model.IntVar], pitch: Sequence[cp_model.IntVar]) -> cp_model.LinearExprT:
    """Among rosters of equal cost, prefer fewer people, then earlier-listed templates, then fewer pitches.

    Template order is by length, then start, then break (``build_templates``), so the earlier-listed
    template of two is the shorter, then the earlier one. The weights make "fewer people" dominate:
    one more shift costs more than any reshuffle of template ranks.
    """
    n = len(x)
    people = sum((n + 1) * v for v in x)
    rank = sum(k * v for k, v in enumerate(x))
    return (n + 1) * n * people + rank + sum(pitch) if pitch else (n + 1) * n * people + rank


class _Values:
    """Solution values of one solve, read back through ``.value`` like a solver."""

    def __init__(self, solver: cp_model.CpSolver) -> None:
        self._solver = solver

    def value(self, expr: cp_model.LinearExprT) -> int:
        return int(self._solver.value(expr))


def canonical_solution(
    model: cp_model.CpModel,
    objective_expr: cp_model.LinearExprT,
    solver: cp_model.CpSolver,
    decisions: Sequence[cp_model.IntVar],
    key: cp_model.LinearExprT,
    seed: int,
) -> _Values:
    """The same-cost solution a rerun will also return: the reproducibility pass.

    A multi-worker CP-SAT search is not deterministic: when several rosters share the optimal cost,
    which one it reports depends on thread timing, so the same input gave different rosters. This
    pass keeps the multi-worker search (its speed and its proof) and then, with the cost held at the
    value found, minimises a tie-break ``key`` on one worker under a *deterministic* time limit (a
    count of work, not wall seconds). One worker with a fixed seed and a deterministic limit returns
    the same solution on every run, so same input + seed → same roster. Quality is untouched: the
    cost may not rise. If the first solve stopped at its time limit (FEASIBLE), the cost it reached
    may differ between runs, and so may the roster; the status says so.
    """
    best = round(solver.objective_value)
    model.add(objective_expr <= best)
    model.minimize(key)
    model.clear_hints()
    for v in decisions:
        model.add_hint(v, solver.value(v))
    second = cp_model.CpSolver()
    second.parameters.num_workers = 1
    second.parameters.random_seed = int(seed)
    second.parameters.max_deterministic_time = CANONICAL_DETERMINISTIC_TIME
    second.parameters.max_time_in_seconds = 600.0  # a safety net only; the deterministic limit binds first
    code = second.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Values(solver)  # cannot happen with the hint feasible; keep the first solution rather than none
    return _Values(second)


def windows_text(flags: Sequence[bool], grid: Grid, value: bool = False) -> list[str]:
    """Contiguous runs of intervals where ``flags == value`` as "HH:MM-HH:MM"."""
    step = grid.per_interval * grid.slot_min
    out = []
    i = 0
    n = len(flags)
    while i < n:
        if bool(flags[i]) == value:
            j = i
            while j + 1 < n and bool(flags[j + 1]) == value:
                j += 1
            out.append(f"{format_clock(grid.open_min + i * step)}-{format_clock(grid.open_min + (j + 1) * step)}")
            i = j + 1
        else:
            i += 1
    return out


def _explain(
    data: RosterInput, required: Sequence[int], staffed: Sequence[int], status: str, cov: np.ndarray
) -> list[str]:
    """One sentence per short interval: required, staffed, short by, why, and the customers then.

    Every interval is named on its own (a merged range would hide that the shortfall differs
    between its intervals); the customers are those expected to reach the counters in it.
    """
    g = data.grid
    step = g.per_interval * g.slot_min
    slot_ok = np.asarray(np.asarray(cov, dtype=int).max(axis=0))
    covered_any = [bool(v) for v in slot_ok.reshape(g.n_intervals, g.per_interval).min(axis=1).tolist()]
    out = []
    for i in range(g.n_intervals):
        if staffed[i] >= required[i]:
            continue
        if required[i] > data.physical:
            why = f"the hall has {data.physical}"
            if staffed[i] < data.physical:
                why += f" and the shift rules leave {staffed[i]} then"
        elif not covered_any[i]:
            why = "but no allowed shift covers it (check earliest start / latest end)"
        elif status != "OPTIMAL":
            why = "more than the plan found within the time limit"
        else:
            why = f"the shift rules and the hall's {data.physical} counters allow no more without a worse gap elsewhere"
        a = format_clock(g.open_min + i * step)
        b = format_clock(g.open_min + (i + 1) * step)
        text = (
            f"{a}-{b} needs {required[i]} counters, {why}; staffed {staffed[i]} (short by {required[i] - staffed[i]})"
        )
        if data.customers is not None:
            text += "; " + _customers_then(float(data.customers[i]))
        out.append(text)
    if data.min_on_duty > data.physical:
        out.append(f"min_on_duty is {data.min_on_duty} but the hall has {data.physical} counters")
    return out


def seeded_solver(workers: int, time_limit_s: float, seed: int) -> cp_model.CpSolver:
    """A CP-SAT solver with storeq's three settings: worker threads, wall-clock limit, random seed."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = int(workers)
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.random_seed = int(seed)
    return solver


def template_counts(chosen: Sequence[int], n_templates: int) -> np.ndarray:
    """How many of each shift template a list of chosen template indices uses (the greedy cover as hints)."""
    return np.bincount(np.asarray(chosen, dtype=int), minlength=n_templates) if chosen else np.zeros(n_templates, int)


def _customers_then(expected: float) -> str:
    """How many customers a short interval affects, in words a manager reads without a second look."""
    if expected < 0.5:
        return "fewer than 1 customer expected at the counters then"
    if round(expected) == 1:
        return "about 1 customer reaches the counters then"
    return f"about {expected:.0f} customers reach the counters then"


def shift_counts(templates: Sequence[ShiftTemplate], counts: Sequence[int] | np.ndarray, open_min: float) -> tuple[ShiftCount, ...]:
    """The roster's shifts as people read them (clock times), one entry per template that is used."""
    return tuple(
        ShiftCount(
            start=format_clock(open_min + t.start),
            end=format_clock(open_min + t.end),
            length_hours=t.length / 60,
            break_start=format_clock(open_min + t.break_start) if t.break_start is not None else None,
            count=int(counts[k]),
            template=t,
        )
        for k, t in enumerate(templates)
        if counts[k] > 0
    )


def solve_day_roster(
    data: RosterInput,
    time_limit_s: float = 20.0,
    workers: int = 2,
    seed: int = 1,
    penalty_cents: int | None = None,
) -> DayRoster:
    """Cheapest set of shifts covering the need per interval, with the pitch windows decided jointly.

    Minimises labour cost − expected pitch margin + a shortfall penalty (per missing counter and
    interval, 1000 × the cost of the longest shift) + the same penalty per missing minimum-on-duty
    person. The greedy cover is passed as a hint and its cost kept for comparison.
    """
    started = time.perf_counter()
    g = data.grid
    cov = coverage_matrix(data.templates, g)
    model = cp_model.CpModel()
    longest = max((t.length for t in data.templates), default=60)
    penalty = penalty_cents or max(1, _cents(longest / 60 * max(data.cost_per_hour, 1.0)) * 1000)
    x, cost_terms = add_shift_costs(model, data)
    on_floor = add_staff_limits(model, data, x, cov)
    _short, pitch, cov_terms = add_coverage(model, data, on_floor, penalty)
    _lack, duty_terms = add_min_on_duty(model, data, on_floor, penalty)
    terms = cost_terms + cov_terms + duty_terms + add_pitch_windows(model, data, pitch)
    objective_expr = sum(c * v for c, v in terms)
    model.minimize(objective_expr)

    need_np = np.asarray(data.need_no_pitch, dtype=int)
    greedy = greedy_cover(
        data.templates, g, np.maximum(need_np, data.min_on_duty), data.physical, data.cost_per_hour / 60
    )
    counts = template_counts(greedy, len(data.templates))
    greedy_cost = float(sum(counts[k] * t.length / 60 * data.cost_per_hour for k, t in enumerate(data.templates)))
    for k, v in enumerate(x):
        model.add_hint(v, int(counts[k]))
    for p in pitch:
        model.add_hint(p, 0)

    solver = seeded_solver(workers, time_limit_s, seed)
    code = solver.solve(model)
    status = status_name(code)
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        n = g.n_intervals
        return DayRoster(
            status=status,
            objective=None,
            bound=None,
            gap=None,
            shifts=(),
            staffed=(0,) * n,
            pitch=(False,) * n,
            required=tuple(int(v) for v in need_np),
            shortfall=tuple(int(v) for v in need_np),
            staff_hours=0.0,
            staff_cost=0.0,
            pitch_value=0.0,
            solve_time_s=elapsed,
            explanation=(f"CP-SAT returned {status} within {time_limit_s:g} s: no roster found",),
            greedy_cost=greedy_cost,
        )
    bound = solver.best_objective_bound / 100
    chosen = canonical_solution(model, objective_expr, solver, [*x, *pitch], tie_break(x, pitch), seed)
    xs = np.array([chosen.value(v) for v in x], dtype=int)
    slots = np.array([chosen.value(v) for v in on_floor], dtype=int)
    staffed = interval_staffed(slots, g)
    pitched = [bool(chosen.value(p)) for p in pitch]
    required = [
        max(data.need_pitch[i], data.need_no_pitch[i]) if pitched[i] else data.need_no_pitch[i]
        for i in range(g.n_intervals)
    ]
    shortfall = [max(0, required[i] - int(staffed[i])) for i in range(g.n_intervals)]
    shifts = shift_counts(data.templates, xs, g.open_min)
    hours = float(sum(xs[k] * t.length for k, t in enumerate(data.templates)) / 60)
    elapsed = time.perf_counter() - started  # the canonicalising pass included
    objective = chosen.value(objective_expr) / 100
    gap = abs(objective - bound) / max(abs(objective), 1.0)
    return DayRoster(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        shifts=shifts,
        staffed=tuple(int(v) for v in staffed),
        pitch=tuple(pitched),
        required=tuple(int(v) for v in required),
        shortfall=tuple(shortfall),
        staff_hours=hours,
        staff_cost=hours * data.cost_per_hour,
        pitch_value=float(sum(data.pitch_value[i] for i in range(g.n_intervals) if pitched[i])),
        solve_time_s=elapsed,
        explanation=tuple(_explain(data, required, [int(v) for v in staffed], status, cov)),
        greedy_cost=greedy_cost,
    )
