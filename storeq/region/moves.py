"""``region moves``: on one day, which staff should move between halls of the same district.

The day's demand applies through ``store.date`` (weekday and day-of-month factors, e.g. the
month-end crowd). A person moves for one shift block (``moves.blocks`` in the region file): the donor
hall has one counter fewer for the whole block; the receiver has one more from the block's start plus
the travel time (rounded up to its interval grid) to the block's end.

Marginal values are measured by simulation on each hall's own seed (common random numbers): the
receiver's gain and the donor's loss in customers served within target per day. With
``donors_keep_target`` a hall may give a person only if every interval of the block keeps the target
service level without them; otherwise the donor's loss is counted against the gain. CP-SAT
(:func:`optimizer.region.solve_moves`) chooses the moves; the whole set is then simulated together on
a fresh seed, hall by hall and per district.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.region import MoveOption, MovePlan, solve_moves
from simulation import Scenario, ScenarioError, with_updates
from simulation.clock import format_clock, parse_window

from .evaluate import DELTA_KPIS, Measured, delta, measure_many, total_delta, triple
from .interventions import group_for_change, group_staffing
from .model import Region, Store, haversine_km

Progress = Callable[[int, int], None]


def dated(scenario: Scenario, date: _dt.date) -> Scenario:
    """The store's day on ``date`` (its weekday and day-of-month demand factors apply)."""
    return with_updates(scenario, {"store.date": date.isoformat()}, source=f"{scenario.name} on {date.isoformat()}")


def region_on(region: Region, date: _dt.date) -> Region:
    """The region on ``date``: every hall's weekday and day-of-month factors apply (rank and plan a given day)."""
    import dataclasses

    stores = tuple(dataclasses.replace(st, scenario=dated(st.scenario, date)) for st in region.stores)
    return dataclasses.replace(region, stores=stores)


def block_intervals(scenario: Scenario, block: str) -> tuple[int, int] | None:
    """The store's intervals [a, b) inside a "HH:MM-HH:MM" block, or None when it has none."""
    lo, hi = parse_window(block)
    o, c, step = scenario.store.open_min, scenario.store.close_min, scenario.store.interval_min
    lo, hi = max(lo, o), min(hi, c)
    a, b = math.ceil((lo - o) / step), (hi - o) // step
    return (a, b) if b > a else None


def travel_minutes(region: Region, a: Store, b: Store) -> float | None:
    """Travel time between two halls: coordinates first, else the district table; None when unknown."""
    mv = region.spec.moves
    if a.has_coordinates and b.has_coordinates:
        assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
        km = haversine_km(a.lat, a.lon, b.lat, b.lon) * mv.detour
        return round(km / mv.speed_kmh * 60 + mv.overhead_min, 1)
    if a.district in mv.travel_min:
        return float(mv.travel_min[a.district])
    return None


def _shift(scenario: Scenario, a: int, b: int, change: int) -> Scenario | None:
    """``change`` counters in intervals [a, b); None when the hall cannot (too few staffed, no spare counter).

    A hall with counter groups gains them in the group busiest per counter and gives them up from the
    quietest that keeps one (:func:`.interventions.group_for_change`)."""
    if scenario.counters.groups:
        return _shift_group(scenario, a, b, change)
    staffed = [int(v) for v in scenario.staffed_schedule()]
    new = [v + (change if a <= i < b else 0) for i, v in enumerate(staffed)]
    floor = max(1, scenario.counters.vip)
    if min(new) < floor or (scenario.counters.physical is not None and max(new) > scenario.counters.physical):
        return None
    try:
        return with_updates(scenario, {"counters.staffed": new}, source=scenario.name)
    except ScenarioError:
        return None


def _shift_group(scenario: Scenario, a: int, b: int, change: int) -> Scenario | None:
    staffed = group_staffing(scenario)
    g = group_for_change(scenario, a, b, change, staffed)
    if g is None:
        return None
    staffed[g, a:b] += change
    total = staffed.sum(axis=0)
    if scenario.counters.physical is not None and int(total.max()) > scenario.counters.physical:
        return None
    try:
        return _with_group_staffing(scenario, staffed)
    except ScenarioError:
        return None


