"""Roster page: service targets and shift rules in; the optimizer's verified roster out.

Two plans share the targets and rules: **one day** (``optimizer.optimize_day``: the staff needed per
interval, the cheapest shifts that cover it, when to stop pitching, checked by simulation) and **a
week for named staff** (``optimizer.optimize_week``: availability, contract hours, days off, rest
and fair closings, every day checked). The page draws what they return, says plainly what they
could not do, and offers a print-ready plan.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from simulation import ScenarioError, format_clock, parse_clock, scenario_to_yaml, with_updates
from storeq.app import charts, entry, state
from storeq.app.common import (
    clock_to_datetime,
    currency_of,
    fmt_value,
    fmt_with_ci,
    literal,
    run_cached,
    scenario_from_key,
    show_problems,
    workers,
)
from storeq.app.editing import clock_options, describe_policy, group_choices, group_problems
from storeq.app.printable import DaySheet, greeter_text, plan_html

ss = st.session_state
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STAFF_EXAMPLE = "staff_week.yaml"
STAFF_EXAMPLE_GROUPS = "staff_bank_week.yaml"  # each person with a `group:` (the bank branch's desks)
MAX_STAFF_BYTES = 1_000_000

if ss.pop("goto_whatif", False):  # set by "Open this roster on the What-if page": go there now
    entry.go("whatif.py")
st.title("Roster")


def _progress(label: str, stages: list[str]) -> tuple[Any, Any]:
    holder = st.empty()
    bar = holder.progress(0.0, text=label)

    def tick(done: int, total: int) -> None:
        stage = stages[min(done, len(stages) - 1)] if stages else label
        bar.progress(min(1.0, done / max(total, 1)), text=f"{stage} ({done} of {total})")

    return holder, tick


def service_target(target: tuple[float | None, ...]) -> Any:
    """The form's target (service level, wait, abandonment cap or None, share of days or None) for the optimizer."""
    from optimizer import ServiceTarget

    days = target[3] if len(target) > 3 else None
    return ServiceTarget(service_level=float(target[0] or 0.0), target_wait_min=target[1], max_abandon=target[2], days_meeting=days)


