"""Results page: past runs from a DuckDB results store — list them, open one, compare two.

Runs land in the store with ``storeq run|compare|sweep ... --results PATH`` (or ``STOREQ_RESULTS``);
see docs/scale-out.md. The page only reads: it never locks the file for long, so a sweep can keep
writing while someone looks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from storeq import results_store as rs
from storeq.app.common import literal
from storeq.present import fmt_value, header, kpi_unit

ss = st.session_state
DAY_KPIS = (
    "mean_wait_min",
    "p90_wait_min",
    "service_level",
    "abandonment_rate",
    "utilization",
    "mean_queue_len",
    "arrivals",
    "served",
    "abandoned",
    "staff_cost",
    "total_cost",
    "net_margin",
    "last_departure_min",
)

st.title("Results")
st.caption(
    "Past runs kept in a results store (a DuckDB file). Runs are added with "
    "`storeq run|compare|sweep ... --results FILE` or the `STOREQ_RESULTS` environment variable."
)

ss.setdefault("k_results_db", os.environ.get(rs.ENV, "results.duckdb"))
path = Path(st.text_input("Results store", key="k_results_db", help="Path of the DuckDB file on this machine.").strip())


@st.cache_data(ttl=5, show_spinner=False)
def _runs(db: str, mtime: float) -> pd.DataFrame:
    del mtime  # part of the cache key: a new run changes the file
    return rs.list_runs(db)


@st.cache_data(show_spinner=False)
def _kpis(db: str, run_id: str) -> pd.DataFrame:
    return rs.read_table(db, run_id, "kpis")


@st.cache_data(show_spinner=False)
def _variants(db: str, run_id: str) -> pd.DataFrame:
    return rs.read_table(db, run_id, "sweep_variants")


def _open_min(scenario_text: Any) -> int:
    """When the store opens (minutes after midnight), to show the clock KPIs; 0 when unknown."""
    if not scenario_text:
        return 0
    try:
        from simulation import scenario_from_yaml

        return int(scenario_from_yaml(str(scenario_text)).store.open_min)
    except Exception:  # an old or foreign row: show minutes after opening instead of failing the page
        return 0


def _day_table(kpis: pd.DataFrame, open_min: int) -> pd.DataFrame:
    """Day KPIs, one row per KPI and one column per scenario of the run: "mean (low … high)"."""
    day = kpis[kpis["level"] == "day"]
    out: dict[str, dict[str, str]] = {}
    for r in day.to_dict("records"):
        if r["kpi"] not in DAY_KPIS:
            continue
        unit = kpi_unit(str(r["kpi"]))
        text = fmt_value(r["mean"], unit, open_min)
        lo, hi = float(r["ci_low"]), float(r["ci_high"])
        if lo == lo and hi == hi and lo != hi:  # NaN != NaN: no CI from one replication
            text += f"  ({fmt_value(lo, unit, open_min)} … {fmt_value(hi, unit, open_min)})"
        out.setdefault(str(r["scenario"]), {})[header(str(r["kpi"]))] = text
    frame = pd.DataFrame(out)
    order = [header(k) for k in DAY_KPIS if header(k) in frame.index]
    return frame.loc[order]


def _show_run(db: str, run: dict[str, Any]) -> None:
    st.subheader(f"{run['kind']} · {literal(run['scenario'] or '')}")  # the store's name, shown literally
    st.markdown(
        f"Run `{run['run_id']}`, {run['status']}, started {str(run['started'])[:19]} UTC"
        + (f", {run['wall_s']:.1f} s" if run["wall_s"] is not None and pd.notna(run["wall_s"]) else "")
        + f"; {run['replications']} replications, seed {run['seed']}; {run['executor']} × {run['workers']}; "
        + f"scenario `{run['scenario_hash']}`, storeq {run['version']}"
    )
    st.code(str(run["command"]), language="bash")
    open_min = _open_min(run["scenario_text"])
    if run["kind"] == "sweep":
        v = _variants(db, run["run_id"])
        if v.empty:
            st.info("This sweep recorded no variants.")
        else:
            keep = v[v["kpi"].isin(DAY_KPIS)]
            wide = keep.pivot_table(index=["variant", "set_json"], columns="kpi", values="mean", aggfunc="first")
            wide = wide[[k for k in DAY_KPIS if k in wide.columns]]
            wide.columns = [header(k) for k in wide.columns]
            st.dataframe(wide.reset_index().rename(columns={"set_json": "set"}), hide_index=True)
    else:
        k = _kpis(db, run["run_id"])
        if k.empty:
            st.info("This run recorded no KPIs.")
        else:
            st.dataframe(_day_table(k, open_min))
    if run["output_json"]:
        st.download_button(
            "Download the run's JSON", rs.output_text(db, run["run_id"]), file_name=f"{run['run_id']}.json",
            mime="application/json", key=f"results_dl_{run['run_id']}",  # not k_: those are kept across pages
        )
    if run["scenario_text"]:
        with st.expander("Scenario as run"):
            st.code(str(run["scenario_text"]), language="yaml")


def _compare_runs(db: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    """Day KPIs of two runs side by side (the first scenario of each), and B − A."""
    ka, kb = _kpis(db, a["run_id"]), _kpis(db, b["run_id"])
    if ka.empty or kb.empty:
        st.info("Both runs need KPIs (run or compare runs); a sweep's variants are compared inside it.")
        return
    open_min = _open_min(a["scenario_text"])

    def first_day(k: pd.DataFrame) -> pd.Series:
        first = k["scenario"].iloc[0]
        day = k[(k["level"] == "day") & (k["scenario"] == first)]
        return day.set_index("kpi")["mean"]

    da, db_ = first_day(ka), first_day(kb)
    rows = []
    for kpi in DAY_KPIS:
        if kpi in da.index and kpi in db_.index:
            unit = kpi_unit(kpi)
            diff = db_[kpi] - da[kpi]
            rows.append({
                "KPI": header(kpi),
                "A": fmt_value(da[kpi], unit, open_min),
                "B": fmt_value(db_[kpi], unit, open_min),
                "B − A": f"{diff:+.3g}" if unit != "share" else f"{100 * diff:+.1f} pp",
            })
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    same = a["seed"] == b["seed"] and a["replications"] == b["replications"]
    st.caption(
        "Same seed and replications: the runs saw the same customers where their demand agrees, so B − A is "
        "mostly the change between them." if same else
        "Different seeds or replications: B − A mixes the change with sampling noise; compare CIs, or rerun both "
        "with `storeq compare` for paired differences."
    )


if not path.name:
    st.info("Type the path of a results store.")
elif not path.exists():
    st.info(f"No results store at `{path}` yet. Runs land there with `storeq run SCENARIO --results {path}`.")
else:
    runs: pd.DataFrame | None = None
    try:
        runs = _runs(str(path), path.stat().st_mtime)
    except rs.StoreError as exc:
        st.error(str(exc))
    if runs is not None and runs.empty:
        st.info(f"`{path}` holds no runs yet.")
    elif runs is not None:
        st.markdown(f"**{len(runs)} run{'s' if len(runs) != 1 else ''}** in `{path}`, newest first.")
        shown = runs[["run_id", "kind", "started", "wall_s", "status", "scenario", "replications", "seed", "executor", "workers"]]
        st.dataframe(shown, hide_index=True)
        ids = [str(x) for x in runs["run_id"]]
        names = {str(r["run_id"]): f"{r['run_id']} · {r['kind']} · {r['scenario'] or ''}" for r in runs.to_dict("records")}

        def label(run_id: Any) -> str:
            return names.get(str(run_id), str(run_id))

        tab_open, tab_compare = st.tabs(["Open a run", "Compare two runs"])
        with tab_open:
            chosen = st.selectbox("Run", ids, format_func=label, key="k_results_run")
            if chosen:
                _show_run(str(path), rs.get_run(path, chosen))
        with tab_compare:
            if len(ids) < 2:
                st.info("Two runs are needed to compare.")
            else:
                c1, c2 = st.columns(2)
                a = c1.selectbox("Run A", ids, index=1, format_func=label, key="k_results_a")
                b = c2.selectbox("Run B", ids, index=0, format_func=label, key="k_results_b")
                if a and b:
                    _compare_runs(str(path), rs.get_run(path, a), rs.get_run(path, b))
