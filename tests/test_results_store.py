"""The DuckDB results store: what ``results show`` prints is what the run printed; concurrent writers
both land; ``results export`` writes Parquet that pandas reads back equal to the store's rows."""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from small_store import SMALL

from storeq import results_store as rs
from storeq.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _only_run(db: Path, kind: str) -> str:
    runs = rs.list_runs(db)
    ids = list(runs.loc[runs["kind"] == kind, "run_id"])
    assert len(ids) == 1, runs
    return str(ids[0])


@pytest.mark.parametrize(
    "args",
    [
        ["run", "{small}", "-n", "3"],
        ["compare", "{small}", "--set", "counters.staffed=5", "-n", "3"],
        ["sweep", "{small}", "--grid", "counters.staffed=3..5", "-n", "3"],
    ],
    ids=["run", "compare", "sweep"],
)
def test_show_prints_exactly_what_the_run_printed(small: Path, tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "runs.duckdb"
    runner = CliRunner()
    argv = [a.format(small=small) for a in args]
    printed = runner.invoke(main, [*argv, "--format", "json", "--results", str(db), "-w", "1"])
    assert printed.exit_code == 0, printed.output
    rid = _only_run(db, args[0])
    shown = runner.invoke(main, ["results", "show", str(db), rid[:12] if args[0] == "run" else rid])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == printed.stdout

    run = rs.get_run(db, rid)
    assert run["status"] == "ok" and run["replications"] == 3 and run["executor"] == "processes"
    assert run["scenario_hash"] and "Small hall" in run["scenario_text"] and run["wall_s"] >= 0
    assert run["command"].startswith(f"storeq {args[0]} ")  # the arguments as given, not pytest's sys.argv
    if args[0] != "sweep":
        kpis = rs.read_table(db, rid, "kpis")
        assert set(kpis["level"]) == {"day", "interval", "segment"}
        day = kpis[(kpis["level"] == "day") & (kpis["kpi"] == "mean_wait_min")]
        first = json.loads(printed.stdout)
        want = first["kpis"]["mean_wait_min"]["mean"] if args[0] == "run" else first["scenarios"][0]["kpis"]["mean_wait_min"]["mean"]
        assert float(day["mean"].iloc[0]) == want
    else:
        variants = rs.read_table(db, rid, "sweep_variants")
        assert sorted(set(variants["variant"])) == [0, 1, 2]


def test_environment_variable_names_the_store(small: Path, tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    res = CliRunner().invoke(main, ["run", str(small), "-n", "2", "--format", "json"], env={"STOREQ_RESULTS": str(db)})
    assert res.exit_code == 0, res.output
    assert len(rs.list_runs(db)) == 1


def test_export_parquet_reads_back_equal(small: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    runner = CliRunner()
    assert runner.invoke(main, ["compare", str(small), "--set", "kiosks.count=2", "-n", "3", "--results", str(db)]).exit_code == 0
    rid = _only_run(db, "compare")
    rs.record_table(db, rid, "plans", pd.DataFrame({"interval": [0, 1], "staff": [3, 4]}))  # as OPTIMIZER would
    res = runner.invoke(main, ["results", "export", str(db), rid, "--out", str(tmp_path / "exp")])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "exp").glob("*.parquet"))
    assert files == ["kpis.parquet", "plans.parquet", "runs.parquet"]
    for name in ("kpis", "plans", "runs"):
        back = pd.read_parquet(tmp_path / "exp" / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, rs.read_table(db, rid, name))
    assert len(pd.read_parquet(tmp_path / "exp" / "plans.parquet")) == 2


def test_run_with_out_keeps_its_customer_records_beside_the_store(small: Path, tmp_path: Path) -> None:
    db, out = tmp_path / "runs.duckdb", tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(small), "-n", "2", "-w", "1", "--results", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rid = _only_run(db, "run")
    kept = pd.read_parquet(rs.customers_path(db, rid))
    written = pd.read_csv(out / "customers.csv")
    assert len(kept) == len(written) > 0  # every customer of both days, the same ones --out wrote
    assert list(kept["replication"].unique()) == [0, 1]


def _write_many(db: str, tag: str, n: int) -> None:
    for i in range(n):
        rid = rs.start_run(db, kind="test", command=["storeq", tag, str(i)])
        rs.record_table(db, rid, "notes", pd.DataFrame({"tag": [tag], "i": [i]}))
        rs.finish_run(db, rid, output={"tag": tag, "i": i})


def test_two_processes_writing_at_once_both_land(tmp_path: Path) -> None:
    """Two writer processes interleave 3 short transactions each, 25 times: every row lands."""
    db = str(tmp_path / "shared.duckdb")
    ctx = mp.get_context("spawn")  # fresh interpreters, as two storeq commands would be
    procs = [ctx.Process(target=_write_many, args=(db, tag, 25)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    runs = rs.list_runs(db)
    assert len(runs) == 50 and set(runs["status"]) == {"ok"}
    with rs.connect(db, read_only=True) as con:
        got = con.execute("SELECT tag, count(*) FROM notes GROUP BY tag ORDER BY tag").fetchall()
    assert got == [("a", 25), ("b", 25)]


@pytest.mark.slow  # two real storeq processes (start-up dominates)
def test_two_sweeps_at_once_both_land(small: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    cmd = [sys.executable, "-m", "storeq", "sweep", str(small), "--grid", "counters.staffed=3..6", "-n", "3",
           "-w", "1", "--format", "json", "--results", str(db)]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    runs = rs.list_runs(db)
    assert len(runs) == 2 and set(runs["status"]) == {"ok"}
    for rid in runs["run_id"]:
        assert len(set(rs.read_table(db, rid, "sweep_variants")["variant"])) == 4
    # each run's stored output is what one of the two processes printed (they differ in wall time)
    assert {rs.output_text(db, rid) + "\n" for rid in runs["run_id"]} == {o[0].decode() for o in outs}


def test_bad_store_and_unknown_run_exit_2(small: Path, tmp_path: Path) -> None:
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello\n")
    runner = CliRunner()
    res = runner.invoke(main, ["results", "list", str(not_db)])
    assert res.exit_code == 2 and str(not_db) in res.stderr
    res = runner.invoke(main, ["results", "list", str(tmp_path / "missing.duckdb")])
    assert res.exit_code == 2 and "no such results store" in res.stderr
    db = tmp_path / "runs.duckdb"
    assert runner.invoke(main, ["run", str(small), "-n", "2", "--results", str(db)]).exit_code == 0
    res = runner.invoke(main, ["results", "show", str(db), "nope"])
    assert res.exit_code == 2 and "no run 'nope'" in res.stderr
    res = runner.invoke(main, ["run", str(small), "-n", "2", "--results", str(not_db)])
    assert res.exit_code in (1, 2) and "Traceback" not in res.stderr
