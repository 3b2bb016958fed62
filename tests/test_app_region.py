"""The Region page with ``streamlit.testing.v1.AppTest``: pick a region, rank, plan within a budget, move staff.

A pasted two-hall table and 3 replications keep it fast (the numbers are checked in test_region.py);
one test renders the bundled 16-hall example without simulating more than the table fit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "storeq/app/region.py"
TABLE = (
    "name,district,counters,kiosks,served_per_day,avg_wait_min,avg_transaction_min,hours,profile,lat,lon\n"
    "North Gate,Town,4,1,150,6,6,08:30-12:30,county_town,31.50,121.30\n"
    "South Gate,Town,3,1,70,4,6,08:30-12:30,county_town,31.52,121.31\n"
    "Broken,Town,0,1,70,4,6,08:30-12:30,county_town,31.52,121.31\n"
)


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "3")
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _pasted() -> AppTest:
    at = _page()
    at.radio(key="k_region_source").set_value("Paste a store table").run()
    at.text_area(key="k_region_paste").set_value(TABLE).run()
    assert not at.exception, at.exception
    return at


def test_region_page_renders_the_example() -> None:
    at = _page()
    assert at.title[0].value == "Region"
    assert any("16 halls in 5 districts" in m.value for m in at.markdown)
    assert not at.error


def test_rank_plan_and_moves_on_a_pasted_table() -> None:
    at = _pasted()
    assert any("2 halls in 1 districts" in m.value for m in at.markdown)
    assert any("row 4 (Broken)" in w.value and "counters" in w.value for w in at.warning)  # bad row named, rest go on

    at.button(key="region_rank_btn").click().run()
    assert not at.exception, at.exception
    ranking = next(d.value for d in at.dataframe if {"store", "class", "peak"} <= set(d.value.columns))
    assert list(ranking["store"]) == ["North Gate", "South Gate"] or list(ranking["store"]) == ["South Gate", "North Gate"]
    assert set(ranking["class"]) <= {"very busy", "busy", "normal"}
    charts = [e for e in _walk(at.main) if getattr(e, "type", "") == "vega_lite_chart"]
    assert len(charts) >= 3  # value per hall and fix, value per cost, and the map (coordinates given)

    at.number_input(key="k_region_money").set_value(100.0).run()
    at.button(key="region_plan_btn").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Solver"] == "OPTIMAL"
    assert float(metrics["Money used per day"].replace(",", "")) <= 100

    at.button(key="region_moves_btn").click().run()
    assert not at.exception, at.exception
    assert at.session_state["region_moves"] is not None


def test_bad_upload_text_is_explained_next_to_the_input() -> None:
    at = _page()
    at.radio(key="k_region_source").set_value("Paste a store table").run()
    at.text_area(key="k_region_paste").set_value("name,counters\nA,3\n").run()
    assert not at.exception, at.exception
    assert any("missing column(s)" in re.sub(r"\\(.)", r"\1", e.value) for e in at.error)  # as read: messages are Markdown-escaped
