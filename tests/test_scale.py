"""Executors: the same numbers on local processes, a LocalCluster and a remote Dask cluster.

A real ``distributed.LocalCluster`` (2 single-threaded worker processes) and, separately, a
``dask scheduler`` + ``dask worker`` pair started as subprocesses on free localhost ports. Outputs
must be byte-identical to the local-process run (provenance's wall time and worker count aside), a
worker killed mid-run must change nothing, and Ctrl+C must stop a run at once.

Runs are a small 3-hour store with few replications so the file stays fast; the clusters are started
once per module.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from small_store import SMALL

from simulation import compare, load_scenario, run, scenario_from_yaml, with_updates
from simulation.executors import DaskExecutor, make_executor, plan_blocks
from simulation.sweep import parse_grid, sweep

REPO = Path(__file__).resolve().parent.parent
FLAGSHIP = REPO / "scenarios" / "telecom_month_end.yaml"
VOLATILE = {"runtime_s", "workers", "executor", "wall_s", "started"}


def scrub(obj: Any) -> Any:
    """Drop wall-clock and where-it-ran fields; everything else must match to the byte."""
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def same_bytes(a: Any, b: Any) -> bool:
    return json.dumps(scrub(a), sort_keys=True) == json.dumps(scrub(b), sort_keys=True)


@pytest.fixture(scope="module")
def small_scenario() -> Any:
    return scenario_from_yaml(SMALL)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[DaskExecutor]:
    with DaskExecutor(workers=2) as ex:
        assert ex.workers == 2
        yield ex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def remote_scheduler() -> Iterator[str]:
    """``dask scheduler`` + ``dask worker`` (2 processes, 1 thread each) on localhost; yields the address."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    sched = subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "dask", "worker", address, "--nworkers", "2", "--nthreads", "1",
         "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "2GB"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=2, set_as_default=False) as c:
                    c.wait_for_workers(2, timeout=30)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield address
    finally:
        for p in (worker, sched):
            p.terminate()
        for p in (worker, sched):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


# ---------------------------------------------------------------------------------------------
# block plans
# ---------------------------------------------------------------------------------------------


def test_plan_blocks_covers_every_replication_once_in_order() -> None:
    for sizes, workers in [([100], 2), ([7, 0, 3], 4), ([100] * 200, 2), ([1], 8), ([5, 5], 1)]:
        plan = plan_blocks(sizes, workers)
        for j, n in enumerate(sizes):
            reps = [r for jj, block in plan if jj == j for r in block]
            assert reps == list(range(n)), (sizes, workers, j)
    # many small jobs stay one block each (a sweep's variants); one big job is cut for the workers
    assert len(plan_blocks([100] * 200, 2)) == 200
    assert len(plan_blocks([100], 2)) == 8


def test_unknown_executor_and_scheduler_without_dask_are_refused() -> None:
    with pytest.raises(ValueError, match="executor must be one of"):
        make_executor("threads")
    with pytest.raises(ValueError, match="needs executor='dask'"):
        make_executor("processes", scheduler="tcp://127.0.0.1:1")


# ---------------------------------------------------------------------------------------------
# byte-identical across executors
# ---------------------------------------------------------------------------------------------


def test_run_compare_sweep_identical_on_local_cluster(small_scenario: Any, local_cluster: DaskExecutor) -> None:
    sc = small_scenario
    ref = run(sc, replications=9, seed=4, workers=1, keep_customers=True)
    for ex in ("processes", local_cluster):
        got = run(sc, replications=9, seed=4, workers=2, executor=ex, keep_customers=True)
        assert same_bytes(got.to_json(), ref.to_json())
        assert got.customers is not None and ref.customers is not None
        assert got.customers.to_csv() == ref.customers.to_csv()
    assert got.provenance["workers"] == 2  # the cluster's worker threads

    more = with_updates(sc, {"counters.staffed": 5})
    a = compare([sc, more], replications=6, seed=2, workers=1)
    b = compare([sc, more], replications=6, seed=2, executor=local_cluster)
    assert a.differences.to_csv() == b.differences.to_csv()
    assert a.interval_differences.to_csv() == b.interval_differences.to_csv()

    grid = parse_grid(["counters.staffed=3..5", "kiosks.count=1,2"])
    one = [v.to_json() for v in sweep(sc, grid, replications=5, seed=1, workers=1)]
    two = [v.to_json() for v in sweep(sc, grid, replications=5, seed=1, executor=local_cluster)]
    assert len(one) == 6 and same_bytes(one, two)


