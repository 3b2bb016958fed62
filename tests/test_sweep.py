"""``storeq sweep`` and :mod:`simulation.sweep`: grids, the factorial, CRN differences, the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from small_store import SMALL

from simulation import ScenarioError, compare, scenario_from_yaml, with_updates
from simulation.sweep import parse_grid, sweep, variants
from storeq.cli import main
from storeq.results_store import json_text, stream_json_text


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_parse_grid_lists_ranges_steps_and_yaml() -> None:
    g = parse_grid(["counters.staffed=6..9", "kiosks.count=2,3", "kiosks.adoption=0.5, 0.7", "x=1..7:3"])
    assert g == {"counters.staffed": [6, 7, 8, 9], "kiosks.count": [2, 3], "kiosks.adoption": [0.5, 0.7], "x": [1, 4, 7]}
    assert parse_grid(["counters.staffed=[[3,4,3],[4,4,4]]"]) == {"counters.staffed": [[3, 4, 3], [4, 4, 4]]}
    assert parse_grid(["cross_sell.policy.mode=always,never"]) == {"cross_sell.policy.mode": ["always", "never"]}


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("counters.staffed", ["counters.staffed", "KEY=V1"]),
        ("counters.staffed=9..6", ["counters.staffed", "9..6", "empty"]),
        ("counters.staffed=6..x", ["counters.staffed", "6..x"]),
        ("counters.staffed=6,,7", ["counters.staffed", "empty value"]),
        ("counters.staffed=6,6", ["counters.staffed", "repeats"]),
        ("counters.staffed=[6", ["counters.staffed"]),
    ],
)
def test_bad_grids_name_key_and_value(item: str, words: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_grid([item])
    for w in words:
        assert w in str(info.value)


def test_factorial_order_first_key_slowest() -> None:
    got = list(variants({"a": [1, 2], "b": ["x", "y", "z"]}))
    assert got[0] == {"a": 1, "b": "x"} and got[1] == {"a": 1, "b": "y"} and got[3] == {"a": 2, "b": "x"}
    assert len(got) == 6


def test_sweep_equals_compare_of_the_same_variants() -> None:
    """A sweep is a comparison on common random numbers: same KPIs, same paired differences."""
    base = scenario_from_yaml(SMALL)
    grid = {"counters.staffed": [3, 5]}
    rows = list(sweep(base, grid, replications=6, seed=2))
    cmp = compare([with_updates(base, {"counters.staffed": 3}), with_updates(base, {"counters.staffed": 5})], replications=6, seed=2)
    assert rows[0].kpis["mean"].to_list() == cmp.results[0].kpis["mean"].to_list()
    assert rows[1].kpis["mean"].to_list() == cmp.results[1].kpis["mean"].to_list()
    d = cmp.differences.set_index("kpi")
    assert rows[1].delta["diff_mean"].to_list() == d["diff_mean"].to_list()
    assert (rows[0].delta["diff_mean"] == 0).all()
    # more counters: a shorter wait, seen by the paired difference (CRN makes its CI tight)
    assert rows[1].delta.loc["mean_wait_min", "ci_high"] < 0


def test_stream_json_is_the_same_text_as_one_dump() -> None:
    items = [{"set": {"a": 1}, "kpis": {"x": {"mean": 1.5}}}, {"set": {"a": [1, 2]}, "kpis": {}}]
    head = {"scenario": "s", "variants": [], "provenance": {"seed": 1}}
    whole = json_text({**head, "variants": items})
    assert stream_json_text(head, "variants", [json_text(i) for i in items]) == whole
    assert stream_json_text(head, "variants", []) == json_text(head)


def test_cli_json_csv_parquet_and_table(small: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["sweep", str(small), "--grid", "counters.staffed=3..5", "--grid", "kiosks.count=1,2", "-n", "4", "-w", "1"]
    res = runner.invoke(main, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["variants"]) == 6
    assert set(out["variants"][0]) == {"set", "kpis", "delta"}
    assert out["variants"][4]["set"] == {"counters.staffed": 5, "kiosks.count": 1}
    assert out["variants"][0]["delta"]["mean_wait_min"]["diff_mean"] == 0
    assert out["variants"][4]["delta"]["mean_wait_min"]["diff_mean"] < 0

    res = runner.invoke(main, [*args, "--format", "csv", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "o" / "sweep.csv")
    pq = pd.read_parquet(tmp_path / "o" / "sweep.parquet")
    assert len(csv) == 6 and list(csv["counters.staffed"]) == [3, 3, 4, 4, 5, 5]
    assert res.stdout == (tmp_path / "o" / "sweep.csv").read_text()
    pd.testing.assert_frame_equal(csv, pq, check_dtype=False)
    assert csv.loc[4, "mean_wait_min_mean"] == pytest.approx(out["variants"][4]["kpis"]["mean_wait_min"]["mean"])
    assert (tmp_path / "o" / "provenance.json").exists() and (tmp_path / "o" / "scenario.yaml").exists()

    res = runner.invoke(main, args)
    assert res.exit_code == 0 and "6 variants" in res.stdout


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        ("counters.staffed=3,-1", ["counters.staffed", "-1"]),
        ("counters.stafed=3", ["counters.stafed", "staffed"]),
        ("counters.staffed=3..x", ["counters.staffed", "3..x"]),
    ],
)
def test_cli_bad_grid_exit_2_before_simulating(small: Path, grid: str, words: list[str]) -> None:
    res = CliRunner().invoke(main, ["sweep", str(small), "--grid", grid, "--format", "json"])
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    for w in words:
        assert w in res.stderr
    assert "Traceback" not in res.stderr
