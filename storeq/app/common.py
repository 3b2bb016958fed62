"""Shared helpers for the storeq app: settings, scenario sources, cached model calls, KPI formatting.

The app is widgets → Scenario → cached pure call → charts. Everything the model computes goes
through the ``st.cache_data`` functions here, keyed by the scenario's YAML text, the seed and the
number of replications (the Scenario is rebuilt inside), so a page rerun never re-simulates what it
has already seen. Session State holds only what the user typed and picked.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from simulation import Scenario, ScenarioError, format_clock, scenario_from_yaml, scenario_to_yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SCENARIO = "telecom_month_end.yaml"

MAX_UPLOAD_BYTES = 1_000_000
"""Scenario files are a few KB. The server refuses bigger uploads too (``.streamlit/config.toml``);
this check also covers pasted text and keeps the message in words."""

# One colour per scenario position, used by every chart and table on every page: the baseline (or
# the first scenario compared) is always blue, the edited plan always orange.
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2")
BASELINE, EDITED = "Baseline", "Edited plan"


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------


def default_replications(scenario: Scenario | None = None) -> int:
    """Replications per run: ``STOREQ_APP_REPLICATIONS`` (tests use a few) or the scenario's own."""
    env = os.environ.get("STOREQ_APP_REPLICATIONS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return scenario.simulation.replications if scenario is not None else 100


def workers() -> int:
    """Worker processes per run: ``STOREQ_APP_WORKERS``, else up to 2 (the 2-core target machine)."""
    env = os.environ.get("STOREQ_APP_WORKERS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


# ---------------------------------------------------------------------------------------------
# scenario sources
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=256)
def _is_scenario_file(name: str, mtime_ns: int) -> bool:
    """True when the file validates as a scenario (``scenarios/`` also holds staff and log-mapping files)."""
    try:
        scenario_from_yaml((SCENARIO_DIR / name).read_bytes(), name)
    except (ScenarioError, OSError):
        return False
    return True


def bundled_scenarios() -> list[str]:
    """Scenario files in ``scenarios/`` (other YAML there, e.g. staff lists, is left out), the default first."""
    names = sorted(p.name for p in SCENARIO_DIR.glob("*.yaml") if _is_scenario_file(p.name, p.stat().st_mtime_ns))
    if DEFAULT_SCENARIO in names:
        names.remove(DEFAULT_SCENARIO)
        names.insert(0, DEFAULT_SCENARIO)
    return names


def read_bundled(name: str) -> str:
    """The text of a bundled scenario (only names listed by :func:`bundled_scenarios`)."""
    if name not in bundled_scenarios():
        raise ScenarioError(name, [("", f"not a bundled scenario; choose one of {', '.join(bundled_scenarios())}")])
    return (SCENARIO_DIR / name).read_text(encoding="utf-8")


def parse_scenario_text(data: bytes | str, source: str) -> tuple[Scenario, str]:
    """Validate an uploaded or pasted scenario; returns it and its canonical YAML text.

    Raises ScenarioError (with every problem) for oversize, non-UTF-8, non-YAML or invalid input.
    The YAML is read with storeq's SafeLoader subclass: no object tags, clocks stay clocks.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_UPLOAD_BYTES:
        raise ScenarioError(source, [("", f"is {size:,} bytes; scenario files are at most {MAX_UPLOAD_BYTES:,} bytes (1 MB)")])
    if not data.strip():
        raise ScenarioError(source, [("", "is empty; a scenario needs at least demand, transactions and counters")])
    scenario = scenario_from_yaml(data, source)
    return scenario, scenario_to_yaml(scenario)


@st.cache_data(show_spinner=False, max_entries=64)
def scenario_from_key(yaml_text: str) -> Scenario:
    """Rebuild a Scenario from its canonical YAML (the cache key every model call uses)."""
    return scenario_from_yaml(yaml_text, "scenario")


def problems_text(problems: Sequence[tuple[str, str]]) -> str:
    """ScenarioError problems as a Markdown bullet list, key paths in code style."""
    return "\n".join(f"- `{p}`: {m}" if p else f"- {m}" for p, m in problems)


def show_problems(problems: Sequence[tuple[str, str]], intro: str = "") -> None:
    """One red box listing the problems in words (used next to the input that caused them)."""
    if problems:
        st.error((intro + "\n\n" if intro else "") + problems_text(problems), icon=":material/error:")


# ---------------------------------------------------------------------------------------------
# cached model calls
# ---------------------------------------------------------------------------------------------


def engine_ready() -> bool:
    """True when the simulation engine (``simulation.run``) is importable."""
    try:
        from simulation import run  # noqa: F401
    except ImportError:
        return False
    return True


def _progress_bar(label: str) -> tuple[Any, Callable[[int, int], None]]:
    """A progress bar in a placeholder created *inside* the cached call (so cache replay is valid)."""
    holder = st.empty()
    bar = holder.progress(0.0, text=label)

    def callback(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done} of {total} replications")

    return holder, callback


@st.cache_data(show_spinner=False, max_entries=32)
def run_cached(yaml_text: str, seed: int, replications: int, label: str = "Simulating") -> Any:
    """``simulation.run`` for the scenario with this YAML, seed and replications (cached).

    ``label`` names the progress bar only; it is part of the key so a replay shows nothing stale.
    """
    from simulation import run

    scenario = scenario_from_key(yaml_text)
    holder, callback = _progress_bar(label)
    result = run(scenario, replications=replications, seed=seed, workers=workers(), progress=callback)
    holder.empty()
    return result


@st.cache_data(show_spinner=False, max_entries=16)
def customers_cached(yaml_text: str, seed: int, replications: int) -> pd.DataFrame:
    """Per-customer records of the first few replications (the wait-time distribution needs them).

    Replication r uses child r of the seed in every run, so these are the same customers as the
    first replications of the full run; a few are enough for a distribution and keep memory small.
    """
    from simulation import run

    scenario = scenario_from_key(yaml_text)
    result = run(scenario, replications=replications, seed=seed, workers=1, keep_customers=True)
    customers = result.customers
    return customers if customers is not None else pd.DataFrame()


@st.cache_data(show_spinner=False, max_entries=16)
def compare_cached(yaml_texts: tuple[str, ...], seed: int, replications: int, labels: tuple[str, ...]) -> Any:
    """``simulation.compare`` for two to four scenarios with common random numbers (cached)."""
    from simulation import compare

    scenarios = [scenario_from_key(t) for t in yaml_texts]
    holder, callback = _progress_bar("Simulating the plans")
    result = compare(scenarios, replications=replications, seed=seed, workers=workers(), progress=callback, labels=list(labels))
    holder.empty()
    return result


# ---------------------------------------------------------------------------------------------
# paired differences (common random numbers)
# ---------------------------------------------------------------------------------------------


def paired_change(base: Any, plan: Any) -> pd.DataFrame:
    """Day-KPI differences plan − base with 95% CIs, pairing replication r with r.

    Both runs used the same seed, so replication r saw the same customers in both; the engine's
    ``paired_differences`` (one definition of the CI for the CLI and the app) removes that shared
    noise. Indexed by KPI name, columns diff_mean, diff_ci_low, diff_ci_high.
    """
    from simulation.results import paired_differences

    diffs, _ = paired_differences([base, plan], ["base", "plan"])
    return diffs.set_index("kpi")[["diff_mean", "diff_ci_low", "diff_ci_high"]]


def paired_interval_change(base: Any, plan: Any, kpi: str) -> pd.DataFrame:
    """Per-interval paired differences plan − base of one KPI (empty when the interval grids differ).

    Columns: interval, start, diff_mean, diff_ci_low, diff_ci_high.
    """
    from simulation.results import paired_differences

    _, idiffs = paired_differences([base, plan], ["base", "plan"])
    if idiffs.empty:
        return idiffs
    return idiffs[idiffs["kpi"] == kpi][["interval", "start", "diff_mean", "diff_ci_low", "diff_ci_high"]]


# ---------------------------------------------------------------------------------------------
# KPI formatting
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSpec:
    """How a KPI reads to a manager: its label, unit and which direction is better."""

    name: str
    label: str
    unit: str  # "min", "%", "people", "h", "money", "clock", "count"
    better: str  # "lower", "higher" or "" (neither)
    help: str


KPIS: tuple[KpiSpec, ...] = (
    KpiSpec("mean_wait_min", "Mean wait", "min", "lower", "Average minutes from taking a ticket to reaching a counter."),
    KpiSpec("p90_wait_min", "90% waited less than", "min", "lower", "9 in 10 counter customers waited less than this."),
    KpiSpec("service_level", "Served within target", "%", "higher", "Share served within the target wait (of those served or who gave up)."),
    KpiSpec("abandonment_rate", "Gave up waiting", "%", "lower", "Share of customers in the counter queue who left before being served."),
    KpiSpec("mean_queue_len", "People waiting", "people", "lower", "Time-average number waiting for a counter during opening hours."),
    KpiSpec("utilization", "Counter utilization", "%", "", "Busy counter time over staffed counter time."),
    KpiSpec("staff_hours", "Staff hours", "h", "lower", "Counter staff hours for the day, including time after closing."),
    KpiSpec("cross_sell_revenue", "Cross-sell margin", "money", "higher", "Margin from accepted offers in the day."),
    KpiSpec("last_departure_min", "Last customer leaves", "clock", "lower", "When the last customer leaves the store."),
)
KPI_BY_NAME = {k.name: k for k in KPIS}


def fmt_value(value: float, unit: str, open_min: int = 0) -> str:
    """A KPI value in the unit a manager reads (percent, minutes, a clock)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "min":
        return f"{value:.1f} min"
    if unit == "people":
        return f"{value:.1f}"
    if unit == "h":
        return f"{value:.1f} h"
    if unit == "money":
        return f"{value:,.0f}"
    if unit == "clock":
        return format_clock(round(open_min + value) % (24 * 60))
    return f"{value:,.0f}"


def fmt_delta(value: float, unit: str) -> str:
    """A signed change in the KPI's unit (percentage points for shares, minutes for clocks)."""
    if value is None or math.isnan(value):
        return "n/a"
    if abs(value) < (0.0005 if unit == "%" else 0.05):
        value = 0.0  # no "-0.0": a change that rounds to nothing reads as none
    if unit == "%":
        return f"{100 * value:+.1f} pts"
    if unit in ("min", "clock"):
        return f"{value:+.1f} min"
    if unit == "h":
        return f"{value:+.1f} h"
    if unit == "money":
        return f"{value:+,.0f}"
    return f"{value:+.1f}"


def fmt_delta_ci(low: float, high: float, unit: str) -> str:
    """A change's CI as "-1.6 to -1.4 min" (the unit once)."""
    a, b = fmt_delta(low, unit), fmt_delta(high, unit)
    for suffix in (" min", " pts", " h"):
        if a.endswith(suffix) and b.endswith(suffix):
            return f"{a.removesuffix(suffix)} to {b}"
    return f"{a} to {b}"


def fmt_ci(low: float, high: float, unit: str, open_min: int = 0) -> str:
    """"low–high" in the KPI's unit."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    if unit == "clock":
        return f"{fmt_value(low, unit, open_min)}–{fmt_value(high, unit, open_min)}"
    a, b = fmt_value(low, unit, open_min), fmt_value(high, unit, open_min)
    suffix = {"min": " min", "h": " h", "%": "%"}.get(unit, "")
    if suffix and a.endswith(suffix):
        a = a[: -len(suffix)]
    return f"{a}–{b}"


def kpi_row(kpis: pd.DataFrame, name: str) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of one KPI from a ``RunResult.kpis`` frame (NaN when absent)."""
    if name not in kpis.index:
        return (math.nan, math.nan, math.nan)
    mean, low, high = kpis.loc[name, ["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
    return (float(mean), float(low), float(high))


def significant(low: float, high: float) -> bool:
    """True when a difference's 95% CI excludes zero."""
    return not (math.isnan(low) or math.isnan(high)) and (low > 0 or high < 0)


def interval_frame(result: Any, kpi: str, label: str) -> pd.DataFrame:
    """One interval KPI of a run as a tidy frame with a clock column for charts."""
    df = result.intervals
    df = df[df["kpi"] == kpi].copy()
    df["scenario"] = label
    return df


def clock_to_datetime(labels: Sequence[str] | pd.Series) -> pd.Series:
    """"HH:MM" clocks as datetimes on a fixed day, so Altair draws a real time axis."""
    return pd.to_datetime(pd.Series(list(labels)).map(lambda c: f"2000-01-01 {c}"), format="%Y-%m-%d %H:%M")


def staff_hours_of(scenario: Scenario) -> float:
    """Scheduled counter-staff hours in opening hours (the roster the manager sets)."""
    return float(np.sum(scenario.staffed_schedule()) * scenario.store.interval_min / 60.0)


def as_dict(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(obj) if obj else {}


# ---------------------------------------------------------------------------------------------
# the optimizer's staffing requirement (when the optimizer package provides one)
# ---------------------------------------------------------------------------------------------


def required_counters(scenario: Scenario) -> tuple[np.ndarray, str] | None:
    """Counters required per interval for the scenario's target, and how it was worked out.

    None when the optimizer does not offer a requirement, so the page says so instead of guessing.
    """
    return _required_cached(scenario_to_yaml(scenario))


@st.cache_data(show_spinner=False, max_entries=32)
def _required_cached(yaml_text: str) -> tuple[np.ndarray, str] | None:
    try:
        from optimizer import ServiceTarget, analytic_requirement
    except ImportError:
        return None
    scenario = scenario_from_key(yaml_text)
    pitching = scenario.cross_sell.policy.mode == "always"
    req = analytic_requirement(scenario, ServiceTarget(service_level=0.8), "erlang_a_lagged", pitching=pitching)
    how = (
        f"counters needed for 80% served within {scenario.store.target_wait_min:g} min, from the optimizer's "
        f"Erlang A formula (customers who give up included, demand lagged by one service time), "
        + ("with every pitchable customer pitched." if pitching else "without pitching.")
    )
    return np.asarray(req.needed, dtype=float), how
