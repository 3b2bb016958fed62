"""The one KPI catalogue: every figure storeq reports, defined once.

The results module computes KPIs by these names; the CLI's tables, JSON and CSV, the app's cards and
charts, and the docs all read their labels, units, formats and "which way is better" from here. Adding
a KPI is one :class:`Kpi` entry here plus its computation in :mod:`simulation.results`.

Definitions follow DESIGN.md ("KPIs"). ``unit`` picks the number format (:mod:`storeq.present`):

========  ===============================================  ======================
unit      meaning                                          shown as
========  ===============================================  ======================
min       minutes                                          ``8.2 min``
share     a proportion in [0, 1]                           ``81.0%``
people    a count of people at a time (time-average)       ``3.4``
count     customers or events per day                      ``1,234``
money     an amount in the scenario's currency             ``1,003 CNY``
hours     hours                                            ``76.0 h``
clock     minutes after opening, shown as a clock time     ``18:12``
counters  a number of counters                             ``9``
========  ===============================================  ======================

This module imports nothing from the cores, so any layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["min", "share", "people", "count", "money", "hours", "clock", "counters"]
Level = Literal["day", "interval", "segment", "group"]
Better = Literal["lower", "higher", ""]


@dataclass(frozen=True)
class Kpi:
    """One KPI: its name in every output, how to show it, and which way is better.

    ``label`` is the short name for tables (CLI, CSV headers for people); ``manager_label`` is how a
    store manager reads it in the app. ``levels`` says where it is reported. ``headline`` marks the
    figures a manager reads first, in catalogue order; ``compare`` the ones a comparison shows side by
    side. ``counts`` names what a ``count`` or ``people`` figure counts ("customers" when empty): the
    unit word of table headers and CSV.
    """

    name: str
    unit: Unit
    label: str
    manager_label: str
    better: Better
    help: str
    levels: tuple[Level, ...] = ("day",)
    headline: bool = True
    compare: bool = True
    counts: str = ""
    signed: bool = False
    """True for a figure that can be negative (net margin); every other KPI is at least 0, so its
    confidence interval is clipped at 0 (a share's also at 1): the bounds never claim the impossible."""


_ALL: tuple[Kpi, ...] = (
    Kpi("mean_wait_min", "min", "Mean wait", "Mean wait", "lower",
        "Average minutes from taking a ticket to reaching a counter.", ("day", "interval", "segment", "group")),
    Kpi("p90_wait_min", "min", "90th percentile wait", "90% waited less than", "lower",
        "9 in 10 counter customers waited less than this.", ("day", "interval", "segment")),
    Kpi("prob_wait", "share", "Customers who waited", "Had to wait", "lower",
        "Share of counter customers who waited at all.", ("day", "interval", "segment"), compare=False),
    Kpi("service_level", "share", "Service level", "Served within target", "higher",
        "Share served within the target wait (of those served or who gave up).", ("day", "interval", "segment")),
    Kpi("abandonment_rate", "share", "Abandonment rate", "Gave up waiting", "lower",
        "Share of customers in the counter queue who left before being served.", ("day", "interval", "segment")),
    Kpi("utilization", "share", "Counter utilization", "Counter utilization", "",
        "Busy counter time over staffed counter time.", ("day", "interval", "group")),
    Kpi("mean_queue_len", "people", "Mean queue length", "People waiting", "lower",
        "Time-average number waiting for a counter during opening hours.", ("day", "interval")),
    Kpi("kiosk_share", "share", "Kiosk share of arrivals", "Used a kiosk", "",
        "Share of arriving customers who used a self-service kiosk.", ("day", "interval", "segment"), compare=False),
    Kpi("kiosk_mean_wait_min", "min", "Mean kiosk wait", "Mean kiosk wait", "lower",
        "Average minutes waiting for a free kiosk.", ("day", "interval", "segment"), compare=False),
    Kpi("arrivals", "count", "Arrivals", "Customers who came in", "",
        "Customers who walked in (demand moved online is not counted).", ("day", "interval", "segment"), compare=False),
    Kpi("served", "count", "Served", "Customers served", "higher",
        "Customers served, each once, at a kiosk, a counter or both (per counter group: at its counters).",
        ("day", "interval", "segment", "group")),
    Kpi("abandoned", "count", "Abandoned", "Gave up", "lower",
        "Customers who left the counter queue before being served.", ("day", "interval", "segment")),
    Kpi("balked", "count", "Balked", "Turned away at the door", "lower",
        "Customers who saw the queue and did not join it.", ("day", "interval", "segment")),
    Kpi("diverted", "count", "Diverted online", "Moved online", "",
        "Demand moved to the app or online before it walked in.", ("day", "interval", "segment"), compare=False),
    Kpi("pitches", "count", "Offers pitched", "Offers pitched", "",
        "Cross-sell offers pitched at the counter.", ("day", "interval", "segment"), compare=False,
        counts="pitches"),
    Kpi("pitch_accepted", "count", "Offers accepted", "Offers accepted", "higher",
        "Cross-sell offers accepted.", ("day", "interval", "segment"), compare=False, counts="sales"),
    Kpi("cross_sell_revenue", "money", "Cross-sell revenue", "Cross-sell margin", "higher",
        "Margin from accepted offers in the day.", ("day", "interval", "segment")),
    Kpi("staff_hours", "hours", "Staff hours", "Staff hours", "lower",
        "Staffed counter hours of the schedule over the opening hours (time after closing is not in it).",
        ("day", "interval")),
    Kpi("staff_cost", "money", "Staff cost", "Staff cost", "lower",
        "Counter staff hours times the hourly staff cost.", ("day", "interval")),
    Kpi("greeter_cost", "money", "Greeter cost", "Greeter cost", "lower",
        "Hours the greeter is at the door times the greeter's hourly cost.", ("day", "interval")),
    Kpi("kiosk_cost", "money", "Kiosk cost", "Kiosk cost", "lower",
        "Kiosks times the daily cost of a kiosk (per interval: its share of the day).", ("day", "interval")),
    Kpi("total_cost", "money", "Total cost", "Total cost", "lower",
        "Staff, greeter and kiosk costs of the day.", ("day", "interval")),
    Kpi("net_margin", "money", "Net margin", "Margin after costs", "higher",
        "Cross-sell margin minus the total cost.", ("day", "interval"), signed=True),
    Kpi("last_departure_min", "clock", "Last customer leaves", "Last customer leaves", "lower",
        "When the last customer leaves the store.", ("day",)),
    Kpi("busy_counter_min", "min", "Busy counter-minutes", "Counter time serving", "",
        "Minutes the group's counters spent serving customers (counter-minutes) during opening hours.", ("group",),
        headline=False, compare=False),
    Kpi("staffed", "counters", "Staffed counters", "Counters open", "",
        "Counters staffed in the interval (per counter group over the day: the time-average).", ("interval", "group"),
        headline=False, compare=False),
)

CATALOGUE: dict[str, Kpi] = {k.name: k for k in _ALL}
"""Every KPI by name, in report order."""


def kpi(name: str) -> Kpi:
    """The catalogue entry for ``name``; an unknown name is a programming error, said plainly."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the KPI catalogue (storeq/kpis.py)") from None


def names(level: Level = "day") -> tuple[str, ...]:
    """The KPI names reported at ``level``, in catalogue order."""
    return tuple(k.name for k in CATALOGUE.values() if level in k.levels)


def headline() -> tuple[str, ...]:
    """The day KPIs a manager reads first, in order."""
    return tuple(k.name for k in CATALOGUE.values() if k.headline and "day" in k.levels)


def compared() -> tuple[str, ...]:
    """The day KPIs shown side by side with paired differences in a comparison."""
    return tuple(k.name for k in CATALOGUE.values() if k.compare and "day" in k.levels)
