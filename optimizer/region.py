"""CP-SAT models of the regional planner: which interventions in which store, and which staff move where.

Both models take plain numbers measured by simulation (the values) and return a frozen result with
status, objective, bound and an explanation in words; the caller (``storeq.region``) verifies the
chosen plan by simulation. Pure: no I/O.

**Allocation** (:func:`solve_allocation`). Each store has a menu of *options*: the empty option and
every combination of interventions it may get, each valued by simulating that combination together
(so effects are never assumed additive). Exactly one option per store; per-day budgets on money,
staff hours, kiosks and greeters are hard constraints (costs rounded *up* to the cent and the
minute, budgets *down*, so the plan is never over budget); maximise the total value (customers served
within target per day, or customer wait-hours saved).

**Moves** (:func:`solve_moves`). A candidate move sends one person from a donor hall to a receiver in
the same district for one shift block; its value is the receiver's gain minus the donor's loss, both
measured by simulation. Each hall gives or receives at most one person per block (never both), and
``max_moves`` caps the total.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .roster import seeded_solver, status_name

__all__ = [
    "Allocation",
    "AllocationInput",
    "MoveOption",
    "MovePlan",
    "Option",
    "solve_allocation",
    "solve_moves",
]

VALUE_SCALE = 1000
"""Values are solved as integers in thousandths (of a customer, or of a wait-hour)."""


@dataclass(frozen=True)
class Option:
    """One choice for one store: a combination of interventions (empty = leave the store as it is)."""

    store: str
    label: str
    value: float
    cost: float = 0.0
    staff_hours: float = 0.0
    kiosks: int = 0
    greeters: int = 0


@dataclass(frozen=True)
class AllocationInput:
    options: tuple[Option, ...]
    money: float | None = None
    staff_hours: float | None = None
    kiosks: int | None = None
    greeters: int | None = None


@dataclass(frozen=True)
class Allocation:
    status: str
    objective: float | None
    bound: float | None
    chosen: tuple[Option, ...]
    """One option per store (the empty one where nothing was bought)."""
    used: dict[str, float]
    explanation: tuple[str, ...]
    solve_time_s: float

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


def _up(x: float, scale: int) -> int:
    return math.ceil(round(x * scale, 6))


def _down(x: float, scale: int) -> int:
    return math.floor(round(x * scale, 6))


RESOURCES = (
    ("money", "cost", 100),
    ("staff_hours", "staff_hours", 60),
    ("kiosks", "kiosks", 1),
    ("greeters", "greeters", 1),
)
"""(budget name, option field, integer scale): money in cents, staff time in minutes."""


def _explain_allocation(data: AllocationInput, chosen: Sequence[Option]) -> list[str]:
    out = []
    bought = [o for o in chosen if o.label]
    paid = [o for o in data.options if o.label]
    if not paid:
        out.append("no store has an intervention to buy (none applies, or none was valued)")
        return out
    for name, attr, _ in RESOURCES:
        budget = getattr(data, name)
        if budget is None:
            continue
        need = [getattr(o, attr) for o in paid if getattr(o, attr) > 0]
        if need and min(need) > budget:
            cheapest = min((o for o in paid if getattr(o, attr) > 0), key=lambda o: getattr(o, attr))
            out.append(
                f"the {name.replace('_', ' ')} budget ({budget:g}) is below the cheapest option that needs it "
                f"({cheapest.label} at {cheapest.store}: {getattr(cheapest, attr):g})"
            )
    if not bought:
        helpful = [o for o in paid if o.value > 0]
        if not helpful:
            out.append("no intervention improves any store by its simulated value: nothing is worth buying")
        elif not out:
            out.append("every option that helps needs more than the budgets allow")
    return out


def solve_allocation(data: AllocationInput, time_limit_s: float = 10.0, workers: int = 2, seed: int = 1) -> Allocation:
    """Maximise total value with exactly one option per store, within every budget (hard)."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    stores = list(dict.fromkeys(o.store for o in data.options))
    x = [model.new_bool_var(f"choose[{o.store}|{o.label or 'nothing'}]") for o in data.options]
    for s in stores:
        idx = [i for i, o in enumerate(data.options) if o.store == s]
        model.add_exactly_one(x[i] for i in idx)
    for name, attr, scale in RESOURCES:
        budget = getattr(data, name)
        if budget is None:
            continue
        model.add(sum(_up(getattr(o, attr), scale) * x[i] for i, o in enumerate(data.options)) <= _down(budget, scale))
    values = [round(o.value * VALUE_SCALE) for o in data.options]
    model.maximize(sum(v * x[i] for i, v in enumerate(values)))
    for i, o in enumerate(data.options):
        model.add_hint(x[i], 0 if o.label else 1)
    solver = seeded_solver(workers, time_limit_s, seed)
    code = solver.solve(model)
    status = status_name(code)
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        why = [f"CP-SAT returned {status} within {time_limit_s:g} s"]
        if any(not any(o.store == s and not o.label for o in data.options) for s in stores):
            why.append("a store has no 'leave as it is' option")
        return Allocation(status, None, None, (), {}, tuple(why), elapsed)
    chosen = tuple(o for i, o in enumerate(data.options) if solver.value(x[i]))
    used = {name: float(sum(getattr(o, attr) for o in chosen)) for name, attr, _ in RESOURCES}
    return Allocation(
        status=status,
        objective=solver.objective_value / VALUE_SCALE,
        bound=solver.best_objective_bound / VALUE_SCALE,
        chosen=chosen,
        used=used,
        explanation=tuple(_explain_allocation(data, chosen)),
        solve_time_s=elapsed,
    )


