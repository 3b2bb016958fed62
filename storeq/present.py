"""How a KPI figure reads: one place for number formats, by the unit in the KPI catalogue.

Every face formats through here: the CLI's tables, the app's cards, tables and verdicts. The unit of
a KPI comes from :mod:`storeq.kpis`; the functions take the unit (``"min"``, ``"share"``, ...) so a
page can format any number it has a unit for. Two styles, because a figure is read in two settings:

``"text"`` (default) — a figure that stands alone (an app card, a verdict sentence): it carries its
    unit (``8.2 min``, ``81.0%``, ``1,003 CNY``, ``+1.4 pts``), a missing value is ``n/a`` and a range
    is ``7.9–8.5 min``.
``"table"`` — a cell under a header that names the unit (:func:`header`): a bare number with the
    precision a column needs (``8.24``, ``81.0%``, ``1,003``), a missing value is ``—``, a range is
    ``7.91 … 8.50`` and a difference of shares is in ``pp``.

Machine outputs (JSON, CSV, Parquet) keep raw numbers; :func:`jsonable` turns NaN and infinity into
JSON ``null`` (an undefined KPI, e.g. no customers, is null, not a number).

This module imports nothing from the cores except the clock format, so any layer may use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from storeq.kpis import CATALOGUE, Kpi, headline

if TYPE_CHECKING:
    import pandas as pd

Style = Literal["text", "table"]

DEFAULT_CURRENCY = "CNY"
"""The currency when a scenario does not name one (``costs.currency``)."""

_DAY_MIN = 24 * 60


def some(items: Sequence[str], most: int = 6) -> str:
    """The first ``most`` names and how many more: a message stays readable when a file lists thousands."""
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most:,} more" if len(items) > most else "")


def missing(x: Any) -> bool:
    """True for None, NaN, infinity and anything that is not a number (shown as n/a or —)."""
    try:
        return x is None or not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def _clock(open_min: float, x: float) -> str:
    from simulation.clock import format_clock

    return format_clock(open_min + x)


# ---------------------------------------------------------------------------------------------
# KPI words: the header of a table column, the unit column of a CSV
# ---------------------------------------------------------------------------------------------


def kpi_unit(name: str) -> str:
    """The catalogue unit of KPI ``name``; ``""`` for a figure the catalogue does not know."""
    k = CATALOGUE.get(name)
    return k.unit if k is not None else ""


def _counted(k: Kpi) -> str:
    return k.counts or "customers"


def header(name: str, currency: str = DEFAULT_CURRENCY) -> str:
    """A table row or column name with its unit: ``Mean wait (min)``, ``Service level (%)``,
    ``Staff cost (CNY)``.

    Table cells are bare numbers, so money names its currency here; a clock speaks for itself.
    """
    k = CATALOGUE.get(name)
    if k is None:
        return name
    unit = {"share": "%", "min": "min", "hours": "h", "counters": "counters", "money": currency}.get(k.unit)
    if k.unit in ("count", "people"):
        unit = _counted(k)
    return f"{k.label} ({unit})" if unit else k.label


def csv_unit(name: str) -> str:
    """The ``unit`` column of a tidy CSV: ``min``, ``share``, ``customers``, ``min after opening``, ..."""
    k = CATALOGUE.get(name)
    if k is None:
        return ""
    if k.unit in ("count", "people"):
        return _counted(k)
    return {"hours": "h", "clock": "min after opening"}.get(k.unit, k.unit)


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------

_NEG_ZERO = re.compile(r"^-(0(?:\.0*)?)(%?)$")
_SUFFIX = {"share": "%", "%": "%", "min": " min", "hours": " h", "h": " h"}


def fmt_value(
    value: Any, unit: str, open_min: float = 0, currency: str = DEFAULT_CURRENCY, *, style: Style = "text"
) -> str:
    """A KPI value in its unit: percent for shares, a clock for clock figures, money with its currency.

    ``open_min`` (minutes after midnight the store opens) places a ``clock`` figure, which the
    results give in minutes after opening.
    """
    if style == "table":
        if missing(value):
            return "—"
        # a CI bound of a non-negative KPI can dip just below zero; "-0.00" reads like a bug
        return _NEG_ZERO.sub(r"\1\2", _table_value(float(value), unit, open_min))
    if missing(value):
        return "n/a"
    x = float(value)
    if unit == "clock":
        return _clock(0, round(open_min + x) % _DAY_MIN)
    if unit == "money":
        return f"{x:,.0f} {currency}"
    if unit in ("share", "%"):
        number = f"{100 * x:.1f}"
    elif unit in ("min", "people", "hours", "h"):
        number = f"{x:.1f}"
    else:
        number = f"{x:,.0f}"
    return number + _SUFFIX.get(unit, "")


def _table_value(x: float, unit: str, open_min: float) -> str:
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "min":
        return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"
    if unit in ("people", "counters"):
        return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"
    if unit == "count":
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"
    if unit == "money":
        return f"{x:,.0f}"
    if unit == "hours":
        return f"{x:.1f}"
    if unit == "clock":
        return _clock(open_min, x)
    return f"{x:.4g}"


# ---------------------------------------------------------------------------------------------
# differences (scenario − baseline)
# ---------------------------------------------------------------------------------------------

_SIGNED_ZERO = re.compile(r"^[+-](0(?:\.0*)?)$")


def fmt_delta(
    value: Any, unit: str, currency: str = DEFAULT_CURRENCY, *, style: Style = "text", suffix: bool = True
) -> str:
    """A signed change in the KPI's unit: percentage points for shares, minutes for clock figures.

    A change that rounds to nothing reads as ``0`` / ``+0.0``, never ``-0.0``. ``suffix=False`` drops
    the unit (the two ends of a range name it once).
    """
    if style == "table":
        return _table_delta(value, unit, suffix)
    if missing(value):
        return "n/a"
    x = float(value)
    if abs(x) < (0.0005 if unit in ("share", "%") else 0.05):
        x = 0.0  # no "-0.0": a change that rounds to nothing reads as none
    if unit in ("share", "%"):
        return f"{100 * x:+.1f}" + (" pts" if suffix else "")
    if unit in ("min", "clock"):
        return f"{x:+.1f}" + (" min" if suffix else "")
    if unit in ("hours", "h"):
        return f"{x:+.1f}" + (" h" if suffix else "")
    if unit == "money":
        return f"{x:+,.0f}" + (f" {currency}" if suffix else "")
    return f"{x:+.1f}"


def _table_delta(value: Any, unit: str, suffix: bool) -> str:
    if missing(value):
        return "—"
    x = float(value)
    if unit == "share":
        number = f"{100 * x:+.1f}"
    elif unit in ("min", "clock"):
        number = f"{x:+.2f}" if abs(x) < 10 else f"{x:+.1f}"
    elif unit in ("people", "counters"):
        number = f"{x:+.2f}"
    elif unit == "count":
        number = f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.1f}"
    elif unit == "money":
        number = f"{x:+,.0f}"
    elif unit == "hours":
        number = f"{x:+.1f}"
    else:
        number = f"{x:+.4g}"
    number = _SIGNED_ZERO.sub(r"\1", number)  # no "+0.0" or "-0.0": a zero difference is 0
    return number + ({"share": " pp", "clock": " min"}.get(unit, "") if suffix else "")


def fmt_delta_ci(low: Any, high: Any, unit: str, currency: str = DEFAULT_CURRENCY, *, style: Style = "text") -> str:
    """A change's 95% CI: ``-1.6 to -1.4 min`` (text, the unit once) or ``-1.62 … -1.38`` (table)."""
    if style == "table":
        if missing(low) or missing(high):
            return "—"
        return f"{_table_delta(low, unit, False)} … {_table_delta(high, unit, False)}"
    a, b = fmt_delta(low, unit, currency), fmt_delta(high, unit, currency)
    for suffix in (" min", " pts", " h", f" {currency}"):
        if a.endswith(suffix) and b.endswith(suffix):
            return f"{a.removesuffix(suffix)} to {b}"
    return f"{a} to {b}"


