"""The SimPy engine: one replication of a store day.

Two steps, kept apart on purpose:

1. :func:`draw_customers` pre-draws *all* randomness of a replication as numpy arrays, one named
   stream per source (arrivals, customer draws, service, patience, choices, pitch), each cut into a
   fixed section per interval, and turns uniforms into times by each distribution's inverse CDF
   (``Distribution.ppf``; the interval's count by :func:`simulation.sampling.poisson_inverse`).
   Nothing drawn depends on staffing, policy or kiosk settings, so scenarios differing there see
   the same customers (common random numbers); and because a
   customer keeps its uniforms, a busier variant of the day keeps every customer of the quieter one
   and a faster transaction shortens every customer's time by the same factor, so demand and
   service-time what-ifs are paired too. Vectorised drawing keeps Python work per customer small.
2. :func:`simulate_day` plays the day on a :class:`simpy.Environment` with a small day object
   (:class:`_Day`) made of named parts: the :class:`TicketQueue` (who waits, in calling order, and
   their patience), the :class:`CounterPool` (counter groups, who is idle, who closes), the
   :class:`PitchPolicy` and the :class:`KioskBank`. Its event handlers are plain callbacks on events
   put on SimPy's queue with the public ``Environment.schedule``, instead of one generator process,
   Resource request and AnyOf per customer: the same event queue, a fraction of the overhead
   (see ``benchmarks/``). It returns a :class:`DayLog` of plain arrays; KPIs are computed from it in
   :mod:`simulation.results`.

Semantics (DESIGN.md "Model semantics") and the choices this module makes where DESIGN.md is open:

* **Arrivals**: non-homogeneous Poisson, piecewise constant per interval, generated per interval
  (a Poisson count by inverse CDF, then uniform times inside the interval), so a rate never leaks across an
  interval boundary. Nobody arrives after closing. In the engine each arrival schedules the next one
  (a source), so SimPy's event queue holds only the next arrival and the customers in service.
* **Online diversion**: a kiosk-eligible customer whose diversion uniform is below
  ``demand.online_diversion`` never walks in (outcome ``diverted``, not an arrival). Diversion is
  decided per drawn customer so the walk-ins that remain are the same people as without diversion.
* **Kiosks**: a kiosk-eligible walk-in goes to a kiosk when ``kiosks.count > 0`` and its kiosk-choice
  uniform is below ``adoption`` (``greeter_adoption`` while a greeter is at the door). One FCFS kiosk queue. Nobody
  abandons or balks at the kiosks: patience applies to the counter queue only (a kiosk line moves
  fast and is in sight). A failed kiosk visit joins the counter queue at kiosk end, with the counter
  time of its transaction; it does not balk (it already holds its place inside the store).
* **Counter groups** (``Scenario.counter_groups()``; DESIGN.md "Counter routing"): each group has its
  staffing schedule and its own customers (``transactions`` × ``segments``). A customer may use a
  counter of a group that owns it, or of a ``then: any`` group. An arriving customer takes an idle
  counter of its own groups, the most specialised first (the smallest share of demand served, then
  the fewest transaction × segment kinds, then file order), else an idle ``then: any`` counter, else
  waits. A counter that frees calls its own customers first by the calling order, then (``then:
  any``) anyone, else goes idle. So no customer waits while a counter that may serve it is idle.
* **Calling order**: ``order: priority`` (default) — non-preemptive priority (lower segment
  ``priority`` first), FCFS within a priority; ``order: ticket`` — tickets in issue order, whatever
  the segment (a counter still calls its own customers before others).
* **Schedules, per group**: a counter starts a customer only while its group has fewer in service
  than staffed (no overlap). A drop closes idle counters first, then the next counters of the group
  to finish (each finishes its customer; nobody is interrupted); a rise first cancels pending
  closures, then reopens counters. Counter ids run group by group. At one boundary all groups change
  first, then waiting customers start on the counters now free: the first by the calling order that
  an idle counter owns, at its most specialised idle group (then ``then: any`` counters help).
* **The v1 shorthand** ``staffed`` + ``vip``: groups ``vip`` (``vip`` counters all day, ids
  ``0 .. vip-1``, the top-priority segments, ``then: any`` unless ``vip_serves: only``) and
  ``regular`` (everyone, ``staffed - vip``). It keeps v1's store-level no-overlap rule: nobody
  starts while as many customers are in service as the store has staffed, so a VIP counter also
  waits while a regular counter finishes its last customer after a drop. With ``vip_serves: first``
  and ``order: priority`` every counter takes the head of one priority queue: VIP counters change
  *where* VIPs are served, not the waits; ``vip_serves: only`` and ``order: ticket`` change waits.
* **Cross-sell**: after the main transaction the counter may pitch (``pitch_time`` more at the
  counter; accepted with probability ``acceptance``). Segments with ``pitch: false`` are never pitched.
  The policy is evaluated at the moment the main transaction ends: ``suspend`` windows stop pitching
  while that moment lies in a window ``[start, end)``; a ``threshold`` stops it while ``threshold`` or
  more customers wait at the counters (all groups) at that moment. A policy may give both (mode
  ``windows`` or ``queue_threshold``): pitching stops while either holds.
* **Greeter**: ``kiosks.greeter`` true, false, or windows; a walk-in arriving while a greeter is at the
  door uses ``greeter_adoption``, others ``adoption``.
* **Demand uncertainty**: with ``demand.day_cv`` > 0 the day's arrival rates are multiplied by one
  gamma factor (mean 1, that CV) drawn from the replication's ``day`` stream.
* **Abandonment**: patience is drawn per customer from its segment (None = infinite); a waiting
  customer whose patience runs out leaves at ``queue_join + patience``. Abandonment frees no counter
  and changes nothing but the count of waiting customers, so it is applied lazily: whenever that count
  matters (a balking check, a pitch decision, a counter choosing its next customer) every customer
  whose deadline has passed is marked abandoned *at its deadline*. This is exactly equivalent to a
  timeout per customer, without the event. A customer whose deadline equals the moment a counter frees
  is served.
* **Balking**: an arriving counter-bound customer who sees ``balking.queue_at_least`` or more waiting
  leaves at once (outcome ``balked``).
* **Closing**: doors close at closing time; the counters of the last interval stay on duty until
  everyone inside is served or has abandoned (patience keeps running after closing).
* **Ties**: a staffing change at an interval boundary happens before an arrival at the same instant.
* **Conservation** is checked at the end of every day: every walk-in is served, abandoned or balked
  and nobody is left inside; a violation raises :class:`ConservationError`.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from .distributions import Gamma
from .sampling import poisson_inverse
from .scenario import Scenario

STREAMS = ("arrivals", "customers", "service", "patience", "choice", "pitch", "day")
"""Named random streams, spawned in this order from the replication's SeedSequence child. ``day`` (the
day's demand factor, ``demand.day_cv``) came last so the streams before it are the same children as
before it existed: a day_cv of 0 draws nothing from it and changes nothing."""

# outcome codes in DayLog.outcome
SERVED, ABANDONED, BALKED, DIVERTED = 0, 1, 2, 3
OUTCOME_NAMES = ("served", "abandoned", "balked", "diverted")

# per-customer states while the day runs
_NEW, _KIOSK, _WAITING, _IN_SERVICE, _DONE = 0, 1, 2, 3, 4

_INF = math.inf


class _Call(simpy.Event):
    """An already-triggered SimPy event that calls ``fn(event)`` when the clock reaches it; ``arg``
    says for whom (a customer, an arrival's position, an interval).

    The engine's only event type, put on the environment's queue with the public
    ``Environment.schedule``. Like :class:`simpy.Timeout` (which inlines ``Event.__init__`` the same
    way for speed) it is born triggered: ``_ok`` is what ``Environment.step`` reads. One or two are
    created per customer.
    """

    __slots__ = ("arg",)

    def __init__(self, env: simpy.Environment, fn: Callable[[_Call], None], arg: int) -> None:  # no super(): speed
        self.env = env
        self.callbacks = [fn]  # type: ignore[list-item]
        self.arg = arg
        self._ok = True


class ConservationError(RuntimeError):
    """A replication ended with customers unaccounted for (a bug in the engine, never bad input)."""


@dataclass(frozen=True)
class Customers:
    """Everything random about the customers of one replication, indexed by customer number.

    Customer numbers follow arrival time and include demand that was diverted online, so customer
    ``k`` is the same person in two scenarios that share a seed and the demand profile (with more
    demand, the same people are there, at the same times, numbered among the newcomers).
    ``kiosk_time`` is NaN for transactions that no kiosk can do; ``patience`` is ``inf`` for segments
    without one. The ``u_*`` fields are uniforms on [0, 1): a Bernoulli decision with probability p
    is ``u < p``, so raising p only ever switches more customers over (a monotone coupling).
    """

    arrival_min: np.ndarray
    segment: np.ndarray
    transaction: np.ndarray
    counter_time: np.ndarray
    kiosk_time: np.ndarray
    patience: np.ndarray
    u_divert: np.ndarray
    u_kiosk: np.ndarray
    u_fail: np.ndarray
    pitch_time: np.ndarray
    u_accept: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival_min)


def replication_streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """One Generator per named stream for replication ``replication`` of ``seed``.

    ``SeedSequence(seed, spawn_key=(r,))`` is exactly child ``r`` of ``SeedSequence(seed).spawn(...)``,
    built directly so replication 999 does not spawn 1,000 children first.
    """
    child = np.random.SeedSequence(seed, spawn_key=(replication,))
    # PCG64DXSM: numpy's PCG64 with the stronger output function made for many jumped or advanced
    # sections of one stream, which is how :func:`draw_customers` uses each stream.
    return {
        name: np.random.Generator(np.random.PCG64DXSM(s))
        for name, s in zip(STREAMS, child.spawn(len(STREAMS)), strict=True)
    }


def _categorical(u: np.ndarray, shares: list[float]) -> np.ndarray:
    cum = np.cumsum(shares)
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(shares) - 1)


STRIDE = 0x9E3779B97F4A7C15
"""Words of a stream reserved per interval (about 1.1e19): interval i's customers draw from position
i·STRIDE on. Odd, and no power of two: sections of a congruential generator a power of two apart
have correlated low bits."""


def _interval_uniforms(
    rng: np.random.Generator, counts: np.ndarray, width: int, base: int = 0, used: int = 0
) -> np.ndarray:
    """Uniforms of shape (sum(counts), width), interval i's rows from position ``base + i·STRIDE``.

    Every stream is cut into fixed sections, one per interval, and row k of an interval is always the
    same words of its section. So customer k of interval i keeps its uniforms when another interval
    gains or loses customers, or when this one gains customers (they are added after it).
    ``used`` is how many words of ``rng`` were drawn before (``Generator.random`` takes exactly one
    64-bit word per number, so positions are exact).
    """
    bg: Any = rng.bit_generator  # PCG64DXSM (replication_streams): has advance()
    parts = []
    pos = used
    for i, c in enumerate(counts.tolist()):
        if c:
            target = base + i * STRIDE
            bg.advance(target - pos)
            parts.append(rng.random((c, width)))
            pos = target + c * width
    return np.concatenate(parts) if parts else np.empty((0, width))


def draw_customers(scenario: Scenario, streams: dict[str, np.random.Generator]) -> Customers:
    """Pre-draw the day's demand and every per-customer attribute (see module docstring).

    Arrivals: interval i's count is the Poisson inverse CDF of one uniform (monotone in the rate), and
    its customers' times are uniform in the interval. Every other attribute is the inverse CDF of the
    customer's own uniform in the named stream's section for that interval (:func:`_interval_uniforms`).
    Together: a busier variant of a day (scale, day factors, a higher rate in some intervals) keeps every
    customer of the quieter one, same time, same segment, same transaction, same quantile of service
    time, and adds more; a variant with a different service-time distribution gives every customer the
    same quantile of the new one. Common random numbers then hold across demand and service-time
    what-ifs too, not just staffing.

    ``streams`` come from :func:`replication_streams` (bit generators that can ``advance``).
    """
    length = scenario.store.interval_min
    m = scenario.n_intervals
    rng = streams["arrivals"]
    rates = scenario.arrival_rates_per_hour() * day_demand_factor(scenario, streams)
    counts = poisson_inverse(rates * (length / 60.0), rng.random(m))
    v = _interval_uniforms(rng, counts, 1, base=STRIDE, used=m)[:, 0]
    t = np.repeat(scenario.interval_starts.astype(float), counts) + v * length
    order = np.argsort(t, kind="stable")
    arrival = t[order]
    n = len(arrival)

    def uniforms(stream: str, width: int) -> np.ndarray:
        return _interval_uniforms(streams[stream], counts, width)[order]

    if len(scenario.segments) > 1 or len(scenario.transactions) > 1:
        cu = uniforms("customers", 2)
        segment = _categorical(cu[:, 0], [s.share for s in scenario.segments])
        transaction = _categorical(cu[:, 1], [t.share for t in scenario.transactions])
    else:
        segment = transaction = np.zeros(n, np.int64)

    us = uniforms("service", 2)  # column 0: counter time, column 1: kiosk time
    counter_time = _by_group(scenario.transactions, transaction, us[:, 0], "counter_time", np.nan)
    kiosk_time = _by_group(scenario.transactions, transaction, us[:, 1], "kiosk_time", np.nan)

    # A stream nobody needs is not drawn (the others do not move: each stream is its own generator).
    if any(sg.patience is not None for sg in scenario.segments):
        up1 = uniforms("patience", 1)[:, 0]
        patience = _by_group(scenario.segments, segment, up1, "patience", np.inf)
    else:
        patience = np.full(n, np.inf)
    needs_choice = scenario.kiosks.count > 0 or scenario.demand.online_diversion > 0
    u = uniforms("choice", 3) if needs_choice else np.ones((n, 3))  # 1.0 is "no" to every choice
    if scenario.cross_sell.policy.mode != "never":
        up = uniforms("pitch", 2)
        pitch_time = scenario.cross_sell.pitch_time.ppf(up[:, 0])
        u_accept = np.ascontiguousarray(up[:, 1])
    else:
        pitch_time, u_accept = np.zeros(n), np.ones(n)
    return Customers(
        arrival,
        segment,
        transaction,
        counter_time,
        kiosk_time,
        patience,
        np.ascontiguousarray(u[:, 0]),
        np.ascontiguousarray(u[:, 1]),
        np.ascontiguousarray(u[:, 2]),
        pitch_time,
        u_accept,
    )


def day_demand_factor(scenario: Scenario, streams: dict[str, np.random.Generator]) -> float:
    """The day's demand multiplier: a gamma with mean 1 and CV ``demand.day_cv`` (exactly 1 when it is 0).

    One uniform from the replication's own ``day`` stream, through the gamma's inverse CDF: every
    scenario of a comparison sees the same factor for replication r (common random numbers), and a
    larger day_cv spreads the same days further from 1 in the same direction.
    """
    cv = scenario.demand.day_cv
    if cv <= 0:
        return 1.0
    return float(Gamma(mean_=1.0, cv_=cv).ppf(streams["day"].random(1))[0])


def _by_group(items: Any, group: np.ndarray, u: np.ndarray, attr: str, missing: float) -> np.ndarray:
    """Each item's distribution ``attr`` at the uniforms of the customers in its group (``missing`` where it has none)."""
    out = np.full(len(u), missing)
    for i, item in enumerate(items):
        dist = getattr(item, attr)
        if dist is not None:
            mask = group == i
            out[mask] = dist.ppf(u[mask])
    return out


def customers_from_rows(scenario: Scenario, rows: list[dict[str, object]]) -> Customers:
    """Hand-placed customers for exact tests and what-if replays.

    Each row needs ``arrival_min``; ``segment`` / ``transaction`` are names (default: the first);
    ``counter_time`` (default: the transaction's mean), ``kiosk_time`` (default: the mean when the
    transaction has one), ``patience`` (default inf), ``pitch_time`` (default 0) and the uniforms
    ``u_divert``, ``u_kiosk``, ``u_fail``, ``u_accept`` (default 1.0, i.e. "no" for every decision)
    may be given. Rows must be in arrival order.
    """
    seg_index = {s.name: i for i, s in enumerate(scenario.segments)}
    tr_index = {t.name: i for i, t in enumerate(scenario.transactions)}
    cols: dict[str, list[float]] = {f.name: [] for f in fields(Customers)}
    for row in rows:
        tr = tr_index[str(row.get("transaction", scenario.transactions[0].name))]
        t = scenario.transactions[tr]
        kt_default = t.kiosk_time.mean if t.kiosk_time is not None else math.nan
        values = {
            "arrival_min": row["arrival_min"],
            "segment": seg_index[str(row.get("segment", scenario.segments[0].name))],
            "transaction": tr,
            "counter_time": row.get("counter_time", t.counter_time.mean),
            "kiosk_time": row.get("kiosk_time", kt_default) if t.kiosk_time is not None else math.nan,
            "patience": row.get("patience", math.inf),
            "u_divert": row.get("u_divert", 1.0),
            "u_kiosk": row.get("u_kiosk", 1.0),
            "u_fail": row.get("u_fail", 1.0),
            "pitch_time": row.get("pitch_time", 0.0),
            "u_accept": row.get("u_accept", 1.0),
        }
        for k, v in values.items():
            cols[k].append(float(v))  # type: ignore[arg-type]
    arrays = {k: np.asarray(v, dtype=int if k in ("segment", "transaction") else float) for k, v in cols.items()}
    if len(rows) and np.any(np.diff(arrays["arrival_min"]) < 0):
        raise ValueError("customers_from_rows: rows must be in arrival order")
    return Customers(**arrays)


@dataclass
class DayLog:
    """What happened to every customer of one replication (arrays indexed by customer number).

    Times are minutes since opening, NaN where not applicable. ``service_end`` includes the pitch.
    ``leave_min`` is when the customer left the store (service or kiosk end, abandonment, balking).
    ``outcome`` holds the codes ``SERVED, ABANDONED, BALKED, DIVERTED``. ``counter_id`` is the counter
    that served the customer and ``group`` its counter group (an index into
    ``Scenario.counter_groups()``); both are -1 for customers not served at a counter.
    """

    customers: Customers
    used_kiosk: np.ndarray
    kiosk_join: np.ndarray
    kiosk_start: np.ndarray
    kiosk_end: np.ndarray
    kiosk_failed: np.ndarray
    queue_join: np.ndarray
    service_start: np.ndarray
    service_end: np.ndarray
    leave_min: np.ndarray
    counter_id: np.ndarray
    pitched: np.ndarray
    accepted: np.ndarray
    outcome: np.ndarray
    group: np.ndarray


class _Records:
    """Per-customer state and records while the day runs: plain lists, indexed by customer number.

    Lists, not numpy arrays: the day writes one element at a time, which lists do several times faster.
    """

    __slots__ = ("cid", "kend", "kfailed", "kjoin", "kstart", "leave", "outcome", "pitched", "qjoin", "send", "sstart", "state")

    def __init__(self, n: int) -> None:
        nan = math.nan
        self.state = [_NEW] * n
        self.kjoin = [nan] * n
        self.kstart = [nan] * n
        self.kend = [nan] * n
        self.kfailed = [False] * n
        self.qjoin = [nan] * n
        self.sstart = [nan] * n
        self.send = [nan] * n
        self.leave = [nan] * n
        self.cid = [-1] * n
        self.pitched = [False] * n
        self.outcome = [DIVERTED] * n


class TicketQueue:
    """The customers waiting at the counters: one heap per customer class, and their patience deadlines.

    A class is the set of customers with the same own counter groups (DESIGN.md "Counter routing");
    with one group there is one heap. Entries are ``(priority, ticket, customer)``, the priority being
    the segment's under ``order: priority`` and 0 under ``order: ticket``, so the heap order is the
    calling order. Customers who abandoned stay in their heap until they reach its head and are
    skipped there (lazy deletion); abandonment itself is applied lazily and exactly by :meth:`purge`
    (module docstring, "Abandonment").
    """

    __slots__ = ("_rec", "deadlines", "heaps", "n_wait", "ticket")

    def __init__(self, n_classes: int, records: _Records) -> None:
        self.heaps: list[list[tuple[int, int, int]]] = [[] for _ in range(n_classes)]
        self.deadlines: list[tuple[float, int]] = []  # (deadline, customer) for finite patience
        self.n_wait = 0
        self.ticket = 0
        self._rec = records

    def push(self, c: int, heap: list[tuple[int, int, int]], prio: int, deadline: float) -> None:
        """Customer ``c`` takes a ticket and waits (``deadline`` = inf without patience)."""
        heapq.heappush(heap, (prio, self.ticket, c))
        self.ticket += 1
        self.n_wait += 1
        if deadline != _INF:
            heapq.heappush(self.deadlines, (deadline, c))

    def purge(self, now: float) -> None:
        """Customers whose patience ran out before ``now`` left at their deadline."""
        dl = self.deadlines
        rec = self._rec
        state, outcome, leave = rec.state, rec.outcome, rec.leave
        while dl and dl[0][0] < now:
            d, c = heapq.heappop(dl)
            if state[c] == _WAITING:
                state[c] = _DONE
                outcome[c] = ABANDONED
                leave[c] = d
                self.n_wait -= 1

    def best(self, heaps: list[list[tuple[int, int, int]]]) -> list[tuple[int, int, int]] | None:
        """The heap among ``heaps`` whose head is called first (stale heads dropped), or None if all are empty."""
        state = self._rec.state
        found = None
        for h in heaps:
            while h and state[h[0][2]] != _WAITING:
                heapq.heappop(h)
            if h and (found is None or h[0] < found[0]):
                found = h
        return found

    def pop(self, heap: list[tuple[int, int, int]]) -> int:
        """Take the head of ``heap`` (a live customer, as :meth:`best` returned it) out of the queue."""
        self.n_wait -= 1
        return heapq.heappop(heap)[2]


class CounterPool:
    """The staffed counters, group by group: who is idle, who closes when done, which counters exist.

    Counter ids run group by group in ``Scenario.counter_groups()`` order (group ``g`` owns a block of
    ids as large as its most staffed interval), so the VIP counters of the ``staffed``/``vip``
    shorthand are ``0 .. vip-1`` as in v1. Per group: a schedule drop closes idle counters first, then
    the next counters to finish (nobody is interrupted); a rise first cancels pending closures, then
    reopens closed counters (the most recently closed first), then opens new ones. A counter starts a
    customer only while its group has an idle counter, i.e. while fewer of its customers are in
    service than it has staffed (no overlap per group). ``shared_cap``: the v1 shorthand's store-level
    rule, nobody starts while as many customers are in service as the store has staffed (a VIP counter
    waits while a regular counter finishes its last customer after a drop), kept so v1 results do not move.
    """

    __slots__ = (
        "all_heaps",
        "closed",
        "group_of",
        "help_order",
        "helps",
        "idle",
        "next_id",
        "own_heaps",
        "own_order",
        "shared_cap",
        "staffed",
        "to_close",
        "total_busy",
        "total_staffed",
    )  # fmt: skip

    def __init__(self, plan: _Routing, first: list[int], heaps: list[list[tuple[int, int, int]]]) -> None:
        n = len(first)
        self.idle: list[list[int]] = []  # stacks: pop() reuses the lowest id first
        self.closed: list[list[int]] = [[] for _ in range(n)]
        self.to_close = [0] * n  # busy counters that close when they finish (a schedule drop)
        self.staffed = list(first)
        self.next_id: list[int] = []
        self.group_of: list[int] = []
        offset = 0
        for g in range(n):
            self.idle.append(list(range(offset + first[g] - 1, offset - 1, -1)))
            self.next_id.append(offset + first[g])
            self.group_of += [g] * plan.block[g]
            offset += plan.block[g]
        self.own_order = plan.own_order
        self.help_order = plan.help_order
        self.own_heaps = [[heaps[k] for k in classes] for classes in plan.own_classes]
        self.helps = plan.then_any
        self.all_heaps = heaps
        self.shared_cap = plan.shared_cap
        self.total_busy = 0
        self.total_staffed = sum(first)

    def free_group(self, cls: int) -> int:
        """The group whose idle counter a customer of class ``cls`` takes now, or -1 (it waits).

        Its own groups first, the most specialised first, then groups that help others (``then: any``).
        """
        if self.shared_cap and self.total_busy >= self.total_staffed:
            return -1
        idle = self.idle
        for g in self.own_order[cls]:
            if idle[g]:
                return g
        for g in self.help_order[cls]:
            if idle[g]:
                return g
        return -1

    def take(self, g: int) -> int:
        """An idle counter of group ``g`` starts a customer; its id."""
        self.total_busy += 1
        return self.idle[g].pop()

    def finish(self, k: int) -> int:
        """Counter ``k`` finished a customer: its group if it may call the next one, -1 if it closes."""
        g = self.group_of[k]
        self.total_busy -= 1
        if self.to_close[g]:
            self.to_close[g] -= 1
            self.closed[g].append(k)
            return -1
        self.idle[g].append(k)
        return g

    def restaff(self, g: int, new: int) -> None:
        """Group ``g``'s schedule changes to ``new`` staffed counters (see the class docstring)."""
        diff = new - self.staffed[g]
        idle, closed = self.idle[g], self.closed[g]
        if diff < 0:
            d = -diff
            while d and idle:
                closed.append(idle.pop())
                d -= 1
            self.to_close[g] += d
        elif diff > 0:
            take = min(self.to_close[g], diff)
            self.to_close[g] -= take
            for _ in range(diff - take):
                if closed:
                    idle.append(closed.pop())
                else:
                    idle.append(self.next_id[g])
                    self.next_id[g] += 1
        self.staffed[g] = new
        self.total_staffed += diff

    def call_next(self, queue: TicketQueue, g: int) -> list[tuple[int, int, int]] | None:
        """The heap whose head a free counter of group ``g`` calls: its own customers first, by the
        calling order, then (``then: any``) anyone; None if it has nobody to call."""
        if self.shared_cap and self.total_busy >= self.total_staffed:
            return None
        h = queue.best(self.own_heaps[g])
        if h is None and self.helps[g]:
            h = queue.best(self.all_heaps)
        return h

    def next_start(self, queue: TicketQueue) -> tuple[list[tuple[int, int, int]], int] | None:
        """Several counters free at once (a schedule change): who starts next, and in which group.

        The first customer by the calling order that an idle counter owns, at the most specialised
        such group; when no idle counter has own customers waiting, the first customer an idle
        ``then: any`` counter can help.
        """
        if self.shared_cap and self.total_busy >= self.total_staffed:
            return None
        idle = self.idle
        free = [g for g in range(len(idle)) if idle[g]]
        if not free:
            return None
        heaps = [h for g in free for h in self.own_heaps[g]]
        h = queue.best(heaps)
        if h is None:
            if not any(self.helps[g] for g in free):
                return None
            h = queue.best(self.all_heaps)
            if h is None:
                return None
        return h, h[0][2]


@dataclass(frozen=True)
class _Routing:
    """Which counters serve whom, derived once per scenario from ``Scenario.counter_groups()``.

    Customers are sorted into classes by their own counter groups (a transaction × segment cell's
    groups); ``own_order[cls]`` lists those groups most specialised first (the smallest share of the
    demand they serve, then the fewest transaction × segment cells, then file order) and
    ``help_order[cls]`` the ``then: any`` groups that are not its own, in the same order.
    """

    schedules: list[list[int]]
    changes: list[int]  # intervals at whose start some group's staffing changes
    block: list[int]
    cell_class: np.ndarray  # [transaction, segment] -> class
    own_order: list[list[int]]
    help_order: list[list[int]]
    own_classes: list[list[int]]  # per group: the classes it owns
    then_any: list[bool]
    shared_cap: bool

    @classmethod
    def of(cls, sc: Scenario) -> _Routing:
        groups = sc.counter_groups()
        seg_names = [s.name for s in sc.segments]
        tr_names = [t.name for t in sc.transactions]
        share = {}
        cells = {}
        for g, grp in enumerate(groups):
            own = [(ti, si) for ti, t in enumerate(sc.transactions) for si, s in enumerate(sc.segments) if grp.serves(t.name, s.name)]
            cells[g] = own
            share[g] = sum(sc.transactions[ti].share * sc.segments[si].share for ti, si in own)
        rank = sorted(range(len(groups)), key=lambda g: (share[g], len(cells[g]), g))
        signature: dict[tuple[int, ...], int] = {}
        cell_class = np.zeros((len(tr_names), len(seg_names)), np.int64)
        for ti in range(len(tr_names)):
            for si in range(len(seg_names)):
                own_groups = tuple(g for g in rank if (ti, si) in cells[g])
                cell_class[ti, si] = signature.setdefault(own_groups, len(signature))
        then_any = [grp.then == "any" for grp in groups]
        own_order = [list(sig) for sig in signature]
        help_order = [[g for g in rank if then_any[g] and g not in sig] for sig in signature]
        own_classes = [[k for k, sig in enumerate(signature) if g in sig] for g in range(len(groups))]
        steps = sc.group_schedules()
        schedules = [list(step.values) for step in steps]
        return cls(
            schedules=schedules,
            changes=sorted({i for step in steps for i, _ in step.changes()}),
            block=[max(s) if s else 0 for s in schedules],
            cell_class=cell_class,
            own_order=own_order,
            help_order=help_order,
            own_classes=own_classes,
            then_any=then_any,
            shared_cap=sc.counters.groups is None,
        )


_NO_PITCH, _PITCH, _AT_MAIN_END = 0, 1, 2


class PitchPolicy:
    """When a counter pitches the offer after the main transaction (module docstring, "Cross-sell").

    Suspend windows are known in advance, so they are applied when service starts (at the moment the
    main transaction will end); the queue rule needs the number waiting at that moment, so a customer
    it may apply to gets a second event there. With both, a main transaction ending inside a window
    is not pitched, and one ending outside it is decided by the queue then.
    """

    __slots__ = ("always", "threshold", "windows")

    def __init__(self, sc: Scenario) -> None:
        policy = sc.cross_sell.policy
        self.always = policy.mode == "always"
        self.windows = sc.suspend_windows_min() if policy.suspends_in_windows else []
        self.threshold = policy.threshold if policy.suspends_on_queue and policy.threshold is not None else None

    def at_start(self, main_end: float) -> int:
        """``_PITCH``, ``_NO_PITCH``, or ``_AT_MAIN_END`` (decided by the queue when the main part ends)."""
        if self.always:
            return _PITCH
        for a, b in self.windows:
            if a <= main_end < b:
                return _NO_PITCH
        return _PITCH if self.threshold is None else _AT_MAIN_END

    def at_main_end(self, waiting: int) -> bool:
        """Pitch now, with ``waiting`` customers waiting at the counters?"""
        return waiting < self.threshold  # type: ignore[operator]  # only asked when a threshold is set


class KioskBank:
    """The kiosks: how many, how many busy, and their FCFS queue."""

    __slots__ = ("busy", "count", "queue")

    def __init__(self, count: int) -> None:
        self.count = count
        self.busy = 0
        self.queue: deque[int] = deque()


class _Day:
    """One store day in play on a SimPy environment: the event handlers and the parts they share.

    Parts: :class:`TicketQueue` (who waits), :class:`CounterPool` (who serves), :class:`PitchPolicy`,
    :class:`KioskBank`, and the per-customer :class:`_Records`. Handlers are plain callbacks on
    :class:`_Call` events (scheduled with the public ``Environment.schedule``); the clock is read with
    the public ``Environment.now``.
    """

    def __init__(self, sc: Scenario, customers: Customers, routing: _Routing) -> None:
        self.sc = sc
        n = len(customers)
        self.rec = _Records(n)
        self.env = simpy.Environment()
        self.queue = TicketQueue(int(routing.cell_class.max()) + 1, self.rec)
        self.counters = CounterPool(routing, [s[0] if s else 0 for s in routing.schedules], self.queue.heaps)
        self.pitch = PitchPolicy(sc)
        self.kiosks = KioskBank(sc.kiosks.count)
        self.routing = routing

        # Per-customer attributes as plain lists: handlers read one element per event, which lists do
        # several times faster than numpy arrays. The calling priority is 0 for all under order: ticket.
        seg_prio = np.asarray([s.priority for s in sc.segments])
        by_ticket = sc.counters.calling_order == "ticket"
        self.prio = (np.zeros(n, np.int64) if by_ticket else seg_prio[customers.segment]).tolist() if n else []
        self.cls = routing.cell_class[customers.transaction, customers.segment].tolist() if n else []
        can_pitch = np.asarray([s.pitch for s in sc.segments])[customers.segment] if n else np.zeros(0, bool)
        if sc.cross_sell.policy.mode == "never":
            can_pitch = np.zeros(n, bool)
        self.can_pitch = can_pitch.tolist()
        self.ctime = customers.counter_time.tolist()
        self.ptime = customers.pitch_time.tolist()
        self.patience = customers.patience.tolist()
        self.balk_n = sc.balking.queue_at_least
        eligible = ~np.isnan(customers.kiosk_time)
        self.diverted = eligible & (customers.u_divert < sc.demand.online_diversion)
        self.used_kiosk = (
            eligible & ~self.diverted & (customers.u_kiosk < _adoption(sc, customers))
            if sc.kiosks.count > 0
            else np.zeros(n, bool)
        )
        self.to_kiosk = self.used_kiosk.tolist()
        self.fails = (customers.u_fail < sc.kiosks.failure).tolist()
        self.ktime = customers.kiosk_time.tolist()
        walk_idx = np.flatnonzero(~self.diverted)
        self.walk_c = walk_idx.tolist()
        self.walk_t = customers.arrival_min[walk_idx].tolist()
        self.n_walk = len(self.walk_c)

    # ----- counters -----

    def start_service(self, c: int, g: int, now: float) -> None:
        rec = self.rec
        k = self.counters.take(g)
        rec.cid[c] = k
        rec.sstart[c] = now
        rec.state[c] = _IN_SERVICE
        ct = self.ctime[c]
        env = self.env
        if not self.can_pitch[c]:
            env.schedule(_Call(env, self.on_end, c), NORMAL, ct)
            return
        decision = self.pitch.at_start(now + ct)
        if decision == _PITCH:
            rec.pitched[c] = True
            env.schedule(_Call(env, self.on_end, c), NORMAL, ct + self.ptime[c])
        elif decision == _NO_PITCH:
            env.schedule(_Call(env, self.on_end, c), NORMAL, ct)
        else:
            env.schedule(_Call(env, self.on_main_end, c), NORMAL, ct)

    def join_counter(self, c: int, now: float) -> None:
        """``c`` takes a ticket: served at once by a free eligible counter, or waits."""
        self.rec.qjoin[c] = now
        cls = self.cls[c]
        g = self.counters.free_group(cls)
        if g >= 0:
            self.start_service(c, g, now)
        else:
            self.rec.state[c] = _WAITING
            self.queue.push(c, self.queue.heaps[cls], self.prio[c], now + self.patience[c])

    def release(self, c: int, now: float) -> None:
        """``c``'s service ends; its counter calls the next customer, or goes idle, or closes."""
        rec = self.rec
        rec.state[c] = _DONE
        rec.outcome[c] = SERVED
        rec.send[c] = now
        rec.leave[c] = now
        pool = self.counters
        g = pool.finish(rec.cid[c])
        queue = self.queue
        dl = queue.deadlines
        if dl and dl[0][0] < now:
            queue.purge(now)
        if not queue.n_wait:
            return
        if g >= 0:
            h = pool.call_next(queue, g)
            if h is not None:
                self.start_service(queue.pop(h), g, now)
                return
        if pool.shared_cap:  # the store-level cap may have held back an idle counter of another group
            self.fill(now)

    def fill(self, now: float) -> None:
        """Start waiting customers on every counter that is free for them (after a schedule change)."""
        queue = self.queue
        dl = queue.deadlines
        if dl and dl[0][0] < now:
            queue.purge(now)
        pool = self.counters
        while queue.n_wait:
            nxt = pool.next_start(queue)
            if nxt is None:
                return
            h, c = nxt
            g = pool.free_group(self.cls[c])
            self.start_service(queue.pop(h), g, now)

    # ----- event handlers -----

    def on_end(self, ev: _Call) -> None:
        self.release(ev.arg, self.env.now)

    def on_main_end(self, ev: _Call) -> None:
        c = ev.arg
        now = self.env.now
        queue = self.queue
        dl = queue.deadlines
        if dl and dl[0][0] < now:
            queue.purge(now)
        if self.pitch.at_main_end(queue.n_wait):
            self.rec.pitched[c] = True
            self.env.schedule(_Call(self.env, self.on_end, c), NORMAL, self.ptime[c])
        else:
            self.release(c, now)

    def start_kiosk(self, c: int, now: float) -> None:
        self.kiosks.busy += 1
        self.rec.kstart[c] = now
        self.env.schedule(_Call(self.env, self.on_kiosk_end, c), NORMAL, self.ktime[c])

    def on_kiosk_end(self, ev: _Call) -> None:
        c = ev.arg
        now = self.env.now
        rec = self.rec
        rec.kend[c] = now
        kiosks = self.kiosks
        kiosks.busy -= 1
        if kiosks.queue:
            self.start_kiosk(kiosks.queue.popleft(), now)
        if self.fails[c]:
            rec.kfailed[c] = True
            self.join_counter(c, now)
        else:
            rec.state[c] = _DONE
            rec.outcome[c] = SERVED
            rec.leave[c] = now

    def on_arrival(self, ev: _Call) -> None:
        j = ev.arg
        env = self.env
        now = env.now
        # The source: each arrival schedules the next, so the event queue stays short.
        if j + 1 < self.n_walk:
            env.schedule(_Call(env, self.on_arrival, j + 1), NORMAL, self.walk_t[j + 1] - now)
        c = self.walk_c[j]
        rec = self.rec
        if self.to_kiosk[c]:
            rec.state[c] = _KIOSK
            rec.kjoin[c] = now
            kiosks = self.kiosks
            if kiosks.busy < kiosks.count:
                self.start_kiosk(c, now)
            else:
                kiosks.queue.append(c)
            return
        if self.balk_n is not None:
            queue = self.queue
            if queue.deadlines and queue.deadlines[0][0] < now:
                queue.purge(now)
            if queue.n_wait >= self.balk_n:
                rec.state[c] = _DONE
                rec.outcome[c] = BALKED
                rec.leave[c] = now
                return
        self.join_counter(c, now)

    def on_staffing(self, ev: _Call) -> None:
        i = ev.arg
        pool = self.counters
        for g, sched in enumerate(self.routing.schedules):
            if sched[i] != pool.staffed[g]:
                pool.restaff(g, sched[i])
        self.fill(self.env.now)

    # ----- the day -----

    def play(self, customers: Customers) -> DayLog:
        sc = self.sc
        rec = self.rec
        env = self.env
        # Staffing changes are scheduled first so that, at the same instant, they precede arrivals.
        length = sc.store.interval_min
        for i in self.routing.changes:
            env.schedule(_Call(env, self.on_staffing, i), NORMAL, i * length)
        for c in np.flatnonzero(self.diverted).tolist():
            rec.state[c] = _DONE
        if self.n_walk:
            env.schedule(_Call(env, self.on_arrival, 0), NORMAL, self.walk_t[0])
        env.run()
        self.queue.purge(_INF)  # a last-interval staffing of zero leaves only the impatient to give up
        self._check_conservation()

        pitched = np.asarray(rec.pitched, bool)
        cid = np.asarray(rec.cid, np.int64)
        group_of = np.asarray([*self.counters.group_of, -1], np.int64)  # id -1 → the appended -1
        return DayLog(
            customers=customers,
            used_kiosk=self.used_kiosk,
            kiosk_join=np.asarray(rec.kjoin, float),
            kiosk_start=np.asarray(rec.kstart, float),
            kiosk_end=np.asarray(rec.kend, float),
            kiosk_failed=np.asarray(rec.kfailed, bool),
            queue_join=np.asarray(rec.qjoin, float),
            service_start=np.asarray(rec.sstart, float),
            service_end=np.asarray(rec.send, float),
            leave_min=np.asarray(rec.leave, float),
            counter_id=cid,
            pitched=pitched,
            accepted=pitched & (customers.u_accept < sc.cross_sell.acceptance),
            outcome=np.asarray(rec.outcome, np.int8),
            group=group_of[cid],
        )

    def _check_conservation(self) -> None:
        state = self.rec.state
        left_inside = [c for c in range(len(state)) if state[c] != _DONE]
        k = self.kiosks
        busy = self.counters.total_busy
        if left_inside or k.queue or k.busy or busy:
            raise ConservationError(
                f"{self.sc.name}: {len(left_inside)} customers left inside at the end of the day "
                f"(first: {left_inside[:5]}); busy counters {busy}, kiosk queue {len(k.queue)}"
            )


def _adoption(sc: Scenario, customers: Customers) -> float | np.ndarray:
    """Kiosk adoption for each customer: ``greeter_adoption`` while a greeter is at the door, else ``adoption``."""
    k = sc.kiosks
    if isinstance(k.greeter, bool):
        return k.greeter_adoption if k.greeter else k.adoption
    t = customers.arrival_min
    at_door = np.zeros(len(t), bool)
    for a, b in sc.greeter_windows_min():
        at_door |= (t >= a) & (t < b)
    return np.where(at_door, k.greeter_adoption, k.adoption)


_ROUTINGS: dict[int, tuple[Scenario, _Routing]] = {}


def _routing_for(sc: Scenario) -> _Routing:
    """The scenario's routing, derived once per scenario object (it costs more than a small day's play).

    Keyed by identity; the scenario is kept with its entry so the id cannot be reused while cached.
    """
    hit = _ROUTINGS.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    routing = _Routing.of(sc)
    if len(_ROUTINGS) >= 32:
        _ROUTINGS.clear()
    _ROUTINGS[id(sc)] = (sc, routing)
    return routing


def simulate_day(scenario: Scenario, customers: Customers) -> DayLog:
    """Play one store day with the given customers on a SimPy environment (semantics: module docstring)."""
    return _Day(scenario, customers, _routing_for(scenario)).play(customers)


def simulate_replication(
    scenario: Scenario, replication: int = 0, seed: int | None = None, customers: Customers | None = None
) -> DayLog:
    """One replication: draw the customers from ``(seed, replication)`` (or use ``customers``) and play the day."""
    if customers is None:
        s = scenario.simulation.seed if seed is None else seed
        customers = draw_customers(scenario, replication_streams(s, replication))
    return simulate_day(scenario, customers)