@dataclass(frozen=True)
class MoveOption:
    """One person from ``donor`` to ``receiver`` for ``block``; ``value`` = receiver gain − donor loss."""

    district: str
    donor: str
    receiver: str
    block: str
    travel_min: float
    gain: float
    loss: float

    @property
    def value(self) -> float:
        return self.gain - self.loss


@dataclass(frozen=True)
class MovePlan:
    status: str
    objective: float | None
    bound: float | None
    moves: tuple[MoveOption, ...]
    explanation: tuple[str, ...]
    solve_time_s: float


def solve_moves(
    options: Sequence[MoveOption],
    max_moves: int | None = None,
    time_limit_s: float = 10.0,
    workers: int = 2,
    seed: int = 1,
) -> MovePlan:
    """Choose moves maximising total (gain − loss): per hall and block, give or receive at most one, never both."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    m = [model.new_bool_var(f"move[{o.donor}->{o.receiver}|{o.block}]") for o in options]
    halls_blocks = {(o.donor, o.block) for o in options} | {(o.receiver, o.block) for o in options}
    for hall, block in sorted(halls_blocks):
        give = [m[i] for i, o in enumerate(options) if o.donor == hall and o.block == block]
        take = [m[i] for i, o in enumerate(options) if o.receiver == hall and o.block == block]
        model.add(sum(give) + sum(take) <= 1)  # one person out, or one in, per hall and block
    if max_moves is not None:
        model.add(sum(m) <= max_moves)
    model.maximize(sum(round(o.value * VALUE_SCALE) * m[i] for i, o in enumerate(options)))
    solver = seeded_solver(workers, time_limit_s, seed)
    code = solver.solve(model)
    status = status_name(code)
    elapsed = time.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return MovePlan(status, None, None, (), (f"CP-SAT returned {status} within {time_limit_s:g} s",), elapsed)
    chosen = tuple(o for i, o in enumerate(options) if solver.value(m[i]))
    why: list[str] = []
    if not options:
        why.append("no candidate move: no district has two halls open in the same block within reach")
    elif not chosen:
        why.append("no move gains more at the receiver than it costs the donor (by simulation)")
    return MovePlan(
        status,
        solver.objective_value / VALUE_SCALE,
        solver.best_objective_bound / VALUE_SCALE,
        chosen,
        tuple(why),
        elapsed,
    )