# The requirement's descent may spend up to 64x the search's replications settling a borderline
# removal: the leanest plan, but minutes for a week. A manager waiting at the page gets the 4x budget
# (seconds), which may keep a counter in a borderline interval that `storeq optimize` would remove.
@st.cache_data(show_spinner=False, max_entries=8)
def optimize_cached(yaml_text: str, target: tuple[float, float, float | None, float | None], rules: dict[str, Any], pitch: str, method: str,
                    replications: int, seed: int) -> Any:
    """``optimizer.optimize_day`` for this scenario, target and rules (cached; the progress bar lives inside)."""
    from optimizer import optimize_day
    from simulation.scenario import ShiftRules

    scenario = scenario_from_key(yaml_text)
    holder, tick = _progress("Optimizing", ["Finding the counters needed", "Building the cheapest roster", "Simulating the roster",
                                            "Checking pitch policies", "Done"])
    plan = optimize_day(
        scenario,
        service_target(target),
        rules=ShiftRules.model_validate(rules),
        method=method,  # type: ignore[arg-type]
        pitch=pitch,  # type: ignore[arg-type]
        search_replications=max(10, min(30, replications // 3)),
        search_max_replications=4 * max(10, min(30, replications // 3)),
        replications=replications,
        seed=seed,
        workers=workers(),
        time_limit_s=20.0,
        progress=tick,
    )
    holder.empty()
    return plan


@st.cache_data(show_spinner=False, max_entries=4)
def optimize_week_cached(yaml_text: str, staff_text: str, target: tuple[float, float, float | None, float | None], rules: dict[str, Any], pitch: str,
                         method: str, replications: int, seed: int, time_limit_s: float) -> Any:
    """``optimizer.optimize_week`` for the named staff (cached by the scenario, the staff list and the settings)."""
    from optimizer import optimize_week, staff_from_text
    from simulation.scenario import ShiftRules

    scenario = scenario_from_key(yaml_text)
    staff = staff_from_text(staff_text, "staff list", csv_format=False)
    holder, tick = _progress("Planning the week", [*(f"Counters needed, day {d + 1} of 7" for d in range(7)), "Rostering the named staff",
                                                   *(f"Simulating day {d + 1} of 7" for d in range(7)), "Done"])
    plan = optimize_week(
        scenario,
        staff,
        service_target(target),
        rules=ShiftRules.model_validate(rules),
        method=method,  # type: ignore[arg-type]
        pitch=pitch,  # type: ignore[arg-type]
        search_replications=max(10, min(30, replications // 3)),
        search_max_replications=4 * max(10, min(30, replications // 3)),
        replications=replications,
        seed=seed,
        workers=workers(),
        time_limit_s=time_limit_s,
        progress=tick,
    )
    holder.empty()
    return plan


# ---------------------------------------------------------------------------------------------
# named staff: the list as an editable table (the CSV form of a staff file)
# ---------------------------------------------------------------------------------------------


def _windows_text(wins: Any) -> str:
    if not wins:
        return "off"
    if tuple(wins) == ((0, 1440),):
        return "all"
    return ";".join(f"{format_clock(a)}-{format_clock(b)}" for a, b in wins)


def staff_table(rules: Any) -> pd.DataFrame:
    """A staff list as one row per person: group, contract, limits, and each weekday's availability.

    ``group`` ("" for none) is kept for every list; the page shows it only for a store with counter
    groups, and a one-pool store's staff file is written without it.
    """
    rows = []
    for p in rules.staff:
        row: dict[str, Any] = {"name": p.name, "group": ", ".join(p.groups), "min_hours": float(p.min_hours), "max_hours": float(p.max_hours),
                               "max_days": int(p.max_days), "can_close": bool(p.can_close)}
        row.update({d: _windows_text(p.availability[k]) for k, d in enumerate(DAYS)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["name", "group", "min_hours", "max_hours", "max_days", "can_close", *DAYS])


def group_names(scenario: Any) -> list[str]:
    """The store's counter groups by name; empty for a one-pool store."""
    return [g.name for g in (scenario.counters.groups or ())]


def staff_example_for(groups: list[str]) -> str:
    """The bundled staff list that fits the store: one naming the bank branch's groups, or the one-pool list."""
    return STAFF_EXAMPLE_GROUPS if groups else STAFF_EXAMPLE


def staff_text_of(table: pd.DataFrame, rest: float, fair: float) -> str:
    """The table as a staff file (JSON, which YAML reads) for ``optimizer.staff_from_text``.

    Rows go through ``staff_rows_to_data``, the reader of staff CSV files, so a weekday cell means
    exactly what it means in a CSV staff list.
    """
    import json

    from optimizer.staff import staff_rows_to_data

    rows = [{str(k): ("" if pd.isna(v) else v) for k, v in row.items()} for row in table.to_dict("records")]
    data = {"min_rest_hours": float(rest), "fair_closing_weight": float(fair), **staff_rows_to_data(rows)}
    return json.dumps(data, default=str)


def _load_staff_text(text: str, source: str) -> None:
    from optimizer import staff_from_text

    try:
        rules = staff_from_text(text, source)
    except ScenarioError as err:
        ss["staff_problems"] = list(err.problems)
        ss["staff_problems_source"] = source
        return
    ss["staff_problems"] = []
    ss["staff_table"] = staff_table(rules)
    ss["staff_rest"], ss["staff_fair"] = float(rules.min_rest_hours), float(rules.fair_closing_weight)
    ss["staff_source"] = source
    ss["staff_is_example"] = False
    ss["stafflist_ver"] = ss.get("stafflist_ver", 0) + 1


def _staff_uploaded() -> None:
    f = ss.get("staff_file")
    if f is None:
        ss["staff_problems"] = []  # a removed file takes its old error with it
        return
    data = f.getvalue()
    if len(data) > MAX_STAFF_BYTES:
        ss["staff_problems"] = [("", f"{f.name} is {len(data):,} bytes; a staff list is at most {MAX_STAFF_BYTES:,} bytes")]
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        ss["staff_problems"] = [("", f"{f.name} is not a UTF-8 text file (YAML or CSV); save it as UTF-8 and upload it again")]
        return
    _load_staff_text(text, f.name)


def _staff_example(name: str = STAFF_EXAMPLE) -> None:
    from storeq.app.common import SCENARIO_DIR

    _load_staff_text((SCENARIO_DIR / name).read_text(encoding="utf-8"), name)
    ss["staff_is_example"] = True  # untouched: swapped for the other example when the store's kind changes


@st.cache_data(show_spinner=False)
def _example_size(name: str) -> int:
    from optimizer import staff_from_text
    from storeq.app.common import SCENARIO_DIR

    return len(staff_from_text((SCENARIO_DIR / name).read_text(encoding="utf-8"), name).staff)


def _staff_edited(key: str) -> None:
    edits = ss.get(key, {})
    table = ss["staff_table"].copy()
    for r, changes in edits.get("edited_rows", {}).items():
        for col, value in changes.items():
            table.loc[int(r), col] = value
    for r in sorted(edits.get("deleted_rows", []), reverse=True):
        table = table.drop(index=table.index[int(r)])
    for row in edits.get("added_rows", []):
        new = {"name": "", "group": "", "min_hours": 0.0, "max_hours": 40.0, "max_days": 5, "can_close": True, **{d: "all" for d in DAYS}}
        new.update(row)
        table = pd.concat([table, pd.DataFrame([new])], ignore_index=True)
    ss["staff_table"] = table.reset_index(drop=True)
    ss["staff_is_example"] = False
    ss["stafflist_ver"] = ss.get("stafflist_ver", 0) + 1


def current_staff(groups: list[str]) -> tuple[str | None, list[tuple[str, str]]]:
    """The edited staff list as staff-file text, validated: (text, []) or (None, problems).

    ``groups``: the store's counter groups. With groups every person must name one of them; without,
    the group column is left out, so a one-pool store gets exactly the staff file it always had.
    """
    from optimizer import staff_from_text

    table = ss["staff_table"].copy()
    if "group" not in table.columns:
        table["group"] = ""
    table["name"] = table["name"].fillna("").astype(str).str.strip()
    table["group"] = table["group"].fillna("").astype(str).str.strip()
    if not groups:
        table = table.drop(columns="group")
    text = staff_text_of(table, ss["staff_rest"], ss["staff_fair"])
    problems: list[tuple[str, str]] = []
    try:
        staff_from_text(text, "the staff table", csv_format=False)
    except ScenarioError as err:
        problems = list(err.problems)
    if groups:
        problems += group_problems(table, groups)
    return (None, problems) if problems else (text, [])


# ---------------------------------------------------------------------------------------------
# the inputs
# ---------------------------------------------------------------------------------------------

base, _err = state.edited_scenario()
source = "your edited plan (What-if page)"
if base is None:
    base, source = state.base_scenario(), f"the store as loaded ({literal(ss['base_name'])}), because your edited plan has problems"
currency = currency_of(base)
md_currency = literal(currency)  # for Markdown (captions, boxes, metric values): a currency like "[x](y)" stays text
st.caption(f"Optimizing **{literal(base.name)}**, {source}: demand, service times, kiosks and patience come from it; the optimizer chooses the counters and the pitching.")

rules0 = base.shifts
brk0 = rules0.break_ if rules0 else None
clocks = [c for c in clock_options(30) if base.store.open_min <= parse_clock(c) <= base.store.close_min]
LENGTHS = [3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
# Defaults go into Session State once (from the scenario's shift rules, if it has any) and the widgets
# take their values from there only: giving a widget both makes Streamlit warn on every revisit.
# Breaks are on unless the file says otherwise: an 8-hour shift without a break is not a plan to pin up.
defaults: dict[str, Any] = {
    "k_r_sl": 0.8,
    "k_r_wait": float(base.store.target_wait_min),
    "k_r_cap_on": False,
    "k_r_cap": 0.05,
    "k_r_days_on": False,  # off: the mean target, as before; on: each interval on this share of days
    "k_r_days": 90,
    "k_r_lengths": [v for v in (rules0.lengths_hours if rules0 else (4.0, 6.0, 8.0)) if v in LENGTHS],
    "k_r_earliest": rules0.earliest_start if rules0 and rules0.earliest_start in clocks else clocks[0],
    "k_r_latest": rules0.latest_end if rules0 and rules0.latest_end in clocks else clocks[-1],
    "k_r_min": int(rules0.min_on_duty) if rules0 else 1,
    "k_r_brk_on": brk0 is not None or rules0 is None,
    "k_r_brk_over": float(brk0.for_shifts_over_hours) if brk0 else 6.0,
    "k_r_brk_len": int(brk0.length_min) if brk0 else 30,
    "k_r_week_limit": 20,
}
for key, value in defaults.items():
    ss.setdefault(key, value)
for key in ("k_r_earliest", "k_r_latest"):
    if ss[key] not in clocks:  # another store's hours: start from this store's
        ss[key] = defaults[key]

GROUPS = group_names(base)
example = staff_example_for(GROUPS)
with st.expander("Named staff for the week (availability, contract hours, days off)", expanded="staff_table" in ss):
    if "staff_table" not in ss or (ss.get("staff_is_example") and ss.get("staff_source") != example):
        _staff_example(example)  # first visit, or the untouched example of the other kind of store
    if "group" not in ss["staff_table"].columns:  # a table kept from before groups were shown
        ss["staff_table"] = ss["staff_table"].assign(group="")[["name", "group", *[c for c in ss["staff_table"].columns if c != "name"]]]
    s1, s2 = st.columns([2, 1])
    s1.file_uploader(f"Upload a staff list (YAML or CSV, as scenarios/{example}; see docs/optimizer.md)", type=["yaml", "yml", "csv"],
                     key="staff_file", on_change=_staff_uploaded, max_upload_size=1)
    s2.button(f"Use the example staff ({_example_size(example)} people)", on_click=_staff_example, args=(example,), icon=":material/group:",
              key="staff_example_btn")
    show_problems(ss.get("staff_problems", []), f"**{literal(ss.get('staff_problems_source', 'The staff list'))}** was not loaded; the list below is unchanged:")
    st.caption(f"From **{literal(ss.get('staff_source', example))}**. Edit any cell, add or delete rows. Weekday cells: "
               "`all` (any time the store is open), `off`, or windows like `09:00-14:00` (several: `09:00-12:00;14:00-18:00`)."
               + (f" **Group**: the counters each person works ({', '.join(literal(g) for g in GROUPS)}); everyone needs one; 'advisers, tellers' for someone who works advisers and can also work tellers (each shift goes to one of them)." if GROUPS else ""))
    staff_key = f"stafflist_editor_{ss.get('stafflist_ver', 0)}"
    shown = ["name", *(["group"] if GROUPS else []), "min_hours", "max_hours", "max_days", "can_close", *DAYS]
    st.data_editor(
        ss["staff_table"], key=staff_key, on_change=_staff_edited, args=(staff_key,), num_rows="dynamic", hide_index=True, width="stretch",
        column_order=shown,
        column_config={
            "name": st.column_config.TextColumn("Name", required=True),
            **({"group": st.column_config.SelectboxColumn("Group", options=group_choices(GROUPS, ss["staff_table"]["group"]), required=True,
                                                          help="The counter group this person works (the store's counters.groups); "
                                                               "\"tellers, advisers\": works tellers and can also work advisers, shift by shift.")} if GROUPS else {}),
            "min_hours": st.column_config.NumberColumn("Min h/week", min_value=0.0, max_value=80.0, step=1.0, format="%.0f"),
            "max_hours": st.column_config.NumberColumn("Max h/week", min_value=0.0, max_value=80.0, step=1.0, format="%.0f"),
            "max_days": st.column_config.NumberColumn("Max days", min_value=0, max_value=7, step=1),
            "can_close": st.column_config.CheckboxColumn("Can close"),
            **{d: st.column_config.TextColumn(d.capitalize()) for d in DAYS},
        },
    )
    r1, r2, r3 = st.columns(3)
    ss.setdefault("staff_rest", 11.0)
    ss.setdefault("staff_fair", 1.0)
    r1.number_input("Rest between shifts (hours)", 0.0, 24.0, step=1.0, key="staff_rest")
    r2.number_input("Fair closings weight", 0.0, 100.0, step=0.5, key="staff_fair",
                    help="How many staff-hours of cost one extra closing of difference between people is worth avoiding.")
    r3.number_input("Week solver time limit (s)", 5, 300, step=5, key="k_r_week_limit",
                    help="The week roster stops searching after this long and reports its optimality gap.")
    staff_text, staff_problems = current_staff(GROUPS)
    show_problems(staff_problems, "The staff table has problems (fix them to plan the week):")

with st.form("roster_form", border=True):
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Targets**")
        sl = st.slider("Service level: share served within the target wait", 0.5, 0.99, step=0.01, key="k_r_sl")
        wait = st.number_input("Target wait (minutes)", 1.0, 120.0, step=1.0, key="k_r_wait")
        cap_on = st.checkbox("Cap abandonment", key="k_r_cap_on")
        cap = st.slider("Most customers who may give up waiting", 0.0, 0.3, step=0.01, key="k_r_cap", format="%.2f")
        days_on = st.checkbox("Meet the target on most days", key="k_r_days_on",
                              help="Off: each interval meets the target on average over the simulated days. On: each interval must meet it "
                                   "on at least the share of days below, so busy days count too (this needs more staff).")
        days_pct = st.slider("Each interval meets the target on at least this share of days", 50, 99, step=1, key="k_r_days", format="%d%%")
    with c2:
        st.markdown("**Shift rules**")
        lengths = st.multiselect("Shift lengths (hours)", LENGTHS, key="k_r_lengths")
        r1, r2 = st.columns(2)
        earliest = r1.selectbox("Earliest start", clocks, key="k_r_earliest")
        latest = r2.selectbox("Latest end", clocks, key="k_r_latest")
        min_duty = st.number_input("At least this many on duty while open", 0, 50, key="k_r_min")
    with c3:
        st.markdown("**Breaks and pitching**")
        brk_on = st.checkbox("Breaks on long shifts", key="k_r_brk_on")
        b1, b2 = st.columns(2)
        brk_over = b1.number_input("for shifts over (h)", 1.0, 12.0, step=0.5, key="k_r_brk_over")
        brk_len = b2.number_input("break (min)", 15, 120, step=15, key="k_r_brk_len")
        pitch = st.radio("Cross-selling", ["decide", "always", "never"], key="k_r_pitch", horizontal=True,
                         format_func={"decide": "Optimizer decides when", "always": "Always pitch", "never": "Never pitch"}.__getitem__)
        method = st.radio("Requirement", ["simulation", "erlang_a_lagged"], key="k_r_method",
                          format_func={"simulation": "Simulation-refined (slower, accounts for queues carried over)", "erlang_a_lagged": "Erlang A formula (fast)"}.__getitem__)
    f1, f2 = st.columns(2)
    submitted = f1.form_submit_button("Build roster", type="primary", icon=":material/calendar_month:")
    week_submitted = f2.form_submit_button("Plan the week for the named staff", icon=":material/groups:")

reps, seed = state.run_settings()
rules: dict[str, Any] = {"lengths_hours": sorted(lengths), "earliest_start": earliest, "latest_end": latest, "min_on_duty": int(min_duty)}
if brk_on:
    rules["break"] = {"for_shifts_over_hours": float(brk_over), "length_min": int(brk_len)}
problems: list[tuple[str, str]] = []
if not lengths:
    problems.append(("shifts.lengths_hours", "choose at least one shift length"))
if parse_clock(latest) <= parse_clock(earliest):
    problems.append(("shifts.latest_end", f"latest end {latest} must be after earliest start {earliest}"))
if week_submitted and staff_text is None:
    problems.append(("staff", "the staff table has problems (see the Named staff section above)"))
show_problems(problems)
target_now = (float(sl), float(wait), float(cap) if cap_on else None, int(days_pct) / 100 if days_on else None)
request = {"yaml": scenario_to_yaml(base), "target": target_now, "rules": rules,
           "pitch": pitch, "method": method, "reps": reps, "seed": seed}
if submitted and not problems:
    ss["roster_request"] = request
    ss["roster_mode"] = "day"
if week_submitted and not problems and staff_text is not None:
    ss["week_request"] = {**request, "staff": staff_text, "limit": float(ss["k_r_week_limit"])}
    ss["roster_mode"] = "week"
if "roster_mode" not in ss:
    st.caption("Set the targets and rules, then press **Build roster** (one day, shifts without names) or **Plan the week for the named staff**. "
               "It takes from a few seconds to a minute, with progress shown: every roster is simulated before it is shown.")
    st.stop()


# ---------------------------------------------------------------------------------------------
# shared pieces of the results
# ---------------------------------------------------------------------------------------------


def _open_on_whatif(label: str, text: str) -> None:
    ss["uploads"][label] = text
    state.set_base(label, text)
    ss["goto_whatif"] = True


def _expected_waits(scenario: Any, replications: int, seed: int) -> pd.DataFrame:
    """Mean wait and service level per interval of a planned day (one cached simulation)."""
    res = run_cached(scenario_to_yaml(scenario), seed, replications, "Simulating the plan for the printout")
    iv = res.intervals
    out = pd.DataFrame({"start": scenario.interval_labels, "counters": scenario.staffed_schedule()})
    for kpi, col in (("mean_wait_min", "mean_wait"), ("service_level", "service_level")):
        sub = iv[iv["kpi"] == kpi].set_index("interval")["mean"]
        out[col] = [float(sub.get(i, np.nan)) for i in range(scenario.n_intervals)]
    return out


def gap_text(gap: float) -> str:
    """The optimality gap as a manager reads it: "1.2%", and "under 0.1%" rather than a misleading "0.0%"."""
    return "under 0.1%" if 0 < gap < 0.0005 else f"{gap:.1%}"


def recommendation(plan: Any) -> tuple[str, dict[str, Any] | None]:
    """The pitch rule to follow, in words, and the policy to apply when it is not the plan's own.

    The optimizer compares its pitch windows with queue-threshold rules on the same roster; the
    winner is the one that earns more margin without missing more intervals.
    """
    pol = plan.policies
    currency = md_currency  # the text is Markdown: the file's currency shown literally
    windows_words = plan.pitch_rule
    if pol is None or len(pol[pol["stage"] == "final"]) < 2:
        return f"**{windows_words[0].upper() + windows_words[1:]}.**", None
    final = pol[pol["stage"] == "final"]
    w, q = final.iloc[0], final.iloc[1]
    n = int(str(q["policy"]).split()[-1])
    gain = float(q["pitch_margin"]) - float(w["pitch_margin"])
    same = f"{100 * float(q['service_level']):.1f}% vs {100 * float(w['service_level']):.1f}% served within the target"
    if gain > 0 and int(q["missed_intervals"]) <= int(w["missed_intervals"]):
        text = (f"**Pitch only while fewer than {n} are waiting**: it earns {gain:,.0f} {currency} a day more than "
                f"“{windows_words}” without missing the target in more intervals ({same}).")
        return text, {"mode": "queue_threshold", "threshold": n}
    text = (f"**{windows_words[0].upper() + windows_words[1:]}**: it earns {-gain:,.0f} {currency} a day more than pitching only while "
            f"fewer than {n} wait ({same})." if gain <= 0 else
            f"**{windows_words[0].upper() + windows_words[1:]}**: pitching only while fewer than {n} wait would earn {gain:,.0f} {currency} "
            f"more but misses the target in more intervals ({int(q['missed_intervals'])} vs {int(w['missed_intervals'])}).")
    return text, None


def why_more_staff(plan: Any, scenario: Any) -> str | None:
    """Why the roster staffs more where it pitches than at a busier time where it does not.

    Where the plan pitches, the requirement is the one *with* pitching (longer service), so it can
    exceed the peak's; the optimizer pitches there because the expected margin is worth more than
    the extra counters. The figures come from the optimizer's own workload.
    """
    from optimizer import workload

    iv = plan.intervals_frame()
    if iv["required_pitch"].isna().all():
        return None
    extra = (iv["required_pitch"].astype(float) - iv["required_no_pitch"].astype(float)).to_numpy()
    pitched = iv["pitch"].to_numpy(bool) & (extra > 0)
    if not pitched.any() or iv["pitch"].all():
        return None
    currency = md_currency  # shown in an st.info (Markdown): the file's currency literally
    wl = workload(scenario)
    minutes = scenario.store.interval_min
    margin = wl.counter_rate_per_min * minutes * wl.pitch_margin_per_customer
    cost = extra * float(scenario.costs.staff_hour) * minutes / 60.0
    i = int(np.flatnonzero(pitched)[np.argmax(iv["staffed"].to_numpy()[pitched])])
    peak = int(np.argmax(iv["required_no_pitch"].to_numpy(float)))
    sentence = (f"Why {int(iv['staffed'][i])} counters at {iv['start'][i]} but {int(iv['staffed'][peak])} at {iv['start'][peak]}: "
                f"at {iv['start'][i]} the roster pitches, which lengthens service so it needs {int(extra[i])} more counter"
                f"{'s' if extra[i] != 1 else ''} than without pitching, and pitching there earns about "
                f"{fmt_value(float(margin[i]), 'money', currency=currency)} per {minutes} minutes against "
                f"{fmt_value(float(cost[i]), 'money', currency=currency)} for the extra staff.")
    if not bool(iv["pitch"][peak]):
        sentence += f" At {iv['start'][peak]} pitching stops, so the busiest interval needs only the counters for plain service."
    return sentence


def meeting_share(services: list[pd.DataFrame]) -> float:
    """Share of intervals with customers that meet the whole target (``meets``: the service level, and the
    abandonment cap and the share of days when asked), so the card agrees with the intervals named as missing."""
    have = pd.concat([f[f["service_level_mean"].notna()] for f in services], ignore_index=True)
    return float(have["meets"].mean()) if len(have) else 1.0


def share_percent(share: float) -> str:
    """A share of intervals meeting the target as a whole percent, rounded down: "100%" only when
    every one meets (573 of 576 is 99%, not a rounded-up 100% beside the misses named below)."""
    return f"{math.floor(share * 100 + 1e-9):.0f}%"


def meeting_card(m: Any, verified: list[pd.DataFrame], group_plans: list[Any], week: bool = False) -> None:
    """The "intervals meeting the target" card. A store with counter groups counts each group's own
    intervals (as the per-group table below does): the store-wide figure could say 100% while a
    group's customers miss, which the table then names."""
    over = "Over the week's simulated days: " if week else ""
    if group_plans:
        cells = [gp.interval_meets()[gp.service["service_level_mean"].notna().to_numpy()] for gp in group_plans]
        have = np.concatenate(cells) if cells else np.array([], dtype=bool)
        share = float(have.mean()) if len(have) else 1.0
        m.metric("Group intervals meeting the target", share_percent(share), border=True,
                 help=over + f"{int(have.sum())} of {len(have)} (counter group, interval) cells with customers, each group judged on its own "
                      "customers against the whole target (service level, and the abandonment cap and share of days when set).")
        return
    m.metric("Intervals meeting the target", share_percent(meeting_share(verified)), border=True,
             help=over + "intervals with customers that meet the whole target (service level, and the abandonment cap and share of days when set).")


def _band(frame: pd.DataFrame, series: str, what: str) -> pd.DataFrame:
    """One series of an interval band chart from a service frame: ``what`` is service_level or days_meeting."""
    return pd.DataFrame({"scenario": series, "start": frame["start"], "mean": frame[f"{what}_mean"],
                         "ci_low": frame[f"{what}_ci_low"].clip(0, 1), "ci_high": frame[f"{what}_ci_high"].clip(0, 1)})


def days_heatmap(df: pd.DataFrame, names: list[str], days_target: float | None, interval_min: int) -> alt.LayerChart:
    """The share of days per interval as a strip of cells per series (the store, or each group).

    Shares sit between about 0.8 and 1, where a line on a 0-100% axis looks flat; coloured cells
    show at a glance which intervals fall short, and cells below the asked share carry their figure.
    """
    data = df.dropna(subset=["mean"]).copy()
    data["time"] = clock_to_datetime(data["start"]).to_numpy()
    data["time_end"] = data["time"] + pd.Timedelta(minutes=interval_min)
    floor = days_target if days_target is not None else 0.9
    data["short"] = data["mean"] < floor - 1e-12
    data["label"] = [f"{100 * v:.0f}" if short else "" for v, short in zip(data["mean"], data["short"], strict=True)]
    tip = [alt.Tooltip("scenario:N", title="Counter group" if len(names) > 1 else "Plan"), alt.Tooltip("start:N", title="Interval start"),
           alt.Tooltip("mean:Q", title="Days meeting the target", format=".0%"),
           alt.Tooltip("ci_low:Q", title="95% range low", format=".0%"), alt.Tooltip("ci_high:Q", title="95% range high", format=".0%")]
    lo = min(floor - 0.15, float(data["mean"].min())) if len(data) else floor - 0.15  # a few points short already reads orange
    colour = alt.Color("mean:Q", title="Days meeting", legend=alt.Legend(format=".0%", orient="top", gradientLength=220),
                       scale=alt.Scale(domain=[lo, floor, 1.0], range=["#C0392B", "#F5D76E", "#4C9A5A"], clamp=True))
    y = alt.Y("scenario:N", sort=names, title=None, axis=alt.Axis(labelLimit=200))
    x = alt.X("time:T", axis=alt.Axis(format="%H:%M", title="Time of day (interval start)", labelAngle=0, tickCount=10))
    cells = alt.Chart(data).mark_rect(stroke="white", strokeWidth=1).encode(x=x, x2="time_end:T", y=y, color=colour, tooltip=tip)
    text = alt.Chart(data).mark_text(fontSize=10, color="#222222", fontWeight="bold").encode(
        x=alt.X("mid:T"), y=y, text="label:N", tooltip=tip).transform_calculate(mid="(datum.time + datum.time_end) / 2")
    return (cells + text).properties(height=alt.Step(34))


def show_days_meeting(frames: dict[str, pd.DataFrame], days_target: float | None, scenario: Any, wait: float) -> None:
    """Per interval, the share of simulated days on which it met the target (one strip of cells per series), in plain words.

    The mean target can hide busy days; this shows how often one day falls short. With no
    ``demand.day_cv`` every simulated day has the forecast's demand, so the share only reflects who
    happens to walk in when: the caption says so.
    """
    names = list(frames)
    st.markdown("**On how many days each interval meets the target**" + (" (per counter group: its own customers)" if len(names) > 1 else ""))
    df = pd.concat([_band(f, name, "days_meeting") for name, f in frames.items()], ignore_index=True)
    st.altair_chart(days_heatmap(df, names, days_target, scenario.store.interval_min), width="stretch")
    lowest = df.dropna(subset=["mean"]).sort_values("mean").head(1)
    words = (f"Share of the simulated days on which each interval met the target (hover for the 95% range): a day meets it when that "
             f"day's customers in the interval are served within {wait:g} minutes at the target share (and the abandonment cap holds, if set). ")
    if days_target is not None:
        words += f"The plan asks every interval to do so on at least {days_target:.0%} of days. "
    else:
        words += "The plan was built for the target on average; tick “Meet the target on most days” to plan for a share of days. "
    if len(lowest):
        who = f" ({lowest['scenario'].iloc[0]})" if len(names) > 1 else ""
        words += f"Lowest: {lowest['mean'].iloc[0]:.0%} of days at {lowest['start'].iloc[0]}{literal(who)}."
    st.caption(words)
    if not float(getattr(scenario.demand, "day_cv", 0.0) or 0.0) > 0:
        st.caption("This store's file gives no day-to-day spread of demand (`demand.day_cv` is 0 or absent): every simulated day has the "
                   "forecast's demand, so these shares are about day-to-day randomness only (who walks in when, how long each takes). "
                   "Real days busier than the forecast would meet the target less often.")


def group_check_rows(group_plans: Any, days_target: float | None) -> list[dict[str, Any]]:
    """One row per counter group: how its own customers fared in the simulated check, in words."""
    rows = []
    for gp in group_plans:
        f = gp.frame()
        have = f["service_level_mean"].notna()
        row: dict[str, Any] = {"Group": gp.name}
        if not have.any():
            row.update({"Intervals meeting the target": "no customers", "Lowest served within target": "–", "Lowest share of days": "–",
                        "Intervals missing": "none"})
            rows.append(row)
            continue
        worst = f[have].sort_values("service_level_mean").iloc[0]
        worst_days = f.sort_values("share_of_days_meeting").iloc[0]
        meets = int(f["meets_target"][have].sum())
        row["Intervals meeting the target"] = f"{meets} of {int(have.sum())}"
        row["Lowest served within target"] = f"{100 * float(worst['service_level_mean']):.0f}% at {worst['start']}"
        row["Lowest share of days"] = f"{100 * float(worst_days['share_of_days_meeting']):.0f}% at {worst_days['start']}" + (
            f" (asked {days_target:.0%})" if days_target is not None else "")
        row["Intervals missing"] = ", ".join(gp.missed) or "none"
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# one day
# ---------------------------------------------------------------------------------------------


def show_day() -> None:
    req = ss["roster_request"]
    if req != request:
        st.info("The inputs changed since this roster was built: press **Build roster** to update.", icon=":material/update:")
    try:
        plan = optimize_cached(req["yaml"], req["target"], req["rules"], req["pitch"], req["method"], req["reps"], req["seed"])
    except ScenarioError as err:
        show_problems(err.problems, "The optimizer could not use these inputs:")
        return
    scenario = scenario_from_key(req["yaml"])
    st.divider()
    st.subheader("One day")
    chosen = _day_headline(plan, req, scenario)
    shifts, iv, people = _day_charts(plan, req, scenario)
    _day_actions(plan, req, scenario, chosen, shifts, iv, people)


def _day_headline(plan: Any, req: dict[str, Any], scenario: Any) -> Any:
    """Status, the recommended pitch rule, the figures, the check and why; returns the scenario to use."""
    roster = plan.roster
    status_word = {"OPTIMAL": "optimal", "FEASIBLE": "feasible (time limit reached before proving optimality)"}.get(roster.status, roster.status)
    head = f"Solver status: **{status_word}**"
    if roster.gap is not None:
        head += f", optimality gap {gap_text(roster.gap)}"
    st.markdown(head)
    st.markdown(f"Target: **{literal(plan.target.describe(scenario))}**" + ("" if plan.target.days_meeting is not None else " (on average over the simulated days)"))
    text, policy = recommendation(plan)
    chosen = plan.scenario if policy is None else with_updates(plan.scenario, {"cross_sell.policy": policy})
    st.success("Recommended pitch rule: " + text, icon=":material/recommend:")
    m = st.columns(4)
    m[0].metric("Staff hours", f"{roster.staff_hours:.1f} h", border=True)
    m[1].metric("Staff cost", fmt_value(roster.staff_cost, "money", currency=md_currency), border=True)
    sl_kpi = plan.verification.kpis.get("service_level", {})
    m[2].metric(f"Served within {req['target'][1]:g} min", f"{100 * sl_kpi.get('mean', float('nan')):.1f}%",
                help="Simulated check of the roster with the pitch windows.", border=True)
    meeting_card(m[3], [plan.verification.intervals], list(plan.groups))
    st.caption("Served within target: " + fmt_with_ci(sl_kpi.get("mean", np.nan), sl_kpi.get("ci_low", np.nan), sl_kpi.get("ci_high", np.nan), "share")
               + f" over {plan.verification.replications} simulated days.")
    if plan.verification.missed:
        st.warning(f"Simulated with {plan.verification.replications} replications, these intervals miss the target: "
                   + ", ".join(plan.verification.missed)
                   + (f" (clearly, the whole CI below it: {', '.join(plan.verification.clearly_missed)})" if plan.verification.clearly_missed else ""),
                   icon=":material/warning:")
    else:
        st.success(f"Every interval meets the target in the simulated check ({plan.verification.replications} replications).", icon=":material/check_circle:")
    why = why_more_staff(plan, scenario)
    if why:
        st.info(why, icon=":material/help:")
    with st.expander("How the optimizer got there"):
        for line in plan.explanation:
            if not line.startswith("simulated with"):  # the missed intervals are in the box above
                st.markdown(f"- {literal(line)}")
    return chosen


def _day_charts(plan: Any, req: dict[str, Any], scenario: Any) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, str]]]:
    """The shifts as a Gantt chart, cover against requirement, and the simulated service level."""
    shifts = plan.shifts_frame().sort_values(["start", "end"]).reset_index(drop=True)
    rows, people = [], []
    brk_len_min = int(req["rules"].get("break", {}).get("length_min", 30))
    k = 0
    for s in shifts.itertuples(index=False):
        for _ in range(int(s.count)):
            k += 1
            grp = f" ({s.group})" if getattr(s, "group", "") else ""
            label = f"Shift {k:>2}{grp}: {s.start}-{s.end}"
            rows.append({"staff": label, "start": s.start, "end": s.end, "kind": "shift"})
            brk = ""
            if s.break_start:
                brk = f"{s.break_start}-{format_clock(parse_clock(s.break_start) + brk_len_min)}"
                rows.append({"staff": label, "start": s.break_start, "end": brk.split("-")[1], "kind": "break"})
            people.append({"Who": f"Shift {k}{grp}", "From": s.start, "To": s.end, "Break": brk or "–"})
    gantt = pd.DataFrame(rows)
    st.markdown(f"**Shifts ({k} people)** — grey: break")
    if len(gantt):
        gantt["start"] = clock_to_datetime(gantt["start"]).to_numpy()
        gantt["end"] = clock_to_datetime(gantt["end"]).to_numpy()
        day = tuple(clock_to_datetime([scenario.store.open, scenario.store.close]))
        st.altair_chart(charts.gantt_chart(gantt, day), width="stretch")
    else:
        st.info("The roster has no shifts.")
    st.markdown("**Staffed counters vs required**")
    iv = plan.intervals_frame()
    cover = pd.concat([
        pd.DataFrame({"series": "Staffed (roster)", "start": iv["start"], "counters": iv["staffed"]}),
        pd.DataFrame({"series": "Required", "start": iv["start"], "counters": iv["required"]}),
    ], ignore_index=True)
    windows = [tuple(w.split("-")) for w in plan.pitch_windows]
    chart = charts.staffing_chart(cover, ["Staffed (roster)"], close=scenario.store.close)
    if windows:
        chart = alt.layer(charts.windows_layer(windows, "No pitching"), chart).resolve_legend(fill="independent")
    st.altair_chart(chart, width="stretch")
    pitching_now = [bool(p) for p in iv["pitch"]]
    wording = ("with pitching where the roster pitches and without it where it does not" if any(pitching_now) and not all(pitching_now)
               else "with pitching (the roster pitches all day)" if all(pitching_now) else "without pitching (the roster never pitches)")
    st.caption(f"Required: counters needed per interval for the target, {wording}. No pitching in "
               f"{sum(not p for p in pitching_now)} of {len(iv)} intervals.")

    st.markdown("**Simulated service level per interval (95% CI) against the target**")
    svc = pd.DataFrame({"scenario": "Roster", "start": iv["start"], "mean": iv["service_level_mean"],
                        "ci_low": iv["service_level_ci_low"].clip(0, 1), "ci_high": iv["service_level_ci_high"].clip(0, 1)})  # a share
    st.altair_chart(charts.interval_band_chart(svc, ["Roster"], "Served within target (share)", ".1%", close=scenario.store.close)
                    + charts.target_rule(req["target"][0]), width="stretch")
    _service_per_group_and_days(plan.verification.intervals, plan.groups, plan.target, scenario)
    return shifts, iv, people


def _service_per_group_and_days(store_service: pd.DataFrame, group_plans: Any, target: Any, scenario: Any) -> None:
    """With counter groups: each group's own customers' service per interval and a table of the check;
    then, for every store, the share of days each interval (each group's, with groups) meets the target."""
    if group_plans:
        names = [gp.name for gp in group_plans]
        st.markdown("**Per counter group: its own customers served within the target (95% CI)**")
        df = pd.concat([_band(gp.service, gp.name, "service_level") for gp in group_plans], ignore_index=True)
        st.altair_chart(charts.interval_band_chart(df, names, "Served within target (share)", ".1%", close=scenario.store.close)
                        + charts.target_rule(target.service_level), width="stretch")
        st.dataframe(pd.DataFrame(group_check_rows(group_plans, target.days_meeting)), hide_index=True, width="stretch")
        frames = {gp.name: gp.service for gp in group_plans}
    else:
        frames = {"Roster": store_service}
    show_days_meeting(frames, target.days_meeting, scenario, target.wait_for(scenario))


def _day_actions(plan: Any, req: dict[str, Any], scenario: Any, chosen: Any, shifts: pd.DataFrame, iv: pd.DataFrame,
                 people: list[dict[str, str]]) -> None:
    """Downloads, save for Compare, open on What-if, and the printable plan."""
    d1, d2, d3 = st.columns(3)
    d1.download_button("Download shifts (CSV)", shifts.to_csv(index=False).encode(), "storeq_roster_shifts.csv", "text/csv", icon=":material/download:")
    d2.download_button("Download per-interval plan (CSV)", iv.to_csv(index=False).encode(), "storeq_roster_intervals.csv", "text/csv", icon=":material/download:")

    def _save_roster() -> None:
        ss["saved_plans"]["Optimized roster"] = scenario_to_yaml(chosen)
        ss["roster_saved_msg"] = "Saved “Optimized roster”: pick it on the Compare page."

    d3.button("Save as a plan for Compare", on_click=_save_roster, icon=":material/bookmark_add:")
    if ss.pop("roster_saved_msg", None):
        st.toast("Saved “Optimized roster” for the Compare page.", icon=":material/bookmark_added:")
    p1, p2 = st.columns(2)
    p1.button("Open this roster on the What-if page", on_click=_open_on_whatif, args=(f"optimized roster ({scenario.name})", scenario_to_yaml(chosen)),
              icon=":material/arrow_forward:", help="Makes the optimized scenario (roster and recommended pitch rule) the What-if starting point.")
    if p2.button("Prepare the printable plan", icon=":material/print:", key="print_day_btn"):
        waits = _expected_waits(chosen, min(req["reps"], 100), req["seed"])
        waits["meets"] = list(iv["meets_target"])
        sheet = DaySheet(
            title=f"Plan for {scenario.name}", store=scenario.name, hours=f"{scenario.store.open}-{scenario.store.close}",
            pitch_rule=describe_policy(chosen.cross_sell.policy), greeter=greeter_text(chosen.kiosks.greeter, f"{scenario.store.open}-{scenario.store.close}"),
            people=pd.DataFrame(people), intervals=waits, target=f"{100 * req['target'][0]:.0f}% within {req['target'][1]:g} min",
        )
        ss["print_day_html"] = plan_html(f"Roster: {scenario.name}", [sheet], footer="Made with storeq: waits are means over simulated days.")
    if "print_day_html" in ss:
        p2.download_button("Download the printable plan (HTML: open it and print, one page)", ss["print_day_html"].encode("utf-8"),
                           "storeq_day_plan.html", "text/html", icon=":material/download:", key="print_day_dl")


# ---------------------------------------------------------------------------------------------
# a week for named staff
# ---------------------------------------------------------------------------------------------


def week_people_table(week: Any, groups_of: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per person: their counter group (with ``groups_of``), each day's shift ("09:00-17:00, break 12:30"), hours and closings."""
    frame = week.roster_frame()
    labels = [d.label for d in week.days]
    people = week.people_frame().set_index("name") if len(week.people_frame()) else pd.DataFrame()
    rows = []
    for name in people.index:
        row: dict[str, Any] = {"Name": name}
        if groups_of:
            row["Group"] = groups_of.get(str(name), "")
        mine = frame[frame["name"] == name]
        for lab in labels:
            a = mine[mine["day"] == lab]
            row[lab] = "–" if a.empty else f"{a.iloc[0]['start']}-{a.iloc[0]['end']}" + (f" (break {a.iloc[0]['break_start']})" if a.iloc[0]["break_start"] else "")
            if groups_of and not a.empty and "group" in a.columns and str(a.iloc[0]["group"]) != groups_of.get(str(name), "").split(",")[0].strip():
                row[lab] += f" at {a.iloc[0]['group']}"  # a shift in another of their groups (skills)
        row["Hours"] = f"{float(people.loc[name, 'hours']):.0f}"
        row["Closings"] = int(people.loc[name, "closings"])
        rows.append(row)
    return pd.DataFrame(rows)


def _worst_days(service: pd.DataFrame) -> str:
    """The lowest share of simulated days on which an interval met the target, with its interval ("92% at 12:30")."""
    have = service.dropna(subset=["service_level_mean"])
    if have.empty:
        return "no customers"
    worst = have.sort_values("days_meeting_mean").iloc[0]
    return f"{100 * float(worst['days_meeting_mean']):.0f}% at {worst['start']}"


def _week_one_day(week: Any, req: dict[str, Any], scenario: Any, groups_of: dict[str, str] | None) -> None:
    """One day of the week: who works when (with their group), the pitch rule, and the simulated check per interval."""
    labels = [d.label for d in week.days]
    if ss.get("k_week_day") not in labels:
        ss["k_week_day"] = labels[0]
    day_label = st.selectbox("Show one day", labels, key="k_week_day")
    day = week.days[labels.index(day_label)]
    frame = week.roster_frame()
    mine = frame[frame["day"] == day_label].sort_values(["start", "end"])
    brk_len_min = int(req["rules"].get("break", {}).get("length_min", 30))
    rows = []
    for a in mine.itertuples(index=False):
        who = f"{a.name} ({a.group})" if groups_of else a.name
        rows.append({"staff": who, "start": a.start, "end": a.end, "kind": "shift"})
        if a.break_start:
            rows.append({"staff": who, "start": a.break_start, "end": format_clock(parse_clock(a.break_start) + brk_len_min), "kind": "break"})
    if rows:
        g = pd.DataFrame(rows)
        g["start"] = clock_to_datetime(g["start"]).to_numpy()
        g["end"] = clock_to_datetime(g["end"]).to_numpy()
        st.altair_chart(charts.gantt_chart(g, tuple(clock_to_datetime([scenario.store.open, scenario.store.close]))), width="stretch")
    st.caption(f"{literal(day_label)}: pitch rule “{literal(day.pitch_rule)}”; {len(mine)} people on duty"
               + (": " + ", ".join(f"{int((mine['group'] == g).sum())} {literal(g)}" for g in [gp.name for gp in day.groups]) if groups_of else "") + ".")
    if day.verification.intervals["service_level_mean"].notna().any():
        _service_per_group_and_days(day.verification.intervals, day.groups, week.target, day.scenario)


def show_week() -> None:
    from optimizer import staff_from_text

    req = ss["week_request"]
    if {k: v for k, v in req.items() if k not in ("staff", "limit")} != request or req["staff"] != staff_text:
        st.info("The inputs or the staff list changed since this week was planned: press **Plan the week** to update.", icon=":material/update:")
    try:
        week = optimize_week_cached(req["yaml"], req["staff"], req["target"], req["rules"], req["pitch"], req["method"], req["reps"], req["seed"], req["limit"])
    except (ScenarioError, ValueError) as err:
        problems_ = err.problems if isinstance(err, ScenarioError) else [("", str(err))]
        show_problems(problems_, "The week could not be planned with these inputs:")
        return
    scenario = scenario_from_key(req["yaml"])
    r = week.roster
    st.divider()
    st.subheader("A week for named staff")
    status_word = {"OPTIMAL": "optimal", "FEASIBLE": "feasible (stopped at the time or gap limit)"}.get(r.status, r.status)
    head = f"Solver status: **{status_word}**"
    if r.gap is not None:
        head += f", optimality gap {gap_text(r.gap)}"
    st.markdown(head)
    if not r.feasible:
        st.error("No roster satisfies the staff rules (availability, contract hours, rest). " + " ".join(literal(x) for x in r.explanation[:3]),
                 icon=":material/error:")
        return
    m = st.columns(4)
    m[0].metric("Staff hours in the week", f"{r.staff_hours:.0f} h", border=True)
    m[1].metric("Staff cost in the week", fmt_value(r.staff_cost, "money", currency=md_currency), border=True)
    m[2].metric("People rostered", f"{len(set(week.roster_frame()['name']))} of {len(week.people_frame())}", border=True)
    meeting_card(m[3], [d.verification.intervals for d in week.days], [gp for d in week.days for gp in d.groups], week=True)

    staff_rules = staff_from_text(req["staff"], "staff list", csv_format=False)
    grouped = any(d.groups for d in week.days) and "group" in week.roster_frame().columns
    groups_of = {p.name: ", ".join(p.groups) for p in staff_rules.staff if p.groups} if grouped else None
    st.markdown(f"Target: **{literal(week.target.describe(scenario))}**" + ("" if week.target.days_meeting is not None else " (on average over the simulated days)"))
    st.markdown("**Per person** (" + ("their counter group, " if groups_of else "") + "each day's shift; hours and closings in the week)")
    table = week_people_table(week, groups_of)
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(table) + 1) + 3)  # every person, no inner scroll (35 px a row)

    st.markdown("**Per day: the simulated check**")
    check = []
    for d in week.days:
        k = d.verification.kpis.get("service_level", {})
        w = d.verification.kpis.get("mean_wait_min", {})
        check.append({"Day": d.label, "On duty": int((week.roster_frame()["day"] == d.label).sum()), "Pitch rule": d.pitch_rule,
                      "Served within target": fmt_with_ci(k.get("mean", np.nan), k.get("ci_low", np.nan), k.get("ci_high", np.nan), "share"),
                      "Mean wait": fmt_with_ci(w.get("mean", np.nan), w.get("ci_low", np.nan), w.get("ci_high", np.nan), "min"),
                      "Days meeting the target (worst interval)": _worst_days(d.verification.intervals),
                      "Intervals missing the target": ", ".join(d.verification.missed) or "none"})
    st.table(pd.DataFrame(check).set_index("Day"))
    if groups_of:
        st.markdown("**Per counter group and day: its own customers in the simulated check**")
        rows = [{"Day": d.label, **r} for d in week.days for r in group_check_rows(d.groups, week.target.days_meeting)]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3)
        st.caption("Each group is judged on its own customers (those its counters are the most specialised for). "
                   "“Lowest share of days”: in its worst interval, the share of simulated days on which that interval met the target.")

    _week_one_day(week, req, scenario, groups_of)
    frame = week.roster_frame()
    brk_len_min = int(req["rules"].get("break", {}).get("length_min", 30))
    with st.expander("How the optimizer got there"):
        for line in week.explanation:  # they name the staff (user text)
            st.markdown(f"- {literal(line)}")

    w1, w2 = st.columns(2)
    w1.download_button("Download the week (CSV, one row per person-day)", frame.to_csv(index=False).encode(), "storeq_week_roster.csv", "text/csv",
                       icon=":material/download:")
    if w2.button("Prepare the printable week", icon=":material/print:", key="print_week_btn"):
        sheets = []
        for d in week.days:
            waits = _expected_waits(d.scenario, min(req["reps"], 30), req["seed"])
            waits["meets"] = list(d.verification.intervals["meets"])
            day_people = frame[frame["day"] == d.label].sort_values(["start", "end"])
            who = day_people["name"] + (" (" + day_people["group"] + ")" if groups_of else "")
            ppl = pd.DataFrame({"Who": who, "From": day_people["start"], "To": day_people["end"],
                                "Break": [f"{b}-{format_clock(parse_clock(b) + brk_len_min)}" if b else "–" for b in day_people["break_start"]]})
            sheets.append(DaySheet(
                title=f"{d.label}: {scenario.name}", store=scenario.name, hours=f"{scenario.store.open}-{scenario.store.close}",
                pitch_rule=describe_policy(d.scenario.cross_sell.policy), greeter=greeter_text(d.scenario.kiosks.greeter, f"{scenario.store.open}-{scenario.store.close}"),
                people=ppl, intervals=waits, target=f"{100 * req['target'][0]:.0f}% within {req['target'][1]:g} min",
            ))
        ss["print_week_html"] = plan_html(f"Week roster: {scenario.name}", sheets, overview=table,
                                          footer="Made with storeq: waits are means over simulated days.")
    if "print_week_html" in ss:
        w2.download_button("Download the printable week (HTML: a page per day)", ss["print_week_html"].encode("utf-8"), "storeq_week_plan.html",
                           "text/html", icon=":material/download:", key="print_week_dl")


if ss.get("roster_mode") == "week" and "week_request" in ss:
    show_week()
elif "roster_request" in ss:
    show_day()
