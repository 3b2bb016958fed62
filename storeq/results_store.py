"""The results store: every run appended to one DuckDB file, so any figure can be found and reproduced.

``storeq run|compare|sweep ... --results runs.duckdb`` (or ``STOREQ_RESULTS=runs.duckdb``) appends
the run; ``storeq results list|show|export`` reads it back, and the app's Results page opens it.

Tables (all keyed by ``run_id``; tidy, one fact per row):

``runs``
    run_id, kind (run | compare | sweep | optimize | region ...), command (the command line), started
    (UTC), wall_s, version, scenario_hash, scenario (its name), scenario_text (the YAML actually run,
    ``--set`` applied), seed, replications, executor, workers, status (running | ok | failed |
    interrupted), error, output_json (exactly the JSON object the command prints with
    ``--format json``; for a sweep it is rebuilt from ``sweep_json`` in order).
``kpis``
    run_id, scenario, level (day | interval | segment), key (interval start "HH:MM", segment name, or
    "" for the day), kpi, mean, ci_low, ci_high.
``sweep_variants``
    run_id, variant, set_json, kpi, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high.
``sweep_json``
    run_id, variant, json (the variant's object in the sweep's JSON output).
any other name
    made by :func:`record_table` (the optimizer's plans, the region planner's rankings): the frame's
    columns with ``run_id`` in front; created on first use.

The API (small on purpose; OPTIMIZER and REGION call it the same way)::

    from storeq import results_store as rs
    run_id = rs.start_run(db, kind="region", command=sys.argv, scenario=scen, seed=1, replications=100,
                          executor="dask", workers=32)
    rs.record_table(db, run_id, "region_ranking", ranking_df)   # append any tidy frame
    rs.finish_run(db, run_id, output=json_obj)                  # status ok, wall time, printed JSON
    # or in one call for a finished run:
    rs.record_run(db, kind="run", command=..., scenario=scen, result=res, output=res.to_json())

Concurrency: DuckDB lets one process write a file at a time. Every write opens the file, writes in
one transaction and closes it at once; writers queue on a lock file beside the database
(``PATH.lock``) and, should another program hold the DuckDB lock itself, retry with backoff. A long
sweep therefore never holds the file: its variants are appended in small batches as they finish,
and two runs at once both land.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

ENV = "STOREQ_RESULTS"
LOCK_TIMEOUT_S = 120.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR, command VARCHAR, started TIMESTAMP, wall_s DOUBLE,
    version VARCHAR, scenario_hash VARCHAR, scenario VARCHAR, scenario_text VARCHAR, seed BIGINT,
    replications BIGINT, executor VARCHAR, workers INTEGER, status VARCHAR, error VARCHAR,
    output_json VARCHAR
);
CREATE TABLE IF NOT EXISTS kpis (
    run_id VARCHAR, scenario VARCHAR, level VARCHAR, key VARCHAR, kpi VARCHAR,
    mean DOUBLE, ci_low DOUBLE, ci_high DOUBLE
);
CREATE TABLE IF NOT EXISTS sweep_variants (
    run_id VARCHAR, variant INTEGER, set_json VARCHAR, kpi VARCHAR, mean DOUBLE, ci_low DOUBLE,
    ci_high DOUBLE, diff_mean DOUBLE, diff_ci_low DOUBLE, diff_ci_high DOUBLE
);
CREATE TABLE IF NOT EXISTS sweep_json (run_id VARCHAR, variant INTEGER, json VARCHAR);
"""
CORE_TABLES = ("runs", "kpis", "sweep_variants", "sweep_json")


class StoreError(Exception):
    """The results store cannot be used (not a DuckDB file, locked for too long, no such run)."""


def default_path() -> Path | None:
    """The store named by ``STOREQ_RESULTS``, if set."""
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


