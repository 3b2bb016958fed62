"""The SimPy engine: one replication of a store day.

Two steps, kept apart on purpose:

1. :func:`draw_customers` pre-draws *all* randomness of a replication as numpy arrays, one named
   stream per source (arrivals, customer draws, service, patience, choices, pitch), each cut into a
   fixed section per interval, and turns uniforms into times by inverse CDFs
   (:mod:`simulation.sampling`). Nothing drawn depends on staffing, policy or kiosk settings, so
   scenarios differing there see the same customers (common random numbers); and because a
   customer keeps its uniforms, a busier variant of the day keeps every customer of the quieter one
   and a faster transaction shortens every customer's time by the same factor, so demand and
   service-time what-ifs are paired too. Vectorised drawing keeps Python work per customer small.
2. :func:`simulate_day` plays the day on a :class:`simpy.Environment`. Counters are driven by a small
   dispatcher with plain callbacks on SimPy timeouts instead of one generator process, Resource
   request and AnyOf per customer: the same event queue, a fraction of the overhead
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
  uniform is below ``adoption`` (``greeter_adoption`` with a greeter). One FCFS kiosk queue. Nobody
  abandons or balks at the kiosks: patience applies to the counter queue only (a kiosk line moves
  fast and is in sight). A failed kiosk visit joins the counter queue at kiosk end, with the counter
  time of its transaction; it does not balk (it already holds its place inside the store).
* **Counters**: one ticket queue, non-preemptive priority (lower segment ``priority`` first), FCFS
  within a priority. A waiting customer starts only while fewer customers are in service than counters
  are staffed, so the number in service never exceeds the schedule except while closing counters
  finish their last customer.
* **VIP counters and schedule changes**: counters ``0 .. vip-1`` are the VIP counters. They are never
  closed by a schedule drop (the scenario guarantees ``vip <= min(staffed)``); drops close regular
  counters: idle ones first, then the next regular counters to finish (each finishes its customer,
  nobody is interrupted). A rise first cancels pending closures, then opens counters. VIP counters
  serve the top-priority segment first, then anyone; regular counters serve by priority too, so both
  take the head of the priority queue; the VIP rule decides *where* a customer is served: a
  top-priority customer takes an idle VIP counter when there is one, others take an idle regular
  counter when there is one. (With one shared priority queue this leaves waits unchanged; it keeps
  VIP counters free for VIPs and shows up in ``counter_id``.)
* **Cross-sell**: after the main transaction the counter may pitch (``pitch_time`` more at the
  counter; accepted with probability ``acceptance``). Segments with ``pitch: false`` are never pitched.
  The policy is evaluated at the moment the main transaction ends: ``windows`` suspends pitching
  while that moment lies in a suspend window ``[start, end)``; ``queue_threshold`` suspends it while
  ``threshold`` or more customers wait at the counters at that moment.
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

from .sampling import inverse_cdf, lognormal_from_z, norm_ppf, poisson_inverse
from .scenario import Scenario

STREAMS = ("arrivals", "customers", "service", "patience", "choice", "pitch")
"""Named random streams, spawned in this order from the replication's SeedSequence child."""

# outcome codes in DayLog.outcome
SERVED, ABANDONED, BALKED, DIVERTED = 0, 1, 2, 3
OUTCOME_NAMES = ("served", "abandoned", "balked", "diverted")

# per-customer states while the day runs
_NEW, _KIOSK, _WAITING, _IN_SERVICE, _DONE = 0, 1, 2, 3, 4

_INF = math.inf


