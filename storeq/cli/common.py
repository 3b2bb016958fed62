"""Shared plumbing for the ``storeq`` commands: errors, progress, atomic output.

Every command is arguments → Scenario → pure call → output. This module holds the parts they share so
each command file stays about its own job:

- :func:`handle_errors` turns bad input into one line on stderr and exit code 2, a failure into exit 1;
- :func:`progress` is a rich progress bar on stderr, shown only on a terminal, never in json mode,
  and only once the work has run longer than a second;
- :func:`write_frames` writes DataFrames as CSV and Parquet atomically (temp file + rename), so an
  interrupted run never leaves half a file;
- :func:`emit_json` prints the one JSON object a json-mode command may print.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd

from simulation.loader import atomic_write, spreadsheet_safe
from storeq.cli.interrupts import command_ended, restore_sigint
from storeq.present import jsonable

F = TypeVar("F", bound=Callable[..., Any])


class InputError(Exception):
    """Bad input found by a command itself (not by scenario validation): exit code 2."""


def _is_input_error(exc: BaseException) -> bool:
    from simulation.scenario import ScenarioError
    from storeq.outputs import OutputError

    return isinstance(exc, ScenarioError | InputError | OutputError | FileNotFoundError | IsADirectoryError)


def handle_errors(func: F) -> F:
    """Exit 2 with one readable message for bad input, exit 1 for a failure; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        restore_sigint()  # from here on Ctrl+C is a KeyboardInterrupt: cleanup runs, then exit 130
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("storeq: interrupted; nothing half-written was left behind.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader stopped early (storeq calibrate ... | head): no message, and the exit code
            # click gives a closed pipe met after the command (1), so both moments look the same.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except MemoryError:
            click.echo("storeq: failed: out of memory (the input is within storeq's limits but this machine ran out)", err=True)
            sys.exit(1)
        except Exception as exc:  # the boundary: everything becomes a message and an exit code
            if _is_input_error(exc):
                click.echo(f"storeq: error: {terminal_safe(str(exc))}", err=True)
                sys.exit(2)
            if os.environ.get("STOREQ_DEBUG"):
                raise
            click.echo(f"storeq: failed: {type(exc).__name__}: {terminal_safe(str(exc))} (set STOREQ_DEBUG=1 for a traceback)", err=True)
            sys.exit(1)
        finally:
            command_ended()  # the output is complete or the error reported: Ctrl+C while exiting is 130

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress(total: int, label: str, enabled: bool = True, delay_s: float = 1.0) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``callback(done, total)`` that drives a progress bar on stderr.

    The bar appears only when stderr is a terminal, ``enabled`` is true (false in json mode) and the
    work has already taken ``delay_s`` — short runs stay quiet.
    """
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total_: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    # rich draws on stdout unless told otherwise: the bar must stay off stdout, which carries results
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(label, total=total)
    started = time.perf_counter()
    shown = False

    def update(done: int, total_: int) -> None:
        nonlocal shown
        if not shown and time.perf_counter() - started >= delay_s:
            bar.start()
            shown = True
        bar.update(task, completed=done, total=total_)

    try:
        yield update
    finally:
        if shown:
            bar.stop()


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    atomic_write(path, write)


_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Text a user wrote, safe to print: ANSI escapes and control characters shown, not obeyed.

    A scenario or segment name with ``\\x1b[2J`` would clear the reader's screen; each control
    character becomes a visible ``\\xNN`` escape (new lines and tabs are kept).
    """
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def plain(text: object) -> str:
    """A user's text for a rich console: printed literally (``[draft]`` stays, ``[/x]`` cannot crash)."""
    from rich.markup import escape

    return escape(terminal_safe(str(text)))


def _to_csv(df: pd.DataFrame, path: Path) -> None:
    spreadsheet_safe(df).to_csv(path, index=False)


def _to_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False)


def write_frames(out_dir: str | Path, frames: Mapping[str, pd.DataFrame], parquet: bool = True) -> list[Path]:
    """Write each frame as ``NAME.csv`` (and ``NAME.parquet``) in ``out_dir``, atomically."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    written: list[Path] = []
    for name, df in frames.items():
        csv_path = out / f"{name}.csv"
        atomic_write(csv_path, functools.partial(_to_csv, df))
        written.append(csv_path)
        if parquet:
            pq_path = out / f"{name}.parquet"
            atomic_write(pq_path, functools.partial(_to_parquet, df))
            written.append(pq_path)
    return written


def emit_json(obj: Any) -> None:
    """Print one JSON object to stdout (NaN and inf become null)."""
    click.echo(json.dumps(jsonable(obj), ensure_ascii=False, indent=2))


# ---------------------------------------------------------------------------------------------
# scale-out: --executor / --scheduler, and the results store (--results); see docs/scale-out.md
# ---------------------------------------------------------------------------------------------


def executor_options(func: F) -> F:
    """Add ``--executor processes|dask`` and ``--scheduler ADDRESS`` to a command.

    The command receives ``executor`` and ``scheduler`` and runs its simulations inside
    ``with open_executor(executor, scheduler, workers) as ex:``, passing ``executor=ex`` to
    :func:`simulation.run` / :func:`simulation.compare` / :func:`simulation.sweep.sweep`.
    """
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask). "
        "Without it, --executor dask starts a local cluster of --workers processes.",
    )(func)
    func = click.option(
        "--executor",
        type=click.Choice(["processes", "dask"]),
        default="processes",
        show_default=True,
        help="Where replications run: local worker processes, or a Dask cluster. Results do not depend on it.",
    )(func)
    return func


@contextmanager
def open_executor(executor: str, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """The executor a command asked for, closed (or, after Ctrl+C, aborted) when the block ends.

    ``--scheduler`` alone means Dask. A scheduler that does not answer is bad input (exit 2, naming
    the address), not a failure of storeq.
    """
    from simulation.executors import ExecutorError, make_executor

    if scheduler is not None:
        executor = "dask"
        if not scheduler.strip():
            raise InputError("--scheduler: empty address (e.g. tcp://127.0.0.1:8786)")
    ex = make_executor(executor, scheduler, workers)
    with ex:
        try:
            _ = ex.workers  # connect / start the cluster now: a bad address fails before any work
        except ExecutorError as exc:
            raise InputError(str(exc)) from None
        yield ex


def results_option(func: F) -> F:
    """Add ``--results PATH`` (default: ``$STOREQ_RESULTS``): append the run to that DuckDB results store."""
    return click.option(
        "--results",
        "results_db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="STOREQ_RESULTS",
        default=None,
        help="Append this run to a DuckDB results store (also $STOREQ_RESULTS); read it with `storeq results`.",
    )(func)
