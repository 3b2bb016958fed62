"""Scenario page: a plan as a YAML file that ``storeq run`` accepts, to view and download.

The download is the store's own file with only the plan's changes written in (its comments kept,
:mod:`storeq.app.yamlio`), named after the plan.
"""

from __future__ import annotations

import re

import streamlit as st

from simulation import ScenarioError, scenario_from_yaml, scenario_to_yaml
from storeq.app import state
from storeq.app.common import literal, scenario_from_key, show_problems
from storeq.app.editing import describe_edits
from storeq.app.yamlio import plan_yaml

ss = st.session_state
base = state.base_scenario()
edited, err = state.edited_scenario()

st.title("Scenario file")
st.caption(
    "The plan as a scenario file (format v1, see docs/scenario-format.md). Keep it, share it, or run it from a terminal "
    "with `storeq run FILE`; it loads back on the What-if page with *upload*. Your file's comments are kept; only what the "
    "plan changes is written in."
)

@st.cache_data(show_spinner=False, max_entries=16)
def _plan_yaml_cached(raw: str | None, original_yaml: str, plan_yaml_text: str, name: str) -> tuple[str, bool]:
    """:func:`plan_yaml` once per (file, plan, name): the round trip reruns only when one of them changes."""
    return plan_yaml(raw, scenario_from_key(original_yaml), scenario_from_key(plan_yaml_text), name)


EDITED_CHOICE = "Your edited plan (What-if page)"
choices: dict[str, str | None] = {EDITED_CHOICE: None, f"The file as loaded ({ss['base_name']})": ss["base_yaml"]}
choices.update({f"Saved plan: {name}": text for name, text in ss["saved_plans"].items()})
if ss.get("k_scenario_pick") not in choices:  # the store changed since the last visit
    ss["k_scenario_pick"] = next(iter(choices))
# radio options are Markdown: the file and plan names in them are shown literally
pick = st.radio("Which plan", list(choices), key="k_scenario_pick", horizontal=True, format_func=literal)

text: str | None = choices[pick]
original_label = ss["base_name"]
plan = None
if text is None:
    if edited is None:
        assert err is not None
        show_problems(err.problems, "Your edited plan has problems, so it cannot be saved as a file yet (fix them on the What-if page):")
    else:
        plan = edited
        changes = describe_edits(base, edited)
        st.caption("Changes from the file: " + ("; ".join(changes) if changes else "none"))
        default_name = (ss.get("k_plan_name") or "").strip() or (f"{base.name} (edited plan)" if changes else base.name)
else:
    plan = scenario_from_key(text)
    if pick.startswith("Saved plan: "):
        saved = pick.removeprefix("Saved plan: ")
        original_label = ss.get("saved_plan_base", {}).get(saved, "")
        default_name = saved
    else:
        default_name = plan.name

if plan is not None:
    name = st.text_input("Name in the file", value=default_name, key=f"scenario_name_{pick}", help="The plan's name, as reports and the Compare page show it.")
    raw = state.raw_text(original_label) if original_label else None
    original = None
    if raw:
        try:  # the plan's changes are found against the file as written, so that is what is parsed
            original = scenario_from_yaml(raw, original_label)
        except ScenarioError:
            raw = None
    out, kept = _plan_yaml_cached(raw, scenario_to_yaml(original or plan), scenario_to_yaml(plan), name.strip() or plan.name)
    if not kept:
        st.caption("Written in the standard layout (the store's own text is not available for this plan, so there are no comments to keep).")
    slug = re.sub(r"[^a-z0-9]+", "_", (name or pick).lower()).strip("_")[:40] or "scenario"
    st.download_button(
        "Download scenario (YAML)",
        out.encode("utf-8"),
        file_name=f"{slug}.yaml",
        mime="application/x-yaml",
        type="primary",
        icon=":material/download:",
    )
    st.code(out, language="yaml")
