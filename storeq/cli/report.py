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

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from simulation.limits import limit
from storeq import kpis as catalogue
from storeq.cli.common import InputError
from storeq.present import csv_unit, fmt_delta, fmt_delta_ci, fmt_value, kpi_unit, report_order

if TYPE_CHECKING:
    from simulation import RunResult

FORMATS = ("table", "json", "csv")


def _default_workers() -> int:
    # two worker processes is the sweet spot on a laptop and never oversubscribes a small CI box
    return max(1, min(2, os.cpu_count() or 1))


# ---------------------------------------------------------------------------------------------
# KPI cells for people: names, units and formats from the catalogue (storeq.kpis, storeq.present)
# ---------------------------------------------------------------------------------------------


def compared_kpis(kpis: Sequence[str]) -> list[str]:
    """The KPIs a comparison table shows (the catalogue's ``compare`` ones), of those present."""
    have = set(kpis)
    return [k for k in catalogue.compared() if k in have]


def cell(kpi: str, value: Any, open_min: int = 0) -> str:
    """A KPI value in a table cell (its header names the unit)."""
    return fmt_value(value, kpi_unit(kpi), open_min, style="table")


def delta_cell(kpi: str, value: Any) -> str:
    """A paired difference in a table cell: percentage points for shares, minutes for clock figures."""
    return fmt_delta(value, kpi_unit(kpi), style="table")


def delta_ci_cell(kpi: str, low: Any, high: Any) -> str:
    """A paired difference's 95% CI in a table cell."""
    return fmt_delta_ci(low, high, kpi_unit(kpi), style="table")


# ---------------------------------------------------------------------------------------------
# options shared by run and compare
# ---------------------------------------------------------------------------------------------


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--replications",
            "-n",
            type=click.IntRange(min=1, max=limit("replications")),  # simulation/limits.py
            default=None,
            help="Simulated days (default: the scenario's simulation.replications).",
        ),
        click.option(
            "--seed",
            type=click.IntRange(min=0, max=limit("seed")),
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
    """The storeq command line being run, as typed (from the group's parsed arguments; sys.argv only
    outside a click context)."""
    ctx = click.get_current_context(silent=True)
    argv = ctx.find_root().meta.get("storeq.argv") if ctx is not None else None
    return ["storeq", *(argv if argv is not None else sys.argv[1:])]


def provenance(result: RunResult, source: str, sets: Sequence[str]) -> dict[str, Any]:
    """The run's provenance (scenario hash, seed, replications, version, runtime) and how it was asked for."""
    return {**result.provenance, "source": source, "overrides": list(sets), "command": command_line()}


def kpi_frame(result: RunResult) -> pd.DataFrame:
    """Day KPIs as a tidy frame: kpi, unit, mean, ci_low, ci_high."""
    k = result.kpis
    df = k.reset_index()
    df = df.rename(columns={df.columns[0]: "kpi"})
    df = df[["kpi", "mean", "ci_low", "ci_high"]]
    order = report_order(df["kpi"])
    df = df.set_index("kpi").loc[order].reset_index()
    df.insert(1, "unit", [csv_unit(x) for x in df["kpi"]])
    return df


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def title(console: Any, text: str) -> None:
    console.print()
    console.print(f"[bold]{text}[/bold]")
