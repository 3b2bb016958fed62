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
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.region import MoveOption, MovePlan, solve_moves
from simulation import Scenario, ScenarioError, with_updates
from simulation.clock import format_clock, parse_window

from .evaluate import DELTA_KPIS, Measured, delta, measure_many, total_delta, triple
from .model import Region, Store, haversine_km

Progress = Callable[[int, int], None]


def dated(scenario: Scenario, date: _dt.date) -> Scenario:
    """The store's day on ``date`` (its weekday and day-of-month demand factors apply)."""
    return with_updates(scenario, {"store.date": date.isoformat()}, source=f"{scenario.name} on {date.isoformat()}")


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
    """``change`` counters in intervals [a, b); None when the hall cannot (too few staffed, no spare counter)."""
    if getattr(scenario.counters, "groups", None):
        return None
    staffed = [int(v) for v in scenario.staffed_schedule()]
    new = [v + (change if a <= i < b else 0) for i, v in enumerate(staffed)]
    floor = max(1, scenario.counters.vip)
    if min(new) < floor or (scenario.counters.physical is not None and max(new) > scenario.counters.physical):
        return None
    try:
        return with_updates(scenario, {"counters.staffed": new}, source=scenario.name)
    except ScenarioError:
        return None


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

    def moves(self) -> list[dict[str, Any]]:
        return [
            {"district": o.district, "from": o.donor, "to": o.receiver, "block": o.block, "travel_min": o.travel_min,
             "arrives": self.arrivals[(o.donor, o.receiver, o.block)], "gain": self.gains[(o.donor, o.receiver, o.block)],
             "loss": self.losses[(o.donor, o.block)], "value": round(o.value, 3)}
            for o in self.plan.moves
        ]

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
    cap = mv.max_moves if max_moves is None else max_moves
    reps = replications or region.spec.simulation.replications
    vreps = verify_replications or reps
    s = region.spec.simulation.seed if seed is None else seed
    vseed = s + 1
    notes: list[str] = []
    days = {st.name: dated(st.scenario, date) for st in region.stores}
    flat = [n for n, sc in days.items() if sc.day_factor() == 1.0 and not (sc.demand.weekday_factors or sc.demand.day_of_month_factors)]
    if flat:
        notes.append(f"{', '.join(flat)}: no weekday or day-of-month factors, so {date.isoformat()} is an ordinary day there")

    # candidate pairs, with travel times
    by_district: dict[str, list[Store]] = {}
    for st in region.stores:
        by_district.setdefault(st.district, []).append(st)
    pairs: list[tuple[Store, Store, float]] = []
    unreachable: set[str] = set()
    for district, members in by_district.items():
        for d in members:
            for r in members:
                if d.name == r.name:
                    continue
                t = travel_minutes(region, d, r)
                if t is None:
                    unreachable.add(district)
                    continue
                pairs.append((d, r, t))
    for district in sorted(unreachable):
        notes.append(f"district {district}: halls without coordinates and no travel_min for the district; no moves there")

    # the simulations needed: baselines, donor losses per block, receiver gains per (block, arrival offset)
    need_loss: set[tuple[str, str]] = set()
    need_gain: set[tuple[str, str, int]] = set()
    arrival_of: dict[tuple[str, str, str], int] = {}
    for dh, rh, t in pairs:
        for block in mv.blocks:
            bd, br = block_intervals(days[dh.name], block), block_intervals(days[rh.name], block)
            if bd is None or br is None:
                continue
            rsc = days[rh.name]
            start_clock = max(parse_window(block)[0], rsc.store.open_min) + t
            first = max(br[0], math.ceil((start_clock - rsc.store.open_min) / rsc.store.interval_min - 1e-9))
            if first >= br[1]:
                continue  # travel eats the whole block
            need_loss.add((dh.name, block))
            need_gain.add((rh.name, block, first))
            arrival_of[(dh.name, rh.name, block)] = first
    halls = sorted({n for n, _ in need_loss} | {n for n, _, _ in need_gain})
    # one batch: baselines, one person fewer per donor block, one more per receiver arrival
    jobs: list[tuple[str, Any, Scenario]] = [("base", n, days[n]) for n in halls]
    for n, block in sorted(need_loss):
        ab = block_intervals(days[n], block)
        assert ab is not None
        variant = _shift(days[n], ab[0], ab[1], -1)
        if variant is not None:
            jobs.append(("loss", (n, block), variant))
    for n, block, first in sorted(need_gain):
        ab = block_intervals(days[n], block)
        assert ab is not None
        variant = _shift(days[n], first, ab[1], +1)
        if variant is not None:
            jobs.append(("gain", (n, block, first), variant))
    base: dict[str, Measured] = {}
    loss: dict[tuple[str, str], dict[str, dict[str, float | None]]] = {}
    kept: dict[tuple[str, str], bool] = {}
    gain: dict[tuple[str, str, int], dict[str, dict[str, float | None]]] = {}
    runs = measure_many([j[2] for j in jobs], reps, s, workers=workers, executor=executor, progress=progress)
    for (kind, key, _), m in zip(jobs, runs, strict=True):
        if kind == "base":
            base[key] = m
        elif kind == "loss":
            loss[key] = delta(m, base[key[0]])
            ab = block_intervals(days[key[0]], key[1])
            assert ab is not None
            kept[key] = not (m.block_service_level(*ab) < mv.target_service_level)
        else:
            gain[key] = delta(m, base[key[0]])

    options: list[MoveOption] = []
    arrivals: dict[tuple[str, str, str], str] = {}
    gains: dict[tuple[str, str, str], dict[str, float | None]] = {}
    losses: dict[tuple[str, str], dict[str, float | None]] = {}
    for dh, rh, t in pairs:
        for block in mv.blocks:
            arrive = arrival_of.get((dh.name, rh.name, block))
            if arrive is None:
                continue
            dl, rg = loss.get((dh.name, block)), gain.get((rh.name, block, arrive))
            if dl is None or rg is None:
                continue
            if keep and not kept.get((dh.name, block), False):
                continue
            g = float(rg["served_within_target"]["mean"] or 0.0)
            lost = -float(dl["served_within_target"]["mean"] or 0.0)
            options.append(MoveOption(district=dh.district, donor=dh.name, receiver=rh.name, block=block, travel_min=t,
                                      gain=g, loss=0.0 if keep else lost))
            rsc = days[rh.name]
            arrivals[(dh.name, rh.name, block)] = format_clock(rsc.store.open_min + arrive * rsc.store.interval_min)
            gains[(dh.name, rh.name, block)] = rg["served_within_target"]
            losses[(dh.name, block)] = dl["served_within_target"]
    if keep:
        notes.append(f"donors keep their target: a hall gives a person only if each interval of the block keeps "
                     f"{mv.target_service_level:.0%} within target without them; their loss is not counted")
    plan = solve_moves(options, max_moves=cap, time_limit_s=time_limit_s, seed=s)

    # verification: every hall with all its moves applied together, on a fresh seed
    changes: dict[str, list[tuple[int, int, int]]] = {}
    for o in plan.moves:
        ab = block_intervals(days[o.donor], o.block)
        assert ab is not None
        changes.setdefault(o.donor, []).append((ab[0], ab[1], -1))
        off = arrival_of[(o.donor, o.receiver, o.block)]
        rb = block_intervals(days[o.receiver], o.block)
        assert rb is not None
        changes.setdefault(o.receiver, []).append((off, rb[1], +1))
    verification: list[dict[str, Any]] = []
    pairs_v: dict[str, list[tuple[Measured, Measured]]] = {}
    vjobs: list[Scenario] = []
    changed = sorted(changes.items())
    for n, ch in changed:
        sc = days[n]
        staffed = [int(v) for v in sc.staffed_schedule()]
        for a, b, c in ch:
            staffed = [v + (c if a <= i < b else 0) for i, v in enumerate(staffed)]
        vjobs += [sc, with_updates(sc, {"counters.staffed": staffed}, source=n)]
    vruns = list(measure_many(vjobs, vreps, vseed, workers=workers, executor=executor, progress=progress))
    for k, (n, ch) in enumerate(changed):
        sc = days[n]
        before, after = vruns[2 * k], vruns[2 * k + 1]
        district = region.store(n).district
        pairs_v.setdefault(district, []).append((after, before))
        verification.append({"store": n, "district": district,
                             "staffed_change": [{"from": format_clock(sc.store.open_min + a * sc.store.interval_min),
                                                 "to": format_clock(sc.store.open_min + b * sc.store.interval_min),
                                                 "counters": c} for a, b, c in ch],
                             "before": before.kpis(("served_within_target", "mean_wait_min", "abandonment_rate", "service_level")),
                             "after": after.kpis(("served_within_target", "mean_wait_min", "abandonment_rate", "service_level")),
                             "delta": delta(after, before, DELTA_KPIS)})
    districts = {d: total_delta(p, "served_within_target") for d, p in sorted(pairs_v.items())}
    all_pairs = [p for ps in pairs_v.values() for p in ps]
    total_v = total_delta(all_pairs, "served_within_target") if all_pairs else triple(np.zeros(2))
    return MovesResult(region=region, date=date, plan=plan, options=tuple(options), arrivals=arrivals, gains=gains,
                       losses=losses, verification=tuple(verification), districts=districts, total=total_v,
                       replications=reps, verify_replications=vreps, seed=s, verify_seed=vseed, notes=tuple(notes))
