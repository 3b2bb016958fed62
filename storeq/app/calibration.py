"""Calibration page: a scenario from the store's own ticket log, and how well it reproduces the log.

The calibration package cleans the export (counting every row it cannot use and why), fits arrivals,
service and patience, and then ``fit_report`` simulates the fitted store on the log's own days and
compares interval by interval. This page shows both and hands the scenario to the What-if page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from simulation import ScenarioError
from storeq.app import entry, state
from storeq.app.common import PALETTE, clock_to_datetime, literal, not_a_log, plain_error, show_problems, workers
from storeq.examples import scenarios_dir

ss = st.session_state
EXAMPLE_LOG = scenarios_dir() / "example_ticket_log.csv"
MAX_LOG_MB = 256  # the server's upload limit (.streamlit/config.toml maxUploadSize); scenario files are checked at 1 MB in code
MAX_MAPPING_BYTES = 100_000
if ss.pop("goto_whatif", False):  # set by "Use this scenario on the What-if page": go there now
    entry.go("whatif.py")

st.title("Calibration")
st.caption(
    "Build a scenario from your store's ticket log (CSV, Excel or Parquet export of the queue system, up to "
    f"{MAX_LOG_MB} MB: a month or more of a busy hall): arrivals per interval, service and patience times, customer mix and "
    "staffing are fitted; then the fitted store is simulated on the log's own days and compared with what really happened."
)


@st.cache_data(show_spinner=False, max_entries=4)
def calibrate_cached(_data: bytes, digest: str, name: str, mapping: bytes | None, interval_min: int, replications: int,
                     seed: int) -> tuple[Any, Any, list[str]]:
    """Read, clean, calibrate and fit-report a log (cached by its digest and the settings, not by hashing its bytes again).

    Returns the calibration, its fit report and the reader's notes on how it read the file (the
    encoding it had to guess, e.g. GB18030 for a GBK export): a guess the user should be able to check.
    Progress is shown stage by stage: reading a month of tickets takes seconds, the fit check longer.
    """
    from calibration import calibrate, clean, fit_report, mapping_from_yaml_text, read_log_bytes
    from calibration.io import LOG_SUFFIXES

    holder = st.empty()
    bar = holder.progress(0.02, text=f"Reading {literal(name)} ({len(_data) / 1e6:,.1f} MB)")
    mapping_obj = mapping_from_yaml_text(mapping, "the column mapping") if mapping is not None else None
    raw = read_log_bytes(_data, name, mapping_obj)
    notes = [str(n) for n in raw.attrs.get("notes", [])]
    if not notes and LOG_SUFFIXES.get(Path(name).suffix.lower()) == "csv":
        # the reader notes only a guess other than UTF-8; say what a text log was read as either way
        enc = mapping_obj.encoding if mapping_obj is not None and mapping_obj.encoding else None
        notes = [f"{name} was read as {enc} text (the column mapping's encoding)" if enc else f"{name} was read as UTF-8 text"]
    bar.progress(0.2, text=f"Cleaning {len(raw):,} rows (the longest step for a big log: about a minute per million rows)")
    cleaned = clean(raw, mapping_obj, source=name, interval_min=interval_min)
    del raw
    bar.progress(0.35, text=f"Fitting arrivals, service and patience to {len(cleaned.tickets):,} tickets")
    cal = calibrate(cleaned, interval_min=interval_min)

    def tick(done: int, total: int) -> None:
        bar.progress(0.45 + 0.55 * done / max(total, 1), text=f"Simulating the log's days to check the fit: {done} of {total}")

    bar.progress(0.45, text="Simulating the log's days to check the fit")
    report = fit_report(cal, replications=replications, seed=seed, workers=workers(), progress=tick)
    holder.empty()
    return cal, report, notes


def _clear_problems() -> None:
    # a removed or replaced file, another source or new settings take the old messages with them
    ss.pop("cal_problems", None)
    ss.pop("cal_error", None)


c1, c2 = st.columns([3, 2])
with c1, st.container(border=True):
    src = st.radio("Ticket log", ["example", "upload"], key="k_cal_src", horizontal=True, on_change=_clear_problems,
                   format_func={"example": "The bundled example log (four weeks of a telecom hall)", "upload": "Upload my log"}.__getitem__)
    log_file = mapping_file = None
    if src == "upload":
        log_file = st.file_uploader(f"Ticket log (.csv, .xlsx, .parquet; up to {MAX_LOG_MB} MB)", type=["csv", "txt", "tsv", "xlsx", "parquet"],
                                    key="cal_log", on_change=_clear_problems)
        mapping_file = st.file_uploader("Column mapping (optional YAML, for exports with other column names; see docs/ticket-log.md)",
                                        type=["yaml", "yml"], key="cal_map", on_change=_clear_problems, max_upload_size=1)
with c2, st.container(border=True):
    ss.setdefault("k_cal_interval", 30)
    ss.setdefault("k_cal_reps", 10)
    interval = st.selectbox("Interval (minutes)", [15, 30, 60], key="k_cal_interval", on_change=_clear_problems)
    reps = st.number_input("Replications per day for the fit check", 2, 100, key="k_cal_reps", on_change=_clear_problems,
                           help="Each of the log's days is simulated this many times; the check compares the log with the spread.")
    go = st.button("Calibrate", type="primary", icon=":material/tune:", key="cal_btn")

if go:
    problems: list[tuple[str, str]] = []
    if src == "example":
        data, name, mapping = EXAMPLE_LOG.read_bytes(), "example_ticket_log.csv", None
    elif log_file is None:
        problems.append(("", "choose a ticket log file to upload first"))
    else:
        data, name = log_file.getvalue(), log_file.name
        mapping = mapping_file.getvalue() if mapping_file is not None else None
        what = not_a_log(data)
        if what:
            problems.append(("", f"{name} is {what}, not a ticket log: export the log from the queue system as CSV, Excel (.xlsx) or Parquet"))
        if mapping_file is not None and mapping is not None and len(mapping) > MAX_MAPPING_BYTES:
            problems.append(("", f"the column mapping {mapping_file.name} is {len(mapping):,} bytes; a mapping file is a few lines "
                                 f"(at most {MAX_MAPPING_BYTES:,} bytes)"))
    if problems:
        ss["cal_problems"] = problems
        ss.pop("cal_request", None)
    else:
        ss.pop("cal_problems", None)
        ss["cal_data"] = data
        ss["cal_request"] = {"digest": hashlib.sha1(data).hexdigest(), "name": name, "mapping": mapping,
                             "interval": int(interval), "reps": int(reps), "seed": state.run_settings()[1]}
if src == "upload" and log_file is None and ss.get("cal_request", {}).get("name") != "example_ticket_log.csv":
    ss.pop("cal_request", None)  # the file was removed: its results and errors go with it
with c1:
    show_problems(ss.get("cal_problems", []))
if "cal_request" not in ss:
    st.stop()

req = ss["cal_request"]
try:
    cal, report, read_notes = calibrate_cached(ss["cal_data"], req["digest"], req["name"], req["mapping"], req["interval"], req["reps"], req["seed"])
except ScenarioError as err:
    with c1:
        show_problems([(p, plain_error(m, req["name"])) for p, m in err.problems], f"**{literal(req['name'])}** gave a scenario that does not validate:")
    st.stop()
except ValueError as err:  # LogError and the calibration's own checks: a message in words
    with c1:
        show_problems([("", plain_error(str(err), req["name"]))], f"**{literal(req['name'])}** could not be calibrated:")
    st.stop()

if read_notes:  # how the file was read when storeq had to guess (the encoding): next to the upload, to be checked
    with c1:
        for note in read_notes:
            st.info(literal(note), icon=":material/info:")
st.divider()
clean_log = cal.clean
n_days = int(clean_log.tickets["day"].nunique()) if "day" in clean_log.tickets else len(report.days_simulated)
checked = len(report.days_simulated)
st.markdown(f"**{literal(req['name'])}**: {len(clean_log.tickets):,} tickets used of {clean_log.rows_read:,} rows read, over {n_days} days; "
            + (f"all {checked} days checked" if checked == n_days else f"{checked} of them checked (the fit check simulates at most {checked} days)")
            + f" ({report.replications} simulated replications each).")
lines = clean_log.summary_lines()
if lines:
    with st.expander(f"What the cleaning did ({clean_log.rows_skipped:,} rows skipped)"):
        for line in lines:  # they quote the log's own values (segment and transaction names)
            st.markdown(f"- {literal(line)}")

# About 1 in 20 interval values falls outside a 95% band by chance alone: 90% inside is a good fit
# (green), 75% a fair one (orange), less a poor one (red) — the same thresholds as the verdict's words.
have = report.intervals["observed"].notna() & report.intervals["sim_mean"].notna()
share_fit = float(report.intervals.loc[have, "fits"].mean()) if have.any() else 1.0
if share_fit >= 0.9:
    st.success(literal(report.verdict[0]), icon=":material/fact_check:")
elif share_fit >= 0.75:
    st.warning(literal(report.verdict[0]), icon=":material/warning:")
else:
    st.error(literal(report.verdict[0]), icon=":material/error:")
for line in report.verdict[1:]:
    st.markdown(f"- {literal(line)}")

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
    number = ".1%" if fmt else ".1f"
    tip = [alt.Tooltip("start:N", title="Interval"), alt.Tooltip("observed:Q", title="Log", format=number),
           alt.Tooltip("sim_mean:Q", title="Simulated mean", format=number), alt.Tooltip("sim_pi_low:Q", title="95% band from", format=number),
           alt.Tooltip("sim_pi_high:Q", title="95% band to", format=number)]
    band = alt.Chart(df).mark_area(opacity=0.2, color=PALETTE[0], interpolate="step-after").encode(
        x=x, y=alt.Y("sim_pi_low:Q", title=title, axis=alt.Axis(format=fmt) if fmt else alt.Axis()), y2="sim_pi_high:Q", tooltip=tip)
    line = alt.Chart(df).mark_line(color=PALETTE[0], interpolate="step-after").encode(x=x, y="sim_mean:Q", tooltip=tip)
    pts = alt.Chart(df).mark_point(filled=True, size=45).encode(
        x="mid:T", y="observed:Q",
        color=alt.Color("fits:N", scale=alt.Scale(domain=[True, False], range=["#222222", "#C0392B"]),
                        legend=alt.Legend(title=None, orient="top", labelExpr="datum.value ? 'log: inside the band' : 'log: outside the band'")),
        tooltip=tip,
    )
    with cols[k % 2]:
        st.markdown(f"**{title}**: log (dots) vs simulated (line; band: 95% prediction interval of a day)")
        st.altair_chart((band + line + pts).properties(height=230), width="stretch")

sc = cal.scenario
st.markdown(f"**The calibrated scenario**: {sc.store.open}-{sc.store.close}, {sc.n_intervals} intervals of {sc.store.interval_min} min, "
            f"{len(sc.segments)} customer segments, {len(sc.transactions)} transaction types, up to {int(sc.staffed_schedule().max())} counters staffed, "
            f"{sc.kiosks.count} kiosks.")


def _use() -> None:
    from simulation import scenario_from_yaml, scenario_to_yaml

    label = f"calibrated from {req['name']}"
    text = scenario_to_yaml(scenario_from_yaml(cal.yaml_text, label))  # canonical form (a calibrated file may exceed the 1 MB upload check)
    ss["uploads"][label] = text
    ss.setdefault("upload_raw", {})[label] = cal.yaml_text  # with the notes on where each number came from
    state.set_base(label, text)
    ss["goto_whatif"] = True


b1, b2 = st.columns([1, 1])
b1.button("Use this scenario on the What-if page", on_click=_use, type="primary", icon=":material/arrow_forward:")
b2.download_button("Download the scenario (YAML)", cal.yaml_text.encode("utf-8"), file_name="storeq_calibrated.yaml",
                   mime="application/x-yaml", icon=":material/download:", help="With comments saying where each number came from.")
