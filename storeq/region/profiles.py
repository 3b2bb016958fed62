"""Store-table rows → scenarios, through demand-profile templates, with the demand fitted by simulation.

A regional office knows, per hall: counters, kiosks, customers served per day, average wait, average
transaction time, opening hours. That is not a scenario: it lacks the shape of the day, the customer
mix and patience. A *profile* (``scenarios/profiles/*.yaml``: city centre, residential, mall, county
town, ...) supplies those, and the row supplies the hall's own numbers:

* the day's shape: the profile's relative walk-in rate per clock hour, cut to the row's hours;
* the transaction mix: the profile's, with counter times rescaled so the mix's mean is the row's
  average transaction time;
* counters, kiosks, VIP counters: the row's;
* the demand *level*: fitted so that the simulated day serves the row's customers per day
  (:func:`fit_demand`, a few secant steps on ``demand.scale``, common random numbers throughout).

The fit then reports how far the simulated average wait is from the reported one. A large gap means
the row's numbers do not hang together under that profile: a wrong wait figure, a wrong counter
count, or the wrong profile. Pure: the profile and table files are read in :mod:`storeq.region.io`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from simulation import Scenario, ScenarioError, run, scenario_from_dict
from simulation.clock import format_clock, parse_clock

from .model import Reported, _Frozen, validation_problems

Progress = Callable[[int, int], None]

ALLOWED_INTERVALS = (30, 60, 15)


class Profile(_Frozen):
    """A demand-profile template: everything about a kind of hall except its own size and volume.

    ``demand_shape`` maps a clock hour ("HH:00") to the relative walk-in rate in that hour (hours not
    listed have no walk-ins); ``transactions``' counter times are relative (rescaled per row).
    """

    name: str = Field(min_length=1)
    description: str = ""
    interval_min: int = 30
    target_wait_min: Annotated[float, Field(gt=0)] = 10.0
    demand_shape: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    weekday_factors: tuple[Annotated[float, Field(ge=0)], ...] | None = None
    day_of_month_factors: dict[int, Annotated[float, Field(ge=0)]] | None = None
    segments: tuple[dict[str, Any], ...] | None = None
    transactions: tuple[dict[str, Any], ...] = Field(min_length=1)
    kiosks: dict[str, Any] = Field(default_factory=dict)
    cross_sell: dict[str, Any] | None = None
    balking: dict[str, Any] | None = None
    costs: dict[str, Any] = Field(default_factory=lambda: {"staff_hour": 40})

    @field_validator("demand_shape")
    @classmethod
    def _hours(cls, v: dict[str, float]) -> dict[str, float]:
        out = {}
        for k, w in v.items():
            minutes = parse_clock(k)
            if minutes % 60:
                raise ValueError(f"hours must start on the hour (\"HH:00\"), got {k!r}")
            out[format_clock(minutes)] = float(w)
        if not any(w > 0 for w in out.values()):
            raise ValueError("needs at least one hour with a positive rate")
        return out

    @field_validator("kiosks")
    @classmethod
    def _kiosk_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if k not in ("adoption", "greeter_adoption", "greeter", "failure")]
        if bad:
            raise ValueError(f"unknown key(s) {', '.join(bad)}; allowed: adoption, greeter_adoption, greeter, failure "
                             "(the count comes from each row)")
        return v

    def weight(self, clock_min: int) -> float:
        """Relative walk-in rate at a clock time (the rate of the hour it falls in)."""
        return self.demand_shape.get(format_clock((clock_min // 60) * 60), 0.0)


# ---------------------------------------------------------------------------------------------
# table rows
# ---------------------------------------------------------------------------------------------

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "hall", "store", "营业厅", "厅名", "名称", "网点"),
    "district": ("district", "area", "区县", "区域", "片区"),
    "counters": ("counters", "counter_count", "windows", "柜台数", "窗口数", "柜台"),
    "staffed": ("staffed", "staffed_counters", "open_counters", "开放柜台", "在岗柜台"),
    "vip_counters": ("vip_counters", "vip", "vip柜台", "贵宾柜台"),
    "kiosks": ("kiosks", "kiosk_count", "self_service", "自助终端数", "自助终端", "自助机"),
    "served_per_day": ("served_per_day", "customers_per_day", "customers_served", "served", "日服务量", "日均服务量", "日均客流"),
    "avg_wait_min": ("avg_wait_min", "average_wait", "avg_wait", "mean_wait_min", "平均等待时长", "平均等待"),
    "avg_transaction_min": ("avg_transaction_min", "average_transaction_time", "avg_transaction", "avg_service_min",
                            "平均办理时长", "平均业务时长"),
    "open": ("open", "opens", "开门", "开始营业"),
    "close": ("close", "closes", "关门", "结束营业"),
    "hours": ("hours", "opening_hours", "营业时间"),
    "profile": ("profile", "demand_profile", "客流类型", "类型"),
    "lat": ("lat", "latitude", "纬度"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "comment": ("comment", "note", "notes", "备注", "说明"),
}
"""Column names a store table may use (case and spaces ignored; common Chinese headers included)."""


def normalise_header(h: object) -> str:
    return re.sub(r"[\s\-/()（）]+", "_", str(h).strip().lower()).strip("_")


def column_map(headers: list[object]) -> tuple[dict[str, str], list[str]]:
    """Table headers → canonical names; also the headers nobody recognises (reported, not fatal)."""
    lookup = {normalise_header(a): canon for canon, aliases in COLUMN_ALIASES.items() for a in aliases}
    out: dict[str, str] = {}
    unknown = []
    for h in headers:
        canon = lookup.get(normalise_header(h))
        if canon is None:
            unknown.append(str(h))
        elif canon not in out.values():
            out[str(h)] = canon
    return out, unknown


def _clock_text(v: object) -> object:
    if isinstance(v, _dt.time):
        return f"{v.hour:02d}:{v.minute:02d}"
    if isinstance(v, _dt.datetime):
        return f"{v.hour:02d}:{v.minute:02d}"
    return v.strip() if isinstance(v, str) else v


class TableRow(_Frozen):
    """One hall as a regional office reports it."""

    name: str = Field(min_length=1)
    district: str = "(none)"
    counters: Annotated[int, Field(ge=1, le=200)]
    staffed: Annotated[int, Field(ge=1, le=200)] | None = None
    vip_counters: Annotated[int, Field(ge=0)] = 0
    kiosks: Annotated[int, Field(ge=0, le=200)] = 0
    served_per_day: Annotated[float, Field(gt=0, le=20_000, allow_inf_nan=False)]  # the biggest halls serve a few thousand
    avg_wait_min: Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)]
    avg_transaction_min: Annotated[float, Field(gt=0, le=240, allow_inf_nan=False)]
    open: str
    close: str
    profile: str = Field(min_length=1)
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None

    @field_validator("open", "close", mode="before")
    @classmethod
    def _clock(cls, v: object) -> str:
        return format_clock(parse_clock(_clock_text(v)))

    @model_validator(mode="after")
    def _consistent(self) -> TableRow:
        if parse_clock(self.close) <= parse_clock(self.open):
            raise ValueError(f"close ({self.close}) must be after open ({self.open})")
        if self.staffed is not None and self.staffed > self.counters:
            raise ValueError(f"staffed ({self.staffed}) is more than the hall's counters ({self.counters})")
        if self.vip_counters > (self.staffed or self.counters):
            raise ValueError(f"vip_counters ({self.vip_counters}) is more than the counters staffed ({self.staffed or self.counters})")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


def _cell(v: object) -> object:
    """A table cell as pydantic should see it: empty → absent, "1,234" → 1234."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?|-?\d+(\.\d+)?", s):
            # a number as the office typed it ("1,234"): shown back as a number in any message
            n = float(s.replace(",", ""))
            return int(n) if n.is_integer() and "." not in s else n
        return s
    if isinstance(v, np.generic):
        return v.item()
    return v


