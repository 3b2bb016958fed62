"""The ``storeq`` command line: arguments → Scenario → pure call → output.

Commands (DESIGN.md, "The CLI contract")::

    storeq run SCENARIO [--replications N] [--seed S] [--workers N] [--format table|json|csv]
                        [--out DIR] [--set key.path=value ...]
    storeq compare SCENARIO... [--set key.path=value ...] [same options]
    storeq check SCENARIO... [--set ...]        # validate files without simulating
    storeq app [--port N]                       # the Streamlit what-if app on localhost
    storeq optimize / calibrate / synth-log     # when those modules are installed

Output formats:

- ``table`` (default): readable tables for a person — day KPIs with mean and 95% CI, a by-segment table
  and a per-interval table.
- ``json``: exactly one JSON object on stdout and nothing else; errors go to stderr.
- ``csv``: tidy CSV on stdout. ``run`` prints the day KPIs (``kpi, unit, mean, ci_low, ci_high``);
  ``compare`` prints every scenario's day KPIs with the paired difference against the first
  (``scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high``).

``--out DIR`` writes the result frames as CSV and Parquet (atomically: an interrupted run leaves no
half-written file), plus the scenario actually run (``scenario.yaml``, with ``--set`` applied) and
``provenance.json`` (scenario hash, seed, replications, version, runtime, command line), so any
figure can be reproduced.

Exit codes: 0 done, 1 failure, 2 bad input (one readable message on stderr), 130 interrupted.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from storeq.cli.common import InputError, emit_json, handle_errors, progress, write_frames, write_text

if TYPE_CHECKING:
    from simulation import CompareResult, RunResult

FORMATS = ("table", "json", "csv")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("storeq")
    except Exception:  # running from a source tree that was never installed
        return "unknown"


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


def _unit(kpi: str) -> str:
    unit = KPI_INFO.get(kpi, (kpi, "", "num"))[1]
    return "share" if unit == "%" else ("min after opening" if unit == "clock" else unit)


def _label(kpi: str) -> str:
    label, unit, _ = KPI_INFO.get(kpi, (kpi, "", "num"))
    return f"{label} ({unit})" if unit and unit not in ("clock", "money") else label


def _ordered(kpis: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(kpis))
    return [k for k in HEADLINE if k in present] + [k for k in present if k not in HEADLINE]


def _missing(v: Any) -> bool:
    try:
        return v is None or not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


_NEG_ZERO = re.compile(r"^-(0(?:\.0*)?)(%?)$")


def fmt_value(kpi: str, v: Any, open_min: int = 0) -> str:
    """A KPI value for a person: percentages for shares, a clock for the last departure."""
    if _missing(v):
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
    if _missing(d):
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
    if _missing(lo) or _missing(hi):
        return "—"
    if diff:
        return f"{fmt_diff(kpi, lo, unit=False)} … {fmt_diff(kpi, hi, unit=False)}"
    return f"{fmt_value(kpi, lo, open_min)} … {fmt_value(kpi, hi, open_min)}"


# ---------------------------------------------------------------------------------------------
# options shared by run and compare
# ---------------------------------------------------------------------------------------------


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
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


def _console() -> Any:
    from rich.console import Console

    # a person may pipe the table into a file or `less`: keep it wide enough not to wrap columns
    width = None if sys.stdout.isatty() else 110
    return Console(width=width, highlight=False, soft_wrap=False)


def _check_out_dir(out_dir: Path | None) -> None:
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


def _command_line() -> list[str]:
    return ["storeq", *sys.argv[1:]]


def _provenance(result: RunResult, source: str, sets: Sequence[str]) -> dict[str, Any]:
    prov = dict(getattr(result, "provenance", None) or {})
    prov.setdefault("scenario_hash", result.scenario.digest())
    prov.setdefault("seed", result.seed)
    prov.setdefault("replications", result.replications)
    prov.update({"source": source, "overrides": list(sets), "command": _command_line()})
    return prov


def _kpi_frame(result: RunResult) -> pd.DataFrame:
    """Day KPIs as a tidy frame: kpi, unit, mean, ci_low, ci_high."""
    k = result.kpis
    df = k.reset_index()
    df = df.rename(columns={df.columns[0]: "kpi"})
    df = df[["kpi", "mean", "ci_low", "ci_high"]]
    order = _ordered(list(df["kpi"]))
    df = df.set_index("kpi").loc[order].reset_index()
    df.insert(1, "unit", [_unit(x) for x in df["kpi"]])
    return df


# ---------------------------------------------------------------------------------------------
# optional commands from other modules (they import storeq.cli.common, never storeq.cli.commands: no import cycle)
# ---------------------------------------------------------------------------------------------


# command name → (module, attribute). Loaded on first use, so `storeq run` does not pay for importing
# OR-Tools or the calibration stack, and a broken optional module cannot take `storeq run` down.
OPTIONAL_COMMANDS: dict[str, tuple[str, str]] = {
    "optimize": ("storeq.cli.optimize", "optimize"),
    "calibrate": ("storeq.cli.calibrate", "calibrate"),
    "synth-log": ("storeq.cli.calibrate", "synth_log"),
}


def _module_exists(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _unavailable(name: str, module: str, exc: BaseException) -> click.Command:
    """A stand-in that says why a command is missing instead of hiding it."""

    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def stub() -> None:
        click.echo(
            f"storeq: failed: `storeq {name}` is unavailable: {module} did not load ({type(exc).__name__}: {exc})",
            err=True,
        )
        sys.exit(1)

    stub.help = f"(unavailable: {module} failed to load)"
    return stub


def _load_optional(name: str) -> click.Command | None:
    import importlib

    module, attr = OPTIONAL_COMMANDS[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None  # that part of storeq is not installed: the command does not exist
        return _unavailable(name, module, exc)
    except Exception as exc:  # report it when the command is used, not on every storeq call
        return _unavailable(name, module, exc)
    cmd = getattr(mod, attr, None)
    return cmd if isinstance(cmd, click.Command) else None


class StoreqGroup(click.Group):
    """The ``storeq`` group: built-in commands plus the optional ones, each imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names |= {n for n, (m, _) in OPTIONAL_COMMANDS.items() if _module_exists(m)}
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in OPTIONAL_COMMANDS:
            cmd = _load_optional(cmd_name)
            if cmd is not None:
                self.add_command(cmd, cmd_name)
        return cmd


