"""Named staff: who can work when, contract hours and closing duties (validated, immutable).

Built from plain data by :func:`staff_from_data`; :mod:`optimizer.io` reads the YAML or CSV file.
Every problem is collected and reported together as ``FILE: staff[3](Ana).availability.mon: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulation import ScenarioError
from simulation.clock import format_clock, parse_window
from simulation.limits import limit
from simulation.scenario import WEEKDAYS, structure_problems

__all__ = ["StaffMember", "StaffRules", "staff_from_data", "staff_rows_to_data"]


@dataclass(frozen=True)
class StaffMember:
    """One person. ``availability[d]`` lists (start, end) windows in minutes after midnight; empty = off."""

    name: str
    availability: tuple[tuple[tuple[int, int], ...], ...]
    min_hours: float
    max_hours: float
    can_close: bool = True
    max_days: int = 7
    group: str | None = None
    """The counter group this person works (``counters.groups``), their own; None: the store's only pool."""
    also: tuple[str, ...] = ()
    """Other counter groups this person can work (skills): a shift of theirs may go to any of them."""

    @property
    def groups(self) -> tuple[str, ...]:
        """Every counter group this person can work, their own first (empty: the store's only pool)."""
        return (self.group, *self.also) if self.group is not None else ()

    def available(self, day: int, start: int, end: int) -> bool:
        return any(a <= start and end <= b for a, b in self.availability[day])

    def describe_availability(self) -> str:
        parts = []
        for d, wins in enumerate(self.availability):
            if wins:
                parts.append(WEEKDAYS[d] + " " + ",".join(f"{format_clock(a)}-{format_clock(b)}" for a, b in wins))
        return "; ".join(parts) or "never available"


@dataclass(frozen=True)
class StaffRules:
    """The staff list and the rules that apply to all of them."""

    staff: tuple[StaffMember, ...]
    min_rest_hours: float = 11.0
    fair_closing_weight: float = 1.0
    """Objective weight of the closing spread (max − min closings), in staff-hours of cost per closing."""


_ALL_DAY = ((0, 24 * 60),)
_PERSON_KEYS = ("name", "availability", "min_hours", "max_hours", "days_off", "can_close", "max_days", "group")
_TOP_KEYS = ("staff", "min_rest_hours", "fair_closing_weight")


