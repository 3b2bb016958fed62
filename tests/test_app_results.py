"""The Results page with ``streamlit.testing.v1.AppTest``: list past runs, open one, compare two.

The store is filled through the CLI (two tiny runs and a sweep of a 3-hour store), the way a user
fills it; the page must show the runs, the opened run's KPIs as the run reported them, and the
difference between two runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from storeq.cli import main
from storeq.present import fmt_value

ROOT = Path(__file__).resolve().parent.parent
PAGE = "storeq/app/results.py"
SMALL = """\
name: Small hall
store: {open: "09:00", close: "12:00", interval_min: 60, target_wait_min: 5}
demand: {arrivals_per_hour: [30, 50, 40]}
segments:
  - {name: regular, share: 1.0, priority: 1, patience: {dist: exponential, mean: 15}}
transactions:
  - {name: plan_change, share: 1.0, counter_time: {dist: exponential, mean: 6}}
counters: {staffed: [3, 4, 3]}
kiosks: {count: 0}
costs: {staff_hour: 30}
simulation: {replications: 3, seed: 3}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    d = tmp_path_factory.mktemp("results_page")
    scen = d / "small.yaml"
    scen.write_text(SMALL, encoding="utf-8")
    db = d / "runs.duckdb"
    runner = CliRunner()
    printed = []
    for args in (["run", str(scen)], ["run", str(scen), "--set", "counters.staffed=5"]):
        res = runner.invoke(main, [*args, "-w", "1", "--format", "json", "--results", str(db)])
        assert res.exit_code == 0, res.output
        printed.append(json.loads(res.stdout))
    res = runner.invoke(main, ["sweep", str(scen), "--grid", "counters.staffed=3,5", "-w", "1", "--results", str(db)])
    assert res.exit_code == 0, res.output
    return db, printed


def _page(db: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    at.text_input(key="k_results_db").set_value(str(db)).run()
    assert not at.exception, at.exception
    return at


def test_lists_runs_and_opens_one(store: tuple[Path, list[dict]]) -> None:
    db, printed = store
    at = _page(db)
    assert at.title[0].value == "Results"
    assert any("3 runs" in m.value for m in at.markdown)
    listed = at.dataframe[0].value
    assert list(listed["kind"]) == ["sweep", "run", "run"]
    # open the first run (the oldest: staffed as in the file) and find its mean wait as it was printed
    oldest = listed["run_id"].iloc[-1]
    at.selectbox(key="k_results_run").set_value(oldest).run()
    assert not at.exception, at.exception
    table = at.dataframe[1].value
    want = fmt_value(printed[0]["kpis"]["mean_wait_min"]["mean"], "min")
    assert str(table.loc["Mean wait (min)"].iloc[0]).startswith(want)


def test_opens_a_sweep_and_compares_two_runs(store: tuple[Path, list[dict]]) -> None:
    db, printed = store
    at = _page(db)
    listed = at.dataframe[0].value
    at.selectbox(key="k_results_run").set_value(listed["run_id"].iloc[0]).run()  # the sweep
    assert len(at.dataframe[1].value) == 2  # one row per variant
    at.selectbox(key="k_results_a").set_value(listed["run_id"].iloc[2]).run()
    at.selectbox(key="k_results_b").set_value(listed["run_id"].iloc[1]).run()
    assert not at.exception, at.exception
    cmp = at.dataframe[2].value.set_index("KPI")
    # five counters instead of three or four: the second run waits less
    a, b = (p["kpis"]["mean_wait_min"]["mean"] for p in printed)
    assert b < a
    assert cmp.loc["Mean wait (min)", "B − A"] == f"{b - a:+.3g}"
    assert any("Same seed" in c.value for c in at.caption)


def test_missing_store_says_how_to_make_one(tmp_path: Path) -> None:
    at = _page(tmp_path / "none.duckdb")
    assert any("No results store" in i.value for i in at.info)
    assert not at.error
