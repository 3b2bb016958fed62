"""``storeq results list|show|export DB``: read the DuckDB results store back.

- ``list DB``: the runs, newest first (``--format json`` for scripts);
- ``show DB RUN_ID``: exactly the JSON object the run printed with ``--format json`` (a unique prefix
  of the run id is enough);
- ``export DB RUN_ID --out DIR``: every table's rows of that run as ``DIR/TABLE.parquet``.

Runs get into the store with ``--results DB`` (or ``STOREQ_RESULTS``) on run, compare and sweep; see
:mod:`storeq.results_store` for the tables.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from storeq.cli.common import InputError, emit_json, handle_errors

_DB = click.Path(dir_okay=False, path_type=Path)


def _store_errors(func: Any) -> Any:
    """A store that is missing, locked or not DuckDB is bad input (exit 2), named in one line."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from storeq.results_store import StoreError

        try:
            return func(*args, **kwargs)
        except StoreError as exc:
            raise InputError(str(exc)) from None

    return wrapper


@click.group("results")
def results_group() -> None:
    """Read the results store: list past runs, show one's output, export one as Parquet."""


@results_group.command("list")
@click.argument("db", type=_DB)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the newest N runs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@handle_errors
@_store_errors
def list_cmd(db: Path, limit: int | None, fmt: str) -> None:
    """List the runs in DB, newest first."""
    from storeq.results_store import list_runs

    runs = list_runs(db, limit)
    if fmt == "json":
        emit_json({"runs": runs.to_dict("records")})
        return
    if fmt == "csv":
        click.echo(runs.to_csv(index=False), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table()
    for col in ("run_id", "kind", "started", "wall_s", "status", "scenario", "replications", "executor", "workers"):
        t.add_column(col, justify="right" if col in ("wall_s", "replications", "workers") else "left")
    for r in runs.to_dict("records"):
        wall = r["wall_s"]
        t.add_row(
            str(r["run_id"]), str(r["kind"]), str(r["started"])[:19], "" if wall != wall or wall is None else f"{wall:.1f}",
            str(r["status"]), str(r["scenario"] or ""), str(r["replications"] or ""), str(r["executor"]), str(r["workers"] or ""),
        )
    # piped into a file or `less`: wide enough that run ids and dates are not cut
    Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160).print(t)
    click.echo(f"{len(runs)} run(s) in {db}", err=True)


@results_group.command("show")
@click.argument("db", type=_DB)
@click.argument("run_id")
@handle_errors
@_store_errors
def show_cmd(db: Path, run_id: str) -> None:
    """Print the JSON RUN_ID printed (the same bytes as its --format json output)."""
    from storeq.results_store import output_text

    click.echo(output_text(db, run_id))


@results_group.command("export")
@click.argument("db", type=_DB)
@click.argument("run_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for TABLE.parquet files.")
@handle_errors
@_store_errors
def export_cmd(db: Path, run_id: str, out_dir: Path) -> None:
    """Write every table's rows of RUN_ID as Parquet files in --out DIR."""
    from storeq.results_store import export_run

    written = export_run(db, run_id, out_dir)
    click.echo(f"storeq: wrote {len(written)} files to {out_dir}: {', '.join(p.name for p in written)}", err=True)