class _Call(simpy.Event):
    """An already-triggered SimPy event that calls ``fn(event)`` when the clock reaches it.

    The engine's only event type: built without :class:`simpy.Timeout`'s checks and put on the
    environment's queue with the public ``Environment.schedule``. Inlined for speed: one or two of
    these are created per customer.
    """

    def __init__(self, env: simpy.Environment, fn: object, value: int) -> None:  # no super(): speed
        self.env = env
        self.callbacks = [fn]  # type: ignore[list-item]
        self._value = value
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
    counts = poisson_inverse(scenario.arrival_rates_per_hour() * (length / 60.0), rng.random(m))
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
    zs = _lazy_z(us)
    counter_time = _by_group(scenario.transactions, transaction, us[:, 0], "counter_time", np.nan, lambda: zs()[:, 0])
    kiosk_time = _by_group(scenario.transactions, transaction, us[:, 1], "kiosk_time", np.nan, lambda: zs()[:, 1])

    # A stream nobody needs is not drawn (the others do not move: each stream is its own generator).
    if any(sg.patience is not None for sg in scenario.segments):
        up1 = uniforms("patience", 1)[:, 0]
        patience = _by_group(scenario.segments, segment, up1, "patience", np.inf, _lazy_z(up1))
    else:
        patience = np.full(n, np.inf)
    needs_choice = scenario.kiosks.count > 0 or scenario.demand.online_diversion > 0
    u = uniforms("choice", 3) if needs_choice else np.ones((n, 3))  # 1.0 is "no" to every choice
    if scenario.cross_sell.policy.mode != "never":
        up = uniforms("pitch", 2)
        pitch_time = inverse_cdf(scenario.cross_sell.pitch_time, up[:, 0])
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


def _by_group(
    items: Any, group: np.ndarray, u: np.ndarray, attr: str, missing: float, z: Callable[[], np.ndarray] | None = None
) -> np.ndarray:
    """Inverse CDF of each item's distribution ``attr`` at the uniforms of the customers in its group.

    ``z()`` gives the normal quantiles of ``u`` when a lognormal needs them, computed once for all
    customers (and all columns of a stream) rather than per group: the quantile is the costly step.
    """
    out = np.full(len(u), missing)
    for i, item in enumerate(items):
        dist = getattr(item, attr)
        if dist is None:
            continue
        mask = group == i
        if getattr(dist, "dist", None) == "lognormal":
            out[mask] = lognormal_from_z(dist, (z() if z is not None else norm_ppf(u))[mask])
        else:
            out[mask] = inverse_cdf(dist, u[mask])
    return out


def _lazy_z(u: np.ndarray) -> Callable[[], np.ndarray]:
    """Normal quantiles of the matrix ``u``, computed on first use and kept."""
    cache: list[np.ndarray] = []

    def get() -> np.ndarray:
        if not cache:
            cache.append(norm_ppf(u.ravel()).reshape(u.shape))
        return cache[0]

    return get


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
    ``outcome`` holds the codes ``SERVED, ABANDONED, BALKED, DIVERTED``.
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