def test_progress_is_fed_from_completed_blocks(small_scenario: Any, local_cluster: DaskExecutor) -> None:
    seen: list[tuple[int, int]] = []
    run(small_scenario, replications=12, seed=1, executor=local_cluster, progress=lambda d, t: seen.append((d, t)))
    assert len(seen) > 1 and seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def storeq_json(*args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "storeq", *args, "--format", "json"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _sweep_args(small_file: Path) -> list[str]:
    return ["sweep", str(small_file), "--grid", "counters.staffed=3,4", "--grid", "kiosks.count=1,2", "-n", "4"]


def test_cli_identical_on_processes_and_remote_cluster(small_file: Path, remote_scheduler: str) -> None:
    for args in (
        ["run", str(small_file), "-n", "6"],
        ["compare", str(small_file), "--set", "counters.staffed=5", "-n", "6"],
    ):
        here = storeq_json(*args, "-w", "2")
        there = storeq_json(*args, "--scheduler", remote_scheduler)  # --scheduler alone means dask
        assert same_bytes(here, there), args[0]
    local = storeq_json(*_sweep_args(small_file), "-w", "2")
    remote = storeq_json(*_sweep_args(small_file), "--executor", "dask", "--scheduler", remote_scheduler)
    assert same_bytes(local, remote)
    assert remote["provenance"]["executor"] == "dask" and local["provenance"]["executor"] == "processes"
    assert [v["set"] for v in local["variants"]] == [
        {"counters.staffed": 3, "kiosks.count": 1},
        {"counters.staffed": 3, "kiosks.count": 2},
        {"counters.staffed": 4, "kiosks.count": 1},
        {"counters.staffed": 4, "kiosks.count": 2},
    ]


@pytest.mark.slow  # starts a LocalCluster inside the command (5-25 s on a loaded 2-core box)
def test_cli_identical_on_a_local_cluster_it_starts(small_file: Path) -> None:
    local = storeq_json(*_sweep_args(small_file), "-w", "1")
    cluster = storeq_json(*_sweep_args(small_file), "--executor", "dask", "-w", "2")
    assert same_bytes(local, cluster) and cluster["provenance"]["workers"] == 2
    run_args = ["run", str(small_file), "-n", "6"]
    assert same_bytes(storeq_json(*run_args), storeq_json(*run_args, "--executor", "dask", "-w", "2"))


def test_api_identical_on_remote_cluster(small_scenario: Any, remote_scheduler: str) -> None:
    sc = small_scenario
    ref = run(sc, replications=8, seed=6, workers=2)
    got = run(sc, replications=8, seed=6, executor="dask", scheduler=remote_scheduler)
    assert same_bytes(got.to_json(), ref.to_json())
    more = with_updates(sc, {"kiosks.count": 2})
    a = compare([sc, more], replications=5, seed=6, workers=2)
    b = compare([sc, more], replications=5, seed=6, executor="dask", scheduler=remote_scheduler)
    assert a.differences.to_csv() == b.differences.to_csv()


def test_unreachable_scheduler_is_bad_input(small_file: Path) -> None:
    port = _free_port()  # nothing listens there
    out = subprocess.run(
        [sys.executable, "-m", "storeq", "sweep", str(small_file), "--grid", "counters.staffed=3,4",
         "--scheduler", f"tcp://127.0.0.1:{port}"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert f"tcp://127.0.0.1:{port}" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


# ---------------------------------------------------------------------------------------------
# failures: a worker dies, the person presses Ctrl+C
# ---------------------------------------------------------------------------------------------


def _kill_when(done_at: int, pid_of: Any) -> tuple[Any, list[int]]:
    """A progress callback that SIGKILLs one worker once ``done_at`` replications are in."""
    killed: list[int] = []

    def cb(done: int, total: int) -> None:
        if done >= done_at and not killed:
            pid = pid_of()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    return cb, killed


@pytest.mark.slow  # ~10 s: a run long enough to lose a worker in the middle
def test_killed_dask_worker_changes_nothing(remote_scheduler: str) -> None:
    sc = load_scenario(FLAGSHIP)
    ref = run(sc, replications=120, seed=8, workers=2)
    with DaskExecutor(scheduler=remote_scheduler) as ex:
        pids = list(ex.client.run(os.getpid).values())
        cb, killed = _kill_when(15, lambda: pids[0])
        got = run(sc, replications=120, seed=8, executor=ex, progress=cb)
        assert killed == [pids[0]]
        # the nanny restarts the worker; the next test gets its cluster back
        ex.client.wait_for_workers(2, timeout=60)
    assert same_bytes(got.to_json(), ref.to_json())


@pytest.mark.slow  # ~15 s: both workers die at once, and the nanny restarts them
def test_every_dask_worker_killed_at_once_changes_nothing(remote_scheduler: str) -> None:
    """Both workers die mid-run: the scattered scenarios die with them, so Dask drops every block in
    flight (not a retry: the data they need is gone). storeq ships the scenarios again and resubmits
    the dropped blocks; the numbers do not change."""
    sc = load_scenario(FLAGSHIP)
    ref = run(sc, replications=60, seed=9, workers=2)
    with DaskExecutor(scheduler=remote_scheduler) as ex:
        pids = list(ex.client.run(os.getpid).values())
        killed: list[int] = []

        def cb(done: int, total: int) -> None:
            if done >= 10 and not killed:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        got = run(sc, replications=60, seed=9, executor=ex, progress=cb)
        assert sorted(killed) == sorted(pids)
        ex.client.wait_for_workers(2, timeout=60)  # the next test gets its cluster back
    assert same_bytes(got.to_json(), ref.to_json())


@pytest.mark.slow  # ~5 s
def test_killed_worker_process_changes_nothing() -> None:
    import multiprocessing as mp

    sc = load_scenario(FLAGSHIP)
    ref = run(sc, replications=120, seed=8, workers=1)
    cb, killed = _kill_when(15, lambda: mp.active_children()[0].pid)
    got = run(sc, replications=120, seed=8, workers=2, progress=cb)
    assert len(killed) == 1
    assert same_bytes(got.to_json(), ref.to_json())


_INTERRUPTED_API_RUN = """
import multiprocessing as mp, sys, time
from simulation import run, scenario_from_yaml
from simulation.executors import ProcessExecutor
sys.path.insert(0, sys.argv[1])
from small_store import SMALL

sc = scenario_from_yaml(SMALL)
print("started", flush=True)
t0 = time.monotonic()
try:
    # thousands of replications: minutes of work, unless the interrupt stops it
    run(sc, replications=200_000, seed=1, executor=ProcessExecutor(2))
    print("finished")
except KeyboardInterrupt:
    left = [p for p in mp.active_children() if p.is_alive()]
    print(f"interrupted after {time.monotonic() - t0:.1f} s; workers left {len(left)}")
"""


def test_interrupt_stops_process_workers_at_once() -> None:
    """Ctrl+C in a script using the API: KeyboardInterrupt comes out while blocks are still queued,
    and no worker process is left. A real SIGINT, as a terminal sends it, to a Python of its own
    (signalling the test runner's own process would interrupt whatever it runs at that instant)."""
    p = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_API_RUN, str(Path(__file__).resolve().parent)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, text=True,
    )
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "started"
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)  # a hang guard: before the fix every queued block ran first
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "workers left 0" in out, out + err
    assert float(out.split("after ")[1].split(" s")[0]) < 30, out


@pytest.mark.slow  # ~8 s: starts a local cluster in a subprocess
def test_ctrl_c_on_cli_exits_130_with_nothing_on_stdout(small_file: Path) -> None:
    for extra in (["-w", "2"], ["--executor", "dask", "-w", "2"]):
        p = subprocess.Popen(
            [sys.executable, "-m", "storeq", "sweep", str(small_file), "--grid", "counters.staffed=3..9",
             "-n", "20000", "--format", "json", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
        )
        time.sleep(6 if "dask" in extra else 2)
        assert p.poll() is None, "finished before the interrupt: make the sweep longer"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 130, err
        assert out == b""
