"""The region: what a regional planner hands storeq, validated once at the boundary.

A region file (``region.yaml``) names the stores (a scenario file each, a district, optional
coordinates), the thresholds that class a store ``very_busy`` / ``busy`` / ``normal``, the
interventions to value with their sizes and costs, default budgets and the settings for staff moves.
Every model here is frozen and refuses unknown keys; :func:`region_spec_from_dict` turns pydantic's
errors into the project's :class:`~simulation.ScenarioError` (file, key, value, what is allowed, a
"did you mean" for a typo), every problem at once.

After the files are read (:mod:`storeq.region.io`), a :class:`Region` holds validated
:class:`~simulation.Scenario` objects only, so the planning code never touches a file.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulation import Scenario, ScenarioError
from simulation.clock import format_clock, parse_window

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, allow_inf_nan=False)]

CLASSES = ("very_busy", "busy", "normal")
"""Busy classes, busiest first (the order of a ranking)."""

KINDS = ("counter", "kiosk", "greeter", "pitch_rule", "shorter_transactions", "online_reminder")
Kind = Literal["counter", "kiosk", "greeter", "pitch_rule", "shorter_transactions", "online_reminder"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClassRule(_Frozen):
    """A store is in the class when ANY of the given conditions holds (absent = not checked).

    ``peak_service_level_below``: the busiest interval serves fewer than this share within target;
    ``abandonment_above``: more than this share of the day's counter queue gives up;
    ``utilization_above``: counters are busier than this over the day;
    ``peak_utilization_above``: counters are busier than this in the busiest interval (off by default:
    with flat staffing nearly every hall's worst half hour is close to 100%).
    """

    peak_service_level_below: Share | None = None
    abandonment_above: Share | None = None
    utilization_above: Share | None = None
    peak_utilization_above: Share | None = None


class Classes(_Frozen):
    """Thresholds of the busy classes; ``very_busy`` is checked first, then ``busy``, else ``normal``."""

    very_busy: ClassRule = Field(
        default_factory=lambda: ClassRule(peak_service_level_below=0.3, abandonment_above=0.10, utilization_above=0.92)
    )
    busy: ClassRule = Field(
        default_factory=lambda: ClassRule(peak_service_level_below=0.6, abandonment_above=0.05, utilization_above=0.85)
    )


# which optional keys each intervention kind reads (anything else given is a mistake worth naming)
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "counter": ("size", "hours", "cost_per_hour", "cost_per_day"),
    "kiosk": ("size", "cost_per_day"),
    "greeter": ("hours", "cost_per_hour", "cost_per_day"),
    "pitch_rule": ("threshold", "cost_per_day"),
    "shorter_transactions": ("reduction", "transactions", "cost_per_day"),
    "online_reminder": ("diversion", "cost_per_day"),
}


class Intervention(_Frozen):
    """One fix a planner can buy for a store, with its size and its cost per day.

    ========================  ==========================================================================
    kind                      what it changes in the store's scenario
    ========================  ==========================================================================
    ``counter``               ``size`` more counters staffed for ``hours`` at the store's peak
    ``kiosk``                 ``size`` more self-service kiosks
    ``greeter``               a greeter at the door guiding customers to kiosks (``hours``; all day if absent)
    ``pitch_rule``            no cross-selling while ``threshold`` or more customers wait
    ``shorter_transactions``  standard answers: counter times cut by ``reduction`` (a share)
    ``online_reminder``       reminders move ``diversion`` more of the kiosk-able demand online
    ========================  ==========================================================================

    Cost per day: ``cost_per_day`` (per kiosk for ``kiosk``) plus, for ``counter`` and ``greeter``,
    hours × ``cost_per_hour``. Rates not given come from the store's ``costs``: ``staff_hour`` for a
    counter, ``greeter_hour`` for a greeter, ``kiosk_day`` for a kiosk.
    """

    name: str = Field(min_length=1)
    kind: Kind
    size: Annotated[int, Field(ge=1, le=20)] | None = None
    hours: Annotated[float, Field(gt=0, le=24, allow_inf_nan=False)] | None = None
    cost_per_hour: NonNeg | None = None
    cost_per_day: NonNeg | None = None
    threshold: Annotated[int, Field(ge=1)] | None = None
    reduction: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = None
    transactions: tuple[str, ...] | None = None
    diversion: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _keys_for_kind(self) -> Intervention:
        allowed = KIND_KEYS[self.kind]
        given = [k for k in ("size", "hours", "cost_per_hour", "cost_per_day", "threshold", "reduction", "transactions", "diversion")
                 if getattr(self, k) is not None and k not in allowed]
        if given:
            raise ValueError(
                f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to kind {self.kind!r}; "
                f"allowed for {self.kind}: {', '.join(allowed)}"
            )
        return self

    # resolved sizes (defaults documented in docs/region.md)
    @property
    def n(self) -> int:
        return self.size if self.size is not None else 1

    @property
    def rule_threshold(self) -> int:
        return self.threshold if self.threshold is not None else 5

    @property
    def cut(self) -> float:
        return self.reduction if self.reduction is not None else 0.10

    @property
    def moved_online(self) -> float:
        return self.diversion if self.diversion is not None else 0.15


DEFAULT_INTERVENTIONS: tuple[Intervention, ...] = (
    Intervention(name="counter_at_peak", kind="counter", size=1, hours=3),
    Intervention(name="kiosk", kind="kiosk", size=1, cost_per_day=40),
    Intervention(name="greeter", kind="greeter", cost_per_hour=25),
    Intervention(name="pitch_rule", kind="pitch_rule", threshold=5, cost_per_day=0),
    Intervention(name="standard_answers", kind="shorter_transactions", reduction=0.10, cost_per_day=30),
    Intervention(name="online_reminders", kind="online_reminder", diversion=0.15, cost_per_day=60),
)
"""The six fixes operators use, with middle-of-the-road sizes and costs (CNY per day)."""


class Budgets(_Frozen):
    """Per-day limits for a regional plan; absent = no limit on that resource."""

    money: NonNeg | None = None
    staff_hours: NonNeg | None = None
    kiosks: Annotated[int, Field(ge=0)] | None = None
    greeters: Annotated[int, Field(ge=0)] | None = None


class Moves(_Frozen):
    """Staff moves between halls of one district on one day.

    ``blocks``: the shift blocks a person moves for ("HH:MM-HH:MM"); travel time is from coordinates
    (straight-line km × ``detour`` / ``speed_kmh`` + ``overhead_min``) or, without them, the
    district's ``travel_min``. ``donors_keep_target``: a hall may give a person only if every interval
    of the block keeps ``target_service_level``; otherwise its loss is counted against the gain.
    """

    blocks: tuple[str, ...] = ("10:00-14:00", "14:00-18:00")
    speed_kmh: Pos = 20.0
    detour: Annotated[float, Field(ge=1, le=3, allow_inf_nan=False)] = 1.3
    overhead_min: NonNeg = 10.0
    travel_min: dict[str, NonNeg] = Field(default_factory=dict)
    max_moves: Annotated[int, Field(ge=0)] | None = None
    donors_keep_target: bool = False
    target_service_level: Share = 0.8

    @field_validator("blocks")
    @classmethod
    def _windows(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for w in v:
            a, b = parse_window(w)
            out.append(f"{format_clock(a)}-{format_clock(b)}")
        if not out:
            raise ValueError("needs at least one block, e.g. [\"10:00-14:00\"]")
        return tuple(out)


class RegionSimulation(_Frozen):
    replications: Annotated[int, Field(ge=2)] = 100
    seed: Annotated[int, Field(ge=0)] = 1


class StoreEntry(_Frozen):
    """One store of a region file: a scenario file (path relative to the region file) and where it is."""

    name: str = Field(min_length=1)
    scenario: str = Field(min_length=1)
    district: str = "(none)"
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    """Scenario overrides for this store (dotted keys, as ``storeq run --set``)."""

    @model_validator(mode="after")
    def _both_coordinates(self) -> StoreEntry:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class RegionSpec(_Frozen):
    """The region file, validated (paths not yet read)."""

    name: str = Field(default="Region", min_length=1)
    stores: tuple[StoreEntry, ...] = ()
    table: str | None = None
    """A store table (CSV/Excel) whose rows are added as stores (path relative to the region file)."""
    profiles: str | None = None
    """A folder of demand-profile templates for the table (default: the bundled scenarios/profiles)."""
    classes: Classes = Field(default_factory=Classes)
    interventions: tuple[Intervention, ...] = DEFAULT_INTERVENTIONS
    max_per_store: Annotated[int, Field(ge=1, le=4)] = 2
    """A plan gives a store at most this many interventions (each combination is simulated)."""
    budgets: Budgets = Field(default_factory=Budgets)
    moves: Moves = Field(default_factory=Moves)
    simulation: RegionSimulation = Field(default_factory=RegionSimulation)

    @model_validator(mode="after")
    def _unique(self) -> RegionSpec:
        problems = []
        for what, names in (("stores", [s.name for s in self.stores]), ("interventions", [i.name for i in self.interventions])):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                problems.append(f"{what}: names must be unique, repeated: {', '.join(dup)}")
        if not self.stores and self.table is None:
            problems.append("stores: a region needs stores (a list) or a table (a CSV/Excel file), or both")
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ---------------------------------------------------------------------------------------------
# the region as the planning code sees it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    """What a store table says about a hall, and how the fitted scenario compares with it."""

    customers_served: float
    avg_wait_min: float
    avg_transaction_min: float
    profile: str
    fitted_scale: float | None = None
    simulated_served: float | None = None
    simulated_wait_min: float | None = None
    served_gap: float | None = None
    """Simulated served / reported − 1 (the fit's residual)."""
    wait_gap_min: float | None = None
    """Simulated mean wait − reported average wait: a large gap flags bad data or a wrong profile."""
    note: str = ""


@dataclass(frozen=True)
class Store:
    """One hall of the region: its scenario, where it is, and (for a table row) what was reported."""

    name: str
    district: str
    scenario: Scenario
    lat: float | None = None
    lon: float | None = None
    source: str = ""
    reported: Reported | None = None

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class SkippedRow:
    """A table row that could not become a store, and why."""

    row: int
    name: str
    reason: str


@dataclass(frozen=True)
class Region:
    """A validated region: stores with scenarios, thresholds, interventions, budgets, move settings."""

    name: str
    stores: tuple[Store, ...]
    spec: RegionSpec
    skipped: tuple[SkippedRow, ...] = field(default=())
    source: str = ""

    @property
    def interventions(self) -> tuple[Intervention, ...]:
        return self.spec.interventions

    def store(self, name: str) -> Store:
        for s in self.stores:
            if s.name == name:
                return s
        raise KeyError(f"no store {name!r} in region {self.name!r}; stores: {', '.join(s.name for s in self.stores)}")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (good to a few metres at city scale)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, a)))


