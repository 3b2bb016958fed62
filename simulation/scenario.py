"""The Scenario: one validated, immutable description of a store day.

Everything downstream (engine, optimizer, app, calibration) takes a ``Scenario``, never a raw dict,
so a bad value is caught once, at the boundary, with a message a store manager can act on:
which file, which key, what value, what is allowed. All problems are reported together.

Variants are made with :func:`with_updates` (re-validated), never by mutating attributes.
The file format (v1) is documented in ``DESIGN.md`` and by the examples in ``scenarios/``.
"""

from __future__ import annotations

import collections
import datetime as _dt
import difflib
import hashlib
import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from .clock import format_clock, parse_clock, parse_window
from .distributions import DIST_NAMES, Distribution, Exponential
from .limits import limit
from .routing import (
    CounterGroup,
    Counters,
    counter_checks,
    counter_shape_checks,
    kiosk_checks,
    resolve_groups,
    total_staffed,
)
from .schedule import IntervalGrid, StepSchedule

SCHEMA_VERSION = 1
ALLOWED_INTERVALS = (15, 30, 60)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")



def _no_bool_number(v: object) -> object:
    """``true`` is not a number: pydantic would read it as 1 (``replications: true`` → one day)."""
    if isinstance(v, bool):
        raise ValueError(f"must be a number, got {str(v).lower()} (true/false is not a number)")
    return v


def _no_bool_int(v: object) -> object:
    if isinstance(v, bool):
        raise ValueError(f"must be a whole number, got {str(v).lower()} (true/false is not a number)")
    return v


# The bool refusal wraps the constrained number (listed after Field), so bounds and finiteness keep
# pydantic's own checks and messages.
_INT_MAX = 2**31 - 1  # whole numbers end up in numpy arrays: bounded so none overflows a C long
Int = Annotated[int, Field(ge=-_INT_MAX, le=_INT_MAX), BeforeValidator(_no_bool_int)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_no_bool_number)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_no_bool_number)]
Pos = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_no_bool_number)]
Count = Annotated[int, Field(ge=0, le=_INT_MAX), BeforeValidator(_no_bool_int)]
Name = Annotated[str, Field(min_length=1, max_length=limit("name_chars"))]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _clock_field(value: object) -> str:
    """Normalise a clock to "HH:MM" (accepting "9:00"), refusing numbers with an explanation."""
    return format_clock(parse_clock(value))


class Store(_Frozen):
    """Opening hours, the reporting grid and the service target."""

    open: str = "09:00"
    close: str = "18:00"
    interval_min: Int = 30
    target_wait_min: Pos = 10.0
    date: _dt.date | None = None
    """Optional calendar day: weekday and day-of-month demand factors apply when it is set."""

    @field_validator("open", "close", mode="before")
    @classmethod
    def _clock(cls, v: object) -> str:
        return _clock_field(v)

    @field_validator("interval_min")
    @classmethod
    def _interval(cls, v: int) -> int:
        if v not in ALLOWED_INTERVALS:
            raise ValueError(f"must be one of {', '.join(map(str, ALLOWED_INTERVALS))} minutes, got {v!r}")
        return v

    @model_validator(mode="after")
    def _hours(self) -> Store:
        o, c = parse_clock(self.open), parse_clock(self.close)
        if c <= o:
            raise ValueError(f"close ({self.close}) must be after open ({self.open})")
        if (c - o) % self.interval_min:
            fits = [str(i) for i in ALLOWED_INTERVALS if (c - o) % i == 0]
            advice = (
                f"use interval_min {' or '.join(fits)}"
                if fits
                else f"no allowed interval ({', '.join(map(str, ALLOWED_INTERVALS))}) does: adjust open or close"
            )
            raise ValueError(
                f"interval_min {self.interval_min} does not divide the opening hours "
                f"{self.open}-{self.close} ({c - o} minutes); {advice}"
            )
        return self

    @property
    def open_min(self) -> int:
        """Opening time in minutes after midnight."""
        return parse_clock(self.open)

    @property
    def close_min(self) -> int:
        """Closing time in minutes after midnight."""
        return parse_clock(self.close)

    @property
    def duration_min(self) -> int:
        """Opening hours in minutes (the model's clock runs from 0 to this)."""
        return self.close_min - self.open_min

    @property
    def n_intervals(self) -> int:
        return self.duration_min // self.interval_min


