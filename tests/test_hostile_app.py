"""Hostile uploads in the app (issue 8, item 7): every loader error is one of the project's errors, so
the page's existing error display shows it next to the input; nothing is simulated for an absurd file.

The loaders are shared with the CLI (``tests/test_hostile_inputs.py``); these cases check the app's
side: the message on the page, the store kept, and no exception escaping into Streamlit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from calibration import LogError, mapping_from_yaml_text, read_log_bytes
from simulation.limits import limit
from simulation.scenario import ScenarioError
from storeq.app.common import parse_scenario_text

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "5")
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _paste(text: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.text_area(key="paste_text").input(text).run()
    next(b for b in at.button if b.label == "Use the pasted scenario").click().run()
    assert not at.exception, at.exception  # nothing escaped to Streamlit's red traceback box
    return at


def test_absurd_arrival_rate_is_refused_before_the_page_simulates() -> None:
    text = FLAGSHIP.read_text()
    absurd = text.replace("scale: 1.0", "scale: 100000.0") if "scale: 1.0" in text else text + "\n"
    assert absurd != text
    at = _paste(absurd)
    errors = "\n".join(e.value for e in at.error)
    assert "customers in one simulated day" in errors and f"{limit('customers_per_day'):,}" in errors
    assert at.selectbox(key="k_source").value == "telecom_month_end.yaml"  # the working store is kept


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: " + "[" * 1000 + "]" * 1000 + "\n", "nested more than"),  # was a RecursionError, uncaught
        ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)), "alias references"),
        ("simulation: {replications: true}\n", "true/false is not a number"),
    ],
    ids=["deep", "alias-bomb", "bool"],
)
def test_hostile_scenario_text_is_a_scenario_error(text: str, needle: str) -> None:
    with pytest.raises(ScenarioError, match=needle):
        parse_scenario_text(text, "upload.yaml")


def test_deep_nesting_upload_shows_a_message_on_the_page() -> None:
    at = _paste("name: " + "[" * 1000 + "]" * 1000 + "\n")
    assert "nested more than" in "\n".join(e.value for e in at.error)


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        (b"sheet: null\n", "sheet: must be one sheet"),
        (b"columns: [1, 2]\n", "columns: must map"),
        (b"values: {outcome: null}\n", "values: must map"),
        (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n", "alias references"),
        (b"\xff\xfe\x00binary", "holds binary data"),
    ],
    ids=["sheet-null", "columns-list", "values-null", "alias", "binary"],
)
def test_mapping_uploads_raise_only_log_errors(mapping: bytes, needle: str) -> None:
    # the Calibration page catches ValueError (LogError is one): AttributeError/RecursionError never escape
    with pytest.raises(LogError, match=needle):
        mapping_from_yaml_text(mapping, "map.yaml")


def test_log_uploads_raise_only_log_errors() -> None:
    with pytest.raises(LogError, match="binary data"):
        read_log_bytes(b"PK\x03\x04\x00\x00garbage", "log.csv")
    with pytest.raises(LogError, match="cannot be read as a Parquet"):
        read_log_bytes(b"not parquet at all", "log.parquet")
    with pytest.raises(LogError, match="cannot be read as an Excel"):
        read_log_bytes(b"not a workbook", "log.xlsx")