def _shift_group_all(scenario: Scenario, changes: list[tuple[int, int, int]]) -> Scenario:
    """A hall with counter groups with all its moves: each change in the group it was valued with
    (chosen on the hall as it is), summed, so overlapping blocks add up as they do in one pool."""
    staffed = group_staffing(scenario)
    for a, b, c in changes:
        g = group_for_change(scenario, a, b, c)
        if g is None:
            raise ValueError(f"{scenario.name}: no counter group can give up a counter at {a}-{b}")
        staffed[g, a:b] += c
    return _with_group_staffing(scenario, staffed)


def _group_name(scenario: Scenario, a: int, b: int, change: int) -> str | None:
    """The counter group a move changes in this hall (None for one pool of counters)."""
    if not scenario.counters.groups:
        return None
    g = group_for_change(scenario, a, b, change)
    return scenario.counter_groups()[g].name if g is not None else None


def _with_group_staffing(scenario: Scenario, staffed: np.ndarray) -> Scenario:
    """The hall with each counter group's staffed counters per interval replaced (row g: group g)."""
    groups = [{**grp.model_dump(exclude_none=True), "staffed": [int(v) for v in staffed[g]]}
              for g, grp in enumerate(scenario.counters.groups or ())]
    return with_updates(scenario, {"counters.groups": groups}, source=scenario.name)


@dataclass(frozen=True)
class MovesResult:
    region: Region
    date: _dt.date
    plan: MovePlan
    options: tuple[MoveOption, ...]
    arrivals: dict[tuple[str, str, str], str]
    gains: dict[tuple[str, str, str], dict[str, float | None]]
    losses: dict[tuple[str, str], dict[str, float | None]]
    verification: tuple[dict[str, Any], ...]
    districts: dict[str, dict[str, float | None]]
    total: dict[str, float | None]
    replications: int
    verify_replications: int
    seed: int
    verify_seed: int
    notes: tuple[str, ...]
    desks: dict[tuple[str, str, str], tuple[str | None, str | None]] = field(default_factory=dict)
    """Per chosen move in halls with counter groups: the group the person leaves and the one they join."""

    def moves(self) -> list[dict[str, Any]]:
        return [
            {"district": o.district, "from": o.donor, "to": o.receiver, "block": o.block, "travel_min": o.travel_min,
             "arrives": self.arrivals[(o.donor, o.receiver, o.block)], "gain": self.gains[(o.donor, o.receiver, o.block)],
             "loss": self.losses[(o.donor, o.block)], "value": round(o.value, 3),
             **self._desks(o.donor, o.receiver, o.block)}
            for o in self.plan.moves
        ]

    def _desks(self, donor: str, receiver: str, block: str) -> dict[str, str]:
        """``from_group`` / ``to_group`` for a hall with counter groups (absent for one pool)."""
        leaves, joins = self.desks.get((donor, receiver, block), (None, None))
        return {**({"from_group": leaves} if leaves else {}), **({"to_group": joins} if joins else {})}

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region.name,
            "date": self.date.isoformat(),
            "status": self.plan.status,
            "objective": self.plan.objective,
            "bound": self.plan.bound,
            "moves": self.moves(),
            "candidates": len(self.options),
            "explanation": list(self.plan.explanation) + list(self.notes),
            "verification": {
                "replications": self.verify_replications,
                "seed": self.verify_seed,
                "total": self.total,
                "districts": self.districts,
                "stores": list(self.verification),
            },
        }


Triple = dict[str, float | None]
Deltas = dict[str, Triple]
Pair = tuple[Store, Store, float]


def _pairs(region: Region) -> tuple[list[Pair], list[str]]:
    """(donor, receiver, travel minutes) within each district, and the districts nobody can travel in."""
    by_district: dict[str, list[Store]] = {}
    for st in region.stores:
        by_district.setdefault(st.district, []).append(st)
    pairs: list[Pair] = []
    unreachable: set[str] = set()
    for district, members in by_district.items():
        for d in members:
            for r in members:
                t = travel_minutes(region, d, r) if d.name != r.name else 0.0
                if t is None:
                    unreachable.add(district)
                elif d.name != r.name:
                    pairs.append((d, r, t))
    notes = [f"district {d}: halls without coordinates and no travel_min for the district; no moves there"
             for d in sorted(unreachable)]
    return pairs, notes


