"""``storeq sweep SCENARIO --grid key=v1,v2,... [--grid ...]``: a full factorial of what-ifs.

Every combination of the grids' values is one variant of SCENARIO (``--set`` applies to all); all run
on common random numbers (same seed, same replications), and each is reported with its day KPIs,
their 95% CIs and the paired difference to the first variant (the first value of every grid).

Outputs (all streamed: a sweep of thousands of variants holds one at a time):

- ``table``: one row per variant, the grid values and the headline KPIs with Δ to the first;
- ``json``: ``{"scenario", "source", "replications", "seed", "grid", "variants": [{"set", "kpis",
  "delta"}, ...], "provenance"}``;
- ``csv``: one row per variant: ``variant``, the grid keys, then per KPI ``KPI_mean``, ``KPI_ci_low``,
  ``KPI_ci_high``, ``KPI_diff``, ``KPI_diff_ci_low``, ``KPI_diff_ci_high``;
- ``--out DIR``: that table as ``sweep.csv`` and ``sweep.parquet``, the base ``scenario.yaml`` and
  ``provenance.json``.

Output reaches stdout only when the sweep has finished (spooled on disk meanwhile): an interrupted
sweep prints nothing.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from storeq.cli.common import (
    executor_options,
    handle_errors,
    open_executor,
    progress,
    results_option,
    write_text,
)
from storeq.cli.report import cell, check_out_dir, command_line, delta_cell, plural, rich_console, run_options
from storeq.outputs import check_target, output_set

# The columns a person reads in the table (every KPI is in json, csv and parquet).
TABLE_KPIS = ("mean_wait_min", "service_level", "abandonment_rate", "utilization", "staff_cost")
BATCH = 200  # rows per Parquet row group / CSV write


@click.command("sweep")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A key and its values: comma-separated (read as YAML), a range A..B (A..B:STEP), or a YAML list "
    "[...]. Repeat for a full factorial, e.g. --grid counters.staffed=6..12 --grid kiosks.count=2,3.",
)
@run_options
@executor_options
@results_option
@handle_errors
def sweep_cmd(
    scenario: Path,
    grids: tuple[str, ...],
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
    """Run every combination of the --grid values on common random numbers: one row per variant.

    \b
    Examples:
      storeq sweep hall.yaml --grid counters.staffed=6..12
      storeq sweep hall.yaml --grid counters.staffed=7,8,9 --grid kiosks.count=2..4 --format csv
      storeq sweep hall.yaml --grid cross_sell.policy.mode=always,never --executor dask --scheduler tcp://127.0.0.1:8786
    """
    from simulation import load_scenario, scenario_to_yaml
    from simulation.sweep import check_variants, parse_grid, sweep
    from storeq.results_store import json_text, recording, stream_json

    base = load_scenario(scenario, list(sets))
    grid = parse_grid(grids)
    n_variants = check_variants(base, grid)  # every variant valid before any is simulated
    check_out_dir(out_dir)
    check_target(out_dir, [scenario])  # never replace a folder holding the input
    reps = replications or base.simulation.replications
    s = base.simulation.seed if seed is None else seed
    columns = _grid_columns(grid)

    with (
        open_executor(executor, scheduler, workers) as ex,
        recording(
            results_db, kind="sweep", command=command_line(), scenario=base, seed=s, replications=reps,
            executor=ex.name, workers=ex.workers,
        ) as rec,
        tempfile.TemporaryDirectory(prefix="storeq-sweep-") as spool_dir,
    ):
        spool = Path(spool_dir)
        rows_out = _RowSink(spool, columns, parquet=out_dir is not None)
        table_rows: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        with (
            open(spool / "variants.jsonl", "w", encoding="utf-8") as jl,
            progress(n_variants * reps, f"Simulating {n_variants} variants × {reps} days", enabled=fmt != "json") as cb,
        ):
            for v in sweep(base, grid, replications=replications, seed=seed, executor=ex, progress=cb, check=False):
                vj = v.to_json()
                jl.write(json.dumps(vj, ensure_ascii=False, allow_nan=False) + "\n")
                rec.variant(v, vj)
                rows_out.add(_wide_row(v, columns))
                if fmt == "table":
                    table_rows.append(_table_row(v))
        rows_out.close()
        prov: dict[str, Any] = {
            "scenario_hash": base.digest(),
            "seed": s,
            "replications": reps,
            "variants": n_variants,
            "version": _version(),
            "runtime_s": round(time.perf_counter() - t0, 4),
            "workers": ex.workers,
            "executor": ex.name,
        }
        head: dict[str, Any] = {
            "scenario": base.name,
            "source": str(scenario),
            "replications": reps,
            "seed": s,
            "grid": {k: list(vals) for k, vals in grid.items()},
            "variants": [],
            "provenance": prov,
        }
        rec.finish(output=head, workers=ex.workers)

        if out_dir is not None:
            with output_set(out_dir, [scenario]) as stage:  # one atomic set: the old one or this one, never a mix
                written = rows_out.move_to(stage)
                write_text(stage / "scenario.yaml", scenario_to_yaml(base))
                full = prov | {"source": str(scenario), "overrides": list(sets), "command": command_line()}
                write_text(stage / "provenance.json", json.dumps(full, indent=2, default=str) + "\n")
            if fmt != "json":
                click.echo(f"storeq: wrote {len(written) + 2} files to {out_dir}", err=True)
        if rec.active and fmt != "json":
            click.echo(f"storeq: recorded as run {rec.run_id} in {results_db}", err=True)

        if fmt == "json":
            items = (json_text(json.loads(line)) for line in _lines(spool / "variants.jsonl"))
            for piece in stream_json(head, "variants", items):
                sys.stdout.write(piece)
            sys.stdout.write("\n")
            sys.stdout.flush()
        elif fmt == "csv":
            with open(rows_out.csv_path, encoding="utf-8") as fh:
                shutil.copyfileobj(fh, sys.stdout)
        else:
            _print_table(base, grid, table_rows, reps, s)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("storeq")
    except Exception:  # a source tree that was never installed
        return "unknown"


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as fh:
        yield from fh


# ---------------------------------------------------------------------------------------------
# the wide table: one row per variant (csv, parquet)
# ---------------------------------------------------------------------------------------------


def _grid_columns(grid: Mapping[str, Sequence[Any]]) -> dict[str, str]:
    """Each grid key's column type: int, float, bool or str (lists and mixed values as their YAML/JSON text)."""
    kinds: dict[str, str] = {}
    for key, values in grid.items():
        if all(isinstance(v, bool) for v in values):
            kinds[key] = "bool"
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            kinds[key] = "int"
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            kinds[key] = "float"
        else:
            kinds[key] = "str"
    return kinds


