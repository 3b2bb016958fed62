"""``region rank``: simulate every store, class it, list the busiest first, and value every fix per store.

Classes (thresholds in the region file, :class:`~storeq.region.model.Classes`): a store is
``very_busy`` when any ``very_busy`` condition holds (busiest-interval service level below, day
abandonment above, day or busiest-interval utilisation above), else ``busy`` by the ``busy`` conditions,
else ``normal``. Within a class, stores are ordered by busiest-interval service level (lowest first),
then abandonment, then utilisation (highest first): a store given more demand never ranks lower.

Each intervention is simulated on the store's own seed and compared with the store as it is,
replication by replication (common random numbers): the paired delta's CI is narrow enough to tell a
fix that helps from one that does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .evaluate import DELTA_KPIS, Measured, delta, measure_many, operator_measures
from .interventions import NotApplicable, Usage, apply, describe, usage
from .model import CLASSES, Classes, ClassRule, Intervention, Region, Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class InterventionValue:
    """One intervention at one store: what it is there, its cost, and its paired effect (or why not)."""

    name: str
    kind: str
    description: str
    usage: Usage
    delta: dict[str, dict[str, float | None]] | None
    not_applicable: str | None = None

    @property
    def cost_per_day(self) -> float:
        return self.usage.cost_per_day

    def value(self, kpi: str = "served_within_target") -> float:
        if self.delta is None:
            return math.nan
        v = self.delta[kpi]["mean"]
        return math.nan if v is None else float(v)


@dataclass(frozen=True)
class StoreRank:
    store: Store
    klass: str
    reasons: tuple[str, ...]
    base: Measured
    interventions: tuple[InterventionValue, ...] = field(default=())

    def sort_key(self) -> tuple[float, ...]:
        peak_sl = self.base.peak.get("service_level", {}).get("mean") if self.base.peak.get("start") else None
        ab = self.base.mean("abandonment_rate")
        util = self.base.mean("utilization")
        return (
            float(CLASSES.index(self.klass)),
            1.0 if peak_sl is None else float(peak_sl),
            -(0.0 if math.isnan(ab) else ab),
            -(0.0 if math.isnan(util) else util),
        )


def _check(rule: ClassRule, peak_sl: float, abandon: float, util: float, peak_util: float) -> list[str]:
    out = []
    if rule.peak_service_level_below is not None and not math.isnan(peak_sl) and peak_sl < rule.peak_service_level_below:
        out.append(f"busiest interval serves {peak_sl:.0%} within target (< {rule.peak_service_level_below:.0%})")
    if rule.abandonment_above is not None and not math.isnan(abandon) and abandon > rule.abandonment_above:
        out.append(f"{abandon:.1%} give up (> {rule.abandonment_above:.0%})")
    if rule.utilization_above is not None and not math.isnan(util) and util > rule.utilization_above:
        out.append(f"counters {util:.0%} busy over the day (> {rule.utilization_above:.0%})")
    limit = rule.peak_utilization_above
    if limit is not None and not math.isnan(peak_util) and peak_util > limit:
        out.append(f"counters {peak_util:.0%} busy in the busiest interval (> {limit:.0%})")
    return out


def classify(m: Measured, classes: Classes) -> tuple[str, tuple[str, ...]]:
    """The store's class and the conditions that put it there, in words."""
    def g(key: str) -> float:
        v = (m.peak.get(key) or {}).get("mean") if m.peak.get("start") else None
        return math.nan if v is None else float(v)

    peak_sl, peak_util = g("service_level"), g("utilization")
    util, abandon = m.mean("utilization"), m.mean("abandonment_rate")
    for name, rule in (("very_busy", classes.very_busy), ("busy", classes.busy)):
        why = _check(rule, peak_sl, abandon, util, peak_util)
        if why:
            return name, tuple(why)
    return "normal", ()