def _arrivals(pairs: list[Pair], blocks: tuple[str, ...], days: dict[str, Scenario]) -> dict[tuple[str, str, str], int]:
    """The receiver's first interval with the moved person, per (donor, receiver, block) that is worth travelling."""
    out: dict[tuple[str, str, str], int] = {}
    for dh, rh, t in pairs:
        for block in blocks:
            bd, br = block_intervals(days[dh.name], block), block_intervals(days[rh.name], block)
            if bd is None or br is None:
                continue
            rsc = days[rh.name]
            start_clock = max(parse_window(block)[0], rsc.store.open_min) + t
            first = max(br[0], math.ceil((start_clock - rsc.store.open_min) / rsc.store.interval_min - 1e-9))
            if first < br[1]:  # else travel eats the whole block
                out[(dh.name, rh.name, block)] = first
    return out


def _marginals(
    days: dict[str, Scenario], arrival_of: dict[tuple[str, str, str], int], target_sl: float, reps: int, seed: int,
    workers: int, executor: Any, progress: Progress | None,
) -> tuple[dict[tuple[str, str], Deltas], dict[tuple[str, str], bool], dict[tuple[str, str, int], Deltas]]:
    """One batch: each hall's day, one person fewer per donor block, one more per receiver arrival."""
    need_loss = sorted({(d, b) for d, _, b in arrival_of})
    need_gain = sorted({(r, b, first) for (_, r, b), first in arrival_of.items()})
    halls = sorted({n for n, _ in need_loss} | {n for n, _, _ in need_gain})
    jobs: list[tuple[str, Any, Scenario]] = [("base", n, days[n]) for n in halls]
    for n, block in need_loss:
        ab = block_intervals(days[n], block)
        variant = _shift(days[n], ab[0], ab[1], -1) if ab else None
        if variant is not None:
            jobs.append(("loss", (n, block), variant))
    for n, block, first in need_gain:
        ab = block_intervals(days[n], block)
        variant = _shift(days[n], first, ab[1], +1) if ab else None
        if variant is not None:
            jobs.append(("gain", (n, block, first), variant))
    base: dict[str, Measured] = {}
    loss: dict[tuple[str, str], Deltas] = {}
    kept: dict[tuple[str, str], bool] = {}
    gain: dict[tuple[str, str, int], Deltas] = {}
    runs = measure_many([j[2] for j in jobs], reps, seed, workers=workers, executor=executor, progress=progress)
    for (kind, key, _), m in zip(jobs, runs, strict=True):
        if kind == "base":
            base[key] = m
        elif kind == "loss":
            loss[key] = delta(m, base[key[0]])
            ab = block_intervals(days[key[0]], key[1])
            kept[key] = ab is not None and not (m.block_service_level(*ab) < target_sl)
        else:
            gain[key] = delta(m, base[key[0]])
    return loss, kept, gain


def _verify(
    region: Region, days: dict[str, Scenario], changes: dict[str, list[tuple[int, int, int]]], reps: int, seed: int,
    workers: int, executor: Any, progress: Progress | None,
) -> tuple[list[dict[str, Any]], dict[str, Triple], Triple]:
    """Every hall with all its moves applied together, on a fresh seed: per hall, per district, in total."""
    changed = sorted(changes.items())
    vjobs: list[Scenario] = []
    for n, ch in changed:
        sc = days[n]
        if sc.counters.groups:
            vjobs += [sc, _shift_group_all(sc, ch)]
            continue
        staffed = [int(v) for v in sc.staffed_schedule()]
        for a, b, c in ch:
            staffed = [v + (c if a <= i < b else 0) for i, v in enumerate(staffed)]
        vjobs += [sc, with_updates(sc, {"counters.staffed": staffed}, source=n)]
    vruns = list(measure_many(vjobs, reps, seed, workers=workers, executor=executor, progress=progress))
    shown = ("served_within_target", "mean_wait_min", "abandonment_rate", "service_level")
    verification: list[dict[str, Any]] = []
    by_district: dict[str, list[tuple[Measured, Measured]]] = {}
    for k, (n, ch) in enumerate(changed):
        sc = days[n]
        before, after = vruns[2 * k], vruns[2 * k + 1]
        district = region.store(n).district
        by_district.setdefault(district, []).append((after, before))
        clock = [format_clock(sc.store.open_min + i * sc.store.interval_min) for i in range(sc.n_intervals + 1)]
        verification.append({"store": n, "district": district,
                             "staffed_change": [{"from": clock[a], "to": clock[b], "counters": c} for a, b, c in ch],
                             "before": before.kpis(shown), "after": after.kpis(shown), "delta": delta(after, before, DELTA_KPIS)})
    districts = {d: total_delta(p, "served_within_target") for d, p in sorted(by_district.items())}
    everything = [p for ps in by_district.values() for p in ps]
    total = total_delta(everything, "served_within_target") if everything else triple(np.zeros(2))
    return verification, districts, total