def _cell_value(value: Any, kind: str) -> Any:
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _wide_row(v: Any, columns: Mapping[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": v.index}
    for key, kind in columns.items():
        row[key] = _cell_value(v.updates[key], kind)
    d = v.delta.reindex(v.kpis.index)
    for kpi in v.kpis.index:
        k = v.kpis.loc[kpi]
        row[f"{kpi}_mean"] = float(k["mean"])
        row[f"{kpi}_ci_low"] = float(k["ci_low"])
        row[f"{kpi}_ci_high"] = float(k["ci_high"])
        row[f"{kpi}_diff"] = float(d.loc[kpi, "diff_mean"])
        row[f"{kpi}_diff_ci_low"] = float(d.loc[kpi, "ci_low"])
        row[f"{kpi}_diff_ci_high"] = float(d.loc[kpi, "ci_high"])
    return row


class _RowSink:
    """Appends rows to a CSV (and a Parquet) file in the spool folder, a batch at a time."""

    def __init__(self, spool: Path, columns: Mapping[str, str], parquet: bool) -> None:
        self.csv_path = spool / "sweep.csv"
        self.parquet_path = spool / "sweep.parquet" if parquet else None
        self._rows: list[dict[str, Any]] = []
        self._header = True
        self._writer: Any = None
        self._schema: Any = None

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        import pandas as pd

        df = pd.DataFrame(self._rows)
        df.to_csv(self.csv_path, mode="w" if self._header else "a", header=self._header, index=False)
        self._header = False
        if self.parquet_path is not None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False, schema=self._schema)
            if self._writer is None:
                self._schema = table.schema
                self._writer = pq.ParquetWriter(self.parquet_path, self._schema)
            self._writer.write_table(table)
        self._rows = []

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()

    def move_to(self, out_dir: Path) -> list[Path]:
        """Copy the finished files into ``out_dir`` (a staging folder of :func:`output_set`)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for src in (self.csv_path, self.parquet_path):
            if src is None or not src.exists():
                continue
            shutil.copyfile(src, out_dir / src.name)
            written.append(out_dir / src.name)
        return written


# ---------------------------------------------------------------------------------------------
# the table for people
# ---------------------------------------------------------------------------------------------


def _table_row(v: Any) -> dict[str, Any]:
    """What the table shows of a variant (small: the table holds one per variant)."""
    kpis = [k for k in TABLE_KPIS if k in v.kpis.index]
    return {
        "set": dict(v.updates),
        "mean": {k: float(v.kpis.loc[k, "mean"]) for k in kpis},
        "delta": {k: float(v.delta.loc[k, "diff_mean"]) for k in kpis},
        "sig": {k: bool(v.delta.loc[k, "ci_low"] > 0 or v.delta.loc[k, "ci_high"] < 0) for k in kpis},
    }


def _print_table(base: Any, grid: Mapping[str, Sequence[Any]], rows: list[dict[str, Any]], reps: int, seed: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from storeq.present import header

    # one column pair per KPI: wider than run's table when piped into a file or `less`
    console = rich_console() if sys.stdout.isatty() else Console(width=170, highlight=False, soft_wrap=False)
    console.print(
        f"[bold]Sweep[/bold] of {base.name}: {plural(len(rows), 'variant')} on common random numbers, "
        f"{plural(reps, 'replication')} each, seed {seed}; Δ = variant − variant 0"
    )
    kpis = list(rows[0]["mean"]) if rows else []
    t = Table()
    t.add_column("#", justify="right")
    for key in grid:
        t.add_column(key, justify="right")
    for k in kpis:
        t.add_column(header(k), justify="right")
        t.add_column("Δ", justify="right")
    for i, row in enumerate(rows):
        cells = [str(i), *(str(row["set"][key]) for key in grid)]
        for k in kpis:
            d = delta_cell(k, row["delta"][k]) if i else "—"
            cells += [cell(k, row["mean"][k]), f"[bold]{d}[/bold]" if row["sig"][k] and i else d]
        t.add_row(*cells)
    console.print(t)
    console.print("Δ in bold: its 95% CI excludes zero. Every KPI, with CIs: --format csv or json.")

