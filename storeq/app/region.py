"""Region page: rank a region's halls, see what each fix is worth, plan a budget, move staff on a day.

Widgets → a Region (the bundled example, an uploaded region file or store table, or a pasted table)
→ the pure planners in :mod:`storeq.region` → tables and charts. Every long run shows a progress bar
and is kept in Session State, keyed by the region's content and the settings, so switching pages
and back does not re-simulate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from simulation import ScenarioError
from storeq.app.common import literal, show_problems, workers
from storeq.examples import scenarios_dir

ss = st.session_state
EXAMPLE_DIR = scenarios_dir() / "region_example"
EXAMPLES = {
    "Riverside city (region file: 16 halls)": EXAMPLE_DIR / "region.yaml",
    "Riverside city (store table only)": EXAMPLE_DIR / "stores.csv",
}
CLASS_COLOURS = {"very_busy": "#E45756", "busy": "#F2A93B", "normal": "#54A24B"}
CLASS_LABELS = {"very_busy": "very busy", "busy": "busy", "normal": "normal"}
MAX_UPLOAD_BYTES = 5_000_000
PASTE_EXAMPLE = (
    "name,district,counters,kiosks,served_per_day,avg_wait_min,avg_transaction_min,hours,profile\n"
    "North Gate,Town,4,1,170,6,6,08:30-17:30,county_town\n"
    "South Gate,Town,3,1,120,4,6,08:30-17:30,county_town\n"
)


def _replications() -> int:
    env = os.environ.get("STOREQ_APP_REPLICATIONS")
    return int(env) if env and env.strip().isdigit() and int(env) > 0 else 30


st.title("Region")
st.caption(
    "For a regional planner: which halls are very busy or busy and why, what each fix (one more counter at the "
    "peak, a kiosk, a greeter, a pitch rule, standard answers, online reminders) is worth in each hall, which fixes "
    "to buy within a budget, and which staff to move between halls of a district on a given day. Every figure is "
    "simulated, with a 95% confidence interval. The formats are in docs/region.md."
)

# ---------------------------------------------------------------------------------------------
# the region
# ---------------------------------------------------------------------------------------------

source = st.radio("Region", [*EXAMPLES, "Upload a region file or store table", "Paste a store table"], key="k_region_source",
                  horizontal=True)
data: bytes | None = None
name = ""
base_dir: Path | None = None
if source in EXAMPLES:
    path = EXAMPLES[source]
    data, name, base_dir = path.read_bytes(), path.name, path.parent
elif source.startswith("Upload"):
    up = st.file_uploader("Region file (YAML; store scenario paths are read relative to scenarios/) or store table "
                          "(CSV in UTF-8 or GBK, or Excel)", type=["yaml", "yml", "csv", "xlsx", "xls"], key="k_region_upload")
    if up is not None:
        data, name = up.getvalue(), up.name
        if len(data) > MAX_UPLOAD_BYTES:
            st.error(f"{literal(name)} is {len(data):,} bytes; region files and tables are at most {MAX_UPLOAD_BYTES:,}.")
            data = None
else:
    ss.setdefault("k_region_paste", PASTE_EXAMPLE)
    text = st.text_area("Store table (CSV: a header line, then one row per hall)", key="k_region_paste", height=140)
    data, name = text.encode("utf-8"), "pasted.csv"

# Defaults go into Session State once (the app keeps "k_" widgets across pages), never as value=.
ss.setdefault("k_region_reps", _replications())
ss.setdefault("k_region_seed", 1)
c1, c2 = st.columns(2)
reps = int(c1.number_input("Replications per store and variant", min_value=2, max_value=500, key="k_region_reps",
                           help="More gives narrower confidence intervals and takes longer."))
seed = int(c2.number_input("Seed", min_value=0, key="k_region_seed"))

if data is None:
    st.info("Choose a region to start.")
    st.stop()

digest = hashlib.sha256(data).hexdigest()[:16] + f"-{name}"


def _bar(label: str) -> tuple[Any, Any]:
    holder = st.empty()
    bar = holder.progress(0.0, text=label)

    def callback(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{label}: {done:,} of {total:,} simulated days")

    return holder, callback


FIT_REPLICATIONS = min(10, _replications())
"""Replications per fit step for table rows: fixed per session, so changing the run's replications
does not refit the table (the fit only sets each hall's demand level)."""


def _load(data: bytes) -> Any:
    key = ("region", digest, seed)
    if ss.get("region_key") != key:
        from storeq.region.io import region_from_bytes

        holder, cb = _bar("Reading the region (fitting table rows to their volumes)")
        try:
            # uploads may name only files under scenarios/ (the server's own files stay private)
            region = region_from_bytes(data, name, base_dir=base_dir, workers=workers(), confine=base_dir is None,
                                       fit_replications=FIT_REPLICATIONS, seed=seed, progress=cb)
        except ScenarioError as err:
            holder.empty()
            ss["region_key"], ss["region_obj"], ss["region_problems"] = key, None, err.problems
            for k in ("region_rank", "region_plan", "region_moves"):
                ss.pop(k, None)
            return None
        holder.empty()
        ss["region_key"], ss["region_obj"], ss["region_problems"] = key, region, []
        for k in ("region_rank", "region_plan", "region_moves"):
            ss.pop(k, None)
    return ss.get("region_obj")


region = _load(data)
if region is None:
    show_problems(ss.get("region_problems", []), f"{literal(name)} could not be used:")
    st.stop()

st.write(f"**{literal(region.name)}**: {len(region.stores)} halls in {len({s.district for s in region.stores})} districts.")
if region.skipped:
    st.warning("Rows left out of the table:\n" + "\n".join(f"- row {s.row} ({literal(s.name)}): {literal(s.reason)}" for s in region.skipped))
fits = [(s.name, s.reported) for s in region.stores if s.reported is not None]
if fits:
    with st.expander(f"Table fit: {len(fits)} halls fitted to their reported volume", expanded=any(r.note for _, r in fits)):
        st.dataframe(pd.DataFrame([{"hall": n, "profile": r.profile, "reported served": r.customers_served,
                                    "simulated served": round(r.simulated_served or 0), "demand scale": r.fitted_scale,
                                    "reported wait (min)": r.avg_wait_min,
                                    "simulated wait (min)": round(r.simulated_wait_min or 0, 1), "note": r.note}
                                   for n, r in fits]), hide_index=True, width="stretch")

tab_rank, tab_plan, tab_moves = st.tabs(["Ranking and fixes", "Budget plan", "Staff moves"])

# ---------------------------------------------------------------------------------------------
# ranking
# ---------------------------------------------------------------------------------------------

with tab_rank:
    if st.button("Rank the region", key="region_rank_btn", type="primary"):
        from storeq.region.rank import rank_region

        holder, cb = _bar(f"Simulating {len(region.stores)} halls and their fixes")
        ss["region_rank"] = rank_region(region, replications=reps, seed=seed, workers=workers(), progress=cb)
        holder.empty()
    res = ss.get("region_rank")
    if res is None:
        st.caption("Simulates every hall as it is and with each fix, on the same simulated customers.")
    else:
        frame = res.frame()
        shown = frame[["rank", "store", "district", "class", "counters", "customers_served", "kiosks", "avg_wait_min",
                       "avg_transaction_min", "service_level", "peak", "peak_service_level", "abandonment_rate", "why"]].copy()
        shown["class"] = shown["class"].map(CLASS_LABELS)

        def colour(row: pd.Series) -> list[str]:
            c = {v: k for k, v in CLASS_LABELS.items()}.get(row["class"], "normal")
            return [f"background-color: {CLASS_COLOURS[c]}33" for _ in row]

        st.dataframe(
            shown.style.apply(colour, axis=1).format(
                {"customers_served": "{:,.0f}", "avg_wait_min": "{:.1f}", "avg_transaction_min": "{:.1f}",
                 "service_level": "{:.0%}", "peak_service_level": "{:.0%}", "abandonment_rate": "{:.1%}"}, na_rep="—"),
            hide_index=True, width="stretch", key="region_rank_table",
            column_config={"customers_served": "served/day", "avg_wait_min": "avg wait (min)",
                           "avg_transaction_min": "avg transaction (min)", "service_level": "within target",
                           "peak_service_level": "within target at peak", "abandonment_rate": "gave up"},
        )
        st.caption(f"Busiest first; {res.replications} simulated days per hall and variant, seed {res.seed}. "
                   "Class reasons are in the last column.")
        ivs = res.interventions_frame()
        ivs = ivs[ivs["not_applicable"] == ""].copy()
        if not ivs.empty:
            st.subheader("What each fix is worth")
            ivs["value"] = ivs["served_within_target_delta"]
            chart = alt.Chart(ivs).mark_circle(size=90).encode(
                x=alt.X("cost_per_day:Q", title="cost per day"),
                y=alt.Y("value:Q", title="Δ customers served within target per day"),
                color=alt.Color("intervention:N", title="fix"),
                tooltip=["store", "intervention", "description", alt.Tooltip("cost_per_day:Q", format=",.0f"),
                         alt.Tooltip("value:Q", format="+.1f", title="Δ within target"),
                         alt.Tooltip("served_within_target_ci_low:Q", format="+.1f", title="95% CI low"),
                         alt.Tooltip("served_within_target_ci_high:Q", format="+.1f", title="95% CI high")],
            ).properties(height=320)
            st.altair_chart(chart, width="stretch")
            per = ivs[ivs["cost_per_day"] > 0].copy()
            if not per.empty:
                per["per_100"] = 100 * per["value"] / per["cost_per_day"]
                bars = alt.Chart(per).mark_bar().encode(
                    y=alt.Y("store:N", sort=list(frame["store"]), title=None),
                    x=alt.X("per_100:Q", title="Δ served within target per 100 of cost per day"),
                    color=alt.Color("intervention:N", title="fix"),
                    yOffset="intervention:N",
                    tooltip=["store", "intervention", alt.Tooltip("per_100:Q", format="+.1f")],
                ).properties(height=max(200, 60 * len(frame)))
                st.altair_chart(bars, width="stretch")
            free = ivs[ivs["cost_per_day"] <= 0]
            if not free.empty:
                st.caption("Free fixes (no cost per day): " + ", ".join(literal(x) for x in sorted(set(free["intervention"]))) +
                           "; their value is in the chart above.")
        located = [s for s in region.stores if s.has_coordinates]
        if located:
            st.subheader("Map")
            pts = pd.DataFrame([{"store": s.name, "lat": s.lat, "lon": s.lon, "district": s.district} for s in located])
            pts = pts.merge(frame[["store", "class", "customers_served"]], on="store", how="left")
            pts["class"] = pts["class"].map(CLASS_LABELS)
            scale = alt.Scale(domain=list(CLASS_LABELS.values()), range=list(CLASS_COLOURS.values()))
            the_map = alt.Chart(pts).mark_circle(opacity=0.85, stroke="#333", strokeWidth=0.5).encode(
                longitude="lon:Q", latitude="lat:Q",
                color=alt.Color("class:N", scale=scale, title="class"),
                size=alt.Size("customers_served:Q", title="served/day"),
                tooltip=["store", "district", "class", alt.Tooltip("customers_served:Q", format=",.0f")],
            ).project(type="mercator").properties(height=420)
            st.altair_chart(the_map, width="stretch")
            st.caption("Halls by their coordinates (no map tiles: the picture is drawn from the coordinates alone).")

# ---------------------------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------------------------

with tab_plan:
    b = region.spec.budgets
    if ss.get("region_budget_from") != ss.get("region_key"):  # a new region: its own default budgets
        ss["region_budget_from"] = ss.get("region_key")
        ss["k_region_money"] = float(b.money if b.money is not None else 500.0)
        ss["k_region_hours"] = float(b.staff_hours if b.staff_hours is not None else 12.0)
        ss["k_region_kiosks"] = int(b.kiosks if b.kiosks is not None else 4)
        ss["k_region_greeters"] = int(b.greeters if b.greeters is not None else 2)
    p1, p2, p3, p4 = st.columns(4)
    money = p1.number_input("Money per day", min_value=0.0, step=50.0, key="k_region_money")
    hours = p2.number_input("Extra staff hours per day", min_value=0.0, step=1.0, key="k_region_hours")
    kiosks = p3.number_input("New kiosks", min_value=0, key="k_region_kiosks")
    greeters = p4.number_input("Greeters", min_value=0, key="k_region_greeters")
    objective = st.radio("Objective", ["served", "wait"], horizontal=True, key="k_region_objective",
                         format_func=lambda o: "most customers served within target" if o == "served" else "fewest customer wait-hours")
    if st.button("Plan", key="region_plan_btn", type="primary"):
        from storeq.region.model import Budgets
        from storeq.region.plan import plan_region

        holder, cb = _bar("Valuing each hall's fixes and their combinations")
        ss["region_plan"] = plan_region(region, Budgets(money=money, staff_hours=hours, kiosks=int(kiosks), greeters=int(greeters)),
                                        objective="wait" if objective == "wait" else "served", replications=reps, seed=seed, workers=workers(), progress=cb)
        holder.empty()
    plan = ss.get("region_plan")
    if plan is not None:
        js = plan.to_json()
        unit = "customers served within target per day" if js["objective_kind"] == "served" else "wait-hours saved per day"
        m1, m2, m3 = st.columns(3)
        m1.metric("Solver", js["status"])
        m2.metric(f"Objective ({unit})", f"{js['objective']:+,.1f}" if js["objective"] is not None else "—")
        m3.metric("Money used per day", f"{js['used'].get('money', 0):,.0f}")
        chosen = pd.DataFrame(js["chosen"], columns=["store", "intervention", "cost_per_day"])
        if chosen.empty:
            st.info("Nothing bought. " + " ".join(literal(x) for x in js["explanation"]))
        else:
            st.dataframe(chosen, hide_index=True, width="stretch", key="region_plan_table")
        rows = []
        for v in js["verification"]["stores"]:
            b4, af, d = v["before"]["served_within_target"], v["after"]["served_within_target"], v["delta"]["served_within_target"]
            rows.append({"store": v["store"], "fixes": " + ".join(v["interventions"]), "before": b4["mean"], "after": af["mean"],
                         "Δ": d["mean"], "95% CI low": d["ci_low"], "95% CI high": d["ci_high"]})
        if rows:
            st.subheader(f"Verified on a fresh seed ({js['verification']['replications']} replications)")
            st.dataframe(pd.DataFrame(rows).style.format({"before": "{:,.0f}", "after": "{:,.0f}", "Δ": "{:+,.1f}",
                                                          "95% CI low": "{:+,.1f}", "95% CI high": "{:+,.1f}"}, na_rep="—"),
                         hide_index=True, width="stretch")
        for line in js["explanation"]:  # they name the halls (user text)
            st.caption(literal(line))

# ---------------------------------------------------------------------------------------------
# moves
# ---------------------------------------------------------------------------------------------

with tab_moves:
    ss.setdefault("k_region_date", dt.date.today())
    ss.setdefault("k_region_keep", region.spec.moves.donors_keep_target)
    day = st.date_input("Day", key="k_region_date", help="Weekday and day-of-month demand factors apply (e.g. the month-end crowd).")
    keep = st.checkbox("Donors keep their own service target (otherwise their loss is counted)", key="k_region_keep")
    if st.button("Find moves", key="region_moves_btn", type="primary"):
        from storeq.region.moves import moves_region

        holder, cb = _bar("Valuing one more / one fewer person per hall and block")
        ss["region_moves"] = moves_region(region, day, replications=reps, seed=seed, workers=workers(),
                                          donors_keep_target=keep, progress=cb)
        holder.empty()
    mv = ss.get("region_moves")
    if mv is not None:
        js = mv.to_json()
        if js["moves"]:
            desks = any("from_group" in m or "to_group" in m for m in js["moves"])  # halls with counter groups
            st.dataframe(pd.DataFrame([{"district": m["district"], "from": m["from"], "to": m["to"],
                                        **({"desks": f"{m.get('from_group', 'counter')} → {m.get('to_group', 'counter')}"} if desks else {}),
                                        "block": m["block"], "travel (min)": m["travel_min"], "arrives": m["arrives"],
                                        "gain": m["gain"]["mean"], "donor's loss": m["loss"]["mean"]} for m in js["moves"]]),
                         hide_index=True, width="stretch", key="region_moves_table")
        else:
            st.info("No move. " + " ".join(literal(x) for x in js["explanation"]))
        tot = js["verification"]["total"]
        if js["moves"] and tot["mean"] is not None:
            st.metric("Verified together: Δ customers served within target that day", f"{tot['mean']:+,.1f}",
                      help=f"95% CI {tot['ci_low']:+,.1f} to {tot['ci_high']:+,.1f}")
        for line in js["explanation"]:  # they name the halls (user text)
            st.caption(literal(line))