# ---------------------------------------------------------------------------------------------
# connections: short, serialised, retried
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold ``PATH.lock`` (an OS advisory lock): storeq writers take turns instead of racing DuckDB's lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: DuckDB's own lock and the retries below suffice
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"{path}: another storeq run has held the results store for {timeout:g} s") from None
                time.sleep(0.02 + random.random() * 0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text or "being used by another process" in text


@contextlib.contextmanager
def connect(path: str | Path, read_only: bool = False, timeout: float = LOCK_TIMEOUT_S) -> Iterator[Any]:
    """A DuckDB connection to the store, held only for the ``with`` block.

    Writers (``read_only=False``) create the tables if needed and queue on ``PATH.lock``; both kinds
    retry with backoff while another process holds DuckDB's own lock.
    """
    import duckdb

    p = Path(path)
    if read_only and not p.exists():
        raise StoreError(f"{p}: no such results store")
    if p.exists() and p.is_dir():
        raise StoreError(f"{p}: is a folder, not a results store file")
    lock = contextlib.nullcontext() if read_only else _file_lock(p, timeout)
    with lock:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(p), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if not _is_lock_error(exc) or time.monotonic() > deadline:
                    raise StoreError(f"{p}: cannot open the results store ({exc})") from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise StoreError(f"{p}: not a results store ({type(exc).__name__}: {exc})") from None
        try:
            if not read_only:
                con.execute(_SCHEMA)
            yield con
        finally:
            con.close()


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("storeq")
    except Exception:  # a source tree that was never installed
        return "unknown"


def _command_text(command: str | Sequence[str]) -> str:
    import shlex

    return command if isinstance(command, str) else shlex.join(str(c) for c in command)


def start_run(
    path: str | Path,
    *,
    kind: str,
    command: str | Sequence[str],
    scenario: Any = None,
    seed: int | None = None,
    replications: int | None = None,
    executor: str = "processes",
    workers: int | None = None,
    run_id: str | None = None,
) -> str:
    """Append a ``runs`` row with status ``running`` and return its run_id (``finish_run`` completes it).

    ``scenario`` is a :class:`simulation.Scenario` (its hash, name and YAML are stored) or None.
    """
    rid = run_id or new_run_id()
    scenario_hash = scenario_name = scenario_text = None
    if scenario is not None:
        from simulation import scenario_to_yaml

        scenario_hash, scenario_name, scenario_text = scenario.digest(), scenario.name, scenario_to_yaml(scenario)
    with connect(path) as con:
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 'running', NULL, NULL)",
            [
                rid, kind, _command_text(command), datetime.now(UTC).replace(tzinfo=None), _version(),
                scenario_hash, scenario_name, scenario_text, seed, replications, executor, workers,
            ],
        )
    return rid


def new_run_id() -> str:
    """A run id that sorts by time: ``20261129T193012-3f9a1c``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def finish_run(
    path: str | Path,
    run_id: str,
    *,
    status: str = "ok",
    output: Any = None,
    error: str | None = None,
    workers: int | None = None,
) -> None:
    """Close a run: status, wall time since it started, and the JSON it printed (``output``)."""
    text = None
    if output is not None:
        text = output if isinstance(output, str) else json_text(output)
    with connect(path) as con:
        con.execute(
            "UPDATE runs SET status = ?, error = ?, output_json = COALESCE(?, output_json), "
            "wall_s = date_diff('millisecond', started, ?) / 1000.0, workers = COALESCE(?, workers) WHERE run_id = ?",
            [status, error, text, datetime.now(UTC).replace(tzinfo=None), workers, run_id],
        )


def json_text(obj: Any) -> str:
    """The exact text ``--format json`` prints for ``obj`` (NaN/inf as null, two-space indent)."""
    from storeq.present import jsonable

    return json.dumps(jsonable(obj), ensure_ascii=False, indent=2)


def kpi_rows(result: Any, scenario: str) -> pd.DataFrame:
    """A :class:`simulation.RunResult` as tidy KPI rows: scenario, level, key, kpi, mean, ci_low, ci_high."""
    parts = []
    k = result.kpis.reset_index()
    k = k.rename(columns={k.columns[0]: "kpi"})
    parts.append(k.assign(level="day", key=""))
    iv, seg = result.intervals, result.by_segment  # every RunResult has both frames (maybe empty)
    if not iv.empty:
        parts.append(iv.assign(level="interval", key=iv["start"].astype(str)))
    if not seg.empty:
        parts.append(seg.assign(level="segment", key=seg["segment"].astype(str)))
    cols = ["level", "key", "kpi", "mean", "ci_low", "ci_high"]
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    out.insert(0, "scenario", scenario)
    return out


def record_kpis(path: str | Path, run_id: str, result: Any, scenario: str) -> None:
    """Append a result's day, interval and segment KPIs to ``kpis``."""
    record_table(path, run_id, "kpis", kpi_rows(result, scenario))


