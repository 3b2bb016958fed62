"""``storeq run SCENARIO``: simulate a store day and report KPIs with 95% confidence intervals.

Arguments → :func:`simulation.load_scenario` (with ``--set``) → :func:`simulation.run` → a table, one
JSON object or tidy CSV (see :mod:`storeq.cli.report` for the formats), and with ``--out`` the result
frames, the scenario run and its provenance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from storeq.cli.common import (
    emit_json,
    executor_options,
    handle_errors,
    open_executor,
    plain,
    progress,
    results_option,
    write_frames,
    write_text,
)
from storeq.cli.report import (
    cell,
    check_out_dir,
    command_line,
    kpi_frame,
    plural,
    provenance,
    rich_console,
    run_options,
    title,
)
from storeq.outputs import check_customer_records, check_target, output_set
from storeq.present import day_rows, missing

if TYPE_CHECKING:
    from simulation import RunResult


@click.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@run_options
@executor_options
@results_option
@handle_errors
def run_cmd(
    scenario: Path,
    replications: int | None,
    seed: int | None,
    workers: int,
    fmt: str,
    out_dir: Path | None,
    sets: tuple[str, ...],
    executor: str,
    scheduler: str | None,
    results_db: Path | None,
) -> None:
    """Simulate SCENARIO's store day and report KPIs with 95% confidence intervals."""
    from simulation import load_scenario, run

    scen = load_scenario(scenario, list(sets))
    check_out_dir(out_dir)
    check_target(out_dir, [scenario])  # never replace a folder holding the input
    reps = replications or scen.simulation.replications
    if out_dir is not None:
        check_customer_records(scen, reps)  # --out keeps every customer in memory until written
    with (
        open_executor(executor, scheduler, workers) as ex,
        progress(reps, f"Simulating {reps} days", enabled=fmt != "json") as callback,
    ):
        result = run(
            scen,
            replications=replications,
            seed=seed,
            workers=workers,
            keep_customers=out_dir is not None,
            progress=callback,
            executor=ex,
        )
    if results_db is not None:  # the store keeps the JSON this run prints (storeq results show)
        from storeq.results_store import record_command

        rid = record_command(results_db, "run", {result.scenario.name: result}, result.to_json(), ex.name, command_line())
        if rid is not None and result.customers is not None:  # kept because of --out: the store keeps them too
            from storeq.results_store import record_customers

            record_customers(results_db, rid, result.customers)
    if out_dir is not None:
        with output_set(out_dir, [scenario]) as stage:  # one atomic set: the old one or this one, never a mix
            written = _write_run(stage, result, str(scenario), sets)
        if fmt != "json":
            click.echo(f"storeq: wrote {len(written)} files to {out_dir}", err=True)
    if fmt == "json":
        emit_json(result.to_json())
    elif fmt == "csv":
        click.echo(kpi_frame(result).to_csv(index=False), nl=False)
    else:
        _print_run(result, str(scenario))


def _write_run(out_dir: Path, result: RunResult, source: str, sets: Sequence[str]) -> list[Path]:
    from simulation import scenario_to_yaml

    frames: dict[str, pd.DataFrame] = {
        "kpis": kpi_frame(result),
        "by_segment": result.by_segment,
        "by_group": result.by_group,
        "intervals": result.intervals,
        "group_intervals": result.group_intervals,
        "days": result.days,
        "interval_reps": result.interval_reps,
        "segment_reps": result.segment_reps,
        "group_reps": result.group_reps,
    }
    if result.customers is not None:  # kept only when asked for (run keeps them with --out)
        frames["customers"] = result.customers
    written = write_frames(out_dir, frames)
    write_text(out_dir / "scenario.yaml", scenario_to_yaml(result.scenario))
    write_text(out_dir / "provenance.json", json.dumps(provenance(result, source, sets), indent=2, default=str) + "\n")
    return [*written, out_dir / "scenario.yaml", out_dir / "provenance.json"]


# The narrow by-segment and per-interval tables: a chosen few columns, in reading order (the day table
# above them shows every KPI of the catalogue).
SEGMENT_COLUMNS = ("arrivals", "mean_wait_min", "service_level", "abandonment_rate", "served")
INTERVAL_COLUMNS = (
    "arrivals",
    "mean_wait_min",
    "service_level",
    "abandonment_rate",
    "mean_queue_len",
    "utilization",
    "staffed",
)


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


def _print_run(result: RunResult, source: str) -> None:
    from rich.table import Table

    console = rich_console()
    scen = result.scenario
    open_min = scen.store.open_min
    prov = result.provenance
    console.print(f"[bold]{plain(scen.name)}[/bold]  ({plain(source)})")
    console.print(
        f"{scen.store.open}-{scen.store.close}, {scen.n_intervals} × {scen.store.interval_min}-minute intervals; "
        f"{plural(result.replications, 'replication')}, seed {result.seed}"
        + f", {prov['runtime_s']:.1f} s; scenario {prov['scenario_hash']}"
    )

    title(console, "Day KPIs: mean and 95% confidence interval over replications")
    t = Table()
    t.add_column("KPI")
    t.add_column("mean", justify="right")
    t.add_column("95% CI", justify="right")
    for row in day_rows(result.kpis, open_min, result.currency, style="table"):
        t.add_row(row["label"], row["value"], row["ci"])
    console.print(t)
    console.print(
        f"Service level: share served within {scen.store.target_wait_min:g} minutes, of served + abandoned. "
        "Waits are at the counters."
        + (" One replication gives no confidence interval: use -n 2 or more." if result.replications < 2 else "")
    )
    headers = _short_headers(scen.store.target_wait_min)

    seg = result.by_segment
    if not seg.empty and len(scen.segments) > 1:
        wide = seg.pivot_table(index="segment", columns="kpi", values="mean", aggfunc="first")
        cols = [k for k in SEGMENT_COLUMNS if k in wide.columns]
        title(console, "By segment (means per day)")
        t = Table()
        t.add_column("segment")
        for k in cols:
            t.add_column(headers.get(k, k), justify="right")
        for name in [s.name for s in scen.segments if s.name in wide.index]:
            t.add_row(plain(name), *(cell(k, wide.loc[name, k]) for k in cols))
        console.print(t)

    iv = result.intervals
    if not iv.empty:
        title(console, "Per interval (means; customers counted in the interval they arrived)")
        console.print(_interval_table(iv, scen, headers))


def _interval_table(iv: pd.DataFrame, scen: Any, headers: dict[str, str]) -> Any:
    from rich.table import Table

    wide = iv.pivot_table(index=["interval", "start"], columns="kpi", values="mean", aggfunc="first").reset_index()
    wide = wide.sort_values("interval")
    cols = [k for k in INTERVAL_COLUMNS if k in wide.columns]
    t = Table()
    t.add_column("start")
    for k in cols:
        t.add_column(headers.get(k, k), justify="right")
    target = scen.store.target_wait_min
    for row in wide.to_dict("records"):
        cells = []
        for k in cols:
            v = row[k]
            text = f"{float(v):g}" if k == "staffed" and not missing(v) else cell(k, v)
            if k == "mean_wait_min" and not missing(v) and float(v) > target:
                text = f"[bold]{text}[/bold]"  # over the service target: easy to spot, and survives no-colour
            cells.append(text)
        t.add_row(str(row["start"]), *cells)
    return t
