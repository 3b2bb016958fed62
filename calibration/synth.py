"""A realistic ticket log from a scenario, by simulation (``storeq synth-log``).

Each day is the scenario with ``store.date`` set to that day (so weekday and day-of-month factors
apply), simulated once with per-customer records, and each customer becomes the ticket a ticket
machine would have printed:

- counter customers: issued when they joined the counter queue, called when service started,
  served until service ended, at counter ``C01``, ``C02``, ...; ``called_at`` equals
  ``service_start`` (the model has no walk to the counter);
- kiosk customers: channel ``kiosk``, issued on arrival, served from kiosk start to end, no counter;
- a kiosk visit that failed is not a ticket; the customer's counter ticket (issued when they joined
  the counter queue) is — exactly what a real hall's system records;
- abandoned customers: outcome ``abandoned``, ``called_at`` = when they left (the ticket closed),
  no service times;
- balked customers never took a ticket and are not in the log. No no-shows are generated.
Ticket numbers restart each day (``A0001``...), as on real machines; times are whole seconds.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from simulation import Scenario, with_updates

from .logformat import LOG_COLUMNS


def customer_tickets(customers: pd.DataFrame, open_min: int) -> pd.DataFrame:
    """Simulated customers as numeric ticket rows (times in minutes after midnight), in issue order.

    The same shape as ``CleanLog.tickets`` minus ``day``, so simulated and observed days go through
    the same metric code in the fit report. Keeps a ``replication`` column when the records have one.
    """
    c = customers[customers["outcome"].isin(["served", "abandoned"])]  # balked/diverted: no ticket
    failed = c["kiosk_failed"].astype("float").fillna(0).to_numpy() > 0
    kiosk_ok = c["used_kiosk"].astype(bool).to_numpy() & ~failed
    abandoned = (c["outcome"] == "abandoned").to_numpy()
    arrival = c["arrival_min"].to_numpy(float)
    qj = c["queue_join_min"].to_numpy(float)
    join = np.where(np.isfinite(qj), qj, arrival)
    issued = np.where(kiosk_ok, arrival, join)
    start = np.where(kiosk_ok, c["kiosk_start_min"].to_numpy(float), c["service_start_min"].to_numpy(float))
    end = np.where(kiosk_ok, c["kiosk_end_min"].to_numpy(float), c["service_end_min"].to_numpy(float))
    # an abandoned ticket closes when the customer leaves (engine column leave_min)
    left = c["leave_min"].to_numpy(float) if "leave_min" in c else np.full(len(c), np.nan)
    called = np.where(abandoned, left, start)
    counter = c["counter_id"].to_numpy()
    out = pd.DataFrame(
        {
            "issued_min": issued + open_min,
            "called_min": called + open_min,
            "start_min": np.where(abandoned, np.nan, start) + open_min,
            "end_min": np.where(abandoned, np.nan, end) + open_min,
            "counter": np.where(kiosk_ok | abandoned, -1, counter).astype(np.int64),
            "transaction": c["transaction"].to_numpy(),
            "segment": c["segment"].to_numpy(),
            "channel": np.where(kiosk_ok, "kiosk", "counter"),
            "outcome": np.where(abandoned, "abandoned", "served"),
            "times_ok": True,
        }
    )
    if "group" in c:  # the counter group that served the ticket (None: kiosk, abandoned)
        grp = c["group"].to_numpy(object).copy()
        grp[kiosk_ok | abandoned] = None
        out["group"] = grp
    if "replication" in c:
        out.insert(0, "replication", c["replication"].to_numpy())
    keys = ["replication", "issued_min"] if "replication" in out else ["issued_min"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def customers_to_tickets(customers: pd.DataFrame, day: _dt.date, open_min: int) -> pd.DataFrame:
    """Turn one simulated day's customer records into ticket-log rows (our column names, text)."""
    t = customer_tickets(customers, open_min)
    base = pd.Timestamp(day)

    def stamp(m: pd.Series) -> pd.Series:
        v = m.to_numpy(float)
        ts = base + pd.to_timedelta(np.round(np.nan_to_num(v) * 60.0), unit="s")
        return pd.Series(ts).dt.strftime("%Y-%m-%d %H:%M:%S").where(np.isfinite(v), "")

    counter = t["counter"].to_numpy()
    out = pd.DataFrame(
        {
            "ticket_id": [f"A{i + 1:04d}" for i in range(len(t))],
            "issued_at": stamp(t["issued_min"]),
            "called_at": stamp(t["called_min"]),
            "service_start": stamp(t["start_min"]),
            "service_end": stamp(t["end_min"]),
            "counter_id": np.where(counter < 0, "", ("C" + pd.Series(counter + 1, dtype="int64").astype(str).str.zfill(2)).to_numpy(str)),
            "transaction": t["transaction"].to_numpy(),
            "segment": t["segment"].to_numpy(),
            "channel": t["channel"].to_numpy(),
            "outcome": t["outcome"].to_numpy(),
        }
    )
    return out[list(LOG_COLUMNS)]


def synth_log(
    scenario: Scenario,
    days: int,
    start_date: _dt.date,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate ``days`` consecutive days from ``start_date`` and return their ticket log.

    Each day gets its own seed from one ``SeedSequence(seed)``, so the log is reproducible and days
    are independent.
    """
    from simulation import run  # the engine; imported here so reading and fitting work without it

    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    seed = scenario.simulation.seed if seed is None else seed
    seeds = np.random.SeedSequence(seed).generate_state(days)
    frames = []
    for i in range(days):
        day = start_date + _dt.timedelta(days=i)
        s = with_updates(scenario, {"store.date": day.isoformat()}, source=f"{scenario.name} on {day}")
        res = run(s, replications=1, seed=int(seeds[i]), keep_customers=True)
        assert res.customers is not None
        frames.append(customers_to_tickets(res.customers, day, s.store.open_min))
        if progress is not None:
            progress(i + 1, days)
    return pd.concat(frames, ignore_index=True)
