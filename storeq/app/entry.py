"""The app's frame: page setup, Session State, the page list and the sidebar every page shares.

Two scripts call :func:`main`: ``app.py`` at the repository root (``streamlit run app.py`` from a
clone) and :mod:`storeq.app.streamlit_app` (what ``storeq app`` starts for an installed user). Page
paths are given relative to the running script's folder, which is how Streamlit resolves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from storeq.app import state
from storeq.app.common import literal, workers

PAGES = (
    ("whatif.py", "What-if", ":material/tune:"),
    ("compare.py", "Compare", ":material/compare_arrows:"),
    ("roster.py", "Roster", ":material/calendar_month:"),
    ("scenario.py", "Scenario", ":material/description:"),
    ("calibration.py", "Calibration", ":material/query_stats:"),
    ("region.py", "Region", ":material/map:"),
    ("results.py", "Results", ":material/history:"),
)


NARROW_CSS = """<style>
@media (max-width: 1100px) {
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(100%, 17rem); }
  .st-key-kpi_cards [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(100%, 12rem); }
  [data-testid="stMetricValue"] { font-size: 1.8rem; }
}
</style>"""

_PAGE_OBJECTS: dict[str, Any] = {}


def go(file: str) -> None:
    """Switch to the page drawn by ``file`` (e.g. "whatif.py"): buttons that say they open a page do."""
    st.switch_page(_PAGE_OBJECTS[file])


def main(page_dir: str | Path) -> None:
    """Draw the frame and run the chosen page; ``page_dir`` is where the page scripts are."""
    st.set_page_config(page_title="storeq: store what-ifs", page_icon=":material/storefront:", layout="wide")

    state.ensure_state()
    state.keep_widget_state()
    # Narrow screens (a laptop at 820-1100 px with the sidebar open): columns wrap instead of
    # squeezing charts into slivers and cutting KPI values; KPI cards keep two a row.
    st.html(NARROW_CSS)

    pages = [
        st.Page(f"{page_dir}/{file}" if isinstance(page_dir, str) else page_dir / file, title=title, icon=icon,
                default=i == 0)
        for i, (file, title, icon) in enumerate(PAGES)
    ]
    _PAGE_OBJECTS.update({file: page for (file, _t, _i), page in zip(PAGES, pages, strict=False)})
    nav = st.navigation(pages)

    with st.sidebar:
        st.caption(f"Store: **{literal(state.base_scenario().name)}**  \nfrom {literal(st.session_state['base_name'])}")
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