# ---------------------------------------------------------------------------------------------
# confidence intervals of a value
# ---------------------------------------------------------------------------------------------


def fmt_ci(
    low: Any, high: Any, unit: str, open_min: float = 0, currency: str = DEFAULT_CURRENCY, *, style: Style = "text"
) -> str:
    """A value's 95% CI: ``7.9–8.5 min`` (text; ``""`` when both ends read the same, i.e. the figure
    is the same on every simulated day) or ``7.91 … 8.50`` (table)."""
    if style == "table":
        if missing(low) or missing(high):
            return "—"
        return f"{fmt_value(low, unit, open_min, style='table')} … {fmt_value(high, unit, open_min, style='table')}"
    if missing(low) or missing(high):
        return "n/a"
    lo, hi = float(low), float(high)
    if unit in ("share", "%"):
        lo, hi = max(0.0, lo), min(1.0, hi)  # a share's CI never leaves [0, 1]
    a, b = fmt_value(lo, unit, open_min, currency), fmt_value(hi, unit, open_min, currency)
    if a == b:
        return ""
    if unit == "clock":
        return f"{a}–{b}"
    suffix = {"min": " min", "hours": " h", "h": " h", "share": "%", "%": "%", "money": f" {currency}"}.get(unit, "")
    if suffix and a.endswith(suffix):
        a = a[: -len(suffix)]
    # "-2,442–-2,346" reads as a typo; with a negative end the range is spelled out
    return f"{a} to {b}" if lo < 0 or hi < 0 else f"{a}–{b}"


