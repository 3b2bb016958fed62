"""Small stores and regions for the regional-planner tests (a 3-hour day, a few counters: fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simulation import scenario_from_dict
from storeq.region.model import Region, RegionSpec, Store


def small_store(name: str, rate: float = 40.0, staffed: int = 2, physical: int | None = 4, kiosks: int = 1,
                pitch: bool = True) -> dict[str, Any]:
    """A 09:00-12:00 hall: a peak in the middle, quick kiosk-able and long counter-only transactions."""
    shape = [0.6, 1.0, 1.4, 1.2, 1.0, 0.6]
    data: dict[str, Any] = {
        "name": name,
        "store": {"open": "09:00", "close": "12:00", "interval_min": 30, "target_wait_min": 5},
        "demand": {"arrivals_per_hour": [round(rate * w, 3) for w in shape],
                   "day_of_month_factors": {30: 1.3}},
        "segments": [{"name": "all", "share": 1.0, "patience": {"dist": "exponential", "mean": 15}}],
        "transactions": [
            {"name": "quick", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 2.5},
             "kiosk_time": {"dist": "exponential", "mean": 1.5}},
            {"name": "long", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 5}},
        ],
        "counters": {"staffed": staffed, **({"physical": physical} if physical is not None else {})},
        "kiosks": {"count": kiosks, "adoption": 0.4},
        "costs": {"staff_hour": 40},
        "simulation": {"replications": 10, "seed": 3},
    }
    if pitch:
        data["cross_sell"] = {"pitch_time": {"dist": "exponential", "mean": 3}, "acceptance": 0.2, "margin": 20,
                              "policy": {"mode": "always"}}
    return data


def region_of(stores: list[tuple[dict[str, Any], str]], **spec: Any) -> Region:
    """A Region straight from scenario dicts and districts (no files), with ``spec`` keys for RegionSpec."""
    built = tuple(Store(name=d["name"], district=district, scenario=scenario_from_dict(d, d["name"]),
                        lat=spec.pop(f"lat_{d['name']}", None), lon=spec.pop(f"lon_{d['name']}", None))
                  for d, district in stores)
    entries = [{"name": s.name, "scenario": "(in memory)", "district": s.district} for s in built]
    return Region(name=spec.pop("name", "Test region"), stores=built,
                  spec=RegionSpec.model_validate({"stores": entries, **spec}))


def write_region(tmp: Path, stores: list[tuple[dict[str, Any], str]], **extra: Any) -> Path:
    """Scenario files plus a region.yaml naming them, in ``tmp``; returns the region file."""
    entries = []
    for d, district in stores:
        path = tmp / f"{d['name'].lower().replace(' ', '_')}.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
        entries.append({"name": d["name"], "scenario": path.name, "district": district})
    region = {"name": "Test region", "stores": entries, **extra}
    out = tmp / "region.yaml"
    out.write_text(yaml.safe_dump(region, sort_keys=False), encoding="utf-8")
    return out
