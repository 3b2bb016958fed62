"""Session State for the app: only what the user picked and typed, never model results.

Keys
----
``base_name`` / ``base_yaml``
    The scenario the What-if page starts from (a bundled file or an upload), as canonical YAML.
``uploads``
    Uploaded or pasted scenarios that passed validation, ``{label: yaml}``, kept so nothing is lost.
``saved_plans``
    Plans saved from the What-if page for the Compare page, ``{name: yaml}``.
``k_*``
    What-if knob widgets. ``app.py`` re-assigns them on every run so they survive page switches
    (Streamlit drops the state of widgets a page does not draw).
``staff_row`` / ``staff_clocks`` / ``staff_ver``, ``demand_row`` / ``demand_ver``
    The staffed-counters and demand rows (not widget values: the data editors show them and write
    edits back; the version is part of the editor's key).
``last_run``
    What the results on the What-if page were computed for (YAML texts, seed, replications); the
    results themselves come from the ``st.cache_data`` functions in :mod:`storeq.app.common`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from simulation import Scenario, ScenarioError

from .common import (
    DEFAULT_SCENARIO,
    bundled_scenarios,
    default_replications,
    parse_scenario_text,
    read_bundled,
    scenario_from_key,
)
from .editing import apply_knobs, knobs_from_scenario

KNOB_KEYS = ("open", "close", "scale", "vip", "kiosks", "greeter", "greeter_windows", "diversion", "policy", "suspend", "threshold", "both", "patience", "date")
PERSISTENT_PREFIX = "k_"


def ensure_state() -> None:
    """First visit: load the default store and set every knob from it."""
    ss = st.session_state
    ss.setdefault("uploads", {})
    ss.setdefault("saved_plans", {})
    ss.setdefault("staff_ver", 0)
    if "base_yaml" not in ss:
        names = bundled_scenarios()
        name = DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0]
        _, text = parse_scenario_text(read_bundled(name), f"scenarios/{name}")
        set_base(name, text)
    base = base_scenario()
    ss.setdefault("k_reps", default_replications(base))
    ss.setdefault("k_seed", int(base.simulation.seed))


def keep_widget_state() -> None:
    """Re-assign the knob widgets' values so they survive visits to pages that do not draw them."""
    ss = st.session_state
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(PERSISTENT_PREFIX):
            ss[key] = ss[key]


def set_base(name: str, yaml_text: str) -> None:
    """Make ``yaml_text`` the What-if starting point and reset every knob to it."""
    ss = st.session_state
    ss["base_name"], ss["base_yaml"] = name, yaml_text
    ss["k_source"] = name
    scenario = scenario_from_key(yaml_text)
    knobs = knobs_from_scenario(scenario)
    for key in KNOB_KEYS:
        ss[PERSISTENT_PREFIX + key] = knobs[key]
    ss["group_rows"] = knobs["group_rows"]
    ss["k_group"] = next(iter(knobs["group_rows"])) if knobs["group_rows"] else None
    ss["group_current"] = ss["k_group"]
    set_staff_row(knobs["staff_row"], knobs["staff_clocks"])
    set_demand_row(knobs["demand_row"])
    ss.pop("last_run", None)
    ss["add_log"], ss["add_undo"] = [], []


def set_staff_row(row: list[int], clocks: list[str]) -> None:
    """Replace the staffing row (and redraw its editor from it)."""
    ss = st.session_state
    ss["staff_row"], ss["staff_clocks"] = [int(v) for v in row], list(clocks)
    # the "set every interval" box shows the row's value when the row is one number, else its most common value
    ss["k_all_day"] = int(max(set(row), key=list(row).count)) if row else 0
    ss["staff_ver"] = ss.get("staff_ver", 0) + 1


def switch_group(name: str) -> None:
    """Show group ``name``'s staffing row, keeping the edits of the group shown before."""
    ss = st.session_state
    rows = dict(ss.get("group_rows") or {})
    if ss.get("group_current") in rows:
        rows[ss["group_current"]] = list(ss["staff_row"])
    ss["group_rows"], ss["group_current"] = rows, name
    set_staff_row(rows[name], ss["staff_clocks"])


def set_demand_row(row: list[float]) -> None:
    """Replace the demand row (customers per hour per interval, on the staffing row's clocks)."""
    ss = st.session_state
    ss["demand_row"] = [float(v) for v in row]
    ss["demand_ver"] = ss.get("demand_ver", 0) + 1


def raw_text(label: str) -> str | None:
    """The text of a store as its file was written (bundled or uploaded), comments included; None if unknown."""
    if label in st.session_state.get("upload_raw", {}):
        return str(st.session_state["upload_raw"][label])
    if label in bundled_scenarios():
        return read_bundled(label)
    return None


def base_scenario() -> Scenario:
    return scenario_from_key(st.session_state["base_yaml"])


def knobs() -> dict[str, Any]:
    """The knob values as :func:`storeq.app.editing.build_updates` reads them."""
    ss = st.session_state
    out = {key: ss.get(PERSISTENT_PREFIX + key) for key in KNOB_KEYS}
    out["staff_row"] = list(ss["staff_row"])
    if ss.get("group_rows"):
        # the row on show is the current group's; the other groups keep theirs
        out["group_rows"] = {**ss["group_rows"], ss["group_current"]: list(ss["staff_row"])}
    out["staff_clocks"] = list(ss["staff_clocks"])
    out["demand_row"] = list(ss["demand_row"])
    return out


def edited_scenario() -> tuple[Scenario | None, ScenarioError | None]:
    """The plan the knobs describe, validated: (scenario, None) or (None, the problems)."""
    try:
        return apply_knobs(base_scenario(), knobs()), None
    except ScenarioError as err:
        return None, err


def run_settings() -> tuple[int, int]:
    """(replications, seed) from the sidebar."""
    ss = st.session_state
    return int(ss["k_reps"]), int(ss["k_seed"])


def load_bundled(name: str) -> list[tuple[str, str]]:
    """Switch the What-if starting point to a bundled scenario or a kept upload.

    Returns the problems if the file does not validate (then nothing changes).
    """
    ss = st.session_state
    if name in ss["uploads"]:
        set_base(name, ss["uploads"][name])
        return []
    try:
        _, text = parse_scenario_text(read_bundled(name), f"scenarios/{name}")
    except ScenarioError as err:
        ss["k_source"] = ss["base_name"]
        return list(err.problems)
    set_base(name, text)
    return []


def accept_upload(data: bytes | str, filename: str) -> list[tuple[str, str]]:
    """Validate an uploaded/pasted scenario; on success keep it and make it the starting point.

    Returns the problems (empty on success). On failure nothing the user had is touched.
    """
    try:
        scenario, text = parse_scenario_text(data, filename)
    except ScenarioError as err:
        return list(err.problems)
    label = f"{filename} (uploaded)"
    st.session_state["uploads"][label] = text
    # the text as written (comments and all), so a downloaded plan keeps the user's notes
    raw = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    st.session_state.setdefault("upload_raw", {})[label] = raw
    set_base(label, text)
    del scenario
    return []
