"""``storeq region rank|plan|moves``: the JSON contract, the other formats, bad input (exit 2, in words).

Small regions (3-hour halls) and 3-5 replications: these tests check the command's shape and its
messages; the numbers are checked in test_region.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from region_helpers import small_store, write_region

from storeq.cli import main

TABLE_HEADER = "name,district,counters,kiosks,served_per_day,avg_wait_min,avg_transaction_min,hours,profile"


def _cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def region_file(tmp_path: Path) -> Path:
    return write_region(tmp_path, [(small_store("North", rate=45), "D"), (small_store("South", rate=20), "D")],
                        moves={"blocks": ["09:00-12:00"], "travel_min": {"D": 15}}, budgets={"money": 200})


def test_rank_json_contract(region_file: Path) -> None:
    res = _cli("region", "rank", region_file, "-n", 3, "-w", 1, "--format", "json")
    assert res.exit_code == 0, res.stderr
    js = json.loads(res.stdout)  # nothing else on stdout
    assert list(js) == ["region", "stores"]
    assert js["region"] == "Test region"
    assert [s["store"] for s in js["stores"]] == ["North", "South"]  # busiest first
    for s in js["stores"]:
        assert list(s) == ["store", "district", "class", "measures", "kpis", "peak", "interventions"]
        assert s["class"] in ("very_busy", "busy", "normal")
        assert {"counters", "customers_served", "kiosks", "avg_wait_min", "avg_transaction_min"} <= set(s["measures"])
        assert set(s["kpis"]["served_within_target"]) == {"mean", "ci_low", "ci_high"}
        assert {"start", "end", "service_level"} <= set(s["peak"])
        assert len(s["interventions"]) == 6
        for iv in s["interventions"]:
            assert {"name", "cost_per_day", "delta"} <= set(iv)
            if iv["delta"] is not None:
                assert {"served_within_target", "abandonment_rate", "mean_wait_min"} <= set(iv["delta"])


def test_rank_table_csv_and_out(region_file: Path, tmp_path: Path) -> None:
    res = _cli("region", "rank", region_file, "-n", 3, "-w", 1)
    assert res.exit_code == 0 and "busiest first" in res.stdout and "counter_at_peak" in res.stdout
    res = _cli("region", "rank", region_file, "-n", 3, "-w", 1, "--format", "csv", "--out", tmp_path / "out")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("rank,store,district,class,counters,customers_served,kiosks,avg_wait_min,avg_transaction_min")
    assert len(lines) == 3
    out = tmp_path / "out"
    assert {"ranking.csv", "interventions.csv", "result.json", "ranking.parquet"} <= {p.name for p in out.iterdir()}
    iv = pd.read_csv(out / "interventions.csv")
    assert len(iv) == 12 and "served_within_target_ci_low" in iv.columns


def test_plan_json_contract_and_budget(region_file: Path) -> None:
    res = _cli("region", "plan", region_file, "-n", 3, "-w", 1, "--budget-money", 100, "--format", "json")
    assert res.exit_code == 0, res.stderr
    js = json.loads(res.stdout)
    assert {"status", "objective", "bound", "chosen", "verification"} <= set(js)
    assert js["status"] == "OPTIMAL"
    assert sum(c["cost_per_day"] for c in js["chosen"]) <= 100
    for c in js["chosen"]:
        assert set(c) == {"store", "intervention", "cost_per_day"}
    for v in js["verification"]["stores"]:
        assert {"store", "interventions", "before", "after", "delta"} <= set(v)
    assert set(js["verification"]["total"]["served_within_target"]) == {"mean", "ci_low", "ci_high"}


def test_plan_without_any_budget_is_bad_input(tmp_path: Path) -> None:
    region = write_region(tmp_path, [(small_store("Only", rate=20), "D")])
    res = _cli("region", "plan", region, "-n", 3, "-w", 1)
    assert res.exit_code == 2
    assert "no budget given" in res.stderr and "Traceback" not in res.stderr


def test_moves_json_contract(region_file: Path) -> None:
    res = _cli("region", "moves", region_file, "--date", "2026-11-30", "-n", 3, "-w", 1, "--format", "json")
    assert res.exit_code == 0, res.stderr
    js = json.loads(res.stdout)
    assert {"moves", "verification", "date", "status"} <= set(js)
    assert js["date"] == "2026-11-30"
    for m in js["moves"]:
        assert {"district", "from", "to", "block", "travel_min", "gain", "loss"} <= set(m)
    res = _cli("region", "moves", region_file, "--date", "30/11/2026")
    assert res.exit_code == 2 and "YYYY" not in res.stdout


def test_table_in_gbk_with_a_bad_row(tmp_path: Path) -> None:
    table = tmp_path / "halls.csv"
    text = "\n".join([
        "# 一个测试表",
        "营业厅,区县,柜台数,自助终端数,日服务量,平均等待时长,平均办理时长,营业时间,客流类型",
        "东门营业厅,城区,4,1,150,5,6,09:00-17:00,residential",
        "西门营业厅,城区,0,1,150,5,6,09:00-17:00,residential",
        "南门营业厅,城区,3,0,90,4,5,09:00-17:00,nowhere",
    ])
    table.write_bytes(text.encode("gbk"))
    res = _cli("region", "rank", table, "-n", 3, "-w", 1, "--fit-replications", 3, "--format", "json")
    assert res.exit_code == 0, res.stderr
    js = json.loads(res.stdout)
    assert [s["store"] for s in js["stores"]] == ["东门营业厅"]
    assert js["stores"][0]["measures"]["reported"]["customers_served"] == 150
    assert "row 3 (西门营业厅) skipped: counters: must be at least 1, got 0" in res.stderr
    assert "row 4 (南门营业厅) skipped: profile: unknown profile 'nowhere'" in res.stderr


def test_excel_table(tmp_path: Path) -> None:
    df = pd.DataFrame([{"name": "Hall", "district": "D", "counters": 3, "kiosks": 1, "served_per_day": 120,
                        "avg_wait_min": 4, "avg_transaction_min": 5, "open": "09:00", "close": "17:00", "profile": "county_town"}])
    path = tmp_path / "halls.xlsx"
    df.to_excel(path, index=False)
    res = _cli("region", "rank", path, "-n", 3, "-w", 1, "--fit-replications", 3, "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["stores"][0]["store"] == "Hall"


def test_bad_region_file_exits_2_naming_file_key_value(tmp_path: Path) -> None:
    region = write_region(tmp_path, [(small_store("Only", rate=20), "D")], budgets={"mony": 5})
    res = _cli("region", "rank", region, "-n", 3)
    assert res.exit_code == 2
    assert f"{region}: budgets.mony: unknown key; did you mean `money`?" in res.stderr
    assert "Traceback" not in res.stderr
    missing = tmp_path / "nope.yaml"
    res = _cli("region", "rank", missing)
    assert res.exit_code == 2 and "file not found" in res.stderr
    table = tmp_path / "t.csv"
    table.write_text("name,counters\nA,3\n", encoding="utf-8")
    res = _cli("region", "rank", table)
    assert res.exit_code == 2 and "missing column(s): served_per_day" in res.stderr


def test_region_file_with_a_broken_store_scenario(tmp_path: Path) -> None:
    bad = small_store("Broken", rate=20)
    bad["counters"] = {"staffed": 2, "vip": 5}
    region = write_region(tmp_path, [(small_store("Fine", rate=20), "D"), (bad, "D")])
    res = _cli("region", "rank", region, "-n", 3)
    assert res.exit_code == 2
    assert "stores[1](Broken)" in res.stderr and "counters.vip" in res.stderr


def test_example_region_loads() -> None:
    root = Path(__file__).resolve().parent.parent / "scenarios" / "region_example"
    from storeq.region.io import load_region

    reg = load_region(root / "region.yaml", fit_replications=5)
    assert len(reg.stores) == 16 and not reg.skipped
    assert reg.store("Central Flagship").source == "halls/central_flagship.yaml"
    assert {s.district for s in reg.stores} == {"Central", "Eastside", "Westside", "North County", "South County"}
    assert all(s.has_coordinates for s in reg.stores)
    table = load_region(root / "stores.csv", fit_replications=5)
    assert {s.name for s in table.stores} == {s.name for s in reg.stores}


def test_results_store_keeps_the_region_tables(region_file: Path, tmp_path: Path) -> None:
    from storeq.results_store import get_run, list_runs, read_table

    db = tmp_path / "runs.duckdb"
    for _ in range(2):  # a second run appends to the same tables
        res = _cli("region", "rank", region_file, "-n", 3, "-w", 1, "--format", "json", "--results", db)
        assert res.exit_code == 0, res.stderr
    runs = list_runs(db)
    assert len(runs) == 2 and set(runs["kind"]) == {"region rank"}
    rid = str(runs["run_id"].iloc[0])
    ranking = read_table(db, rid, "region_ranking")
    assert list(ranking["store"]) == ["North", "South"] and set(ranking["region"]) == {"Test region"}
    assert len(read_table(db, rid, "region_interventions")) == 12
    assert json.loads(get_run(db, rid)["output_json"])["region"] == "Test region"


def test_rank_on_a_date_applies_the_month_end_factor(region_file: Path) -> None:
    # the small halls' day-of-month factor is 1.3 on the 30th: more customers walk in (same seed)
    plain = json.loads(_cli("region", "rank", region_file, "-n", 3, "-w", 1, "--format", "json").stdout)
    month_end = json.loads(_cli("region", "rank", region_file, "-n", 3, "-w", 1, "--format", "json",
                                "--date", "2026-11-30").stdout)
    for a, b in zip(plain["stores"], month_end["stores"], strict=True):
        assert b["kpis"]["arrivals"]["mean"] > a["kpis"]["arrivals"]["mean"]