class Demand(_Frozen):
    """Walk-in demand: arrivals per hour, one number or one per interval."""

    arrivals_per_hour: NonNeg | tuple[NonNeg, ...]
    scale: NonNeg = 1.0
    online_diversion: Share = 0.0
    weekday_factors: tuple[NonNeg, ...] | None = None
    """Seven multipliers, Monday first; used when ``store.date`` is set."""
    day_of_month_factors: dict[int, NonNeg] | None = None
    """Multiplier per day of the month (missing days are 1.0), e.g. the month-end crowd."""
    day_cv: NonNeg = 0.0
    """Day-to-day demand uncertainty: each simulated day's demand × a gamma factor with mean 1 and this
    coefficient of variation (0: every day has exactly the forecast demand, Poisson aside)."""

    OMIT_AT_DEFAULT: ClassVar[frozenset[str]] = frozenset({"day_cv"})

    @field_validator("weekday_factors")
    @classmethod
    def _seven(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and len(v) != 7:
            raise ValueError(f"needs 7 numbers (Monday to Sunday), got {len(v)}")
        return v

    @field_validator("day_of_month_factors")
    @classmethod
    def _days(cls, v: dict[int, float] | None) -> dict[int, float] | None:
        bad = [d for d in (v or {}) if not 1 <= d <= 31]
        if bad:
            raise ValueError(f"days of the month must be 1 to 31, got {bad}")
        return v


class Segment(_Frozen):
    """A customer tier: its share of arrivals, queue priority, patience and whether it is pitched to."""

    name: Name
    share: Share
    priority: Int = 1
    patience: Distribution | None = None
    """None: waits for ever."""
    pitch: bool = True
    """False for complaint-sensitive customers, who are never pitched an offer."""


class Transaction(_Frozen):
    """A transaction type with its counter time and, if kiosks can do it, its kiosk time."""

    name: Name
    share: Share
    counter_time: Distribution
    kiosk_time: Distribution | None = None


# Counters (the staffed/vip shorthand, counter groups, the calling order) live in simulation/routing.py.


class Kiosks(_Frozen):
    """Self-service kiosks and the greeter who sends customers to them."""

    @field_validator("greeter", mode="before")
    @classmethod
    def _greeter(cls, v: object) -> object:
        # One window may be written without the list brackets; windows are normalised to "HH:MM-HH:MM".
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list | tuple):
            out = []
            for w in v:
                a, b = parse_window(w)
                out.append(f"{format_clock(a)}-{format_clock(b)}")
            return tuple(out)
        return v

    count: Count = 0
    adoption: Share = 0.6
    greeter_adoption: Share = 0.85
    greeter: bool | tuple[str, ...] = False
    """A greeter at the door: all day (true), never (false), or in windows ["HH:MM-HH:MM", ...]."""
    failure: Share = 0.0


