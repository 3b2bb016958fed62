"""storeq.present: one number format per KPI unit, in the two styles the faces use.

The CLI's tables (``style="table"``) and the app's cards and sentences (``style="text"``) both format
through storeq.present; these pin the shapes a reader relies on (units, signs, missing values).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from storeq import present
from storeq.kpis import CATALOGUE


@pytest.mark.parametrize(
    ("value", "unit", "text", "table"),
    [
        (8.234, "min", "8.2 min", "8.23"),
        (12.34, "min", "12.3 min", "12.3"),
        (0.8123, "share", "81.2%", "81.2%"),
        (3.456, "people", "3.5", "3.46"),
        (1234.4, "count", "1,234", "1,234"),
        (45.4, "count", "45", "45.4"),
        (1003.2, "money", "1,003 CNY", "1,003"),
        (76.0, "hours", "76.0 h", "76.0"),
        (552.5, "clock", "18:12", "18:12"),
    ],
)
def test_value_in_each_style(value: float, unit: str, text: str, table: str) -> None:
    assert present.fmt_value(value, unit, open_min=540) == text
    assert present.fmt_value(value, unit, open_min=540, style="table") == table


def test_money_carries_the_scenario_currency() -> None:
    assert present.fmt_value(1003, "money", currency="EUR") == "1,003 EUR"
    assert present.fmt_delta(-250, "money", "EUR") == "-250 EUR"
    assert present.fmt_ci(900, 1100, "money", currency="EUR") == "900–1,100 EUR"
    assert present.fmt_ci(-2442, -2346, "money") == "-2,442 to -2,346 CNY"  # not "-2,442–-2,346"


@pytest.mark.parametrize("missing", [math.nan, None, math.inf, np.float64("nan"), "x"])
def test_missing_values_never_print_nan(missing: object) -> None:
    assert present.fmt_value(missing, "min") == "n/a"
    assert present.fmt_value(missing, "min", style="table") == "—"
    assert present.fmt_delta(missing, "share", style="table") == "—"
    assert present.fmt_ci(missing, 1.0, "min", style="table") == "—"


def test_no_negative_zero() -> None:
    # a CI bound of a non-negative KPI can dip just below zero, a zero change is not "-0.0"
    assert present.fmt_value(-0.0001, "min", style="table") == "0.00"
    assert present.fmt_value(-0.00001, "share", style="table") == "0.0%"
    assert present.fmt_delta(-0.00001, "share", style="table") == "0.0 pp"
    assert present.fmt_delta(-0.01, "min") == "+0.0 min"


def test_differences_of_shares_are_points() -> None:
    assert present.fmt_delta(0.129, "share", style="table") == "+12.9 pp"
    assert present.fmt_delta(0.129, "share") == "+12.9 pts"
    assert present.fmt_delta_ci(-0.039, -0.019, "share", style="table") == "-3.9 … -1.9"
    assert present.fmt_delta_ci(-1.62, -1.38, "min") == "-1.6 to -1.4 min"


def test_ci_of_a_constant_figure_is_empty_in_text_and_a_share_stays_in_0_1() -> None:
    assert present.fmt_ci(81.0, 81.0, "hours") == ""
    assert present.fmt_with_ci(81.0, 81.0, 81.0, "hours") == "81.0 h"
    assert present.fmt_ci(0.95, 1.02, "share") == "95.0–100.0%"


def test_every_catalogue_kpi_has_a_header_and_a_csv_unit() -> None:
    for name, k in CATALOGUE.items():
        assert present.header(name).startswith(k.label)
        assert present.csv_unit(name), name
    assert present.header("mean_queue_len") == "Mean queue length (customers)"
    assert present.header("pitch_accepted") == "Offers accepted (sales)"
    assert present.csv_unit("last_departure_min") == "min after opening"
    assert present.header("not_a_kpi") == "not_a_kpi" and present.csv_unit("not_a_kpi") == ""


def test_jsonable_turns_nan_into_null() -> None:
    obj = {"a": np.float64("nan"), "b": (1, np.int64(2)), 3: [math.inf, 0.5]}
    assert json.dumps(present.jsonable(obj)) == '{"a": null, "b": [1, 2], "3": [null, 0.5]}'