# ---------------------------------------------------------------------------------------------
# errors a planner can read (the same conventions as scenario files)
# ---------------------------------------------------------------------------------------------


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType, tuple, list):
        return [t for a in typing.get_args(tp) if a is not Ellipsis for t in _unwrap(a)]
    return [tp]


def _model_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for key in loc:
        if model is None:
            return None
        if isinstance(key, int):
            continue
        f = model.model_fields.get(str(key))
        if f is None:
            return None
        subs = [t for t in _unwrap(f.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        model = subs[0] if subs else None
    return model


def _path(loc: Sequence[Any], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, Sequence) and not isinstance(node, str) and key < len(node):
                node = node[key]
                if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                    label = f"[{key}]({node['name']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
    return "".join(parts)


def validation_problems(root: type[BaseModel], exc: ValidationError, data: Any) -> list[tuple[str, str]]:
    """pydantic errors as ``(key path, message)`` pairs in the project's words (file/key/value/allowed)."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = tuple(k for k in err["loc"] if not (isinstance(k, str) and (k.startswith("function-") or "[" in k)))
        kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
        path = _path(loc, data)
        if kind == "extra_forbidden":
            parent = _model_at(root, loc[:-1])
            allowed = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
            hint = f"did you mean `{close[0]}`? " if close else ""
            msg = f"unknown key; {hint}allowed here: {', '.join(allowed)}"
        elif kind == "missing":
            msg = "is required but missing"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            word = {"greater_than_equal": "at least", "greater_than": "greater than", "less_than_equal": "at most",
                    "less_than": "less than"}[kind]
            bound = next(iter(ctx.values()))
            msg = f"must be {word} {bound:g}, got {value!r}" if isinstance(bound, int | float) else f"must be {word} {bound}, got {value!r}"
        elif kind == "literal_error":
            msg = f"must be one of {ctx.get('expected')}, got {value!r}"
        elif kind.startswith("int_"):
            msg = f"must be a whole number, got {value!r}"
        elif kind.startswith("float_") or kind == "finite_number":
            msg = f"must be a finite number, got {value!r}"
        elif kind.startswith("bool_"):
            msg = f"must be true or false, got {value!r}"
        elif kind.startswith("string_") and kind != "string_too_short":
            msg = f"must be text, got {value!r}"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        if (path, msg) not in out:
            out.append((path, msg))
    # a typo makes the real key "missing" too: the "did you mean" already says it
    meant = {p.rpartition(".")[0] + ("." if "." in p else "") + m.split("`")[1] for p, m in out if "did you mean `" in m}
    return [(p, m) for p, m in out if not (m == "is required but missing" and p in meant)]


def region_spec_from_dict(data: Any, source: str = "region") -> RegionSpec:
    """Validate plain data (parsed YAML) into a RegionSpec, or raise ScenarioError with every problem."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, [("", f"a region file must be a mapping (name, stores, ...), got {type(data).__name__}")])
    try:
        return RegionSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(RegionSpec, exc, data)) from None