class Policy(_Frozen):
    """When counters pitch: always, never, suspended in windows, or suspended while the queue is long."""

    mode: Literal["always", "never", "windows", "queue_threshold"] = "always"
    suspend: tuple[str, ...] = ()
    threshold: Count | None = None

    @field_validator("suspend")
    @classmethod
    def _windows(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for w in v:
            a, b = parse_window(w)
            out.append(f"{format_clock(a)}-{format_clock(b)}")
        return tuple(out)

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        if self.mode == "windows" and not self.suspend:
            raise ValueError('mode "windows" needs suspend: ["HH:MM-HH:MM", ...]')
        if self.mode == "queue_threshold" and self.threshold is None:
            raise ValueError('mode "queue_threshold" needs threshold: N (suspend while N or more wait)')
        return self

    @property
    def suspends_in_windows(self) -> bool:
        """Pitching stops inside the ``suspend`` windows (mode windows, or queue_threshold with windows)."""
        return self.mode in ("windows", "queue_threshold") and bool(self.suspend)

    @property
    def suspends_on_queue(self) -> bool:
        """Pitching stops while ``threshold`` or more wait (mode queue_threshold, or windows with a threshold)."""
        return self.mode in ("windows", "queue_threshold") and self.threshold is not None


class CrossSell(_Frozen):
    """The offer pitched after the main transaction: its length, take-up and margin."""

    pitch_time: Distribution = Field(default_factory=lambda: Exponential(mean_=3.0))
    acceptance: Share = 0.0
    margin: NonNeg = 0.0
    policy: Policy = Field(default_factory=lambda: Policy(mode="never"))


class Balking(_Frozen):
    """A customer who sees ``queue_at_least`` or more waiting does not join."""

    queue_at_least: Annotated[int, Field(ge=1), BeforeValidator(_no_bool_int)] | None = None
    """At least 1: 0 would turn every customer away (everyone sees 0 or more waiting)."""


class Costs(_Frozen):
    """What a day costs, in one currency (DESIGN.md "Policies, costs and uncertainty").

    Every money figure storeq reports (costs, cross-sell margin, net margin) is in ``currency``.
    """

    OMIT_AT_DEFAULT: ClassVar[frozenset[str]] = frozenset({"greeter_hour", "kiosk_day", "currency"})

    staff_hour: NonNeg = 0.0
    """Loaded cost of one counter staff hour (paid for every staffed counter-hour of the schedule)."""
    greeter_hour: NonNeg = 0.0
    """Cost of one greeter hour, paid for every hour the greeter is at the door (``kiosks.greeter``)."""
    kiosk_day: NonNeg = 0.0
    """Cost of one kiosk for one day (lease, upkeep), whatever its use."""
    currency: str = "CNY"
    """The currency of every money figure: a short code or sign, shown after amounts (``1,003 CNY``)."""

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        code = v.strip()
        if not 1 <= len(code) <= 8 or any(c.isspace() or not c.isprintable() for c in code):
            raise ValueError(f"must be a short currency code or sign of 1 to 8 characters without spaces (e.g. CNY, EUR, ¥), got {v!r}")
        return code


class SimSettings(_Frozen):
    replications: Annotated[int, Field(ge=1, le=limit("replications")), BeforeValidator(_no_bool_int)] = 100
    seed: Annotated[int, Field(ge=0, le=limit("seed")), BeforeValidator(_no_bool_int)] = 1
    warmup_min: NonNeg = 0.0


class BreakRule(_Frozen):
    """Shifts longer than ``for_shifts_over_hours`` get one break of ``length_min`` inside a window."""

    for_shifts_over_hours: Pos = 6.0
    length_min: Annotated[int, Field(gt=0), BeforeValidator(_no_bool_int)] = 30
    window_hours: tuple[NonNeg, NonNeg] = (2.0, 5.0)
    """Earliest and latest break start, in hours after the shift starts."""

    @model_validator(mode="after")
    def _window_order(self) -> BreakRule:
        lo, hi = self.window_hours
        if hi < lo:
            raise ValueError(f"window_hours is [earliest, latest] break start; got [{lo:g}, {hi:g}], latest before earliest")
        return self


class ShiftRules(_Frozen):
    """Rules the roster optimizer must respect (optional; sensible defaults)."""

    lengths_hours: Annotated[tuple[Pos, ...], Field(min_length=1, max_length=48)] = (4.0, 6.0, 8.0)
    earliest_start: str | None = None
    latest_end: str | None = None
    start_step_min: Annotated[int, Field(gt=0), BeforeValidator(_no_bool_int)] | None = None
    min_on_duty: Count = 1
    break_: BreakRule | None = Field(default=None, alias="break")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("earliest_start", "latest_end", mode="before")
    @classmethod
    def _clock(cls, v: object) -> str | None:
        return None if v is None else _clock_field(v)

    @model_validator(mode="after")
    def _order(self) -> ShiftRules:
        if self.earliest_start and self.latest_end and parse_clock(self.latest_end) <= parse_clock(self.earliest_start):
            raise ValueError(f"latest_end ({self.latest_end}) must be after earliest_start ({self.earliest_start})")
        return self


class Scenario(_Frozen):
    """A store day, validated. Build with :func:`load_scenario` or :func:`scenario_from_dict`."""

    name: Name = "Unnamed store"
    store: Store = Field(default_factory=Store)
    demand: Demand
    segments: tuple[Segment, ...] = Field(
        default_factory=lambda: (Segment(name="all", share=1.0),), min_length=1, max_length=limit("segments")
    )
    transactions: tuple[Transaction, ...] = Field(min_length=1, max_length=limit("transactions"))
    counters: Counters
    kiosks: Kiosks = Field(default_factory=Kiosks)
    cross_sell: CrossSell = Field(default_factory=CrossSell)
    balking: Balking = Field(default_factory=Balking)
    costs: Costs = Field(default_factory=Costs)
    simulation: SimSettings = Field(default_factory=SimSettings)
    shifts: ShiftRules | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = _cross_checks(self)
        if problems:
            raise _CrossCheckError(problems)
        return self

    # ----- derived views shared by engine, optimizer and app -----

    @property
    def n_intervals(self) -> int:
        return self.store.n_intervals

    @property
    def interval_starts(self) -> np.ndarray:
        """Start of each interval in minutes since opening."""
        return self.grid.starts

    @property
    def grid(self) -> IntervalGrid:
        """The day's intervals (opening time, length, count): labels and windows → intervals."""
        return IntervalGrid(self.store.open_min, self.store.interval_min, self.n_intervals)

    @property
    def interval_labels(self) -> list[str]:
        """Start of each interval as an "HH:MM" clock."""
        return self.grid.labels

    def day_factor(self) -> float:
        """Weekday × day-of-month multiplier for ``store.date`` (1.0 when no date is set)."""
        d = self.store.date
        if d is None:
            return 1.0
        f = 1.0
        if self.demand.weekday_factors is not None:
            f *= self.demand.weekday_factors[d.weekday()]
        if self.demand.day_of_month_factors:
            f *= self.demand.day_of_month_factors.get(d.day, 1.0)
        return f

    def arrival_rates_per_hour(self) -> np.ndarray:
        """Walk-in demand per interval (before online diversion), with scale and day factors applied."""
        raw = self.demand.arrivals_per_hour
        base = np.full(self.n_intervals, float(raw)) if not isinstance(raw, tuple) else np.array(raw, float)
        return base * self.demand.scale * self.day_factor()

    def staffed_schedule(self) -> np.ndarray:
        """Staffed counters per interval (integers), over all counter groups."""
        return total_staffed(self)

    def arrival_schedule(self) -> StepSchedule[float]:
        """Walk-ins per hour in each interval (:meth:`arrival_rates_per_hour`) as a step schedule."""
        return StepSchedule(self.grid, tuple(float(x) for x in self.arrival_rates_per_hour()))

    def staffing(self) -> StepSchedule[int]:
        """Staffed counters per interval over all groups (:meth:`staffed_schedule`) as a step schedule."""
        return StepSchedule(self.grid, tuple(int(x) for x in self.staffed_schedule()))

    def pitch_suspended(self) -> StepSchedule[float]:
        """Share of each interval inside the policy's suspend windows (0 when it has none in force)."""
        p = self.cross_sell.policy
        return StepSchedule.from_windows(self.grid, p.suspend if p.suspends_in_windows else ())

    def counter_groups(self) -> tuple[CounterGroup, ...]:
        """The counter groups, normalised: ``staffed`` one value per interval, ``transactions`` and
        ``segments`` full name lists, ``then`` explicit. The ``staffed`` / ``vip`` shorthand becomes
        ``(vip, regular)`` with VIP counters (``(regular,)`` without). Index ``g`` here is
        ``DayLog.group``; counter ids run group by group in this order."""
        return resolve_groups(self)

    def group_schedules(self) -> tuple[StepSchedule[int], ...]:
        """Staffed counters per interval of each counter group, as step schedules."""
        g = self.grid
        return tuple(StepSchedule(g, tuple(int(x) for x in grp.staffed_schedule(g.n))) for grp in self.counter_groups())

    def greeter_schedule(self) -> StepSchedule[float]:
        """Share of each interval with a greeter at the door (1.0 all day with ``greeter: true``)."""
        gr = self.kiosks.greeter
        if isinstance(gr, bool):
            return StepSchedule(self.grid, (1.0 if gr else 0.0,) * self.n_intervals)
        return StepSchedule.from_windows(self.grid, gr)

    def greeter_windows_min(self) -> list[tuple[float, float]]:
        """When a greeter is at the door, in minutes since opening (the whole day for ``greeter: true``)."""
        gr = self.kiosks.greeter
        if isinstance(gr, bool):
            return [(0.0, float(self.store.duration_min))] if gr else []
        return self.grid.windows_min(gr)

    @property
    def physical_counters(self) -> int:
        return self.counters.physical if self.counters.physical is not None else int(self.staffed_schedule().max())

    def suspend_windows_min(self) -> list[tuple[float, float]]:
        """Pitch-suspension windows in minutes since opening."""
        return self.grid.windows_min(self.cross_sell.policy.suspend)

    def to_dict(self) -> dict[str, Any]:
        """The file form (round-trips through :func:`scenario_from_dict`)."""
        return _to_plain(self)

    def digest(self) -> str:
        """A short stable hash of the scenario's content, for provenance."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# cross-field checks: all problems collected, each with its key path
# ---------------------------------------------------------------------------------------------


class _CrossCheckError(ValueError):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


def _shares(items: Sequence[Segment] | Sequence[Transaction], key: str) -> list[tuple[str, str]]:
    total = sum(i.share for i in items)
    if abs(total - 1.0) > 1e-6:
        parts = ", ".join(f"{i.name} {i.share:g}" for i in items[:20]) + (f", ... ({len(items)} in all)" if len(items) > 20 else "")
        return [(key, f"shares must add up to 1, got {total:.6g} ({parts})")]
    counts = collections.Counter(i.name for i in items)  # not names.count(n) per name: linear for long lists
    dup = sorted(n for n, c in counts.items() if c > 1)
    return [(key, f"names must be unique, repeated: {', '.join(dup)}")] if dup else []


class _Unavailable(Exception):
    """A cross-check needs a section that did not validate; that check is skipped, not failed."""


class _Failed:
    """Stands in for a section that failed field validation, so cross-checks that need it skip."""

    def __getattr__(self, name: str) -> Any:
        raise _Unavailable(name)

    def _unavailable(self, *args: Any) -> Any:
        raise _Unavailable("section")

    __iter__ = __len__ = __bool__ = __getitem__ = __lt__ = __le__ = __gt__ = __ge__ = __float__ = __int__ = _unavailable


def _check_lengths(s: Scenario) -> list[tuple[str, str]]:
    out = []
    n = s.n_intervals
    span = f"{s.store.open}-{s.store.close} in {s.store.interval_min}-minute intervals"
    arrivals = s.demand.arrivals_per_hour
    if isinstance(arrivals, tuple) and len(arrivals) != n:
        out.append(("demand.arrivals_per_hour", f"needs one value per interval: {n} for {span}, got {len(arrivals)} (or give one number)"))
    out += counter_shape_checks(s, span)
    return out


def _check_shares(s: Scenario) -> list[tuple[str, str]]:
    return _shares(s.segments, "segments") + _shares(s.transactions, "transactions")


def _check_staffing(s: Scenario) -> list[tuple[str, str]]:
    # Counter groups, VIP counters, the hall's size, customers no counter serves: simulation/routing.py.
    if counter_shape_checks(s, ""):
        return kiosk_checks(s)  # _check_lengths reports it; the per-interval checks need the right shape
    return counter_checks(s) + kiosk_checks(s)


def _check_windows(s: Scenario) -> list[tuple[str, str]]:
    out = []
    o, c = s.store.open_min, s.store.close_min
    for i, w in enumerate(s.cross_sell.policy.suspend):
        a, b = parse_window(w)
        if a < o or b > c:
            out.append((f"cross_sell.policy.suspend[{i}]", f"window {w} is outside opening hours {s.store.open}-{s.store.close}"))
    return out


def _check_shifts(s: Scenario) -> list[tuple[str, str]]:
    return [] if s.shifts is None else shift_rule_problems(s, s.shifts)


def shift_rule_problems(s: Scenario, rules: ShiftRules, key: str = "shifts") -> list[tuple[str, str]]:
    """Problems of shift rules on this store's day: clocks outside opening hours, or no shift that fits.

    Used for a scenario's own ``shifts:`` block and by ``storeq optimize`` for the rules it will use
    (a ``--rules`` file, or the defaults when the file has none), so a day too short for any allowed
    shift is a message, not an empty roster model.
    """
    out: list[tuple[str, str]] = []
    o, c = s.store.open_min, s.store.close_min
    for name in ("earliest_start", "latest_end"):
        v = getattr(rules, name)
        if v is not None and not o <= parse_clock(v) <= c:
            out.append((f"{key}.{name}", f"{v} is outside opening hours {s.store.open}-{s.store.close}"))
    if out:
        return out
    # The roster optimizer builds every shift that starts at or after earliest_start and ends by
    # latest_end; if even the shortest allowed length does not fit, it has nothing to choose from.
    first = parse_clock(rules.earliest_start) if rules.earliest_start else o
    last = parse_clock(rules.latest_end) if rules.latest_end else c
    shortest = min(rules.lengths_hours)
    if round(shortest * 60) > last - first:
        out.append((
            f"{key}.lengths_hours",
            f"no shift fits the day: the shortest allowed shift is {shortest:g} h but shifts must start at or after "
            f"{format_clock(first)} and end by {format_clock(last)} ({(last - first) / 60:g} h); "
            f"allow a shorter length, or widen {key}.earliest_start / {key}.latest_end",
        ))
    return out


def _check_warmup(s: Scenario) -> list[tuple[str, str]]:
    if s.simulation.warmup_min >= s.store.duration_min:
        return [("simulation.warmup_min", f"{s.simulation.warmup_min:g} is not shorter than the day ({s.store.duration_min} minutes)")]
    return []


def _check_kiosks(s: Scenario) -> list[tuple[str, str]]:
    has_kiosk_work = any(t.kiosk_time is not None for t in s.transactions)
    if s.kiosks.count > 0 and not has_kiosk_work:
        return [("kiosks.count", "kiosks are set but no transaction has a kiosk_time, so nobody could use them")]
    return []


def expected_customers_per_day(s: Scenario) -> float:
    """Expected walk-ins on the busiest simulated day (what the ``customers_per_day`` limit bounds)."""
    return _day_customers(s)


def _day_customers(s: Scenario) -> float:
    """Expected walk-ins on the busiest simulated day: rate × hours × scale × the largest day factors.

    The largest weekday and day-of-month factors are used even without ``store.date``: a week or a
    month of days (synth-log, calibration reports) applies them, and the limit must hold for each.
    """
    raw = s.demand.arrivals_per_hour
    hours = s.store.interval_min / 60.0
    per_day = float(sum(raw)) * hours if isinstance(raw, tuple) else float(raw) * s.n_intervals * hours
    factor = max(s.demand.weekday_factors or (1.0,)) * max((s.demand.day_of_month_factors or {1: 1.0}).values())
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.float64(per_day) * np.float64(s.demand.scale) * np.float64(factor))
    return total if np.isfinite(total) else float("inf")


def _check_limits(s: Scenario) -> list[tuple[str, str]]:
    """Bounded work: refuse what would take gigabytes or hours before the engine allocates it."""
    out: list[tuple[str, str]] = []
    cap = limit("customers_per_day")
    try:
        customers = _day_customers(s)
    except _Unavailable:
        customers = None
    if customers is not None and customers > cap:
        shown = "an unbounded number of" if not np.isfinite(customers) else f"about {customers:,.0f}"
        out.append((
            "demand",
            f"asks for {shown} customers in one simulated day (arrivals_per_hour × opening hours × scale "
            f"{s.demand.scale:g} × day factors); the limit is {cap:,}: check demand.arrivals_per_hour and demand.scale",
        ))
    counters = limit("counters")
    most = None if counter_shape_checks(s, "") else int(s.staffed_schedule().max())  # over every counter group
    for key, value in (("counters.staffed", most), ("counters.physical", s.counters.physical), ("kiosks.count", s.kiosks.count)):
        if isinstance(value, int) and value > counters:
            out.append((key, f"{value:,} is more than the limit of {counters:,}"))
    money = limit("money")
    amounts = [("cross_sell.margin", s.cross_sell.margin)] + [
        (f"costs.{k}", v) for k, v in s.costs.model_dump().items() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    out += [(key, f"{v:g} is more than the limit of {money:,} per unit") for key, v in amounts if v > money]
    minutes = limit("service_minutes")
    dists: list[tuple[str, Distribution | None]] = [("cross_sell.pitch_time", s.cross_sell.pitch_time)]
    for i, t in enumerate(s.transactions):
        dists += [(f"transactions[{i}]({t.name}).counter_time", t.counter_time), (f"transactions[{i}]({t.name}).kiosk_time", t.kiosk_time)]
    for key, d in dists:
        if d is None:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(d.mean)
        if not mean <= minutes:
            out.append((key, f"mean {mean:g} minutes is more than a day ({minutes:,} minutes); times are in minutes"))
    return out


_CHECKS = (_check_lengths, _check_shares, _check_staffing, _check_windows, _check_shifts, _check_warmup, _check_kiosks, _check_limits)


def _cross_checks(s: Scenario, partial: bool = False) -> list[tuple[str, str]]:
    """Every cross-field check, each one independent, so one problem never hides another.

    ``partial``: ``s`` was built from the sections that validated (:func:`_partial_cross_checks`);
    a check tripping over a stand-in for a failed section is skipped, its problem reported already.
    """
    out: list[tuple[str, str]] = []
    skip: tuple[type[Exception], ...] = (
        (_Unavailable, TypeError, ValueError, AttributeError, ArithmeticError, LookupError) if partial else (_Unavailable,)
    )
    for check in _CHECKS:
        try:
            out += check(s)
        except skip:
            continue
    return out


_FIELD_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _partial_cross_checks(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Cross-checks on the sections that did validate, when another section did not.

    Pydantic runs the model's cross-checks only when every field is valid, so a file with negative
    counters and shares summing to 0.88 would report only the counters. Each top-level section is
    validated alone here, failed or missing ones are stood in for by :class:`_Failed`, and every
    check whose inputs are all valid still runs.
    """
    fields: dict[str, Any] = {}
    for name, field in Scenario.model_fields.items():
        key = field.alias or name
        if key not in data:
            fields[name] = field.get_default(call_default_factory=True) if not field.is_required() else _Failed()
            continue
        adapter = _FIELD_ADAPTERS.get(name)
        if adapter is None:
            adapter = _FIELD_ADAPTERS[name] = TypeAdapter(Annotated[field.annotation, field])  # type: ignore[arg-type]
        try:
            fields[name] = adapter.validate_python(data[key])
        except (ValidationError, ValueError, TypeError):
            fields[name] = _Failed()
    partial = Scenario.model_construct(**fields)
    return _cross_checks(partial, partial=True)


# ---------------------------------------------------------------------------------------------
# errors a store manager can read
# ---------------------------------------------------------------------------------------------


class ScenarioError(ValueError):
    """Bad scenario input. ``problems`` holds one ``(key path, message)`` per problem."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {path}: {msg}" if path else f"{source}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types behind Annotated / Optional / Union / tuple[...]."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    if origin in (tuple, list):
        return [t for a in typing.get_args(tp) if a is not Ellipsis for t in _unwrap(a)]
    return [tp]


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model class found by following ``loc`` from Scenario."""
    model: type[BaseModel] | None = Scenario
    i = 0
    while i < len(loc) and model is not None:
        key = loc[i]
        if isinstance(key, int):
            i += 1
            continue
        field = next((f for n, f in model.model_fields.items() if key in (n, f.alias)), None)
        if field is None:
            return None
        candidates = [t for t in _unwrap(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if i + 1 < len(loc) and loc[i + 1] in DIST_NAMES:
            candidates = [t for t in candidates if t.model_fields.get("dist") and t.model_fields["dist"].default == loc[i + 1]]
            i += 1
        model = candidates[0] if candidates else None
        i += 1
    return model


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _path(loc: Sequence[Any], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if key in DIST_NAMES and parts and not isinstance(node, Mapping):
            continue
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, Sequence) and not isinstance(node, str) and key < len(node):
                node = node[key]
                if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                    label = f"[{key}]({node['name']})"
            parts.append(label)
        else:
            if key in DIST_NAMES and isinstance(node, Mapping) and key not in node:
                continue
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
    return "".join(parts)


def _message(err: Mapping[str, Any], data: Any) -> list[tuple[str, str]]:
    loc = tuple(k for k in err["loc"] if not (isinstance(k, str) and k.startswith("function-")))
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), _CrossCheckError):
        return list(ctx["error"].problems)
    path = _path(loc, data)
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = _field_names(parent) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return [(path, f"unknown key; {hint}allowed here: {', '.join(allowed)}")]
    if kind == "missing":
        return [(path, "is required but missing")]
    shape = _shape_message(kind, loc, path, value, ctx, str(err["msg"]))
    if shape is not None:
        return [shape]
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return [(path, f"unknown distribution {ctx.get('tag', value)!r}; allowed dist: {', '.join(DIST_NAMES)}")]
    if kind == "finite_number":
        return [(path, f"must be a finite number, got {value!r}")]
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        word = {"greater_than_equal": "at least", "greater_than": "greater than", "less_than_equal": "at most", "less_than": "less than"}[kind]
        bound = next(iter(ctx.values()))
        return [(path, f"must be {word} {bound}, got {value!r}")]
    if kind == "literal_error":
        return [(path, f"must be one of {ctx.get('expected')}, got {value!r}")]
    if kind.startswith("int_"):
        return [(path, f"must be a whole number, got {_shown(value)}")]
    if kind.startswith("float_"):
        return [(path, f"must be a number, got {_shown(value)}")]
    if kind.startswith("bool_"):
        return [(path, f"must be true or false, got {_shown(value)}")]
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return [(path, msg)]


def _shape_message(kind: str, loc: Sequence[Any], path: str, value: Any, ctx: Mapping[str, Any], msg: str) -> tuple[str, str] | None:
    """Messages for a value of the wrong kind or size (a list where a mapping belongs, a bad key, a date)."""
    if loc and loc[-1] == "[key]":
        return (path.removesuffix(".[key]"), f"key {value!r} is not allowed: {msg.removeprefix('Input should be ').lower()}")
    if kind in ("dict_type", "mapping_type"):
        return (path, f"must be a mapping of key: value (e.g. {{26: 1.2, 28: 1.4}}), got {_shown(value)}")
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return (path, f"must be a list (e.g. [1, 2, 3]), got {_shown(value)}")
    if kind in ("model_type", "model_attributes_type"):
        return (path, f"must be a mapping of keys, got {_shown(value)}")
    if kind == "string_type":
        return (path, f"must be text, got {_shown(value)}")
    if kind == "string_too_long":
        return (path, f"is {len(value) if isinstance(value, str) else '?'} characters; at most {ctx.get('max_length')}")
    if kind == "too_long":
        return (path, f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')}")
    if kind.startswith(("date_", "datetime_")):
        reason = msg.split(",", 1)[-1].strip() if "," in msg else msg
        return (path, f"must be a calendar date like 2026-11-28, got {_shown(value)} ({reason})")
    return None


def _shown(value: Any) -> str:
    """A value as a message shows it: repr, cut short (a message never carries a pasted file)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_arm(key: object) -> bool:
    """Pydantic's label for one arm of a union (``constrained-float``, ``tuple[...]``), not a key of the file."""
    if not isinstance(key, str) or key == "[key]":
        return False
    return key in ("float", "int", "str") or key.startswith(("constrained-", "tuple[", "list[", "dict[", "function-", "lax-", "strict-"))


def _dedupe_union_errors(errors: list[Any], data: Any) -> list[Any]:
    """Pydantic reports a bad ``number or list`` value once per union arm; keep the arm the input meant.

    A list in the file was meant as a schedule (keep the tuple arm's errors); anything else was meant
    as one number (keep the scalar arm's).
    """
    out = []
    for e in errors:
        loc = tuple(e["loc"])
        pos = next((i for i, k in enumerate(loc) if _is_arm(k)), None)
        if pos is None:
            out.append(e)
            continue
        node: Any = data
        for k in loc[:pos]:
            node = node.get(k) if isinstance(node, Mapping) else (node[k] if isinstance(node, list) and isinstance(k, int) and k < len(node) else None)
        wants_list = isinstance(node, list | tuple)
        if wants_list == str(loc[pos]).startswith(("tuple[", "list[")):
            out.append({**e, "loc": loc[:pos] + loc[pos + 1 :]})
    return out


MAX_PROBLEMS = 50
"""Problems listed per file; a file with thousands (a pasted table) gets the first 50 and a count."""


def structure_problems(data: Any) -> list[tuple[str, str]]:
    """Lists and texts over the limits, found by one walk over the raw data before validation.

    Validation of a 300,000-item list would itself take minutes; the walk is linear and stops
    descending into anything already refused.
    """
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", data)]
    max_items, max_chars = limit("list_items"), limit("string_chars")
    while stack and len(out) < MAX_PROBLEMS:
        path, node = stack.pop()
        if isinstance(node, str):
            if len(node) > max_chars:
                out.append((path, f"a text of {len(node):,} characters; at most {max_chars:,}"))
        elif isinstance(node, Mapping):
            if len(node) > max_items:
                out.append((path, f"has {len(node):,} keys; at most {max_items:,}"))
                continue
            stack.extend(((f"{path}.{k}" if path else str(k)), v) for k, v in node.items())
        elif isinstance(node, list | tuple):
            if len(node) > max_items:
                out.append((path, f"has {len(node):,} items; at most {max_items:,}"))
                continue
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(node))
    return out


def _version_problem(data: Mapping[str, Any]) -> tuple[str, str] | None:
    v = data.get("version")
    if v == SCHEMA_VERSION and not isinstance(v, bool):
        return None
    if isinstance(v, int) and not isinstance(v, bool) and v > SCHEMA_VERSION:
        return ("version", f"this file is scenario format version {v}; this storeq reads version {SCHEMA_VERSION}: upgrade storeq, or write the file in version {SCHEMA_VERSION}")
    return ("version", f"must be {SCHEMA_VERSION} (the scenario format version; it may also be left out), got {_shown(v)}")


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """Validate plain data (e.g. parsed YAML) into a Scenario, or raise ScenarioError listing every problem.

    Every problem is reported at once: field problems from each section, and the cross-field checks
    (shares, per-interval lengths, limits) on whichever sections did validate.
    """
    if data is None:
        raise ScenarioError(source, [("", "is empty: a scenario needs at least demand, transactions and counters")])
    if not isinstance(data, Mapping):
        raise ScenarioError(source, [("", f"a scenario must be a mapping of keys (name, store, demand, ...), got {type(data).__name__}")])
    data = dict(data)
    pre: list[tuple[str, str]] = []
    if "version" in data:
        problem = _version_problem(data)
        if problem is not None:
            raise ScenarioError(source, [problem])  # a newer format: its other keys would only mislead
        del data["version"]
    pre += structure_problems(data)
    if pre:
        raise ScenarioError(source, pre)
    try:
        return Scenario.model_validate(data)
    except (ArithmeticError, RecursionError, MemoryError) as exc:
        # A value that is in range for its field but breaks a cross-check's arithmetic: still bad
        # input, reported as such (exit 2), never a traceback. The limits above make this rare.
        raise ScenarioError(source, [("", f"has values storeq cannot compute with ({type(exc).__name__}: {exc}); check very large numbers")]) from None
    except ValidationError as exc:
        problems: dict[tuple[str, str], None] = {}  # ordered and O(1) to test: 100,000 errors stay linear
        errors = exc.errors()
        for err in _dedupe_union_errors(list(errors), data):
            for p in _message(err, data):
                problems.setdefault(p, None)
        if not any(err["type"] == "value_error" and isinstance((err.get("ctx") or {}).get("error"), _CrossCheckError) for err in errors):
            for p in _partial_cross_checks(data):
                problems.setdefault(p, None)
        listed = _drop_missing_explained_by_typo(list(problems))
        if not listed:  # never an empty message: fall back to pydantic's own words
            listed = [(".".join(map(str, e["loc"])), str(e["msg"])) for e in errors[:MAX_PROBLEMS]]
        if len(listed) > MAX_PROBLEMS:
            listed = [*listed[:MAX_PROBLEMS], ("", f"... and {len(listed) - MAX_PROBLEMS:,} more problems")]
        raise ScenarioError(source, listed) from None


def _drop_missing_explained_by_typo(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``conters`` makes ``counters`` missing too; the typo's "did you mean" says it all, once."""
    suggested = set()
    for path, msg in problems:
        if "did you mean `" in msg:
            parent = path.rpartition(".")[0]
            key = msg.split("did you mean `", 1)[1].split("`", 1)[0]
            suggested.add(f"{parent}.{key}" if parent else key)
    return [(path, msg) for path, msg in problems if not (msg == "is required but missing" and path in suggested)]


# ---------------------------------------------------------------------------------------------
# variants and overrides
# ---------------------------------------------------------------------------------------------


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        if hasattr(obj, "dist"):
            return obj.spec()  # type: ignore[attr-defined]
        out = {}
        omit: frozenset[str] = getattr(type(obj), "OMIT_AT_DEFAULT", frozenset())
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            if value is None and field.default is None:
                continue
            if name in omit and value == field.default:
                continue  # a key added after v1, unset: a v1 file's dict (and content hash) stays as it was
            out[field.alias or name] = _to_plain(value)
        return out
    if isinstance(obj, tuple | list):
        return [_to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, _dt.date):
        return obj.isoformat()
    return obj


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    if any(not k for k in keys):
        raise ScenarioError("--set", [(dotted, "is not a key path: use dots between keys, e.g. counters.staffed or segments.vip.share")])
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = node[_index(node, key, keys[: i + 1])]
        elif isinstance(node, dict):
            if key not in node or node[key] is None:
                node[key] = {}
            node = node[key]
        else:
            _through_scalar(keys, i, node)
        if not isinstance(node, dict | list):
            _through_scalar(keys, i + 1, node)
    last = keys[-1]
    if isinstance(node, list):
        node[_index(node, last, keys)] = value
    else:
        node[last] = value


def _through_scalar(keys: list[str], i: int, node: Any) -> None:
    """``--set name.x=1``: ``name`` is a value, not a section, so nothing can be set inside it."""
    parent = ".".join(keys[:i])
    raise ScenarioError(
        "--set",
        [(".".join(keys), f"{parent} is a value ({_shown(node)}), not a section or list, so {'.'.join(keys)} cannot be set; set {parent} itself")],
    )


def _index(items: list[Any], key: str, keys: list[str]) -> int:
    """A list element by position or by its ``name`` (``segments.vip.share``)."""
    if key.isdigit() and int(key) < len(items):
        return int(key)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    names = [str(i.get("name")) for i in items if isinstance(i, dict)]
    raise ScenarioError("--set", [(".".join(keys), f"no element {key!r}; use an index or one of: {', '.join(names)}")])


def with_updates(scenario: Scenario, updates: Mapping[str, Any], source: str = "update") -> Scenario:
    """A new, re-validated Scenario with dotted-key updates applied.

    >>> s2 = with_updates(s, {"counters.staffed": 7, "segments.vip.share": 0.2})  # doctest: +SKIP
    """
    data = scenario.to_dict()
    for key, value in updates.items():
        _set_path(data, key, value)
    return scenario_from_dict(data, source)


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["counters.staffed=7", ...]`` → ``{"counters.staffed": 7}``; values are read as YAML."""
    from .loader import parse_yaml_text

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", [("", f"expected KEY=VALUE (e.g. counters.staffed=7), got {item!r}")])
        out[key.strip()] = parse_yaml_text(raw, "--set " + key.strip())
    return out