@dataclass(frozen=True)
class RankResult:
    region: Region
    stores: tuple[StoreRank, ...]
    replications: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        """``{"region", "stores": [{"store", "district", "class", "measures", "kpis", "peak", "interventions"}]}``."""
        out = []
        for sr in self.stores:
            measures = operator_measures(sr.base)
            rep = sr.store.reported
            if rep is not None:
                measures["reported"] = {
                    "customers_served": rep.customers_served, "avg_wait_min": rep.avg_wait_min,
                    "avg_transaction_min": rep.avg_transaction_min, "profile": rep.profile,
                    "fitted_scale": rep.fitted_scale, "wait_gap_min": rep.wait_gap_min, "note": rep.note,
                }
            measures["class_reasons"] = list(sr.reasons)
            out.append({
                "store": sr.store.name,
                "district": sr.store.district,
                "class": sr.klass,
                "measures": measures,
                "kpis": sr.base.kpis(),
                "peak": {k: v for k, v in sr.base.peak.items() if k != "interval"},
                "interventions": [
                    {"name": iv.name, "cost_per_day": round(iv.cost_per_day, 2), "delta": iv.delta,
                     "description": iv.description, **({"not_applicable": iv.not_applicable} if iv.not_applicable else {})}
                    for iv in sr.interventions
                ],
            })
        return {"region": self.region.name, "stores": out}

    def frame(self) -> pd.DataFrame:
        """One row per store, busiest first: class, the five measures, headline KPIs, the peak."""
        rows = []
        for rank, sr in enumerate(self.stores, start=1):
            m = operator_measures(sr.base)
            peak = sr.base.peak
            rows.append({
                "rank": rank, "store": sr.store.name, "district": sr.store.district, "class": sr.klass,
                "counters": m["counters"], "customers_served": m["customers_served"], "kiosks": m["kiosks"],
                "avg_wait_min": m["avg_wait_min"], "avg_transaction_min": m["avg_transaction_min"],
                "service_level": sr.base.mean("service_level"), "abandonment_rate": sr.base.mean("abandonment_rate"),
                "served_within_target": sr.base.mean("served_within_target"),
                "peak": f"{peak.get('start')}-{peak.get('end')}" if peak.get("start") else "",
                "peak_service_level": (peak.get("service_level") or {}).get("mean"),
                "peak_utilization": (peak.get("utilization") or {}).get("mean"),
                "why": "; ".join(sr.reasons),
            })
        return pd.DataFrame(rows)

    def interventions_frame(self) -> pd.DataFrame:
        """One row per store × intervention: cost, paired deltas (mean and CI), value per 100 of cost."""
        rows = []
        for sr in self.stores:
            for iv in sr.interventions:
                row: dict[str, Any] = {"store": sr.store.name, "district": sr.store.district, "class": sr.klass,
                                       "intervention": iv.name, "description": iv.description,
                                       "cost_per_day": iv.cost_per_day, "not_applicable": iv.not_applicable or ""}
                for k in DELTA_KPIS:
                    d = (iv.delta or {}).get(k) or {}
                    row[f"{k}_delta"] = d.get("mean")
                    row[f"{k}_ci_low"] = d.get("ci_low")
                    row[f"{k}_ci_high"] = d.get("ci_high")
                v = iv.value()
                row["served_within_target_per_100"] = (100 * v / iv.cost_per_day) if iv.cost_per_day > 0 and not math.isnan(v) else None
                rows.append(row)
        return pd.DataFrame(rows)


def _variants(store: Store, interventions: Sequence[Intervention]) -> list[tuple[Intervention, Any]]:
    return [(iv, apply(store.scenario, [iv])) for iv in interventions]


def rank_region(
    region: Region,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    executor: Any = "processes",
    interventions: Sequence[Intervention] | None = None,
    progress: Progress | None = None,
) -> RankResult:
    """Simulate every store and every applicable intervention; stores busiest first.

    ``progress(done, total)`` counts replications over the whole region.
    """
    reps = replications or region.spec.simulation.replications
    s = region.spec.simulation.seed if seed is None else seed
    ivs = list(region.interventions if interventions is None else interventions)
    plans = [(store, _variants(store, ivs)) for store in region.stores]
    # every store and every applicable variant in one batch: one pool (or cluster) for the region
    jobs: list[tuple[int, int | None, Any]] = []
    for si, (store, variants) in enumerate(plans):
        jobs.append((si, None, store.scenario))
        jobs += [(si, ii, v) for ii, (_, v) in enumerate(variants) if not isinstance(v, NotApplicable)]
    measured: dict[tuple[int, int | None], Measured] = {}
    runs = measure_many([j[2] for j in jobs], reps, s, workers=workers, executor=executor, progress=progress)
    for (si, ii, _), m in zip(jobs, runs, strict=True):
        measured[(si, ii)] = m

    ranked: list[StoreRank] = []
    for si, (store, variants) in enumerate(plans):
        base = measured[(si, None)]
        values = []
        for ii, (iv, variant) in enumerate(variants):
            use = usage(store.scenario, iv)
            if isinstance(variant, NotApplicable):
                values.append(InterventionValue(iv.name, iv.kind, describe(store.scenario, iv), use, None, variant.reason))
                continue
            values.append(InterventionValue(iv.name, iv.kind, describe(store.scenario, iv), use,
                                            delta(measured[(si, ii)], base)))
        klass, reasons = classify(base, region.spec.classes)
        ranked.append(StoreRank(store=store, klass=klass, reasons=reasons, base=base, interventions=tuple(values)))
    ranked.sort(key=lambda r: r.sort_key())
    return RankResult(region=region, stores=tuple(ranked), replications=reps, seed=s)