def simulate_day(scenario: Scenario, customers: Customers) -> DayLog:
    """Play one store day with the given customers on a SimPy environment (semantics: module docstring)."""
    sc = scenario
    n = len(customers)
    kiosk_time_a = customers.kiosk_time
    eligible = ~np.isnan(kiosk_time_a)
    diverted_a = eligible & (customers.u_divert < sc.demand.online_diversion)
    adopt = sc.kiosks.greeter_adoption if sc.kiosks.greeter else sc.kiosks.adoption
    n_kiosks = sc.kiosks.count
    to_kiosk = (eligible & ~diverted_a & (customers.u_kiosk < adopt)) if n_kiosks > 0 else np.zeros(n, bool)
    fails = (customers.u_fail < sc.kiosks.failure).tolist()

    seg_prio = [s.priority for s in sc.segments]
    top = min(seg_prio)
    prio = np.asarray(seg_prio)[customers.segment].tolist() if n else []
    policy = sc.cross_sell.policy
    mode = policy.mode
    can_pitch = np.asarray([s.pitch for s in sc.segments])[customers.segment] if n else np.zeros(0, bool)
    if mode == "never":
        can_pitch = np.zeros(n, bool)
    can_pitch_l = can_pitch.tolist()
    windows = sc.suspend_windows_min() if mode == "windows" else []
    threshold = policy.threshold if policy.threshold is not None else 0
    balk_n = sc.balking.queue_at_least

    ctime = customers.counter_time.tolist()
    ktime = kiosk_time_a.tolist()
    pat = customers.patience.tolist()
    ptime = customers.pitch_time.tolist()
    to_kiosk_l = to_kiosk.tolist()

    nan = math.nan
    state = [_NEW] * n
    kjoin = [nan] * n
    kstart = [nan] * n
    kend = [nan] * n
    kfailed = [False] * n
    qjoin = [nan] * n
    sstart = [nan] * n
    send = [nan] * n
    leave = [nan] * n
    cid = [-1] * n
    pitched = [False] * n
    outcome = [DIVERTED] * n

    schedule = sc.staffed_schedule().tolist()
    vip = sc.counters.vip
    env = simpy.Environment()
    schedule_ = env.schedule
    heappush, heappop = heapq.heappush, heapq.heappop

    # Counter state. Invariant between events: if busy < staffed, nobody is waiting.
    staffed = schedule[0] if schedule else 0
    busy = 0
    to_close = 0  # busy regular counters that close when they finish (a schedule drop)
    vip_idle = list(range(vip - 1, -1, -1))  # stacks: pop() reuses the lowest id first
    reg_idle = list(range(staffed - 1, vip - 1, -1))
    closed: list[int] = []
    next_id = max(staffed, vip)
    qheap: list[tuple[int, int, int]] = []  # (priority, ticket, customer); stale entries are skipped
    dl_heap: list[tuple[float, int]] = []  # (deadline, customer) for finite patience
    n_wait = 0
    ticket = 0
    k_busy = 0
    kqueue: deque[int] = deque()

    def purge(now: float) -> None:
        # Customers whose patience ran out before `now` left at their deadline.
        nonlocal n_wait
        while dl_heap and dl_heap[0][0] < now:
            d, c = heappop(dl_heap)
            if state[c] == _WAITING:
                state[c] = _DONE
                outcome[c] = ABANDONED
                leave[c] = d
                n_wait -= 1

    def start_service(c: int, now: float) -> None:
        nonlocal busy
        # A top-priority customer takes an idle VIP counter first; others leave it free if they can.
        k = vip_idle.pop() if vip_idle and (prio[c] == top or not reg_idle) else reg_idle.pop()
        busy += 1
        cid[c] = k
        sstart[c] = now
        state[c] = _IN_SERVICE
        ct = ctime[c]
        if not can_pitch_l[c]:
            schedule_(_Call(env, on_end, c), NORMAL, ct)
        elif mode == "always":
            pitched[c] = True
            schedule_(_Call(env, on_end, c), NORMAL, ct + ptime[c])
        elif mode == "windows":
            t_main = now + ct
            suspended = False
            for a, b in windows:
                if a <= t_main < b:
                    suspended = True
                    break
            if not suspended:
                pitched[c] = True
                ct += ptime[c]
            schedule_(_Call(env, on_end, c), NORMAL, ct)
        else:  # queue_threshold: decided when the main transaction ends
            schedule_(_Call(env, on_main_end, c), NORMAL, ct)

    def dispatch(now: float) -> None:
        nonlocal n_wait
        if dl_heap and dl_heap[0][0] < now:
            purge(now)
        while n_wait and busy < staffed:
            c = heappop(qheap)[2]
            if state[c] == _WAITING:
                n_wait -= 1
                start_service(c, now)

    def join_counter(c: int, now: float) -> None:
        nonlocal n_wait, ticket
        qjoin[c] = now
        if busy < staffed:
            start_service(c, now)
        else:
            state[c] = _WAITING
            heappush(qheap, (prio[c], ticket, c))
            ticket += 1
            n_wait += 1
            p = pat[c]
            if p != _INF:
                heappush(dl_heap, (now + p, c))

    def release(c: int, now: float) -> None:
        nonlocal busy, to_close
        state[c] = _DONE
        outcome[c] = SERVED
        send[c] = now
        leave[c] = now
        busy -= 1
        k = cid[c]
        if k < vip:
            vip_idle.append(k)
        elif to_close:
            to_close -= 1
            closed.append(k)
        else:
            reg_idle.append(k)
        dispatch(now)

    def on_end(ev: simpy.Event) -> None:
        release(ev._value, env._now)

    def on_main_end(ev: simpy.Event) -> None:
        c = ev._value
        now = env._now
        if dl_heap and dl_heap[0][0] < now:
            purge(now)
        if n_wait < threshold:
            pitched[c] = True
            schedule_(_Call(env, on_end, c), NORMAL, ptime[c])
        else:
            release(c, now)

    def start_kiosk(c: int, now: float) -> None:
        nonlocal k_busy
        k_busy += 1
        kstart[c] = now
        schedule_(_Call(env, on_kiosk_end, c), NORMAL, ktime[c])

    def on_kiosk_end(ev: simpy.Event) -> None:
        nonlocal k_busy
        c = ev._value
        now = env._now
        kend[c] = now
        k_busy -= 1
        if kqueue:
            start_kiosk(kqueue.popleft(), now)
        if fails[c]:
            kfailed[c] = True
            join_counter(c, now)
        else:
            state[c] = _DONE
            outcome[c] = SERVED
            leave[c] = now

    def on_arrival(ev: simpy.Event) -> None:
        j = ev._value
        now = env._now
        # The source: each arrival schedules the next, so the event queue stays short.
        if j + 1 < n_walk:
            schedule_(_Call(env, on_arrival, j + 1), NORMAL, walk_t[j + 1] - now)
        c = walk_c[j]
        if to_kiosk_l[c]:
            state[c] = _KIOSK
            kjoin[c] = now
            if k_busy < n_kiosks:
                start_kiosk(c, now)
            else:
                kqueue.append(c)
            return
        if balk_n is not None:
            if dl_heap and dl_heap[0][0] < now:
                purge(now)
            if n_wait >= balk_n:
                state[c] = _DONE
                outcome[c] = BALKED
                leave[c] = now
                return
        join_counter(c, now)

    def on_staffing(ev: simpy.Event) -> None:
        nonlocal staffed, to_close, next_id
        new = ev._value
        diff = new - staffed
        if diff < 0:
            d = -diff
            while d and reg_idle:
                closed.append(reg_idle.pop())
                d -= 1
            to_close += d
        elif diff > 0:
            take = min(to_close, diff)
            to_close -= take
            for _ in range(diff - take):
                if closed:
                    reg_idle.append(closed.pop())
                else:
                    reg_idle.append(next_id)
                    next_id += 1
        staffed = new
        dispatch(env._now)

    # Staffing changes are scheduled first so that, at the same instant, they precede arrivals.
    length = sc.store.interval_min
    for i in range(1, len(schedule)):
        if schedule[i] != schedule[i - 1]:
            schedule_(_Call(env, on_staffing, schedule[i]), NORMAL, i * length)
    walk_idx = np.flatnonzero(~diverted_a)
    walk_c = walk_idx.tolist()
    walk_t = customers.arrival_min[walk_idx].tolist()
    n_walk = len(walk_c)
    for c in np.flatnonzero(diverted_a).tolist():
        state[c] = _DONE
    if n_walk:
        schedule_(_Call(env, on_arrival, 0), NORMAL, walk_t[0])
    env.run()
    purge(_INF)  # a last-interval staffing of zero leaves only the impatient to give up

    left_inside = [c for c in range(n) if state[c] != _DONE]
    if left_inside or kqueue or k_busy or busy:
        raise ConservationError(
            f"{sc.name}: {len(left_inside)} customers left inside at the end of the day "
            f"(first: {left_inside[:5]}); busy counters {busy}, kiosk queue {len(kqueue)}"
        )

    pitched_a = np.asarray(pitched, bool)
    accepted = pitched_a & (customers.u_accept < sc.cross_sell.acceptance)
    out = np.asarray(outcome, np.int8)
    return DayLog(
        customers=customers,
        used_kiosk=to_kiosk,
        kiosk_join=np.asarray(kjoin, float),
        kiosk_start=np.asarray(kstart, float),
        kiosk_end=np.asarray(kend, float),
        kiosk_failed=np.asarray(kfailed, bool),
        queue_join=np.asarray(qjoin, float),
        service_start=np.asarray(sstart, float),
        service_end=np.asarray(send, float),
        leave_min=np.asarray(leave, float),
        counter_id=np.asarray(cid, np.int64),
        pitched=pitched_a,
        accepted=accepted,
        outcome=out,
    )


def simulate_replication(
    scenario: Scenario, replication: int = 0, seed: int | None = None, customers: Customers | None = None
) -> DayLog:
    """One replication: draw the customers from ``(seed, replication)`` (or use ``customers``) and play the day."""
    if customers is None:
        s = scenario.simulation.seed if seed is None else seed
        customers = draw_customers(scenario, replication_streams(s, replication))
    return simulate_day(scenario, customers)
