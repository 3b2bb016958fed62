"""Shared helpers for the storeq app: settings, scenario sources, cached model calls, KPI formatting.

The app is widgets → Scenario → cached pure call → charts. Everything the model computes goes
through the ``st.cache_data`` functions here, keyed by the scenario's YAML text, the seed and the
number of replications (the Scenario is rebuilt inside), so a page rerun never re-simulates what it
has already seen. Session State holds only what the user typed and picked.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from simulation import Scenario, ScenarioError, format_clock, scenario_from_yaml, scenario_to_yaml
from storeq.examples import scenarios_dir
from storeq.present import fmt_ci as fmt_ci  # number formats live in storeq.present (CLI and app)
from storeq.present import fmt_delta as fmt_delta
from storeq.present import fmt_delta_ci as fmt_delta_ci
from storeq.present import fmt_value as fmt_value
from storeq.present import fmt_with_ci as fmt_with_ci

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = scenarios_dir()  # the checkout's scenarios/, or the copy installed with the package
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


# Every ASCII punctuation character CommonMark lets a backslash escape that Markdown, GFM autolinks,
# Streamlit's directives (:red[...], :material/x:), LaTeX ($...$) or raw HTML could act on.
_MARKDOWN_SIGNIFICANT = re.compile(r"([\\`*_\[\](){}#+\-.!~>|$<&:@=^\"])")


def literal(text: object) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it exactly as typed, on one line.

    Store, segment, plan, staff, hall and file names come from users' files: a name such as
    ``[click](http://x)``, ``![x](y.png)``, ``$x^2$``, ``**bold**`` or ``<b>hi</b>`` must read as
    those characters, never as a link, an image, formula, formatting or HTML. Every character
    Markdown (or GFM's autolinks, Streamlit's ``:directives:``, LaTeX, HTML) could act on gets a
    backslash, which CommonMark defines as "this character, literally" for any ASCII punctuation;
    line breaks become spaces (a newline could start a list or heading). Use it for user text put
    into st.markdown/caption/success/info/warning/error/toast/subheader, metric values and widget
    labels; plain-text APIs (st.text, st.code, dataframe cells, Altair) need nothing.
    """
    one_line = " ".join(str(text).splitlines())
    return _MARKDOWN_SIGNIFICANT.sub(r"\\\1", one_line)


def _key_path(path: str) -> str:
    """A problem's key path in code style, or escaped text when it could break out of a code span."""
    return f"`{path}`" if "`" not in path and "\n" not in path else literal(path)


def problems_text(problems: Sequence[tuple[str, str]]) -> str:
    """ScenarioError problems as a Markdown bullet list, key paths in code style.

    The messages quote the user's values (names, file names), so they are shown literally.
    """
    return "\n".join(f"- {_key_path(p)}: {literal(m)}" if p else f"- {literal(m)}" for p, m in problems)


def show_problems(problems: Sequence[tuple[str, str]], intro: str = "") -> None:
    """One red box listing the problems in words (used next to the input that caused them)."""
    if problems:
        st.error((intro + "\n\n" if intro else "") + problems_text(problems), icon=":material/error:")


# ---------------------------------------------------------------------------------------------
# cached model calls
# ---------------------------------------------------------------------------------------------


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


@st.cache_data(show_spinner="Reading the waits of the first simulated days…", max_entries=16)
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


def paired_differences_frame(base: Any, plan: Any, names: Sequence[str]) -> pd.DataFrame:
    """All per-interval paired differences plan − base, labelled with the plan's name (``names[1]``)."""
    from simulation.results import paired_differences

    _, idiffs = paired_differences([base, plan], [names[0], names[1]])
    return idiffs


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
    """How a KPI reads to a manager, taken from the one catalogue (:mod:`storeq.kpis`).

    ``unit`` is the catalogue's ("min", "share", "people", "count", "money", "hours", "clock",
    "counters"); ``label`` is its ``manager_label``.
    """

    name: str
    label: str
    unit: str
    better: str  # "lower", "higher" or "" (neither)
    help: str


def spec(name: str) -> KpiSpec | None:
    """The catalogue entry for ``name`` as the app reads it (None when the catalogue lacks it)."""
    from storeq.kpis import CATALOGUE

    k = CATALOGUE.get(name)
    return None if k is None else KpiSpec(k.name, k.manager_label, k.unit, k.better, k.help)


CARD_ORDER = ("mean_wait_min", "p90_wait_min", "service_level", "abandonment_rate", "mean_queue_len", "utilization",
              "staff_hours", "cross_sell_revenue", "last_departure_min")
"""The What-if cards and Compare rows, in reading order (three cards a row)."""
MONEY_ORDER = ("staff_cost", "greeter_cost", "kiosk_cost", "total_cost", "net_margin")
"""Money KPIs shown when the results carry them (greeter, kiosk and total cost, net margin)."""

KPIS: tuple[KpiSpec, ...] = tuple(s for s in (spec(n) for n in CARD_ORDER) if s is not None)
KPI_BY_NAME = {k.name: k for k in KPIS}


