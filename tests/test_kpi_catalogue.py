"""A KPI added in one place shows on every face (issue 9: "adding one KPI meant edits in six places").

The test adds a dummy KPI the way a developer would: one entry in the catalogue (storeq/kpis.py) and
its computation in simulation/results.py (here a DERIVED rule, a function of other day KPIs). Nothing
else is touched, and the figure must appear in `storeq run`'s table, JSON and CSV, in `storeq
compare`, and in the app's What-if page, labelled and formatted from the catalogue.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import results
from storeq import kpis, present
from storeq.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "bank_branch.yaml"

DUMMY = kpis.Kpi(
    "dummy_wait_x2",
    "min",
    "Dummy doubled wait",
    "Doubled wait (test)",
    "lower",
    "Twice the mean wait: a KPI that exists only in this test.",
    ("day",),
)


@pytest.fixture
def dummy_kpi(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(kpis.CATALOGUE, DUMMY.name, DUMMY)
    monkeypatch.setitem(results.DERIVED, DUMMY.name, lambda v: 2 * v["mean_wait_min"])
    yield


def _storeq(*args: str) -> str:
    # one worker: the replications run in this process, which holds the monkeypatched catalogue
    result = CliRunner().invoke(main, [*args, "-n", "3", "-w", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_dummy_is_not_there_without_the_catalogue_entry() -> None:
    data = json.loads(_storeq("run", str(SMALL), "--format", "json"))
    assert DUMMY.name not in data["kpis"]


@pytest.mark.usefixtures("dummy_kpi")
def test_a_new_kpi_shows_in_the_cli_table_json_and_csv() -> None:
    data = json.loads(_storeq("run", str(SMALL), "--format", "json"))
    assert data["kpis"][DUMMY.name]["mean"] == pytest.approx(2 * data["kpis"]["mean_wait_min"]["mean"])

    csv = pd.read_csv(io.StringIO(_storeq("run", str(SMALL), "--format", "csv"))).set_index("kpi")
    assert csv.loc[DUMMY.name, "unit"] == "min"
    assert csv.loc[DUMMY.name, "mean"] == pytest.approx(data["kpis"][DUMMY.name]["mean"])

    table = _storeq("run", str(SMALL))
    (line,) = [ln for ln in table.splitlines() if "Dummy doubled wait (min)" in ln]
    assert present.fmt_value(data["kpis"][DUMMY.name]["mean"], "min", style="table") in line  # minutes, as a wait

    cmp = json.loads(_storeq("compare", str(SMALL), "--set", "counters.groups.tellers.staffed=3", "--format", "json"))
    (variant,) = cmp["differences"].values()
    assert variant[DUMMY.name]["diff_mean"] == pytest.approx(2 * variant["mean_wait_min"]["diff_mean"])
    assert "Dummy doubled wait (min)" in _storeq("compare", str(SMALL), "--set", "counters.groups.tellers.staffed=3")


@pytest.mark.usefixtures("dummy_kpi")
def test_a_new_kpi_shows_in_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "3")
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")
    st.cache_data.clear()  # results cached by another test were computed without the dummy
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        tables = [df.value for df in at.dataframe if DUMMY.manager_label in df.value.index]
        assert tables, "the What-if page shows no table with the new KPI"
        row = tables[0].loc[DUMMY.manager_label]
        assert row.iloc[0].endswith(" min")  # formatted by its catalogue unit
    finally:
        st.cache_data.clear()
