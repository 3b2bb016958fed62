"""Counter routing in the scenario: counter groups, the VIP shorthand, the calling order, and their checks.

A hall's counters are not all alike: VIP counters, payment-only counters, advisers who handle only
plan changes and new accounts. DESIGN.md ("Counter routing") describes them as **counter groups**;
this module holds their file form (:class:`Counters`, :class:`CounterGroup`), the checks that need the
whole scenario (:func:`counter_checks`), and :func:`resolve_groups`, which turns either form into the
one normalised list the engine, results and optimizer read (``Scenario.counter_groups()``).

The v1 shorthand ``staffed`` + ``vip`` is two groups: ``vip`` (the top-priority segments, ``vip``
counters all day, then any customer) and ``regular`` (everyone, ``staffed - vip`` per interval).
With ``vip_serves: only`` the two are separate lines: VIP counters serve VIPs only and regular
counters everyone else. Without VIP counters it is one group, ``regular``.
The VIP group comes first so its counters are ids ``0 .. vip-1``, as in v1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from storeq.present import some

from .clock import parse_window
from .limits import limit

if TYPE_CHECKING:
    from .scenario import Scenario


def _no_bool(v: object) -> object:
    """``true`` is not a number of counters (pydantic would read it as 1), alone or in a schedule."""
    if isinstance(v, bool) or (isinstance(v, list | tuple) and any(isinstance(x, bool) for x in v)):
        raise ValueError("must be a whole number or one per interval, got true/false (not a number)")
    return v


Staff = Annotated[int, Field(ge=0, le=2**31 - 1)]  # bounded: schedules become numpy int arrays
GroupName = Annotated[str, Field(min_length=1, max_length=200)]


class CounterGroup(BaseModel):
    """Counters that share a staffing schedule and the customers they may serve.

    ``transactions`` / ``segments``: the customers this group serves (absent = all). ``then``:
    ``any`` lets the group serve anyone when none of its own customers wait; ``none`` (default) keeps
    it idle then. In :meth:`Scenario.counter_groups` every field is filled in: ``staffed`` one value
    per interval, ``transactions`` and ``segments`` the full name lists, ``then`` explicit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: GroupName
    staffed: Staff | tuple[Staff, ...]
    transactions: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    then: Literal["any", "none"] = "none"

    _staffed_not_bool = field_validator("staffed", mode="before")(classmethod(lambda cls, v: _no_bool(v)))

    def staffed_schedule(self, n_intervals: int) -> np.ndarray:
        """Staffed counters of this group per interval (integers)."""
        s = self.staffed
        return np.full(n_intervals, s, dtype=int) if isinstance(s, int) else np.array(s, dtype=int)

    def serves(self, transaction: str, segment: str) -> bool:
        """Whether a customer with this transaction and segment is one of the group's own."""
        return (self.transactions is None or transaction in self.transactions) and (
            self.segments is None or segment in self.segments
        )


class Counters(BaseModel):
    """Staffed counters: the v1 shorthand (``staffed``, ``vip``) or ``groups``; the calling order; the hall's size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    OMIT_AT_DEFAULT: ClassVar[frozenset[str]] = frozenset({"vip_serves", "order", "groups", "staffed"})
    """Keys added after v1 (and ``staffed``, now optional beside ``groups``): left out of
    ``Scenario.to_dict()`` while unset, so a v1 file's content hash does not change."""

    staffed: Staff | tuple[Staff, ...] | None = None
    """A number, or one per interval. Required unless ``groups`` is given."""
    vip: Staff = 0
    """How many of the staffed counters are VIP counters (shorthand for a ``vip`` group)."""
    vip_serves: Literal["first", "only"] | None = None
    """``first`` (default): VIP counters call the top-priority segment first, then anyone; ``only``:
    VIPs only (idle otherwise), and VIPs are served at VIP counters only (their own line)."""
    order: Literal["priority", "ticket"] | None = None
    """``priority`` (default): counters call the highest-priority ticket first (FCFS within a
    priority); ``ticket``: in issue order, whatever the segment (a counter still calls its own
    customers before others)."""
    groups: tuple[CounterGroup, ...] | None = None
    """Counter groups; replace ``staffed`` / ``vip`` when given."""
    physical: Staff | None = None
    """Counters in the hall (the optimizer never staffs more); defaults to the most ever staffed."""

    _counts_not_bool = field_validator("staffed", "vip", "physical", mode="before")(classmethod(lambda cls, v: _no_bool(v)))

    @property
    def calling_order(self) -> Literal["priority", "ticket"]:
        """``order`` with its default filled in."""
        return self.order or "priority"

    @property
    def vip_only(self) -> bool:
        """True when the shorthand's VIP counters serve VIPs only."""
        return self.vip_serves == "only"


