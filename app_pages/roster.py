"""Roster page: targets and shift rules in, the optimizer's roster out (when the optimizer provides it)."""

from __future__ import annotations

import streamlit as st

st.title("Roster")
st.info(
    "The roster optimizer (`optimizer/`) is not available in this build yet, so this page cannot build a roster. "
    "Use the What-if page to try staffing by hand.",
    icon=":material/construction:",
)