def moves_region(
    region: Region,
    date: _dt.date,
    *,
    replications: int | None = None,
    verify_replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    executor: Any = "processes",
    donors_keep_target: bool | None = None,
    max_moves: int | None = None,
    time_limit_s: float = 10.0,
    progress: Progress | None = None,
) -> MovesResult:
    """Value each possible move by simulation, choose with CP-SAT, verify the chosen set together."""
    mv = region.spec.moves
    keep = mv.donors_keep_target if donors_keep_target is None else donors_keep_target
    reps = replications or region.spec.simulation.replications
    vreps = verify_replications or reps
    s = region.spec.simulation.seed if seed is None else seed
    days = {st.name: dated(st.scenario, date) for st in region.stores}
    flat = [n for n, sc in days.items() if not (sc.demand.weekday_factors or sc.demand.day_of_month_factors)]
    notes = [f"{', '.join(flat)}: no weekday or day-of-month factors, so {date.isoformat()} is an ordinary day there"] if flat else []

    pairs, unreachable = _pairs(region)
    notes += unreachable
    arrival_of = _arrivals(pairs, mv.blocks, days)
    loss, kept, gain = _marginals(days, arrival_of, mv.target_service_level, reps, s, workers, executor, progress)

    options: list[MoveOption] = []
    arrivals: dict[tuple[str, str, str], str] = {}
    gains: dict[tuple[str, str, str], Triple] = {}
    losses: dict[tuple[str, str], Triple] = {}
    for (donor, receiver, block), first in arrival_of.items():
        dl, rg = loss.get((donor, block)), gain.get((receiver, block, first))
        if dl is None or rg is None or (keep and not kept.get((donor, block), False)):
            continue
        d, r = region.store(donor), region.store(receiver)
        t = next(t for a, b, t in pairs if a.name == donor and b.name == receiver)
        g, lost = float(rg["served_within_target"]["mean"] or 0.0), -float(dl["served_within_target"]["mean"] or 0.0)
        options.append(MoveOption(district=d.district, donor=donor, receiver=receiver, block=block, travel_min=t,
                                  gain=g, loss=0.0 if keep else lost))
        rsc = days[r.name]
        arrivals[(donor, receiver, block)] = format_clock(rsc.store.open_min + first * rsc.store.interval_min)
        gains[(donor, receiver, block)] = rg["served_within_target"]
        losses[(donor, block)] = dl["served_within_target"]
    if keep:
        notes.append(f"donors keep their target: a hall gives a person only if each interval of the block keeps "
                     f"{mv.target_service_level:.0%} within target without them; their loss is not counted")
    plan = solve_moves(options, max_moves=mv.max_moves if max_moves is None else max_moves, time_limit_s=time_limit_s, seed=s)

    changes: dict[str, list[tuple[int, int, int]]] = {}
    desks: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}
    for o in plan.moves:
        ab, rb = block_intervals(days[o.donor], o.block), block_intervals(days[o.receiver], o.block)
        assert ab is not None and rb is not None  # both had the block when the move was valued
        changes.setdefault(o.donor, []).append((ab[0], ab[1], -1))
        first = arrival_of[(o.donor, o.receiver, o.block)]
        changes.setdefault(o.receiver, []).append((first, rb[1], +1))
        desks[(o.donor, o.receiver, o.block)] = (
            _group_name(days[o.donor], ab[0], ab[1], -1), _group_name(days[o.receiver], first, rb[1], +1)
        )
    verification, districts, total = _verify(region, days, changes, vreps, s + 1, workers, executor, progress)
    return MovesResult(region=region, date=date, plan=plan, options=tuple(options), arrivals=arrivals, gains=gains,
                       losses=losses, verification=tuple(verification), districts=districts, total=total,
                       replications=reps, verify_replications=vreps, seed=s, verify_seed=s + 1, notes=tuple(notes),
                       desks=desks)
