"""storeq what-if app: ``streamlit run app.py`` (binds to localhost; see ``.streamlit/config.toml``).

Pages live in ``app_pages/`` (one script per page, shared helpers in ``common``, ``state``,
``editing`` and ``charts``). This script runs before every page: it sets up Session State, keeps the
What-if knobs alive across page switches, and draws the sidebar settings every page shares.
"""

from __future__ import annotations

import streamlit as st

from app_pages import state
from app_pages.common import workers

st.set_page_config(page_title="storeq: store what-ifs", page_icon=":material/storefront:", layout="wide")

state.ensure_state()
state.keep_widget_state()


def _calibration_available() -> bool:
    """The Calibration page needs the calibration package's fit report."""
    try:
        from calibration import calibrate, fit_report  # noqa: F401
    except ImportError:
        return False
    return True


pages = [
    st.Page("app_pages/whatif.py", title="What-if", icon=":material/tune:", default=True),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/roster.py", title="Roster", icon=":material/calendar_month:"),
    st.Page("app_pages/scenario.py", title="Scenario", icon=":material/description:"),
]
if _calibration_available():
    pages.append(st.Page("app_pages/calibration.py", title="Calibration", icon=":material/query_stats:"))
nav = st.navigation(pages)

with st.sidebar:
    st.caption(f"Store: **{state.base_scenario().name}**  \nfrom `{st.session_state['base_name']}`")
    st.number_input(
        "Replications per run",
        min_value=2,
        max_value=2000,
        step=10,
        key="k_reps",
        help="Simulated days per plan. More gives narrower 95% confidence intervals but takes longer.",
    )
    st.number_input(
        "Random seed",
        min_value=0,
        step=1,
        key="k_seed",
        help="Plans run with the same seed see the same customers, so their difference is the plan's effect.",
    )
    st.caption(f"Runs use {workers()} worker process{'es' if workers() > 1 else ''}.")

nav.run()