def parse_row(raw: Mapping[str, object]) -> TableRow:
    """A table row (canonical column names) → TableRow, or ValueError naming each bad cell."""
    data: dict[str, object] = {}
    for k, v in raw.items():
        c = _cell(v)
        if c is not None and k != "comment":
            data[k] = c
    hours = data.pop("hours", None)
    if hours is not None and ("open" not in data or "close" not in data):
        m = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*[-–~至到]\s*(\d{1,2}:\d{2})\s*", str(hours))
        if not m:
            raise ValueError(f"hours: expected \"HH:MM-HH:MM\", got {hours!r}")
        data.setdefault("open", m.group(1))
        data.setdefault("close", m.group(2))
    for k in ("name", "district", "profile"):
        if k in data and not isinstance(data[k], str):
            data[k] = str(data[k])
    try:
        return TableRow.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{p}: {m}" if p else m for p, m in validation_problems(TableRow, exc, data))) from None


# ---------------------------------------------------------------------------------------------
# row + profile → scenario
# ---------------------------------------------------------------------------------------------


def _scale_dist(spec: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A distribution spec with its time scale multiplied (shape, i.e. cv, kept)."""
    out = dict(spec)
    for key in ("mean", "value", "low", "high", "mode"):
        if key in out and isinstance(out[key], int | float):
            out[key] = float(out[key]) * factor
    if isinstance(out.get("values"), list | tuple):
        out["values"] = [float(x) * factor for x in out["values"]]
    return out


def _dist_mean(spec: Mapping[str, Any]) -> float:
    d = spec.get("dist")
    if d in ("exponential", "lognormal", "gamma"):
        return float(spec["mean"])
    if d == "deterministic":
        return float(spec["value"])
    if d == "uniform":
        return (float(spec["low"]) + float(spec["high"])) / 2
    if d == "triangular":
        return (float(spec["low"]) + float(spec["mode"]) + float(spec["high"])) / 3
    if d == "empirical":
        vals = [float(x) for x in spec["values"]]
        return sum(vals) / len(vals)
    raise ValueError(f"unknown distribution {d!r}")


def scale_transactions(transactions: tuple[dict[str, Any], ...] | list[dict[str, Any]], target_mean: float) -> list[dict[str, Any]]:
    """Counter times rescaled so the share-weighted mean counter time is ``target_mean`` minutes."""
    mean = sum(float(t.get("share", 0)) * _dist_mean(t["counter_time"]) for t in transactions)
    factor = target_mean / mean if mean > 0 else 1.0
    return [{**t, "counter_time": _scale_dist(t["counter_time"], factor)} for t in transactions]


def _interval_for(profile: Profile, open_min: int, close_min: int) -> int:
    span = close_min - open_min
    for i in (profile.interval_min, *ALLOWED_INTERVALS):
        if span % i == 0:
            return i
    raise ValueError(f"opening hours {format_clock(open_min)}-{format_clock(close_min)} are not whole quarter hours")


def scenario_from_row(row: TableRow, profile: Profile, replications: int = 100, seed: int = 1, scale: float = 1.0,
                      source: str = "table row") -> Scenario:
    """The scenario of one table row under ``profile``; demand level from the row's volume × ``scale``.

    The first guess of the level spreads the row's customers per day over its hours by the profile's
    shape; :func:`fit_demand` then corrects ``scale`` by simulation (abandonment, balking and
    diversion make served < walk-ins).
    """
    o, c = parse_clock(row.open), parse_clock(row.close)
    interval = _interval_for(profile, o, c)
    clocks = list(range(o, c, interval))
    weights = np.array([profile.weight(t) for t in clocks], float)
    if weights.sum() <= 0:
        raise ValueError(f"profile {profile.name!r} has no walk-ins between {row.open} and {row.close}; "
                         f"its demand_shape covers {', '.join(profile.demand_shape)}")
    hours = (c - o) / 60
    per_hour = row.served_per_day / hours  # average walk-ins per hour if everyone is served
    rates = weights / weights.mean() * per_hour * scale
    data: dict[str, Any] = {
        "name": row.name,
        "store": {"open": row.open, "close": row.close, "interval_min": interval, "target_wait_min": profile.target_wait_min},
        "demand": {"arrivals_per_hour": [round(float(r), 3) for r in rates]},
        "transactions": scale_transactions(profile.transactions, row.avg_transaction_min),
        "counters": {"staffed": row.staffed or row.counters, "vip": row.vip_counters, "physical": row.counters},
        "kiosks": {**profile.kiosks, "count": row.kiosks},
        "costs": dict(profile.costs),
        "simulation": {"replications": replications, "seed": seed},
    }
    if profile.weekday_factors is not None:
        data["demand"]["weekday_factors"] = list(profile.weekday_factors)
    if profile.day_of_month_factors is not None:
        data["demand"]["day_of_month_factors"] = dict(profile.day_of_month_factors)
    if profile.segments is not None:
        data["segments"] = [dict(s) for s in profile.segments]
    if profile.cross_sell is not None:
        data["cross_sell"] = dict(profile.cross_sell)
    if profile.balking is not None:
        data["balking"] = dict(profile.balking)
    return scenario_from_dict(data, source)


def _with_scale(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with its walk-in rates multiplied by ``factor`` (baked in: ``demand.scale`` stays a what-if knob)."""
    raw = scenario.demand.arrivals_per_hour
    rates = [raw] if not isinstance(raw, tuple) else list(raw)
    data = scenario.to_dict()
    data["demand"]["arrivals_per_hour"] = [round(float(r) * factor, 3) for r in rates] if isinstance(raw, tuple) else round(float(raw) * factor, 3)
    return scenario_from_dict(data, scenario.name)


def fit_demand(
    row: TableRow,
    profile: Profile,
    *,
    replications: int = 20,
    seed: int = 1,
    workers: int = 1,
    tolerance: float = 0.02,
    max_steps: int = 6,
    sim_replications: int = 100,
    progress: Progress | None = None,
    source: str = "table row",
) -> tuple[Scenario, Reported]:
    """The row's scenario with demand fitted so the simulated day serves the row's volume.

    Secant steps on the demand multiplier: served grows in proportion to demand while the hall keeps
    up, so ``scale ← scale × reported / simulated`` converges in two or three steps. When the hall
    cannot serve the volume (served stops growing), the fit stops and says so. Each step uses the
    same seed (common random numbers), so the steps differ by the scale, not by luck.
    """
    scale = 1.0
    base = scenario_from_row(row, profile, replications=sim_replications, seed=seed, source=source)
    served = wait = math.nan
    note = ""
    tried: list[tuple[float, float]] = []
    for step in range(max_steps):
        scen = _with_scale(base, scale) if scale != 1.0 else base
        res = run(scen, replications=replications, seed=seed, workers=workers)
        served = float(res.kpis["mean"].to_dict()["served"])
        wait = float(res.kpis["mean"].to_dict()["mean_wait_min"])
        if progress is not None:
            progress(step + 1, max_steps)
        tried.append((scale, served))
        if served <= 0:
            note = "the simulated day serves nobody: check the hours and the profile"
            break
        gap = served / row.served_per_day - 1
        if abs(gap) <= tolerance:
            break
        if len(tried) >= 2 and tried[-1][0] > tried[-2][0] * 1.05 and served < tried[-2][1] * 1.01:
            note = (f"the hall's {row.staffed or row.counters} counters serve at most about {served:,.0f} a day "
                    f"with this profile; the reported {row.served_per_day:,.0f} is out of reach (bad count or wrong profile)")
            break
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            # secant through the last two points: served bends below proportional as the hall fills up
            (s0, f0), (s1, f1) = tried[-2], tried[-1]
            step_to = s1 + (row.served_per_day - f1) * (s1 - s0) / (f1 - f0)
            scale = min(max(step_to, s1 / 2), s1 * 3, 50.0)
        else:
            scale = min(scale * row.served_per_day / served, 50.0)
    fitted = _with_scale(base, scale) if scale != 1.0 else base
    served_gap = served / row.served_per_day - 1
    wait_gap = wait - row.avg_wait_min
    if not note and abs(served_gap) > tolerance:
        note = f"the fit stopped {served_gap:+.1%} from the reported volume after {len(tried)} steps"
    if not note and abs(wait_gap) > max(3.0, 0.5 * row.avg_wait_min):
        note = (f"simulated wait {wait:.1f} min vs reported {row.avg_wait_min:g} min: check the reported wait, "
                f"the counters, the transaction time or the profile ({profile.name})")
    reported = Reported(
        customers_served=row.served_per_day,
        avg_wait_min=row.avg_wait_min,
        avg_transaction_min=row.avg_transaction_min,
        profile=profile.name,
        fitted_scale=round(scale, 4),
        simulated_served=served,
        simulated_wait_min=wait,
        served_gap=served_gap,
        wait_gap_min=wait_gap,
        note=note,
    )
    return fitted, reported


def check_profile(profile: Profile, source: str) -> None:
    """Build a probe scenario so a broken profile is reported against its own file, not a row."""
    kiosk_able = any("kiosk_time" in t for t in profile.transactions)
    probe = TableRow(name="probe", counters=4, kiosks=1 if kiosk_able else 0, served_per_day=300, avg_wait_min=5, avg_transaction_min=5,
                     open=min(profile.demand_shape), close=format_clock(parse_clock(max(profile.demand_shape)) + 60),
                     profile=profile.name)
    try:
        scenario_from_row(probe, profile, source=source)
    except ScenarioError as exc:
        problems = [(p.replace("[", "transactions[", 1) if p.startswith("[") else p, m) for p, m in exc.problems]
        raise ScenarioError(source, problems) from None
    except ValueError as exc:
        raise ScenarioError(source, [("", str(exc))]) from None


def stores_from_table(
    rows: list[dict[str, object]],
    profiles: Mapping[str, Profile],
    source: str,
    *,
    replications: int = 100,
    seed: int = 1,
    workers: int = 1,
    fit_replications: int = 20,
    progress: Progress | None = None,
) -> tuple[list[tuple[TableRow, Scenario, Reported]], list[tuple[int, str, str]]]:
    """Table rows (canonical column names, first data row = row 2 as a spreadsheet shows it) → fitted scenarios.

    Returns the good rows and the bad ones as ``(row number, name, reason)``: a bad row is named with
    its reason and the rest go on.
    """
    good: list[tuple[TableRow, Scenario, Reported]] = []
    bad: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(rows):
        line = i + 2
        label = str(raw.get("name") or f"row {line}")
        try:
            row = parse_row(raw)
            if row.name in seen:
                raise ValueError(f"name {row.name!r} is used by an earlier row")
            profile = profiles.get(row.profile)
            if profile is None:
                import difflib

                close = difflib.get_close_matches(row.profile, list(profiles), n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"profile: unknown profile {row.profile!r}; {hint}allowed: {', '.join(sorted(profiles))}")
            # a fit step is a few dozen replications: worker start-up would cost more than it saves
            fit_workers = 1 if fit_replications < 40 else workers
            scen, rep = fit_demand(row, profile, replications=fit_replications, seed=seed, workers=fit_workers,
                                   sim_replications=replications, source=f"{source} row {line}")
        except ScenarioError as exc:
            bad.append((line, label, "; ".join(f"{p}: {m}" if p else m for p, m in exc.problems)))
            continue
        except ValueError as exc:
            bad.append((line, label, str(exc)))
            continue
        seen.add(row.name)
        good.append((row, scen, rep))
        if progress is not None:
            progress(i + 1, len(rows))
    return good, bad
