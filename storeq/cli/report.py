"""What ``storeq run`` and ``storeq compare`` share: their options, the day-KPI frame, provenance,
and KPI labels and number formats for people (json and csv keep raw numbers).

Output formats (DESIGN.md, "The CLI contract"):

- ``table`` (default): readable tables for a person — day KPIs with mean and 95% CI, a by-segment table
  and a per-interval table.
- ``json``: exactly one JSON object on stdout and nothing else; errors go to stderr.
- ``csv``: tidy CSV on stdout. ``run`` prints the day KPIs (``kpi, unit, mean, ci_low, ci_high``);
  ``compare`` prints every scenario's day KPIs with the paired difference against the first
  (``scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high``).

``--out DIR`` writes the result frames as CSV and Parquet (atomically: an interrupted run leaves no
half-written file), plus the scenario actually run (with ``--set`` applied) and ``provenance.json``
(scenario hash, seed, replications, version, runtime, command line), so any figure can be reproduced.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from storeq.cli.common import InputError

if TYPE_CHECKING:
    from simulation import RunResult

FORMATS = ("table", "json", "csv")


def _default_workers() -> int:
    # two worker processes is the sweet spot on a laptop and never oversubscribes a small CI box
    return max(1, min(2, os.cpu_count() or 1))


# ---------------------------------------------------------------------------------------------
# KPI labels, units and number formats (for people; json/csv keep raw numbers)
# ---------------------------------------------------------------------------------------------

# name: (label, unit, kind). ``kind`` picks the number format and how a difference is shown.
KPI_INFO: dict[str, tuple[str, str, str]] = {
    "mean_wait_min": ("Mean wait", "min", "min"),
    "p90_wait_min": ("90th percentile wait", "min", "min"),
    "prob_wait": ("Customers who waited", "%", "share"),
    "service_level": ("Service level", "%", "share"),
    "abandonment_rate": ("Abandonment rate", "%", "share"),
    "utilization": ("Counter utilization", "%", "share"),
    "mean_queue_len": ("Mean queue length", "customers", "len"),
    "kiosk_share": ("Kiosk share of arrivals", "%", "share"),
    "kiosk_mean_wait_min": ("Mean kiosk wait", "min", "min"),
    "cross_sell_revenue": ("Cross-sell revenue", "money", "money"),
    "staff_hours": ("Staff hours", "h", "hours"),
    "staff_cost": ("Staff cost", "money", "money"),
    "last_departure_min": ("Last customer leaves", "clock", "clock"),
    "arrivals": ("Arrivals", "customers", "count"),
    "served": ("Served", "customers", "count"),
    "abandoned": ("Abandoned", "customers", "count"),
    "balked": ("Balked", "customers", "count"),
    "diverted": ("Diverted online", "customers", "count"),
    "pitches": ("Offers pitched", "pitches", "count"),
    "pitch_accepted": ("Offers accepted", "sales", "count"),
    "staffed": ("Staffed counters", "counters", "len"),
}

# The rows a store manager reads first, in this order; anything else the engine reports follows.
HEADLINE = (
    "mean_wait_min",
    "p90_wait_min",
    "prob_wait",
    "service_level",
    "abandonment_rate",
    "utilization",
    "mean_queue_len",
    "kiosk_share",
    "kiosk_mean_wait_min",
    "arrivals",
    "served",
    "abandoned",
    "balked",
    "diverted",
    "pitches",
    "pitch_accepted",
    "cross_sell_revenue",
    "staff_hours",
    "staff_cost",
    "last_departure_min",
)

SEGMENT_KPIS = ("arrivals", "mean_wait_min", "service_level", "abandonment_rate", "served")
COMPARE_KPIS = (
    "mean_wait_min",
    "p90_wait_min",
    "service_level",
    "abandonment_rate",
    "utilization",
    "mean_queue_len",
    "served",
    "abandoned",
    "balked",
    "cross_sell_revenue",
    "staff_hours",
    "staff_cost",
    "last_departure_min",
)


def _kind(kpi: str) -> str:
    return KPI_INFO.get(kpi, (kpi, "", "num"))[2]


def kpi_unit(kpi: str) -> str:
    unit = KPI_INFO.get(kpi, (kpi, "", "num"))[1]
    return "share" if unit == "%" else ("min after opening" if unit == "clock" else unit)


def kpi_label(kpi: str) -> str:
    label, unit, _ = KPI_INFO.get(kpi, (kpi, "", "num"))
    return f"{label} ({unit})" if unit and unit not in ("clock", "money") else label


def ordered_kpis(kpis: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(kpis))
    return [k for k in HEADLINE if k in present] + [k for k in present if k not in HEADLINE]


def missing(v: Any) -> bool:
    try:
        return v is None or not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


_NEG_ZERO = re.compile(r"^-(0(?:\.0*)?)(%?)$")


def fmt_value(kpi: str, v: Any, open_min: int = 0) -> str:
    """A KPI value for a person: percentages for shares, a clock for the last departure."""
    if missing(v):
        return "—"
    # a CI bound of a non-negative KPI can dip just below zero; "-0.00" reads like a bug
    return _NEG_ZERO.sub(r"\1\2", _fmt_value(kpi, float(v), open_min))


def _fmt_value(kpi: str, x: float, open_min: int) -> str:
    kind = _kind(kpi)
    if kind == "share":
        return f"{100 * x:.1f}%"
    if kind == "min":
        return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"
    if kind == "len":
        return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"
    if kind == "count":
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"
    if kind == "money":
        return f"{x:,.0f}"
    if kind == "hours":
        return f"{x:.1f}"
    if kind == "clock":
        from simulation import format_clock

        return format_clock(open_min + x)
    return f"{x:.4g}"


_SIGNED_ZERO = re.compile(r"^[+-](0(?:\.0*)?)$")


def fmt_diff(kpi: str, d: Any, unit: bool = True) -> str:
    """A difference for a person: percentage points for shares, minutes for the clock KPI."""
    if missing(d):
        return "—"
    x = float(d)
    kind = _kind(kpi)
    if kind == "share":
        number = f"{100 * x:+.1f}"
    elif kind in ("min", "clock"):
        number = f"{x:+.2f}" if abs(x) < 10 else f"{x:+.1f}"
    elif kind == "len":
        number = f"{x:+.2f}"
    elif kind == "count":
        number = f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.1f}"
    elif kind == "money":
        number = f"{x:+,.0f}"
    elif kind == "hours":
        number = f"{x:+.1f}"
    else:
        number = f"{x:+.4g}"
    number = _SIGNED_ZERO.sub(r"\1", number)  # no "+0.0" or "-0.0": a zero difference is 0
    suffix = {"share": " pp", "clock": " min"}.get(kind, "") if unit else ""
    return number + suffix


def fmt_ci(kpi: str, lo: Any, hi: Any, open_min: int = 0, diff: bool = False) -> str:
    if missing(lo) or missing(hi):
        return "—"
    if diff:
        return f"{fmt_diff(kpi, lo, unit=False)} … {fmt_diff(kpi, hi, unit=False)}"
    return f"{fmt_value(kpi, lo, open_min)} … {fmt_value(kpi, hi, open_min)}"


# ---------------------------------------------------------------------------------------------
# options shared by run and compare
# ---------------------------------------------------------------------------------------------


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--replications",
            "-n",
            type=click.IntRange(min=1),
            default=None,
            help="Simulated days (default: the scenario's simulation.replications).",
        ),
        click.option(
            "--seed",
            type=click.IntRange(min=0),
            default=None,
            help="Random seed (default: the scenario's simulation.seed). Same seed, same results.",
        ),
        click.option(
            "--workers",
            "-w",
            type=click.IntRange(min=1),
            default=_default_workers,
            show_default="min(2, CPUs)",
            help="Worker processes for replications; results do not depend on it.",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="table for people, json (one object, nothing else on stdout) or csv for scripts.",
        ),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Folder for the result frames (CSV + Parquet), scenario.yaml and provenance.json.",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a scenario key, e.g. --set counters.staffed=7 --set segments.vip.share=0.15 "
            "(lists by index or name; values read as YAML). Repeatable.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def rich_console() -> Any:
    from rich.console import Console

    # a person may pipe the table into a file or `less`: keep it wide enough not to wrap columns
    width = None if sys.stdout.isatty() else 110
    return Console(width=width, highlight=False, soft_wrap=False)


def check_out_dir(out_dir: Path | None) -> None:
    """Fail before a long simulation, not after it, when ``--out`` cannot be written."""
    if out_dir is None:
        return
    # nothing is created yet: an interrupted or failed run leaves no empty folder behind
    existing = out_dir.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"--out {out_dir}: {existing} exists and is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {out_dir}: cannot write in {existing}")


def command_line() -> list[str]:
    return ["storeq", *sys.argv[1:]]


def provenance(result: RunResult, source: str, sets: Sequence[str]) -> dict[str, Any]:
    prov = dict(getattr(result, "provenance", None) or {})
    prov.setdefault("scenario_hash", result.scenario.digest())
    prov.setdefault("seed", result.seed)
    prov.setdefault("replications", result.replications)
    prov.update({"source": source, "overrides": list(sets), "command": command_line()})
    return prov


def kpi_frame(result: RunResult) -> pd.DataFrame:
    """Day KPIs as a tidy frame: kpi, unit, mean, ci_low, ci_high."""
    k = result.kpis
    df = k.reset_index()
    df = df.rename(columns={df.columns[0]: "kpi"})
    df = df[["kpi", "mean", "ci_low", "ci_high"]]
    order = ordered_kpis(list(df["kpi"]))
    df = df.set_index("kpi").loc[order].reset_index()
    df.insert(1, "unit", [kpi_unit(x) for x in df["kpi"]])
    return df


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def title(console: Any, text: str) -> None:
    console.print()
    console.print(f"[bold]{text}[/bold]")
