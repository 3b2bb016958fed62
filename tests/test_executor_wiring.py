"""`storeq optimize` and `storeq calibrate --report` on every executor (issue 12, item 1).

Both commands simulate many times (optimize: requirement search, verification, repair, policy
tuning; calibrate --report: every log day). They take ``--executor/--scheduler`` like run and
compare, open ONE executor for the whole command, and give the same bytes whichever executor runs
the replications (wall-clock and worker-count fields aside: tests/golden/regenerate.py's VOLATILE).

Kept small: a 2-hour store with 4 intervals and a handful of replications, and a 2-day synthetic
log; the Dask runs start a real ``distributed.LocalCluster`` (through storeq) of 2 workers.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from calibration import calibrate, clean, fit_report, synth_log, write_log
from optimizer import ServiceTarget, optimize_day
from simulation import executors, scenario_from_yaml
from simulation.executors import ProcessExecutor
from storeq.cli.calibrate import calibrate as calibrate_cmd
from storeq.cli.optimize import optimize as optimize_cmd

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("golden_regenerate", HERE / "golden" / "regenerate.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

SMALL = """\
name: Small hall
store: {open: "09:00", close: "11:00", interval_min: 30, target_wait_min: 5}
demand: {arrivals_per_hour: [40, 70, 80, 50]}
segments:
  - {name: regular, share: 0.9, priority: 1, patience: {dist: exponential, mean: 15}}
  - {name: vip, share: 0.1, priority: 0, patience: {dist: exponential, mean: 15}, pitch: false}
transactions:
  - {name: quick, share: 0.6, counter_time: {dist: exponential, mean: 3}}
  - {name: long, share: 0.4, counter_time: {dist: exponential, mean: 7}}
counters: {staffed: 4, physical: 10}
cross_sell: {pitch_time: {dist: exponential, mean: 3}, acceptance: 0.3, margin: 30}
costs: {staff_hour: 40}
shifts: {lengths_hours: [1, 2], start_step_min: 30, min_on_duty: 1}
simulation: {replications: 6, seed: 3}
"""
# Few replications: the point is identical bytes across executors, not a good plan. One CP-SAT
# worker so the solver's own parallel search cannot pick a different optimum between runs.
OPT_ARGS = [
    "--format", "json", "--search-replications", "4", "--replications", "6",
    "--time-limit", "5", "--solver-workers", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("wiring") / "small.yaml"
    p.write_text(SMALL, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def short_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of tickets from the small hall (the engine once per day: well under a second)."""
    p = tmp_path_factory.mktemp("wiring_log") / "log.csv"
    write_log(synth_log(scenario_from_yaml(SMALL, "small"), 2, dt.date(2026, 11, 2), seed=4), p)
    return p