def fmt_with_ci(
    mean: Any, low: Any, high: Any, unit: str, open_min: float = 0, currency: str = DEFAULT_CURRENCY
) -> str:
    """``8.2 min (7.9–8.5)``, or the value alone when it is the same on every simulated day."""
    ci = fmt_ci(low, high, unit, open_min, currency)
    value = fmt_value(mean, unit, open_min, currency)
    return f"{value} ({ci})" if ci and ci != "n/a" else value


# ---------------------------------------------------------------------------------------------
# every figure of a day, for a table
# ---------------------------------------------------------------------------------------------


def report_order(names: Iterable[str]) -> list[str]:
    """The catalogue's headline KPIs first, in its order; any other figure follows in the order given."""
    present = list(dict.fromkeys(str(n) for n in names))
    first = [k for k in headline() if k in present]
    return first + [k for k in present if k not in first]


def day_rows(
    kpis: pd.DataFrame, open_min: float = 0, currency: str = DEFAULT_CURRENCY, *, style: Style = "text"
) -> list[dict[str, str]]:
    """Every day KPI of a result (``RunResult.kpis``: index KPI name; mean, ci_low, ci_high), in report
    order, as ``{"kpi", "label", "value", "ci"}`` of text.

    The label is the manager's (``text``) or the table header with its unit (``table``). This is how
    a KPI added to the catalogue (and computed by the results) reaches the CLI's day table and the
    app's table of every figure without either naming it.
    """
    rows = []
    for name in report_order(kpis.index):
        mean, low, high = (kpis.at[name, c] for c in ("mean", "ci_low", "ci_high"))
        k = CATALOGUE.get(name)
        unit = k.unit if k is not None else ""
        label = header(name, currency) if style == "table" else (k.manager_label if k is not None else name)
        rows.append({
            "kpi": name,
            "label": label,
            "value": fmt_value(mean, unit, open_min, currency, style=style),
            "ci": fmt_ci(low, high, unit, open_min, currency, style=style),
        })
    return rows


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python numbers, NaN and infinity as None (JSON ``null``),
    timestamps as ISO text, mappings' keys as text and tuples as lists."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN/inf: an undefined KPI (e.g. no customers) is null
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj
