"""Scenario page: the edited plan as a YAML file that ``storeq run`` accepts, to view and download."""

from __future__ import annotations

import re

import streamlit as st

from simulation import scenario_to_yaml
from storeq.app import state
from storeq.app.common import show_problems
from storeq.app.editing import describe_edits

ss = st.session_state
base = state.base_scenario()
edited, err = state.edited_scenario()

st.title("Scenario file")
st.caption(
    "The plan as a scenario file (format v1, see docs/scenario-format.md). Keep it, share it, or run it from a terminal "
    "with `storeq run FILE`; it loads back on the What-if page with *upload*."
)

choices = {"Your edited plan (What-if page)": None, f"The file as loaded ({ss['base_name']})": ss["base_yaml"]}
choices.update({f"Saved plan: {name}": text for name, text in ss["saved_plans"].items()})
if ss.get("k_scenario_pick") not in choices:  # the store changed since the last visit
    ss["k_scenario_pick"] = next(iter(choices))
pick = st.radio("Which plan", list(choices), key="k_scenario_pick", horizontal=True)

text: str | None = choices[pick]
if text is None:
    if edited is None:
        assert err is not None
        show_problems(err.problems, "Your edited plan has problems, so it cannot be saved as a file yet (fix them on the What-if page):")
    else:
        text = scenario_to_yaml(edited)
        changes = describe_edits(base, edited)
        st.caption("Changes from the file: " + ("; ".join(changes) if changes else "none"))

if text is not None:
    slug = re.sub(r"[^a-z0-9]+", "_", pick.lower()).strip("_")[:40] or "scenario"
    st.download_button(
        "Download scenario (YAML)",
        text.encode("utf-8"),
        file_name=f"storeq_{slug}.yaml",
        mime="application/x-yaml",
        type="primary",
        icon=":material/download:",
    )
    st.code(text, language="yaml")