def top_segments(scenario: Scenario) -> tuple[str, ...]:
    """The segments served first (the lowest ``priority`` number): the VIP shorthand's customers."""
    top = min(s.priority for s in scenario.segments)
    return tuple(s.name for s in scenario.segments if s.priority == top)


def resolve_groups(scenario: Scenario) -> tuple[CounterGroup, ...]:
    """The counter groups with every field filled in (see :class:`CounterGroup`), shorthand expanded."""
    c = scenario.counters
    n = scenario.n_intervals
    all_tr = tuple(t.name for t in scenario.transactions)
    all_seg = tuple(s.name for s in scenario.segments)
    if c.groups is not None:
        return tuple(
            CounterGroup(
                name=g.name,
                staffed=tuple(int(x) for x in g.staffed_schedule(n)),
                transactions=g.transactions if g.transactions is not None else all_tr,
                segments=g.segments if g.segments is not None else all_seg,
                then=g.then,
            )
            for g in c.groups
        )
    staffed = _shorthand_staffed(c.staffed, n)
    top = top_segments(scenario)
    # With VIP counters that serve VIPs only, VIPs have their own line: regular counters serve the
    # other segments (all of them, if every segment is top-priority). Otherwise regular counters
    # serve everyone, by the calling order, as in v1.
    own = tuple(x for x in all_seg if x not in top) if c.vip and c.vip_only else all_seg
    regular = CounterGroup(
        name="regular", staffed=tuple(int(x) - c.vip for x in staffed), transactions=all_tr, segments=own or all_seg
    )
    if c.vip == 0:
        return (regular,)
    vip = CounterGroup(
        name="vip",
        staffed=(c.vip,) * n,
        transactions=all_tr,
        segments=top,
        then="none" if c.vip_only else "any",
    )
    return (vip, regular)


def _shorthand_staffed(staffed: int | tuple[int, ...] | None, n: int) -> np.ndarray:
    if staffed is None:
        return np.zeros(n, dtype=int)
    return np.full(n, staffed, dtype=int) if isinstance(staffed, int) else np.array(staffed, dtype=int)


def total_staffed(scenario: Scenario) -> np.ndarray:
    """Staffed counters per interval over all groups (the store's staffing)."""
    c = scenario.counters
    n = scenario.n_intervals
    if c.groups is None:
        return _shorthand_staffed(c.staffed, n)
    total = np.zeros(n, dtype=int)
    for g in c.groups:
        total += g.staffed_schedule(n)
    return total


# ---------------------------------------------------------------------------------------------
# checks that need the whole scenario (collected with every other problem, each with its key)
# ---------------------------------------------------------------------------------------------


def counter_shape_checks(s: Scenario, span: str) -> list[tuple[str, str]]:
    """Problems with the form of ``counters`` (missing staffing, schedule lengths, names), as ``(key, message)``.

    ``span`` describes the day's grid for the length messages. The checks that read the schedules
    (:func:`counter_checks`) run only when these and the scenario's other shape checks pass.
    """
    c = s.counters
    n = s.n_intervals
    if c.groups is None:
        if c.staffed is None:
            return [("counters.staffed", "is required but missing (or give counters.groups)")]
        if isinstance(c.staffed, tuple) and len(c.staffed) != n:
            return [("counters.staffed", f"needs one value per interval: {n} for {span}, got {len(c.staffed)} (or give one number)")]
        return []
    return _group_shape_checks(s, span)


def counter_checks(s: Scenario) -> list[tuple[str, str]]:
    """Problems with the staffing itself: VIP counters, the hall's size, customers no counter serves."""
    if s.counters.groups is None:
        return _shorthand_checks(s)
    return _physical_check(s, "counters.groups") + _coverage_checks(s)


def _shorthand_checks(s: Scenario) -> list[tuple[str, str]]:
    c = s.counters
    out: list[tuple[str, str]] = []
    staffed = total_staffed(s)
    with np.errstate(over="ignore", invalid="ignore"):  # a hostile scale is reported by the limits check
        demand = float(np.asarray(s.arrival_rates_per_hour()).sum())
    if c.vip > staffed.min():
        out.append(("counters.vip", f"{c.vip} VIP counters but only {staffed.min()} staffed in some interval"))
    out += _physical_check(s, "counters.staffed")
    if staffed[-1] == 0 and demand > 0:
        out.append(("counters.staffed", "the last interval has no counter staffed, so customers inside at closing could never be served"))
    if not out and c.vip_only:
        out += _coverage_checks(s, key="counters.vip_serves")
    return out