# ---------------------------------------------------------------------------------------------
# the group
# ---------------------------------------------------------------------------------------------


@click.group(cls=StoreqGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(_version(), "--version", "-V", prog_name="storeq")
def main() -> None:
    """storeq: plan walk-in service stores (telecom halls, bank branches, checkouts).

    Simulate a store day from a scenario file, compare what-ifs with confidence intervals, and
    (with the optimizer) find the staffing that meets a service target.

    \b
    Examples:
      storeq run scenarios/telecom_month_end.yaml
      storeq run scenarios/telecom_month_end.yaml --set counters.staffed=8 --format json
      storeq compare scenarios/telecom_month_end.yaml --set counters.staffed=8
      storeq compare scenarios/telecom_month_end.yaml scenarios/telecom_mid_month.yaml
      storeq check my_store.yaml
    """


# ---------------------------------------------------------------------------------------------
# storeq run
# ---------------------------------------------------------------------------------------------


@main.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_run_options
@handle_errors
def run_cmd(
    scenario: Path,
    replications: int | None,
    seed: int | None,
    workers: int,
    fmt: str,
    out_dir: Path | None,
    sets: tuple[str, ...],
) -> None:
    """Simulate SCENARIO's store day and report KPIs with 95% confidence intervals."""
    from simulation import load_scenario, run

    scen = load_scenario(scenario, list(sets))
    _check_out_dir(out_dir)
    reps = replications or scen.simulation.replications
    with progress(reps, f"Simulating {reps} days", enabled=fmt != "json") as callback:
        result = run(
            scen,
            replications=replications,
            seed=seed,
            workers=workers,
            keep_customers=out_dir is not None,
            progress=callback,
        )
    if out_dir is not None:
        written = _write_run(out_dir, result, str(scenario), sets)
        if fmt != "json":
            click.echo(f"storeq: wrote {len(written)} files to {out_dir}", err=True)
    if fmt == "json":
        emit_json(result.to_json())
    elif fmt == "csv":
        click.echo(_kpi_frame(result).to_csv(index=False), nl=False)
    else:
        _print_run(result, str(scenario))


def _write_run(out_dir: Path, result: RunResult, source: str, sets: Sequence[str]) -> list[Path]:
    from simulation import scenario_to_yaml

    frames: dict[str, pd.DataFrame] = {"kpis": _kpi_frame(result)}
    for name in ("by_segment", "intervals", "days", "interval_reps", "segment_reps", "customers"):
        df = getattr(result, name, None)
        if isinstance(df, pd.DataFrame):
            frames[name] = df
    written = write_frames(out_dir, frames)
    write_text(out_dir / "scenario.yaml", scenario_to_yaml(result.scenario))
    write_text(out_dir / "provenance.json", json.dumps(_provenance(result, source, sets), indent=2, default=str) + "\n")
    return [*written, out_dir / "scenario.yaml", out_dir / "provenance.json"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _short_headers(target: float) -> dict[str, str]:
    """Narrow column headers for the segment and interval tables (the day table spells them out)."""
    return {
        "arrivals": "arrivals",
        "mean_wait_min": "wait (min)",
        "service_level": f"within {target:g} min",
        "abandonment_rate": "abandoned",
        "served": "served",
        "mean_queue_len": "queue",
        "utilization": "busy",
        "staffed": "staffed",
    }


def _title(console: Any, text: str) -> None:
    console.print()
    console.print(f"[bold]{text}[/bold]")


def _print_run(result: RunResult, source: str) -> None:
    from rich.table import Table

    console = _console()
    scen = result.scenario
    open_min = scen.store.open_min
    prov = getattr(result, "provenance", None) or {}
    runtime = prov.get("runtime_s")
    console.print(f"[bold]{scen.name}[/bold]  ({source})")
    console.print(
        f"{scen.store.open}-{scen.store.close}, {scen.n_intervals} × {scen.store.interval_min}-minute intervals; "
        f"{_plural(result.replications, 'replication')}, seed {result.seed}"
        + (f", {runtime:.1f} s" if isinstance(runtime, int | float) else "")
        + f"; scenario {prov.get('scenario_hash', scen.digest())}"
    )

    _title(console, "Day KPIs: mean and 95% confidence interval over replications")
    t = Table()
    t.add_column("KPI")
    t.add_column("mean", justify="right")
    t.add_column("95% CI", justify="right")
    for row in _kpi_frame(result).to_dict("records"):
        k = str(row["kpi"])
        t.add_row(_label(k), fmt_value(k, row["mean"], open_min), fmt_ci(k, row["ci_low"], row["ci_high"], open_min))
    console.print(t)
    console.print(
        f"Service level: share served within {scen.store.target_wait_min:g} minutes, of served + abandoned. "
        "Waits are at the counters."
        + (" One replication gives no confidence interval: use -n 2 or more." if result.replications < 2 else "")
    )
    headers = _short_headers(scen.store.target_wait_min)

    seg = getattr(result, "by_segment", None)
    if isinstance(seg, pd.DataFrame) and not seg.empty and len(scen.segments) > 1:
        wide = seg.pivot_table(index="segment", columns="kpi", values="mean", aggfunc="first")
        cols = [k for k in SEGMENT_KPIS if k in wide.columns]
        _title(console, "By segment (means per day)")
        t = Table()
        t.add_column("segment")
        for k in cols:
            t.add_column(headers.get(k, k), justify="right")
        for name in [s.name for s in scen.segments if s.name in wide.index]:
            t.add_row(name, *(fmt_value(k, wide.loc[name, k]) for k in cols))
        console.print(t)

    iv = getattr(result, "intervals", None)
    if isinstance(iv, pd.DataFrame) and not iv.empty:
        _title(console, "Per interval (means; customers counted in the interval they arrived)")
        console.print(_interval_table(iv, scen, headers))


def _interval_table(iv: pd.DataFrame, scen: Any, headers: dict[str, str]) -> Any:
    from rich.table import Table

    wide = iv.pivot_table(index=["interval", "start"], columns="kpi", values="mean", aggfunc="first").reset_index()
    wide = wide.sort_values("interval")
    wanted = (
        "arrivals",
        "mean_wait_min",
        "service_level",
        "abandonment_rate",
        "mean_queue_len",
        "utilization",
        "staffed",
    )
    cols = [k for k in wanted if k in wide.columns]
    t = Table()
    t.add_column("start")
    for k in cols:
        t.add_column(headers.get(k, k), justify="right")
    target = scen.store.target_wait_min
    for row in wide.to_dict("records"):
        cells = []
        for k in cols:
            v = row[k]
            text = f"{float(v):g}" if k == "staffed" and not _missing(v) else fmt_value(k, v)
            if k == "mean_wait_min" and not _missing(v) and float(v) > target:
                text = f"[bold]{text}[/bold]"  # over the service target: easy to spot, and survives no-colour
            cells.append(text)
        t.add_row(str(row["start"]), *cells)
    return t


# ---------------------------------------------------------------------------------------------
# storeq compare
# ---------------------------------------------------------------------------------------------


def _slugs(labels: Sequence[str]) -> list[str]:
    """File-name-safe, unique stems for the labels (``hall.yaml`` → ``hall``)."""
    out: list[str] = []
    for label in labels:
        stem = re.sub(r"\.ya?ml$", "", label)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_.") or "scenario"
        out.append(slug if slug not in out else f"{slug}_{len(out) + 1}")
    return out


def _labels(names: Sequence[str], files: Sequence[str]) -> list[str]:
    """Scenario names; file names where names repeat; a position number where even those repeat."""
    labels = list(names)
    if len(set(labels)) < len(labels):
        labels = [n if names.count(n) == 1 else Path(f).name for n, f in zip(names, files, strict=True)]
    if len(set(labels)) < len(labels):
        labels = [lab if labels.count(lab) == 1 else f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels


@main.command("compare")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_run_options
@handle_errors
def compare_cmd(
    scenarios: tuple[Path, ...],
    replications: int | None,
    seed: int | None,
    workers: int,
    fmt: str,
    out_dir: Path | None,
    sets: tuple[str, ...],
) -> None:
    """Compare scenarios on common random numbers: paired differences with 95% CIs vs the first.

    \b
    With one SCENARIO and --set, compares the file as it is against the file with the overrides:
      storeq compare hall.yaml --set counters.staffed=8
    With several SCENARIOs, --set applies to all of them, and each is compared with the first.
    """
    from simulation import compare, load_scenario, with_updates

    if len(scenarios) == 1:
        if not sets:
            raise InputError(
                "compare needs two or more scenario files, or one file and --set KEY=VALUE "
                "(e.g. storeq compare hall.yaml --set counters.staffed=8)"
            )
        base = load_scenario(scenarios[0])
        alt = load_scenario(scenarios[0], list(sets))
        scens = [base, alt]
        sources = [str(scenarios[0]), f"{scenarios[0]} --set {' --set '.join(sets)}"]
        labels = [base.name, f"{base.name} + {', '.join(sets)}"]
    else:
        scens = [load_scenario(p, list(sets)) for p in scenarios]
        sources = [str(p) for p in scenarios]
        labels = _labels([s.name for s in scens], sources)
    # the engine labels results by scenario name: make the names the labels so they are unique
    scens = [
        s if s.name == lab else with_updates(s, {"name": lab}, source=src)
        for s, lab, src in zip(scens, labels, sources, strict=True)
    ]

    _check_out_dir(out_dir)
    reps = replications or scens[0].simulation.replications
    with progress(
        reps * len(scens), f"Simulating {len(scens)} scenarios × {reps} days", enabled=fmt != "json"
    ) as callback:
        cmp = compare(scens, replications=replications, seed=seed, workers=workers, progress=callback)

    table = _compare_frame(cmp, labels)
    if out_dir is not None:
        written = _write_compare(out_dir, cmp, labels, sources, table)
        if fmt != "json":
            click.echo(f"storeq: wrote {len(written)} files to {out_dir}", err=True)
    if fmt == "json":
        emit_json(_compare_json(cmp, labels, sources))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        _print_compare(cmp, labels, sources, table)


def _relabel(df: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """A differences frame with its ``scenario`` column in our labels.

    Scenarios are renamed to their labels before the run, so the engine's names are the labels; an
    integer column is read as a position in the scenario list.
    """
    if df.empty or set(df["scenario"]) <= set(labels):
        return df
    values = list(dict.fromkeys(df["scenario"]))
    if all(isinstance(v, int) and 0 <= v < len(labels) for v in values):
        return df.assign(scenario=[labels[int(v)] for v in df["scenario"]])
    raise RuntimeError(f"compare returned differences for unknown scenarios {values}; expected {list(labels[1:])}")


def _diffs_by_label(cmp: CompareResult, labels: Sequence[str]) -> pd.DataFrame:
    return _relabel(cmp.differences, labels)


def _compare_frame(cmp: CompareResult, labels: Sequence[str]) -> pd.DataFrame:
    """Tidy: scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high."""
    rows = []
    diffs = _diffs_by_label(cmp, labels)
    for label, res in zip(labels, cmp.results, strict=True):
        k = _kpi_frame(res)
        k.insert(0, "scenario", label)
        rows.append(k)
    out = pd.concat(rows, ignore_index=True)
    d = diffs[["scenario", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high"]] if not diffs.empty else None
    if d is not None:
        out = out.merge(d, on=["scenario", "kpi"], how="left")
    else:
        out = out.assign(diff_mean=float("nan"), diff_ci_low=float("nan"), diff_ci_high=float("nan"))
    return out


def _compare_json(cmp: CompareResult, labels: Sequence[str], sources: Sequence[str]) -> dict[str, Any]:
    diffs = _diffs_by_label(cmp, labels)
    idiffs = getattr(cmp, "interval_differences", None)
    out: dict[str, Any] = {
        "baseline": labels[0],
        "replications": cmp.results[0].replications,
        "seed": cmp.results[0].seed,
        "scenarios": [
            {"label": lab, "source": src, "scenario_hash": res.scenario.digest(), "kpis": res.to_json()["kpis"]}
            for lab, src, res in zip(labels, sources, cmp.results, strict=True)
        ],
        "differences": {},
        "interval_differences": {},
    }
    for lab in labels[1:]:
        part = diffs[diffs["scenario"] == lab]
        out["differences"][lab] = {
            r.kpi: {"diff_mean": r.diff_mean, "ci_low": r.diff_ci_low, "ci_high": r.diff_ci_high}
            for r in part.itertuples(index=False)
        }
    if isinstance(idiffs, pd.DataFrame) and not idiffs.empty:
        idf = _relabel(idiffs, labels)
        for lab in labels[1:]:
            part = idf[idf["scenario"] == lab]
            rows = []
            by_interval: dict[int, dict[str, Any]] = {}
            for r in part.sort_values("interval").to_dict("records"):
                row = by_interval.setdefault(int(r["interval"]), {"interval": int(r["interval"]), "start": r["start"]})
                row[str(r["kpi"])] = {
                    "diff_mean": r["diff_mean"],
                    "ci_low": r["diff_ci_low"],
                    "ci_high": r["diff_ci_high"],
                }
            rows = list(by_interval.values())
            out["interval_differences"][lab] = rows
    return out


def _write_compare(
    out_dir: Path, cmp: CompareResult, labels: Sequence[str], sources: Sequence[str], table: pd.DataFrame
) -> list[Path]:
    from simulation import scenario_to_yaml

    def stacked(attr: str) -> pd.DataFrame | None:
        parts = []
        for lab, res in zip(labels, cmp.results, strict=True):
            df = getattr(res, attr, None)
            if isinstance(df, pd.DataFrame):
                parts.append(df.assign(scenario=lab)[["scenario", *df.columns]])
        return pd.concat(parts, ignore_index=True) if parts else None

    frames: dict[str, pd.DataFrame] = {"kpis": table, "differences": _diffs_by_label(cmp, labels)}
    idiffs = getattr(cmp, "interval_differences", None)
    if isinstance(idiffs, pd.DataFrame):
        frames["interval_differences"] = _relabel(idiffs, labels)
    for attr in ("by_segment", "intervals", "days", "interval_reps"):
        df = stacked(attr)
        if df is not None:
            frames[attr] = df
    written = write_frames(out_dir, frames)
    for slug, res in zip(_slugs(labels), cmp.results, strict=True):
        path = out_dir / "scenarios" / f"{slug}.yaml"
        write_text(path, scenario_to_yaml(res.scenario))
        written.append(path)
    prov = {
        "baseline": labels[0],
        "scenarios": [
            _provenance(res, src, []) | {"label": lab}
            for lab, src, res in zip(labels, sources, cmp.results, strict=True)
        ],
        "command": _command_line(),
    }
    write_text(out_dir / "provenance.json", json.dumps(prov, indent=2, default=str) + "\n")
    return [*written, out_dir / "provenance.json"]


def _print_compare(cmp: CompareResult, labels: Sequence[str], sources: Sequence[str], table: pd.DataFrame) -> None:
    from rich.table import Table

    console = _console()
    base = cmp.results[0]
    open_min = base.scenario.store.open_min
    console.print(
        f"[bold]Compare[/bold] on common random numbers: {_plural(base.replications, 'replication')}, seed {base.seed}; "
        "paired differences (Δ = scenario - baseline)"
    )
    heads = ["baseline", *(f"#{i + 1}" for i in range(1, len(labels)))]
    for head, lab, src in zip(heads, labels, sources, strict=True):
        console.print(f"  {head:>8}: {lab}")
        if src != lab:
            console.print(f"  {'':>8}  from {src}")

    kpis = [k for k in COMPARE_KPIS if k in set(table["kpi"])]
    _title(console, "Day KPIs: means, and differences vs the baseline")
    t = Table()
    t.add_column("KPI")
    t.add_column("baseline", justify="right")
    for head in heads[1:]:
        t.add_column(head, justify="right")
        t.add_column("Δ", justify="right")
        t.add_column("95% CI of Δ", justify="right")
    by = {(r["scenario"], r["kpi"]): r for r in table.to_dict("records")}
    for k in kpis:
        cells = [fmt_value(k, by[(labels[0], k)]["mean"], open_min)]
        for lab in labels[1:]:
            row = by[(lab, k)]
            sig = not _missing(row["diff_ci_low"]) and (row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0)
            delta = fmt_diff(k, row["diff_mean"])
            cells += [
                fmt_value(k, row["mean"], open_min),
                f"[bold]{delta}[/bold]" if sig else delta,
                fmt_ci(k, row["diff_ci_low"], row["diff_ci_high"], diff=True),
            ]
        t.add_row(_label(k), *cells)
    console.print(t)
    console.print("Δ in bold: its 95% CI excludes zero. pp = percentage points.")

    idiffs = getattr(cmp, "interval_differences", None)
    if isinstance(idiffs, pd.DataFrame) and not idiffs.empty and len(labels) == 2:
        part = idiffs[idiffs["kpi"] == "mean_wait_min"].sort_values("interval")
        if not part.empty:
            waits = [
                {int(k): v for k, v in zip(iv["interval"], iv["mean"], strict=True)}
                for iv in (res.intervals[res.intervals["kpi"] == "mean_wait_min"] for res in cmp.results[:2])
            ]
            _title(console, "Mean wait per interval (min): baseline, #2 and the difference")
            t = Table()
            for name in ("start", "baseline", "#2", "Δ", "95% CI of Δ"):
                t.add_column(name, justify="left" if name == "start" else "right")
            for r in part.to_dict("records"):
                t.add_row(
                    str(r["start"]),
                    fmt_value("mean_wait_min", waits[0].get(int(r["interval"]))),
                    fmt_value("mean_wait_min", waits[1].get(int(r["interval"]))),
                    fmt_diff("mean_wait_min", r["diff_mean"]),
                    fmt_ci("mean_wait_min", r["diff_ci_low"], r["diff_ci_high"], diff=True),
                )
            console.print(t)


# ---------------------------------------------------------------------------------------------
# storeq check
# ---------------------------------------------------------------------------------------------


@main.command("check")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario key (as in run).")
@handle_errors
def check_cmd(scenarios: tuple[Path, ...], sets: tuple[str, ...]) -> None:
    """Validate scenario files without simulating: a one-line summary each, or every problem.

    Exit code 0 when every file is valid, 2 otherwise. Handy after editing a file by hand.
    """
    from simulation import ScenarioError, load_scenario

    failed: list[ScenarioError] = []
    for path in scenarios:
        try:
            scen = load_scenario(path, list(sets))
        except ScenarioError as exc:
            failed.append(exc)
            continue
        click.echo(f"{path}: OK: {_summary(scen)}")
    if failed:
        raise ScenarioErrors(failed)


class ScenarioErrors(InputError):
    """Several files' problems, reported together."""

    def __init__(self, errors: Sequence[Exception]):
        super().__init__("\n".join(str(e) for e in errors))


def _summary(scen: Any) -> str:
    """What a store manager checks first: hours, grid, demand, staffing."""
    interval = scen.store.interval_min
    demand = float(scen.arrival_rates_per_hour().sum()) * interval / 60
    kiosk_able = sum(t.share for t in scen.transactions if t.kiosk_time is not None)
    walk_ins = demand * (1 - scen.demand.online_diversion * kiosk_able)
    staffed = scen.staffed_schedule()
    staff_hours = float(staffed.sum()) * interval / 60
    counters = f"{staffed.min()}" if staffed.min() == staffed.max() else f"{staffed.min()}-{staffed.max()}"
    return (
        f"{scen.name}: {scen.store.open}-{scen.store.close} in {scen.n_intervals} × {interval} min"
        + (f" on {scen.store.date.isoformat()} (demand × {scen.day_factor():.3g})" if scen.store.date else "")
        + f"; about {walk_ins:,.0f} walk-ins a day; {counters} counters staffed ({staff_hours:g} staff-hours)"
        + f"; {_plural(len(scen.segments), 'segment')}, {_plural(len(scen.transactions), 'transaction')}"
        + f", {_plural(scen.kiosks.count, 'kiosk')}"
        + (
            "; note: weekday/day-of-month factors are set but store.date is not, so they do not apply"
            if scen.store.date is None and (scen.demand.weekday_factors or scen.demand.day_of_month_factors)
            else ""
        )
    )


# ---------------------------------------------------------------------------------------------
# storeq app
# ---------------------------------------------------------------------------------------------


def _app_path() -> Path | None:
    here = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"
    return here if here.exists() else None


@main.command("app")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port on localhost.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window (headless).")
@handle_errors
def app_cmd(port: int, no_browser: bool) -> None:
    """Open the Streamlit what-if app on http://localhost:PORT."""
    path = _app_path()
    if path is None:
        raise InputError("the storeq app (storeq/app/streamlit_app.py) is not installed")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(path),
        "--server.address",
        "localhost",
        "--server.port",
        str(port),
        "--server.headless",
        "true" if no_browser else "false",
        "--browser.gatherUsageStats",
        "false",
    ]
    click.echo(f"storeq: starting the app on http://localhost:{port} (Ctrl+C to stop)", err=True)
    sys.exit(subprocess.call(cmd))


if __name__ == "__main__":
    main()