def money_specs(kpis: pd.DataFrame) -> list[KpiSpec]:
    """The money KPIs this result carries, in :data:`MONEY_ORDER` (only those in the catalogue)."""
    return [s for s in (spec(n) for n in MONEY_ORDER if n in kpis.index) if s is not None]


def currency_of(scenario: Scenario) -> str:
    """The scenario's currency (``costs.currency``), CNY when the file does not say."""
    return scenario.costs.currency


def fmt_change(mean: float, low: float, high: float, unit: str, currency: str = "CNY") -> str:
    """A paired change with its CI, "-1.7 min (-1.8 to -1.5 min)", or the change alone when it is the same every day."""
    if fmt_delta(low, unit, currency) == fmt_delta(high, unit, currency):
        return fmt_delta(mean, unit, currency)
    return f"{fmt_delta(mean, unit, currency)} ({fmt_delta_ci(low, high, unit, currency)})"


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


def pitching_per_interval(scenario: Scenario) -> tuple[list[bool], str]:
    """Whether the plan pitches in each interval, and the rule in words for captions.

    A queue rule cannot be known per interval in advance (it depends on the queue), so intervals
    under one count as pitching: the requirement is then the one for pitching, an upper bound.
    """
    policy = scenario.cross_sell.policy
    n = scenario.n_intervals
    if policy.mode == "never":
        return [False] * n, "without pitching (the plan never pitches)"
    windows = scenario.suspend_windows_min() if policy.suspend else []
    starts = scenario.interval_starts
    flags = [not any(a <= float(t) < b for a, b in windows) for t in starts]
    words = "with pitching where the plan pitches"
    if windows:
        words += f" (none in {', '.join(policy.suspend)})"
    if policy.threshold is not None and policy.mode != "always":
        words += f"; the plan also stops pitching while {policy.threshold} or more wait, so fewer counters may do at peaks"
    if policy.mode == "always":
        words = "with every pitchable customer pitched (the plan always pitches)"
    return flags, words


def required_counters(scenario: Scenario) -> tuple[np.ndarray, str]:
    """Counters required per interval for the scenario's target, and how it was worked out.

    The requirement follows the plan's pitching interval by interval (pitching lengthens service,
    so an interval where the plan pitches needs the pitching requirement).
    """
    return _required_cached(scenario_to_yaml(scenario))


@st.cache_data(show_spinner=False, max_entries=32)
def _required_cached(yaml_text: str) -> tuple[np.ndarray, str]:
    from optimizer import ServiceTarget, analytic_requirement

    scenario = scenario_from_key(yaml_text)
    flags, words = pitching_per_interval(scenario)
    target = ServiceTarget(service_level=0.8)
    # each requirement takes seconds on a busy day: work out only the one(s) the plan's pitching needs
    def need(pitching: bool) -> np.ndarray:
        return np.asarray(analytic_requirement(scenario, target, "erlang_a_lagged", pitching=pitching).needed, dtype=float)

    if all(flags):
        needed = need(True)
    elif not any(flags):
        needed = need(False)
    else:
        needed = np.where(np.asarray(flags), need(True), need(False))
    how = (
        f"counters needed for 80% served within {scenario.store.target_wait_min:g} min, from the optimizer's "
        f"Erlang A formula (customers who give up included, demand lagged by one service time), {words}."
    )
    return needed, how


# ---------------------------------------------------------------------------------------------
# what the engine supports (features other parts of the project are adding)
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def combined_pitch_rule_supported() -> bool:
    """True when the engine honours a policy with both ``suspend`` windows and a ``threshold``.

    Probed, not assumed: a one-interval store whose rule is "no pitches 09:00-09:01 and never while
    0 or more wait" must pitch to nobody when the threshold is honoured. Until the engine supports
    combined rules the What-if page offers one rule at a time, as before.
    """
    try:
        from simulation import run, scenario_from_dict

        probe = scenario_from_dict({
            "name": "probe",
            "store": {"open": "09:00", "close": "09:30", "interval_min": 30},
            "demand": {"arrivals_per_hour": 60},
            "segments": [{"name": "all", "share": 1.0}],
            "transactions": [{"name": "t", "share": 1.0, "counter_time": {"dist": "deterministic", "value": 1}}],
            "counters": {"staffed": 2},
            "cross_sell": {"pitch_time": {"dist": "deterministic", "value": 1}, "acceptance": 1.0, "margin": 1,
                           "policy": {"mode": "windows", "suspend": ["09:00-09:01"], "threshold": 0}},
            "simulation": {"replications": 1, "seed": 1},
        }, "probe")
        result = run(probe, replications=1, seed=1, workers=1)
        return bool(result.kpis["mean"].astype(float)["cross_sell_revenue"] == 0.0)
    except Exception:  # any refusal means "not supported"; the page falls back
        return False


# ---------------------------------------------------------------------------------------------
# a direct answer per time of day
# ---------------------------------------------------------------------------------------------

ANSWER_KPIS = ("mean_wait_min", "p90_wait_min", "mean_queue_len", "service_level", "abandonment_rate")