def record_table(path: str | Path, run_id: str, name: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` (plain columns) to table ``name`` with ``run_id`` in front; create it if new.

    For tables beyond the core ones (plans, region rankings): the first frame fixes the columns, later
    frames must have the same ones. Names are letters, digits and underscores.
    """
    if not name.replace("_", "").isalnum() or not name[:1].isalpha():
        raise ValueError(f"table name must be letters, digits and underscores, got {name!r}")
    df = frame.copy()
    df.insert(0, "run_id", run_id)
    with connect(path) as con:
        con.register("_frame", df)
        try:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchone()
            if exists is None or exists[0] == 0:
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
            else:
                con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _frame')
        finally:
            con.unregister("_frame")


def record_run(
    path: str | Path,
    *,
    kind: str,
    command: str | Sequence[str],
    results: Mapping[str, Any],
    output: Any,
    seed: int | None = None,
    replications: int | None = None,
    executor: str = "processes",
    workers: int | None = None,
    started: float | None = None,
) -> str:
    """Record a finished run in one go: the ``runs`` row, each result's KPIs, the printed JSON.

    ``results`` maps a scenario label to its :class:`simulation.RunResult` (one for ``run``, each
    scenario of ``compare``); the first one's scenario is the run's scenario.
    """
    first = next(iter(results.values()), None)
    rid = start_run(
        path, kind=kind, command=command, scenario=None if first is None else first.scenario,
        seed=seed, replications=replications, executor=executor, workers=workers,
    )
    frames = [kpi_rows(res, label) for label, res in results.items()]
    if frames:
        record_table(path, rid, "kpis", pd.concat(frames, ignore_index=True))
    finish_run(path, rid, output=output)
    return rid


class SweepWriter:
    """Streams a sweep's variants into the store in batches (the file is held only per batch)."""

    def __init__(self, path: str | Path, run_id: str, batch: int = 50, every_s: float = 5.0) -> None:
        self.path, self.run_id, self.batch, self.every_s = path, run_id, batch, every_s
        self._rows: list[pd.DataFrame] = []
        self._json: list[tuple[str, int, str]] = []
        self._last = time.monotonic()

    def add(self, variant: Any, variant_json: Mapping[str, Any]) -> None:
        """Queue one :class:`simulation.sweep.VariantResult` and its JSON object; flush when due."""
        k = variant.kpis
        d = variant.delta.reindex(k.index)
        rows = pd.DataFrame(
            {
                "variant": variant.index,
                "set_json": json.dumps(variant.updates, ensure_ascii=False, default=str),
                "kpi": [str(x) for x in k.index],
                "mean": k["mean"].to_numpy(float),
                "ci_low": k["ci_low"].to_numpy(float),
                "ci_high": k["ci_high"].to_numpy(float),
                "diff_mean": d["diff_mean"].to_numpy(float),
                "diff_ci_low": d["ci_low"].to_numpy(float),
                "diff_ci_high": d["ci_high"].to_numpy(float),
            }
        )
        self._rows.append(rows)
        self._json.append((self.run_id, int(variant.index), json_text(variant_json)))
        if len(self._json) >= self.batch or time.monotonic() - self._last > self.every_s:
            self.flush()

    def flush(self) -> None:
        if not self._json:
            return
        df = pd.concat(self._rows, ignore_index=True)
        df.insert(0, "run_id", self.run_id)
        with connect(self.path) as con:
            con.register("_rows", df)
            try:
                con.execute("INSERT INTO sweep_variants BY NAME SELECT * FROM _rows")
            finally:
                con.unregister("_rows")
            con.executemany("INSERT INTO sweep_json VALUES (?, ?, ?)", self._json)
        self._rows, self._json, self._last = [], [], time.monotonic()


def customers_path(path: str | Path, run_id: str) -> Path:
    """Where a run's customer records go, beside the store: ``runs.duckdb`` → ``runs_customers/RUN_ID.parquet``."""
    p = Path(path)
    return p.with_name(p.stem + "_customers") / f"{run_id}.parquet"


def record_customers(path: str | Path, run_id: str, customers: pd.DataFrame) -> Path:
    """Write a run's customer records as Parquet beside the store (they can be millions of rows)."""
    from simulation.loader import atomic_write

    out = customers_path(path, run_id)
    atomic_write(out, lambda p: customers.to_parquet(p, index=False))
    return out


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------


def list_runs(path: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Runs, newest first: run_id, kind, started, wall_s, status, scenario, scenario_hash, seed, replications, executor, workers, command."""
    sql = (
        "SELECT run_id, kind, started, wall_s, status, scenario, scenario_hash, seed, replications, "
        "executor, workers, command FROM runs ORDER BY started DESC, run_id DESC"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connect(path, read_only=True) as con:
        return _df(con, sql)


def _df(con: Any, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    # through Arrow, as pandas reads an exported Parquet file: the same dtypes both ways (DuckDB's own
    # .df() gives object columns where Arrow gives strings)
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def get_run(path: str | Path, run_id: str) -> dict[str, Any]:
    """The ``runs`` row of ``run_id`` as a dict (a unique prefix of the id is enough)."""
    with connect(path, read_only=True) as con:
        rows = con.execute("SELECT * FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id", [run_id]).fetchall()
        cols = [d[0] for d in con.description]
    if not rows:
        raise StoreError(f"{path}: no run {run_id!r} (storeq results list {path} shows the run ids)")
    if len(rows) > 1 and not any(r[0] == run_id for r in rows):
        raise StoreError(f"{path}: {run_id!r} matches {len(rows)} runs; give more of the id")
    row = next((r for r in rows if r[0] == run_id), rows[0])
    return dict(zip(cols, row, strict=True))


def output_text(path: str | Path, run_id: str) -> str:
    """The JSON text the run printed with ``--format json`` (rebuilt in order for a sweep)."""
    run = get_run(path, run_id)
    if run["kind"] == "sweep" and run["output_json"]:
        head = json.loads(run["output_json"])
        with connect(path, read_only=True) as con:
            cur = con.execute("SELECT json FROM sweep_json WHERE run_id = ? ORDER BY variant", [run["run_id"]])
            return stream_json_text(head, "variants", _fetch_column(cur))
    if not run["output_json"]:
        raise StoreError(f"{path}: run {run['run_id']} has no output (status {run['status']})")
    return str(run["output_json"])


def _fetch_column(cur: Any, size: int = 500) -> Iterator[str]:
    while True:
        rows = cur.fetchmany(size)
        if not rows:
            return
        for (value,) in rows:
            yield value


def stream_json_text(head: Mapping[str, Any], key: str, items: Iterable[str]) -> str:
    """The text of ``{**head, key: [items...]}`` as :func:`json_text` prints it, from pre-printed items."""
    return "".join(stream_json(head, key, items))


def stream_json(head: Mapping[str, Any], key: str, items: Iterable[str]) -> Iterator[str]:
    """Pieces of ``json_text({**head, key: [...]})`` where ``key`` is head's placeholder (``[]``).

    ``items`` are the list's elements already printed by :func:`json_text`. Printing a sweep this way
    holds one variant at a time, and the bytes equal printing the whole object at once.
    """
    text = json_text(dict(head))
    marker = f'\n  "{key}": []'
    at = text.find(marker)
    if at < 0:
        raise ValueError(f"stream_json: head has no empty {key!r} list")
    yield text[:at] + f'\n  "{key}": ['
    first = True
    for item in items:
        yield ("\n" if first else ",\n") + "\n".join("    " + line for line in item.split("\n"))
        first = False
    yield ("\n  ]" if not first else "]") + text[at + len(marker):]


def tables_of(path: str | Path, run_id: str) -> dict[str, int]:
    """Tables holding rows of ``run_id`` and how many rows each."""
    out: dict[str, int] = {}
    with connect(path, read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
        for name in names:
            cols = {r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()}
            if "run_id" not in cols:
                continue
            row = con.execute(f'SELECT count(*) FROM "{name}" WHERE run_id = ?', [run_id]).fetchone()
            if row and row[0]:
                out[name] = int(row[0])
    return out


def read_table(path: str | Path, run_id: str, name: str) -> pd.DataFrame:
    """Rows of table ``name`` for ``run_id``."""
    with connect(path, read_only=True) as con:
        return _df(con, f'SELECT * FROM "{name}" WHERE run_id = ?', [run_id])


def export_run(path: str | Path, run_id: str, out_dir: str | Path) -> list[Path]:
    """Write every table's rows of ``run_id`` as ``out_dir/TABLE.parquet`` (DuckDB streams them)."""
    run = get_run(path, run_id)
    rid = run["run_id"]
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in tables_of(path, rid):
        target = out / f"{name}.parquet"
        tmp = out / f".{name}.parquet.tmp"
        with connect(path, read_only=True) as con:
            # COPY takes no parameters: quote the two literals (the id comes from the store itself)
            con.execute(
                f"COPY (SELECT * FROM \"{name}\" WHERE run_id = {_literal(rid)}) TO {_literal(tmp.as_posix())} (FORMAT parquet)"
            )
        os.replace(tmp, target)  # atomic: an interrupted export leaves no half file
        written.append(target)
    return written


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Recorder:
    """A run being recorded (or not, when no store was asked for): see :func:`recording`."""

    def __init__(self, path: str | Path | None, run_id: str | None) -> None:
        self.path, self.run_id = path, run_id
        self.finished = False
        self._sweep: SweepWriter | None = None

    @property
    def active(self) -> bool:
        return self.path is not None and self.run_id is not None

    def kpis(self, result: Any, scenario: str) -> None:
        """Append a result's KPIs (day, interval, segment)."""
        if self.active:
            assert self.path is not None and self.run_id is not None
            record_kpis(self.path, self.run_id, result, scenario)

    def table(self, name: str, frame: pd.DataFrame) -> None:
        """Append a tidy frame to table ``name`` (see :func:`record_table`)."""
        if self.active:
            assert self.path is not None and self.run_id is not None
            record_table(self.path, self.run_id, name, frame)

    def variant(self, variant: Any, variant_json: Mapping[str, Any]) -> None:
        """Stream one sweep variant into the store (batched)."""
        if self.active:
            assert self.path is not None and self.run_id is not None
            if self._sweep is None:
                self._sweep = SweepWriter(self.path, self.run_id)
            self._sweep.add(variant, variant_json)

    def finish(self, output: Any, workers: int | None = None) -> None:
        """Mark the run ok with the JSON it printed (for a sweep: the head, ``"variants": []``)."""
        if self.active:
            assert self.path is not None and self.run_id is not None
            if self._sweep is not None:
                self._sweep.flush()
            finish_run(self.path, self.run_id, output=output, workers=workers)
        self.finished = True


@contextlib.contextmanager
def recording(
    path: str | Path | None,
    *,
    kind: str,
    command: str | Sequence[str],
    scenario: Any = None,
    seed: int | None = None,
    replications: int | None = None,
    executor: str = "processes",
    workers: int | None = None,
) -> Iterator[Recorder]:
    """``with recording(db, kind="run", ...) as rec:`` — a ``runs`` row from start to finish.

    With ``path`` None nothing is recorded and every call is a no-op, so a command calls the same
    code with or without ``--results``. A run that raises is marked ``failed`` (with the error) or
    ``interrupted`` (Ctrl+C: one quick attempt, never a long wait on the lock).
    """
    if path is None:
        yield Recorder(None, None)
        return
    rid = start_run(
        path, kind=kind, command=command, scenario=scenario, seed=seed, replications=replications,
        executor=executor, workers=workers,
    )
    rec = Recorder(path, rid)
    try:
        yield rec
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            _mark(path, rid, "interrupted", None, timeout=1.0)
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):
            _mark(path, rid, "failed", f"{type(exc).__name__}: {exc}", timeout=10.0)
        raise
    else:
        if not rec.finished:
            rec.finish(output=None)


def _mark(path: str | Path, run_id: str, status: str, error: str | None, timeout: float) -> None:
    with connect(path, timeout=timeout) as con:
        con.execute(
            "UPDATE runs SET status = ?, error = ?, wall_s = date_diff('millisecond', started, ?) / 1000.0 WHERE run_id = ?",
            [status, error, datetime.now(UTC).replace(tzinfo=None), run_id],
        )


def record_command(
    path: str | Path | None,
    kind: str,
    results: Mapping[str, Any],
    output: Any,
    executor: str = "processes",
    command: Sequence[str] = (),
) -> str | None:
    """What ``run``/``compare`` call after simulating: record the run when ``--results`` was given.

    ``results`` maps each scenario's label to its :class:`simulation.RunResult`; ``output`` is the
    object the command prints with ``--format json``; ``command`` the command line as typed (the
    CLI passes it: the store does not reach into the CLI). Returns the run_id (None without a store).
    """
    if path is None:
        return None
    first = next(iter(results.values()))
    return record_run(
        path,
        kind=kind,
        command=list(command),
        results=results,
        output=output,
        seed=first.seed,
        replications=first.replications,
        executor=executor,
        workers=(first.provenance or {}).get("workers"),
    )