def _physical_check(s: Scenario, key: str) -> list[tuple[str, str]]:
    staffed = total_staffed(s)
    p = s.counters.physical
    if p is not None and staffed.max() > p:
        return [(key, f"{staffed.max()} staffed but the hall has only {p} counters (counters.physical)")]
    return []


def _group_shape_checks(s: Scenario, span: str) -> list[tuple[str, str]]:
    c = s.counters
    groups = c.groups or ()
    n = s.n_intervals
    out: list[tuple[str, str]] = []
    if c.staffed is not None:
        out.append(("counters.staffed", "give either staffed (with vip) or groups, not both: groups replace staffed and vip"))
    if c.vip:
        out.append(("counters.vip", "give either vip or groups, not both: put VIP counters in a group with segments: [your VIP segment]"))
    if c.vip_serves is not None:
        out.append(("counters.vip_serves", "applies to the staffed/vip shorthand; with groups say then: any (VIPs, then anyone) or then: none (VIPs only) on the VIP group"))
    if not groups:
        out.append(("counters.groups", "needs at least one group, e.g. - {name: general, staffed: 6}"))
    names = [g.name for g in groups]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        out.append(("counters.groups", f"group names must be unique, repeated: {', '.join(dup)}"))
    known = {"transactions": [t.name for t in s.transactions], "segments": [g.name for g in s.segments]}
    cap = limit("counters")
    if len(groups) > cap:
        out.append(("counters.groups", f"{len(groups):,} groups is more than the limit of {cap:,}"))
    for i, g in enumerate(groups):
        key = f"counters.groups[{i}]({g.name})"
        if isinstance(g.staffed, tuple) and len(g.staffed) != n:
            out.append((f"{key}.staffed", f"needs one value per interval: {n} for {span}, got {len(g.staffed)} (or give one number)"))
        most = max(g.staffed) if isinstance(g.staffed, tuple) and g.staffed else g.staffed
        if isinstance(most, int) and most > cap:  # the engine keeps per-counter state: bounded before it allocates
            out.append((f"{key}.staffed", f"{most:,} is more than the limit of {cap:,}"))
        for field, allowed in known.items():
            if getattr(g, field) == ():
                out.append((f"{key}.{field}", f"an empty list serves nobody; leave {field} out to serve all"))
            listed = getattr(g, field) or ()
            unknown = [x for x in listed if x not in allowed]
            if unknown:
                word = field[:-1]
                out.append((f"{key}.{field}", f"unknown {word} {', '.join(map(repr, unknown))}; known: {', '.join(allowed)}"))
            dups = sorted({x for x in listed if listed.count(x) > 1})
            if dups:
                out.append((f"{key}.{field}", f"listed twice: {', '.join(dups)}"))
    return out


def _coverage_checks(s: Scenario, key: str = "counters.groups") -> list[tuple[str, str]]:
    """Every kind of customer that arrives (transaction × segment with positive shares) has a counter.

    A customer nobody can serve would wait for ever; one whose counters are all off duty in the last
    interval could not be served after closing. Both are input errors, named by the customers they strand.
    """
    groups = resolve_groups(s)
    n = s.n_intervals
    sched = [g.staffed_schedule(n) for g in groups]
    with np.errstate(over="ignore", invalid="ignore"):
        demand = float(np.asarray(s.arrival_rates_per_hour()).sum()) > 0
    never: list[str] = []
    at_close: list[str] = []
    for seg in s.segments:
        for tr in s.transactions:
            if seg.share <= 0 or tr.share <= 0:
                continue
            able = [k for k, g in enumerate(groups) if g.then == "any" or g.serves(tr.name, seg.name)]
            if not any(sched[k].max() > 0 for k in able):
                never.append(f"{tr.name} × {seg.name}")
            elif demand and not any(sched[k][-1] > 0 for k in able):
                at_close.append(f"{tr.name} × {seg.name}")
    out: list[tuple[str, str]] = []
    if never:
        out.append((key, f"no staffed counter group serves {some(never)} (transaction × segment), so those customers would wait for ever; add them to a group or add a group with then: any"))
    if at_close:
        out.append((key, f"no counter that serves {some(at_close)} (transaction × segment) is staffed in the last interval, so those inside at closing could never be served"))
    return out


def kiosk_checks(s: Scenario) -> list[tuple[str, str]]:
    """Greeter windows must lie inside opening hours (like pitch-suspension windows)."""
    gr = s.kiosks.greeter
    if isinstance(gr, bool):
        return []
    out = []
    for i, w in enumerate(gr):
        a, b = parse_window(w)
        if a < s.store.open_min or b > s.store.close_min:
            out.append((f"kiosks.greeter[{i}]", f"window {w} is outside opening hours {s.store.open}-{s.store.close}"))
    return out


