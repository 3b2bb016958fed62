"""Calibration page: a scenario from the store's own ticket log, and how well it reproduces the log.

The calibration package cleans the export (counting every row it cannot use and why), fits arrivals,
service and patience, and then ``fit_report`` simulates the fitted store on the log's own days and
compares interval by interval. This page shows both and hands the scenario to the What-if page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from simulation import ScenarioError
from storeq.app import state
from storeq.app.common import PALETTE, ROOT, clock_to_datetime, show_problems, workers

ss = st.session_state
EXAMPLE_LOG = ROOT / "scenarios" / "example_ticket_log.csv"
MAX_LOG_BYTES = 1_000_000  # the server's upload limit (.streamlit/config.toml); bigger logs go through `storeq calibrate`

st.title("Calibration")
st.caption(
    "Build a scenario from your store's ticket log (CSV, Excel or Parquet export of the queue system): arrivals per "
    "interval, service and patience times, customer mix and staffing are fitted; then the fitted store is simulated on "
    "the log's own days and compared with what really happened. Logs over 1 MB: use `storeq calibrate` in a terminal."
)


@st.cache_data(show_spinner=False, max_entries=4)
def calibrate_cached(data: bytes, suffix: str, mapping: bytes | None, interval_min: int, replications: int, seed: int, name: str) -> tuple[Any, Any]:
    """Clean, calibrate and fit-report a log given as bytes (cached by its content and the settings)."""
    from calibration import calibrate, clean, fit_report, read_log, read_mapping

    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / f"log{suffix}"
        log_path.write_bytes(data)
        mapping_obj = None
        if mapping is not None:
            map_path = Path(tmp) / "mapping.yaml"
            map_path.write_bytes(mapping)
            mapping_obj = read_mapping(map_path)
        cleaned = clean(read_log(log_path, mapping_obj), mapping_obj, source=name, interval_min=interval_min)
    cal = calibrate(cleaned, interval_min=interval_min)
    holder = st.empty()
    bar = holder.progress(0.0, text="Simulating the log's days")

    def tick(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Simulating the log's days: {done} of {total}")

    report = fit_report(cal, replications=replications, seed=seed, workers=workers(), progress=tick)
    holder.empty()
    return cal, report


c1, c2 = st.columns([3, 2])
with c1, st.container(border=True):
    src = st.radio("Ticket log", ["example", "upload"], key="k_cal_src", horizontal=True,
                   format_func={"example": "The bundled example log (14 days of a telecom hall)", "upload": "Upload my log"}.__getitem__)
    log_file = mapping_file = None
    if src == "upload":
        log_file = st.file_uploader("Ticket log (.csv, .xlsx, .parquet; at most 1 MB)", type=["csv", "txt", "tsv", "xlsx", "parquet"], key="cal_log")
        mapping_file = st.file_uploader("Column mapping (optional YAML, for exports with other column names; see docs/ticket-log.md)",
                                        type=["yaml", "yml"], key="cal_map")
with c2, st.container(border=True):
    ss.setdefault("k_cal_interval", 30)
    ss.setdefault("k_cal_reps", 10)
    interval = st.selectbox("Interval (minutes)", [15, 30, 60], key="k_cal_interval")
    reps = st.number_input("Replications per day for the fit check", 2, 100, key="k_cal_reps",
                           help="Each of the log's days is simulated this many times; the check compares the log with the spread.")
    go = st.button("Calibrate", type="primary", icon=":material/tune:", key="cal_btn")

problems: list[tuple[str, str]] = []
if go:
    if src == "example":
        ss["cal_request"] = {"data": EXAMPLE_LOG.read_bytes(), "suffix": ".csv", "mapping": None, "name": "example_ticket_log.csv"}
    elif log_file is None:
        problems.append(("", "choose a ticket log file to upload first"))
    else:
        data = log_file.getvalue()
        if len(data) > MAX_LOG_BYTES:
            problems.append(("", f"{log_file.name} is {len(data):,} bytes; the app takes logs up to {MAX_LOG_BYTES:,} bytes — use `storeq calibrate` for bigger ones"))
        else:
            ss["cal_request"] = {"data": data, "suffix": Path(log_file.name).suffix.lower() or ".csv",
                                 "mapping": mapping_file.getvalue() if mapping_file is not None else None, "name": log_file.name}
    if problems:
        ss.pop("cal_request", None)
    else:
        ss["cal_request"].update(interval=int(interval), reps=int(reps), seed=state.run_settings()[1])
show_problems(problems)
if "cal_request" not in ss:
    st.stop()

req = ss["cal_request"]
try:
    cal, report = calibrate_cached(req["data"], req["suffix"], req["mapping"], req["interval"], req["reps"], req["seed"], req["name"])
except ScenarioError as err:
    show_problems(err.problems, f"**{req['name']}** gave a scenario that does not validate:")
    st.stop()
except ValueError as err:  # LogError and the calibration's own checks: a message in words
    show_problems([("", str(err))], f"**{req['name']}** could not be calibrated:")
    st.stop()

st.divider()
clean_log = cal.clean
st.markdown(f"**{req['name']}**: {len(clean_log.tickets):,} tickets used of {clean_log.rows_read:,} rows read, "
            f"{len(report.days_simulated)} days checked ({report.replications} simulated replications each).")
lines = clean_log.summary_lines()
if lines:
    with st.expander(f"What the cleaning did ({clean_log.rows_skipped:,} rows skipped)"):
        for line in lines:
            st.markdown(f"- {line}")

all_fit = bool(report.intervals["fits"].all()) and bool(report.day["fits"].all())
(st.success if all_fit else st.warning)(report.verdict[0], icon=":material/fact_check:" if all_fit else ":material/warning:")
for line in report.verdict[1:]:
    st.markdown(f"- {line}")

titles = {"arrivals_per_hour": "Arrivals per hour", "mean_wait_min": "Mean wait (minutes)",
          "over_target_share": f"Share waiting over {report.target_wait_min:g} min", "abandonment_rate": "Share who gave up"}
cols = st.columns(2)
for k, (metric, title) in enumerate(titles.items()):
    df = report.intervals[report.intervals["metric"] == metric].copy()
    if df.empty:
        continue
    df["time"] = clock_to_datetime(df["start"]).to_numpy()
    df["mid"] = df["time"] + pd.Timedelta(minutes=req["interval"] / 2)  # a log value belongs to the whole interval
    x = alt.X("time:T", axis=alt.Axis(format="%H:%M", title="Time of day (interval start)", labelAngle=0))
    fmt = "%" if metric in ("over_target_share", "abandonment_rate") else ""
    band = alt.Chart(df).mark_area(opacity=0.2, color=PALETTE[0], interpolate="step-after").encode(x=x, y=alt.Y("sim_pi_low:Q", title=title, axis=alt.Axis(format=fmt) if fmt else alt.Axis()), y2="sim_pi_high:Q")
    line = alt.Chart(df).mark_line(color=PALETTE[0], interpolate="step-after").encode(x=x, y="sim_mean:Q")
    pts = alt.Chart(df).mark_point(filled=True, size=45).encode(
        x="mid:T", y="observed:Q",
        color=alt.Color("fits:N", scale=alt.Scale(domain=[True, False], range=["#222222", "#C0392B"]),
                        legend=alt.Legend(title=None, orient="top", labelExpr="datum.value ? 'log: inside the band' : 'log: outside the band'")),
        tooltip=[alt.Tooltip("start:N", title="Interval"), alt.Tooltip("observed:Q", title="Log", format=".3g"),
                 alt.Tooltip("sim_mean:Q", title="Simulated mean", format=".3g"), alt.Tooltip("sim_pi_low:Q", title="95% band low", format=".3g"),
                 alt.Tooltip("sim_pi_high:Q", title="95% band high", format=".3g")],
    )
    with cols[k % 2]:
        st.markdown(f"**{title}**: log (dots) vs simulated (line; band: 95% prediction interval of a day)")
        st.altair_chart((band + line + pts).properties(height=230), width="stretch")

sc = cal.scenario
st.markdown(f"**The calibrated scenario**: {sc.store.open}-{sc.store.close}, {sc.n_intervals} intervals of {sc.store.interval_min} min, "
            f"{len(sc.segments)} customer segments, {len(sc.transactions)} transaction types, up to {int(sc.staffed_schedule().max())} counters staffed, "
            f"{sc.kiosks.count} kiosks.")


def _use() -> None:
    from storeq.app.common import parse_scenario_text

    _, text = parse_scenario_text(cal.yaml_text, f"calibrated from {req['name']}")
    label = f"calibrated from {req['name']}"
    ss["uploads"][label] = text
    state.set_base(label, text)


b1, b2 = st.columns([1, 1])
b1.button("Use this scenario on the What-if page", on_click=_use, type="primary", icon=":material/arrow_forward:")
b2.download_button("Download the scenario (YAML)", cal.yaml_text.encode("utf-8"), file_name="storeq_calibrated.yaml",
                   mime="application/x-yaml", icon=":material/download:", help="With comments saying where each number came from.")
