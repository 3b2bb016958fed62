"""``region plan``: which interventions in which stores, within a budget, chosen by CP-SAT, verified by simulation.

1. Per store, the menu: leave it as it is, or any combination of up to ``max_per_store`` applicable
   interventions that fits the budgets on its own. With ``prune`` (the default) only interventions
   whose own effect is positive are combined (a pair of fixes that each do nothing rarely does much
   together, and the menu stays small).
2. Every combination is *simulated together* on the store's seed and valued by its paired effect on
   the objective — customers served within target per day (``served``) or customer wait-hours saved
   (``wait``) — so effects are never assumed additive.
3. :func:`optimizer.region.solve_allocation` picks one option per store, never over any budget.
4. The chosen plan is simulated again on a *fresh* seed (so the values that won the selection are not
   the ones that verify it), before and after per store, with 95% CIs, and region-wide.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from optimizer.region import Allocation, AllocationInput, Option, solve_allocation

from .evaluate import DELTA_KPIS, Measured, delta, measure_many, total_delta
from .interventions import NotApplicable, Usage, apply, total_usage
from .model import Budgets, Intervention, Region, Store

Progress = Callable[[int, int], None]
Objective = Literal["served", "wait"]
VERIFY_KPIS = ("served_within_target", "wait_hours", "mean_wait_min", "abandonment_rate", "service_level", "served")


@dataclass(frozen=True)
class Candidate:
    store: Store
    interventions: tuple[Intervention, ...]
    usage: Usage
    value: float
    delta: dict[str, dict[str, float | None]]

    @property
    def label(self) -> str:
        return " + ".join(iv.name for iv in self.interventions)


@dataclass(frozen=True)
class StoreVerification:
    store: str
    interventions: tuple[str, ...]
    before: dict[str, dict[str, float | None]]
    after: dict[str, dict[str, float | None]]
    delta: dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class PlanResult:
    region: Region
    objective_kind: str
    budgets: Budgets
    allocation: Allocation
    candidates: tuple[Candidate, ...]
    verification: tuple[StoreVerification, ...]
    total: dict[str, dict[str, float | None]]
    replications: int
    verify_replications: int
    seed: int
    verify_seed: int
    notes: tuple[str, ...]

    def chosen(self) -> list[dict[str, Any]]:
        """(store, intervention, cost_per_day) for every bought intervention."""
        out = []
        by_key = {(c.store.name, c.label): c for c in self.candidates}
        for opt in self.allocation.chosen:
            if not opt.label:
                continue
            cand = by_key[(opt.store, opt.label)]
            for iv in cand.interventions:
                out.append({"store": opt.store, "intervention": iv.name,
                            "cost_per_day": round(total_usage(cand.store.scenario, [iv]).cost_per_day, 2)})
        return out

    def to_json(self) -> dict[str, Any]:
        a = self.allocation
        return {
            "region": self.region.name,
            "objective_kind": self.objective_kind,
            "status": a.status,
            "objective": a.objective,
            "bound": a.bound,
            "budgets": self.budgets.model_dump(),
            "used": a.used,
            "chosen": self.chosen(),
            "explanation": list(a.explanation) + list(self.notes),
            "options_evaluated": len(self.candidates),
            "verification": {
                "replications": self.verify_replications,
                "seed": self.verify_seed,
                "total": self.total,
                "stores": [
                    {"store": v.store, "interventions": list(v.interventions), "before": v.before, "after": v.after,
                     "delta": v.delta}
                    for v in self.verification
                ],
            },
        }


def _fits(u: Usage, b: Budgets) -> bool:
    return not ((b.money is not None and u.cost_per_day > b.money + 1e-9)
                or (b.staff_hours is not None and u.staff_hours > b.staff_hours + 1e-9)
                or (b.kiosks is not None and u.kiosks > b.kiosks)
                or (b.greeters is not None and u.greeters > b.greeters))


def _value(d: dict[str, dict[str, float | None]], objective: Objective) -> float:
    kpi = "served_within_target" if objective == "served" else "wait_hours"
    v = d[kpi]["mean"]
    if v is None:
        return 0.0
    return float(v) if objective == "served" else -float(v)


Job = tuple[Store, tuple[Intervention, ...], Any]


def _single_jobs(region: Region, budgets: Budgets) -> list[Job]:
    """Every store as it is, then with each applicable fix that fits the budgets on its own."""
    jobs: list[Job] = []
    for store in region.stores:
        jobs.append((store, (), store.scenario))
        for iv in region.interventions:
            variant = apply(store.scenario, [iv])
            if not isinstance(variant, NotApplicable) and _fits(total_usage(store.scenario, [iv]), budgets):
                jobs.append((store, (iv,), variant))
    return jobs


def _combination_jobs(region: Region, budgets: Budgets, singles: list[Candidate], k_max: int, prune: bool) -> list[Job]:
    """Combinations of 2..k_max fixes per store (of the helpful ones with ``prune``) that fit the budgets."""
    jobs: list[Job] = []
    for store in region.stores:
        pool = [c.interventions[0] for c in singles if c.store.name == store.name and (not prune or c.value > 0)]
        for k in range(2, k_max + 1):
            for combo in itertools.combinations(pool, k):
                if not _fits(total_usage(store.scenario, combo), budgets):
                    continue
                variant = apply(store.scenario, combo)
                if not isinstance(variant, NotApplicable):
                    jobs.append((store, tuple(combo), variant))
    return jobs


def _verify(bought: list[Candidate], vreps: int, vseed: int, workers: int, executor: Any,
            progress: Progress | None) -> tuple[list[tuple[Measured, Measured]], list[StoreVerification]]:
    """The bought fixes simulated per store on a fresh seed, before and after, in one batch."""
    vjobs: list[Any] = []
    for cand in bought:
        variant = apply(cand.store.scenario, cand.interventions)
        assert not isinstance(variant, NotApplicable)  # it applied when it was valued
        vjobs += [cand.store.scenario, variant]
    vruns = list(measure_many(vjobs, vreps, vseed, workers=workers, executor=executor, progress=progress))
    pairs: list[tuple[Measured, Measured]] = []
    verification: list[StoreVerification] = []
    for k, cand in enumerate(bought):
        before, after = vruns[2 * k], vruns[2 * k + 1]
        pairs.append((after, before))
        verification.append(StoreVerification(
            store=cand.store.name, interventions=tuple(iv.name for iv in cand.interventions),
            before=before.kpis(VERIFY_KPIS), after=after.kpis(VERIFY_KPIS), delta=delta(after, before, DELTA_KPIS),
        ))
    return pairs, verification


def _notes(objective: Objective, alloc: Allocation, verification: list[StoreVerification],
           total: dict[str, dict[str, float | None]]) -> list[str]:
    """What the verification says, in words."""
    key = "served_within_target" if objective == "served" else "wait_hours"
    sign = 1 if objective == "served" else -1
    notes = []
    for v in verification:
        hi, lo = v.delta[key]["ci_high"], v.delta[key]["ci_low"]
        worse = (hi is not None and hi < 0) if objective == "served" else (lo is not None and lo > 0)
        if worse:
            notes.append(f"{v.store}: the verification run finds {' + '.join(v.interventions)} makes the objective worse; "
                         "run with more replications before buying it")
    t = total[key]
    if alloc.objective is not None and verification and t["mean"] is not None:
        notes.append(f"verified on a fresh seed: {sign * t['mean']:+,.1f} (95% CI {sign * (t['ci_low'] or 0):+,.1f} to "
                     f"{sign * (t['ci_high'] or 0):+,.1f}) against the solver's {alloc.objective:+,.1f}")
    return notes


def plan_region(
    region: Region,
    budgets: Budgets,
    *,
    objective: Objective = "served",
    replications: int | None = None,
    verify_replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    executor: Any = "processes",
    max_per_store: int | None = None,
    prune: bool = True,
    time_limit_s: float = 10.0,
    progress: Progress | None = None,
) -> PlanResult:
    """Value each store's menu by simulation, choose with CP-SAT within ``budgets``, verify on a fresh seed.

    ``progress(done, total)`` runs once per phase (single fixes, combinations, verification).
    """
    if objective not in ("served", "wait"):
        raise ValueError(f"objective must be 'served' or 'wait', got {objective!r}")
    reps = replications or region.spec.simulation.replications
    vreps = verify_replications or reps
    s = region.spec.simulation.seed if seed is None else seed
    k_max = max_per_store or region.spec.max_per_store

    def value(jobs: list[Job], bases: dict[str, Measured]) -> list[Candidate]:
        out = []
        runs = measure_many([j[2] for j in jobs], reps, s, workers=workers, executor=executor, progress=progress)
        for (store, combo, _), m in zip(jobs, runs, strict=True):
            if not combo:
                bases[store.name] = m
                continue
            d = delta(m, bases[store.name])
            out.append(Candidate(store, combo, total_usage(store.scenario, combo), _value(d, objective), d))
        return out

    bases: dict[str, Measured] = {}
    candidates = value(_single_jobs(region, budgets), bases)
    candidates += value(_combination_jobs(region, budgets, candidates, k_max, prune), bases)

    options = [Option(store=st.name, label="", value=0.0) for st in region.stores]
    options += [Option(store=c.store.name, label=c.label, value=c.value, cost=c.usage.cost_per_day,
                       staff_hours=c.usage.staff_hours, kiosks=c.usage.kiosks, greeters=c.usage.greeters) for c in candidates]
    alloc = solve_allocation(
        AllocationInput(options=tuple(options), money=budgets.money, staff_hours=budgets.staff_hours,
                        kiosks=budgets.kiosks, greeters=budgets.greeters),
        time_limit_s=time_limit_s, seed=s,
    )
    by_key = {(c.store.name, c.label): c for c in candidates}
    bought = [by_key[(opt.store, opt.label)] for opt in alloc.chosen if opt.label]
    pairs, verification = _verify(bought, vreps, s + 1, workers, executor, progress)
    total_kpis = {k: total_delta(pairs, k) for k in ("served_within_target", "wait_hours")}
    notes = _notes(objective, alloc, verification, total_kpis)
    return PlanResult(region=region, objective_kind=objective, budgets=budgets, allocation=alloc,
                      candidates=tuple(candidates), verification=tuple(verification), total=total_kpis,
                      replications=reps, verify_replications=vreps, seed=s, verify_seed=s + 1, notes=tuple(notes))


def budgets_from(region: Region, money: float | None = None, staff_hours: float | None = None,
                 kiosks: int | None = None, greeters: int | None = None) -> Budgets:
    """The region file's default budgets, with any given value replacing its default."""
    b = region.spec.budgets
    return Budgets(money=b.money if money is None else money, staff_hours=b.staff_hours if staff_hours is None else staff_hours,
                   kiosks=b.kiosks if kiosks is None else kiosks, greeters=b.greeters if greeters is None else greeters)


def describe_budgets(b: Budgets) -> str:
    parts = [f"{label} {v:g}" for label, v in (("money", b.money), ("staff hours", b.staff_hours), ("kiosks", b.kiosks),
                                                ("greeters", b.greeters)) if v is not None]
    return ", ".join(parts) if parts else "no limits"


__all__: Sequence[str] = ("Candidate", "PlanResult", "StoreVerification", "budgets_from", "plan_region")