def interval_at(scenario: Scenario, clock: str) -> int | None:
    """The index of the interval containing ``clock`` ("HH:MM"), None outside opening hours."""
    from simulation import parse_clock

    m = parse_clock(clock) - scenario.store.open_min
    if m < 0 or m >= scenario.store.duration_min:
        return None
    return int(m // scenario.store.interval_min)


def time_answer(results: Sequence[Any], names: Sequence[str], clock: str, changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One column per plan: the KPIs of the interval containing ``clock``, each "mean (95% CI)", formatted.

    ``changes``: the paired interval differences (columns scenario, kpi, interval, diff_mean,
    diff_ci_low, diff_ci_high, as ``compare`` returns them, ``scenario`` matching ``names``) for a
    "change in wait" column against the first plan.
    """
    rows = []
    for i, (name, res) in enumerate(zip(names, results, strict=True)):
        sc = res.scenario
        k = interval_at(sc, clock)
        row: dict[str, str] = {"Plan": name}
        if k is None:
            row["Interval"] = f"closed at {clock}"
            rows.append(row)
            continue
        start = sc.interval_labels[k]
        end = format_clock(sc.store.open_min + (k + 1) * sc.store.interval_min)
        row["Interval"] = f"{start}-{end}"
        iv = res.intervals[res.intervals["interval"] == k].set_index("kpi")
        for name_ in ANSWER_KPIS:
            sp = spec(name_)
            if sp is None or name_ not in iv.index:
                continue
            m, lo, hi = (float(iv.loc[name_, c]) for c in ("mean", "ci_low", "ci_high"))
            label = sp.label if name_ != "service_level" else f"Served within {sc.store.target_wait_min:g} min"
            row[label] = fmt_with_ci(m, lo, hi, sp.unit)
        if "staffed" in iv.index:
            row["Counters"] = f"{float(iv.loc['staffed', 'mean']):.0f}"
        if changes is not None and i > 0 and len(changes):
            c = changes[(changes["scenario"] == name) & (changes["kpi"] == "mean_wait_min") & (changes["interval"] == k)]
            if len(c):
                d, dl, dh = (float(c.iloc[0][x]) for x in ("diff_mean", "diff_ci_low", "diff_ci_high"))
                row[f"Wait change vs {names[0]}"] = fmt_change(d, dl, dh, "min")
        rows.append(row)
    # one column per plan, one row per figure: reads down a plan, and stays narrow with four plans
    return pd.DataFrame(rows).set_index("Plan").fillna("").T.rename_axis(index=None, columns=None)


def busiest_clock(result: Any) -> str:
    """The start of the interval with the longest mean wait (the first question a manager asks)."""
    w = result.intervals[result.intervals["kpi"] == "mean_wait_min"]
    if w.empty:
        return str(result.scenario.interval_labels[0])
    return str(w.loc[w["mean"].astype(float).idxmax(), "start"])


def direction(better: str, low: float, high: float) -> str:
    """"better", "worse" or "same" for a change with CI [low, high] of a KPI where ``better`` is better."""
    if not significant(low, high) or not better:
        return "same"
    up = low > 0
    return "better" if (up and better == "higher") or (not up and better == "lower") else "worse"


def show_verdict(text: str, how: str, bold: bool = False) -> None:
    """A verdict box coloured by direction: green when the plan is better, orange when worse, blue when no difference."""
    body = f"**{text}**" if bold else text
    if how == "better":
        st.success(body, icon=":material/thumb_up:")
    elif how == "worse":
        st.warning(body, icon=":material/thumb_down:")
    else:
        st.info(body, icon=":material/drag_handle:")


# ---------------------------------------------------------------------------------------------
# calibration messages in the page's words
# ---------------------------------------------------------------------------------------------

# Files that are clearly not a table, by their first bytes: say what they are instead of guessing an encoding.
_NOT_A_LOG = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
              (b"\xd0\xcf\x11\xe0", "an old-style Office file (.xls/.doc)"))


def plain_error(message: str, name: str) -> str:
    """A calibration error in the page's words: the file's name, never a server path or a CLI flag."""
    message = re.sub(r"(/[\w.\-]+)+/(log|mapping)[\w.]*", name, message)  # a temporary path, if any slipped through
    mapping_upload = "a column mapping file (upload it under “Column mapping” above)"
    message = re.sub(r"use `?--map`?( mapping\.yaml)? to", "upload a column mapping file (“Column mapping” above) to", message)
    message = re.sub(r"map them with `?--map`?", f"map them with {mapping_upload}", message)
    message = re.sub(r"`?--map`?( mapping\.yaml)?", mapping_upload, message)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:  # pandas' tokenizer wording
        message = f"row {m.group(2)} has {m.group(3)} values where the header has {m.group(1)} columns (a stray separator or quote?)"
    return message


def not_a_log(data: bytes) -> str | None:
    """What the file is, when its first bytes show it is not a table at all."""
    for magic, what in _NOT_A_LOG:
        if data.startswith(magic):
            return what
    return None