def _optimize(small_file: Path, *extra: str) -> dict[str, Any]:
    res = CliRunner().invoke(optimize_cmd, [str(small_file), *OPT_ARGS, *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _calibrate(log: Path, where: Path, *extra: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``storeq calibrate --report`` as JSON, minus the folder it was told to write to, and the report's tables."""
    out, rep = where / "cal.yaml", where / "rep"
    res = CliRunner().invoke(
        calibrate_cmd,
        [str(log), "--out", str(out), "--report", str(rep), "--replications", "3", "--format", "json", *extra],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    data.pop("scenario_file")
    data["report"].pop("folder")
    data["report"]["files"] = sorted(Path(f).name for f in data["report"]["files"])
    tables = {p.name: p.read_bytes() for p in sorted(rep.glob("*.csv"))}
    tables["cal.yaml"] = out.read_bytes()
    return data, tables


@pytest.fixture
def made_executors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[executors.Executor]]:
    """Every executor created (not merely passed through) while the test runs."""
    made: list[executors.Executor] = []
    real = executors.make_executor

    def counting(executor: Any = "processes", scheduler: str | None = None, workers: int | None = 1) -> Any:
        ex = real(executor, scheduler, workers)
        if ex is not executor:
            made.append(ex)
        return ex

    monkeypatch.setattr(executors, "make_executor", counting)
    yield made


class _Counting(ProcessExecutor):
    """A local executor that counts the batches of blocks it was given and whether it was closed."""

    def __init__(self) -> None:
        super().__init__(1)
        self.calls = 0
        self.closed = False

    def map_blocks(self, fn: Any, shared: Any, blocks: Any) -> Any:
        self.calls += 1
        return super().map_blocks(fn, shared, blocks)

    def close(self) -> None:
        self.closed = True


# ---------------------------------------------------------------------------------------------
# the core API: one executor per plan / report, an open one reused and left open
# ---------------------------------------------------------------------------------------------


def test_optimize_day_opens_one_executor_and_reuses_a_given_one(made_executors: list[Any]) -> None:
    s = scenario_from_yaml(SMALL, "small")
    kw: dict[str, Any] = {"search_replications": 4, "replications": 6, "time_limit_s": 5, "solver_workers": 1}
    by_name = optimize_day(s, ServiceTarget(0.8), **kw)
    # search + verification + policy tuning are many simulations, all on the one executor opened here
    assert len(made_executors) == 1
    made_executors.clear()
    mine = _Counting()
    given = optimize_day(s, ServiceTarget(0.8), executor=mine, **kw)
    assert made_executors == []  # nothing else was started
    assert mine.calls >= 5 and not mine.closed  # every simulation ran on it; the caller closes it
    assert json.dumps(golden.scrub(given.to_json()), default=str) == json.dumps(
        golden.scrub(by_name.to_json()), default=str
    )


def test_fit_report_opens_one_executor_for_all_days(short_log: Path, made_executors: list[Any]) -> None:
    from calibration import read_log

    cal = calibrate(clean(read_log(short_log)))
    a = fit_report(cal, replications=3, seed=2)
    assert len(made_executors) == 1 and len(a.days_simulated) == 2
    mine = _Counting()
    b = fit_report(cal, replications=3, seed=2, executor=mine)
    assert len(made_executors) == 1 and mine.calls == 2 and not mine.closed  # one simulation per log day
    assert a.intervals.to_csv() == b.intervals.to_csv() and a.by_day.to_csv() == b.by_day.to_csv()


# ---------------------------------------------------------------------------------------------
# the CLI: same bytes on processes and on a LocalCluster started by storeq
# ---------------------------------------------------------------------------------------------


def test_optimize_same_json_on_every_executor(small_file: Path) -> None:
    base = golden.scrub(_optimize(small_file))
    assert base["status"] == "OPTIMAL" and len(base["intervals"]) == 4
    assert golden.scrub(_optimize(small_file, "--executor", "processes", "--workers", "2")) == base
    assert golden.scrub(_optimize(small_file, "--executor", "dask", "--workers", "2")) == base


def test_calibrate_report_same_output_on_every_executor(short_log: Path, tmp_path: Path) -> None:
    for where in "abc":
        (tmp_path / where).mkdir()
    base, base_tables = _calibrate(short_log, tmp_path / "a")
    assert {"fit_intervals.csv", "fit_by_day.csv", "fit_day.csv"} <= set(base_tables)
    for where, extra in (
        ("b", ["--executor", "processes", "--workers", "2"]),
        ("c", ["--executor", "dask", "--workers", "2"]),
    ):
        data, tables = _calibrate(short_log, tmp_path / where, *extra)
        assert golden.scrub(data) == golden.scrub(base)
        assert tables == base_tables


# ---------------------------------------------------------------------------------------------
# bad input: exit 2 naming the address, never a traceback
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_bad_input(small_file: Path, short_log: Path, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    res = CliRunner().invoke(optimize_cmd, [str(small_file), *OPT_ARGS, "--scheduler", address])
    assert res.exit_code == 2 and address in res.stderr and "Traceback" not in res.output, res.output
    assert res.stdout == ""
    res = CliRunner().invoke(
        calibrate_cmd,
        [str(short_log), "--out", str(tmp_path / "c.yaml"), "--report", str(tmp_path / "r"), "--scheduler", address],
    )
    assert res.exit_code == 2 and address in res.stderr and "Traceback" not in res.output, res.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "c.yaml").exists()


def test_calibrate_executor_without_report_is_refused(short_log: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(calibrate_cmd, [str(short_log), "--out", str(tmp_path / "c.yaml"), "--executor", "dask"])
    assert res.exit_code == 2 and "--executor/--scheduler need --report DIR" in res.stderr, res.output