def _windows(value: Any, where: str, problems: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    if value is None or value is False or value in ("", "-", "off"):
        return ()
    if value is True or value in ("all", "any"):
        return _ALL_DAY
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    out = []
    for w in items:
        try:
            out.append(parse_window(str(w).strip()))
        except (ValueError, TypeError) as exc:
            problems.append((where, f"window {w!r} is not HH:MM-HH:MM ({exc})"))
    return tuple(out)


def _number(value: Any, where: str, problems: list[tuple[str, str]], lo: float = 0.0) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        problems.append((where, f"must be a number of hours, got {value!r}"))
        return None
    if not x >= lo or x != x or x == float("inf"):
        problems.append((where, f"must be a finite number >= {lo:g}, got {value!r}"))
        return None
    return x


def _bool(value: Any, where: str, problems: list[tuple[str, str]]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    problems.append((where, f"must be true or false, got {value!r}"))
    return True


def _day(value: Any, where: str, problems: list[tuple[str, str]]) -> int | None:
    text = str(value).strip().lower()[:3]
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    problems.append((where, f"unknown weekday {value!r}; use one of {', '.join(WEEKDAYS)}"))
    return None


def staff_from_data(data: Any, source: str = "staff") -> StaffRules:
    """Validate plain data into :class:`StaffRules`, or raise ``ScenarioError`` listing every problem.

    Accepted shape::

        min_rest_hours: 11
        staff:
          - name: Ana
            min_hours: 24            # contract hours per week
            max_hours: 40
            days_off: [sun]
            can_close: true
            availability: {mon: ["09:00-18:00"], sat: ["09:00-14:00"]}   # omitted: any time
    """
    problems: list[tuple[str, str]] = []
    if isinstance(data, list):
        data = {"staff": data}
    if not isinstance(data, Mapping):
        raise ScenarioError(
            source, [("", f"a staff file must be a mapping with a `staff` list, got {type(data).__name__}")]
        )
    too_big = structure_problems(data)  # lists and texts over the limits, before any per-person work
    if too_big:
        raise ScenarioError(source, too_big)
    people = data.get("staff")
    if isinstance(people, list) and len(people) > limit("staff"):
        raise ScenarioError(
            source, [("staff", f"has {len(people):,} people; a staff file holds at most {limit('staff'):,}")]
        )
    for key in data:
        if key not in _TOP_KEYS:
            problems.append((str(key), f"unknown key; allowed here: {', '.join(_TOP_KEYS)}"))
    rest = _number(data.get("min_rest_hours", 11.0), "min_rest_hours", problems)
    weight = _number(data.get("fair_closing_weight", 1.0), "fair_closing_weight", problems)
    if not isinstance(people, list) or not people:
        problems.append(("staff", "needs a non-empty list of people (name, min_hours, max_hours, ...)"))
        raise ScenarioError(source, problems)
    staff: list[StaffMember] = []
    names: list[str] = []
    for idx, raw in enumerate(people):
        person = _person(raw, idx, problems)
        if person is None:
            continue
        if person.name in names:
            problems.append(
                (f"staff[{idx}]({person.name}).name", f"{person.name!r} appears twice; names must be unique")
            )
        names.append(person.name)
        staff.append(person)
    if problems:
        raise ScenarioError(source, problems)
    return StaffRules(
        staff=tuple(staff), min_rest_hours=rest if rest is not None else 11.0, fair_closing_weight=weight or 0.0
    )


def _person(raw: Any, idx: int, problems: list[tuple[str, str]]) -> StaffMember | None:
    """One person of the staff list, problems collected (None when it is not even a mapping)."""
    label = f"staff[{idx}]"
    if not isinstance(raw, Mapping):
        problems.append((label, f"must be a mapping (name, min_hours, ...), got {raw!r}"))
        return None
    name = str(raw.get("name", "")).strip()
    if name:
        label = f"staff[{idx}]({name})"
    else:
        problems.append((label + ".name", "is required but missing"))
    for key in raw:
        if key not in _PERSON_KEYS:
            problems.append((f"{label}.{key}", f"unknown key; allowed here: {', '.join(_PERSON_KEYS)}"))
    lo = _number(raw.get("min_hours", 0), f"{label}.min_hours", problems)
    hi = _number(raw.get("max_hours", 40), f"{label}.max_hours", problems)
    if lo is not None and hi is not None and lo > hi:
        problems.append((f"{label}.min_hours", f"{lo:g} is more than max_hours {hi:g}"))
    avail = _availability(raw.get("availability"), label, problems)
    off = raw.get("days_off") or []
    if isinstance(off, str):
        off = [p for p in off.replace(";", ",").split(",") if p.strip()]
    for j, dname in enumerate(off if isinstance(off, list | tuple) else [off]):
        d = _day(dname, f"{label}.days_off[{j}]", problems)
        if d is not None:
            avail[d] = ()
    groups = _groups(raw.get("group"), f"{label}.group", problems)
    return StaffMember(
        name=name or f"person {idx + 1}",
        availability=tuple(avail),
        min_hours=lo or 0.0,
        max_hours=hi if hi is not None else 40.0,
        can_close=_bool(raw.get("can_close", True), f"{label}.can_close", problems),
        max_days=_max_days(raw.get("max_days", 7), label, problems),
        group=groups[0] if groups else None,
        also=groups[1:],
    )


def _groups(value: Any, where: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    """``group:`` — one counter group, or the groups a person can work (their own first) as a list or
    a text separated by commas (the app's staff table cell "tellers, advisers") or, as ``days_off`` in
    a CSV file, by semicolons."""
    if value is None:
        return ()
    # In text, a doubled or trailing separator ("tellers,, advisers,") is a slip, not a group.
    items = [x for x in value.replace(";", ",").split(",") if x.strip()] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        problems.append((where, f"must be the name of a counter group or a list of them, got {value!r}"))
        return ()
    out: dict[str, None] = {}  # ordered, and a set for the duplicate check (a list could be long)
    for k, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            at = where if isinstance(value, str) else f"{where}[{k}]"
            problems.append((at, f"must be the name of a counter group, got {item!r}"))
            return ()
        if item.strip() in out:
            problems.append((where, f"names {item.strip()!r} twice"))
            return ()
        out[item.strip()] = None
    return tuple(out)


def _availability(value: Any, label: str, problems: list[tuple[str, str]]) -> list[tuple[tuple[int, int], ...]]:
    """Windows per weekday (Monday first); absent = any time."""
    if value is None:
        return [_ALL_DAY] * 7
    if not isinstance(value, Mapping):
        problems.append(
            (f"{label}.availability", f"must map weekdays to windows (mon: ['09:00-17:00']), got {value!r}")
        )
        return [_ALL_DAY] * 7
    for key in value:
        _day(key, f"{label}.availability.{key}", problems)
    lowered = {str(k).strip().lower()[:3]: v for k, v in value.items()}
    return [_windows(lowered.get(wd), f"{label}.availability.{wd}", problems) for wd in WEEKDAYS]


def _max_days(value: Any, label: str, problems: list[tuple[str, str]]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7:
        return value
    try:
        days = int(str(value))
        if 0 <= days <= 7:
            return days
    except ValueError:
        pass
    problems.append((f"{label}.max_days", f"must be a whole number 0-7, got {value!r}"))
    return 7


def staff_rows_to_data(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """CSV rows (name, min_hours, max_hours, days_off, can_close, max_days, mon..sun) → staff data.

    A weekday cell holds windows separated by ``;`` ("09:00-13:00;14:00-18:00"), ``all`` or empty/``-``
    for not available; a file with no weekday columns means available any time.
    """
    people = []
    for row in rows:
        person: dict[str, Any] = {}
        avail: dict[str, Any] = {}
        for key, value in row.items():
            k = str(key).strip().lower()
            v = "" if value is None else str(value).strip()
            if k in WEEKDAYS:
                avail[k] = v.split(";") if v and v not in ("-", "off") else None
                if v.lower() in ("all", "any"):
                    avail[k] = "all"
            elif k == "days_off":
                person[k] = [p for p in v.split(";") if p]
            elif v != "":
                person[k] = v
        if avail:
            person["availability"] = avail
        people.append(person)
    return {"staff": people}
