"""The app as a store manager needs it (issue 13), page by page with ``streamlit.testing.v1.AppTest``.

Runs use few replications (``STOREQ_APP_REPLICATIONS``); every direction claimed (one counter less
→ longer wait) holds by far more than the paired CI at that size, because both plans see the same
customers (common random numbers).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from simulation import load_scenario, run, scenario_from_yaml
from storeq.app import common
from storeq.app.editing import add_counters, describe_policy, schedule_text
from storeq.app.printable import DaySheet, plan_html
from storeq.app.yamlio import plan_yaml

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"
FLAG = load_scenario(FLAGSHIP)
STAFFED = int(FLAG.staffed_schedule().max())
REPS = 12


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", str(REPS))
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def _metric(at: AppTest, label: str) -> object:
    return next(m for m in at.metric if m.label == label)


# ---------------------------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------------------------


def test_schedule_in_words_and_what_each_add_did() -> None:
    clocks = FLAG.interval_labels
    row = [9] * len(clocks)
    assert schedule_text(row, clocks, "18:00") == "9 all day"
    once, what = add_counters(row, clocks, "15:00", "18:00", 1)
    twice, _ = add_counters(once, clocks, "15:00", "18:00", 1)
    assert schedule_text(twice, clocks, "18:00") == "9 09:00-15:00, 11 15:00-18:00"
    assert what == "+1 counter 15:00-18:00 (6 intervals)"
    _, nothing = add_counters(row, clocks, "18:00", "18:00", 1)
    assert "nothing changed" in nothing


def test_the_whole_pitch_rule_in_words() -> None:
    from simulation.scenario import Policy

    assert describe_policy(Policy(mode="queue_threshold", threshold=8)) == "no pitches while 8 or more are waiting"
    both = Policy(mode="windows", suspend=("15:00-18:00",), threshold=8)
    assert describe_policy(both) == "no pitches 15:00-18:00, and none while 8 or more are waiting"
    assert describe_policy(Policy(mode="never")) == "never pitch"


def test_money_carries_its_currency_and_a_constant_kpi_has_no_range() -> None:
    assert common.fmt_value(1003.4, "money", currency="CNY") == "1,003 CNY"
    assert common.fmt_with_ci(81.0, 81.0, 81.0, "hours") == "81.0 h"  # the same every day: no "81.0–81.0"
    assert common.fmt_with_ci(0.95, 0.90, 1.03, "share") == "95.0% (90.0–100.0%)"  # a share's CI stays in [0, 1]
    assert common.fmt_change(9.0, 9.0, 9.0, "hours") == "+9.0 h"
    assert common.fmt_change(-1.7, -1.8, -1.5, "min") == "-1.7 min (-1.8 to -1.5 min)"


def test_labels_come_from_the_kpi_catalogue() -> None:
    from storeq.kpis import CATALOGUE

    for spec in common.KPIS:
        assert spec.label == CATALOGUE[spec.name].manager_label and spec.unit == CATALOGUE[spec.name].unit


def test_calibration_errors_in_the_pages_words() -> None:
    msg = common.plain_error("x.csv: missing columns issued_at; use --map mapping.yaml to name the export's columns", "x.csv")
    assert "--map" not in msg and "Column mapping" in msg
    assert "/tmp" not in common.plain_error("/tmp/tmpab12cd/log.csv: not a table", "x.csv")
    assert common.plain_error("Error tokenizing data. C error: Expected 3 fields in line 5, saw 4", "x.csv").startswith("row 5 has 4 values")
    assert common.not_a_log(b"\x89PNG\r\n\x1a\n...") == "a PNG image"
    assert common.not_a_log(b"ticket_id,issued_at\n") is None


def test_ticket_logs_of_200_mb_are_accepted_by_the_server() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= 200
    # scenario files stay small: checked in code, with a message in words
    with pytest.raises(Exception, match="at most 1,000,000 bytes"):
        common.parse_scenario_text("name: x\n" + "#" * 1_000_001, "big.yaml")


def test_downloaded_yaml_keeps_the_files_comments_and_takes_the_plans_name() -> None:
    from simulation import with_updates

    text = FLAGSHIP.read_text()
    plan = with_updates(FLAG, {"kiosks.count": FLAG.kiosks.count + 1, "cross_sell.policy": {"mode": "never"}})
    out, kept = plan_yaml(text, FLAG, plan, "Plan B: one more kiosk")
    assert kept
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert all(c in out for c in comments)  # every full-line comment survives
    back = scenario_from_yaml(out, "plan")
    assert back.name == "Plan B: one more kiosk"
    assert back.model_copy(update={"name": plan.name}) == plan
    assert "changed in this plan; the file's note" in out  # a replaced value's note is marked, not left to mislead


def test_printable_plan_has_a_page_per_day() -> None:
    iv = pd.DataFrame({"start": ["09:00", "09:30"], "counters": [3, 4], "mean_wait": [2.5, float("nan")],
                       "service_level": [0.9, 0.7], "meets": [True, False]})
    people = pd.DataFrame({"Who": ["Ana"], "From": ["09:00"], "To": ["17:00"], "Break": ["12:00"]})
    sheets = [DaySheet(f"Day {d}", "Hall", "09:00-10:00", "never pitch", "none", people, iv, "80% within 10 min") for d in (1, 2)]
    html = plan_html("Week <1>", sheets, overview=pd.DataFrame({"Name": ["Ana"], "mon": ["09:00-17:00"]}))
    assert html.count('<section class="page">') == 3 and "page-break-after" in html
    assert "Week &lt;1&gt;" in html and "2.5 min" in html and 'class="miss"' in html


# ---------------------------------------------------------------------------------------------
# What-if
# ---------------------------------------------------------------------------------------------


def test_each_add_is_listed_and_can_be_undone() -> None:
    at = _app()
    at.selectbox(key="k_add_from").set_value("15:00").run()
    at.selectbox(key="k_add_to").set_value("18:00").run()
    add = next(b for b in at.button if b.label == "Add to the row below")
    add.click().run()
    next(b for b in at.button if b.label == "Add to the row below").click().run()
    caps = _captions(at)
    assert f"Staffed now: **{STAFFED} 09:00-15:00, {STAFFED + 2} 15:00-18:00**" in caps
    assert caps.count("+1 counter 15:00-18:00") == 2  # both presses shown, not silently stacked
    at.button(key="undo_add").click().run()
    assert f"Staffed now: **{STAFFED} 09:00-15:00, {STAFFED + 1} 15:00-18:00**" in _captions(at)


def test_choosing_windows_shows_the_whole_rule_and_says_what_happens_to_the_queue_rule() -> None:
    at = _app()
    assert "Rule in force: **no pitches while 8 or more are waiting**" in _captions(at)
    at.selectbox(key="k_policy").set_value("windows").run()
    at.text_input(key="k_suspend").set_value("15:00-18:00").run()
    caps = _captions(at)
    if common.combined_pitch_rule_supported():
        assert "no pitches 15:00-18:00, and none while 8 or more are waiting" in caps
    else:  # one rule at a time: the page says the file's rule is replaced instead of dropping it silently
        assert "Rule in force: **no pitches 15:00-18:00**" in caps and "It replaces the file's rule" in caps


def test_both_rules_together_when_the_engine_runs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "combined_pitch_rule_supported", lambda: True)
    at = _app()
    at.selectbox(key="k_policy").set_value("windows").run()
    assert at.checkbox(key="k_both").value  # switching to windows keeps the file's queue rule
    at.text_input(key="k_suspend").set_value("15:00-18:00").run()
    assert "no pitches 15:00-18:00, and none while 8 or more are waiting" in _captions(at)
    at.switch_page("storeq/app/scenario.py").run()
    code = at.code[0].value
    assert "suspend:" in code and "threshold: 8" in code


def test_fewer_counters_is_a_warning_not_a_success_and_the_verdict_uses_the_cards_figures() -> None:
    at = _app()
    at.number_input(key="k_all_day").set_value(STAFFED - 1).run()
    at.button(key="run_btn").click().run()
    assert not at.exception, at.exception
    assert not [s.value for s in at.success if "Your plan" in s.value]
    warning = next(w.value for w in at.warning if w.value.startswith("Your plan"))
    assert "raises" in warning
    card = _metric(at, "Mean wait")
    change = re.search(r"changes by ([-+][\d.]+ min)", warning)
    assert change and card.delta == change.group(1)  # one source, one rounding


def test_money_cards_show_the_currency_and_staff_hours_no_range() -> None:
    at = _app()
    assert _metric(at, "Cross-sell margin").value.endswith(" CNY")
    staff_caption = [c.value for c in at.caption if c.value == "the same on every simulated day"]
    assert staff_caption, "a fixed roster's staff hours are the same every day: no CI range"
    assert "81.0–81.0" not in _captions(at)


def test_required_counters_follow_the_plans_pitching() -> None:
    at = _app()
    caps = _captions(at)
    assert "with pitching where the plan pitches" in caps and "stops pitching while 8 or more wait" in caps
    at.selectbox(key="k_policy").set_value("never").run()
    at.button(key="run_btn").click().run()
    assert "without pitching (the plan never pitches)" in _captions(at)


def test_the_1630_answer_for_each_plan_with_cis() -> None:
    at = _app()
    at.number_input(key="k_all_day").set_value(STAFFED + 1).run()
    at.button(key="run_btn").click().run()
    at.selectbox(key="k_at_time").set_value("16:30").run()
    assert not at.exception, at.exception
    table = at.table[0].value
    assert list(table.columns) == ["Baseline", "Edited plan"]
    assert set(table.loc["Interval"]) == {"16:30-17:00"}
    # the figures are the simulation's own for that interval, formatted with their CI
    res = run(FLAG, replications=REPS, seed=FLAG.simulation.seed, workers=1)
    iv = res.intervals[(res.intervals["kpi"] == "mean_wait_min") & (res.intervals["start"] == "16:30")].iloc[0]
    assert table.loc["Mean wait", "Baseline"] == common.fmt_with_ci(iv["mean"], iv["ci_low"], iv["ci_high"], "min")
    assert re.fullmatch(r"[\d.]+% \([\d.]+–[\d.]+%\)", table.loc["Served within 10 min", "Edited plan"])
    assert table.loc["Counters", "Edited plan"] == str(STAFFED + 1)
    assert table.loc["Wait change vs Baseline", "Edited plan"].startswith("-")


# ---------------------------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------------------------


def _add_variant(at: AppTest, n: int, name: str) -> None:
    at.number_input(key="k_var_n").set_value(n).run()
    at.text_input(key="k_var_name").set_value(name).run()
    next(b for b in at.button if b.label == "Add plan").click().run()


def test_compare_four_plans_names_duplicates_and_the_limit() -> None:
    at = _app()
    at.switch_page("storeq/app/compare.py").run()
    _add_variant(at, 1, "one more")
    _add_variant(at, 2, "two more")
    _add_variant(at, 0, "same as loaded")
    assert len(at.multiselect(key="k_cmp_pick").value) == 4
    _add_variant(at, 3, "three more")  # a fifth: made, kept, and the page says why it is not compared
    assert any("at most 4 plans" in w.value for w in at.warning)
    assert len(at.multiselect(key="k_cmp_pick").value) == 4
    at.button(key="cmp_btn").click().run()
    assert not at.exception, at.exception
    caps = _captions(at)
    assert "Plan D is the same scenario as Plan A" in caps
    values, changes = at.table[0].value, at.table[1].value
    assert list(values.columns) == ["Plan A", "Plan B", "Plan C", "Plan D"]
    assert values.loc["Staff hours", "Plan A"] == "81.0 h"
    assert changes.loc["Staff hours", "D − A"] == "no change"
    assert changes.loc["Mean wait", "C − A"].endswith("✓ better")
    answer = at.table[2].value  # the per-time answer: every plan
    assert list(answer.columns) == ["Plan A", "Plan B", "Plan C", "Plan D"]


def test_two_different_stores_are_called_stores() -> None:
    at = _app()
    at.switch_page("storeq/app/compare.py").run()
    at.multiselect(key="k_cmp_pick").set_value([at.multiselect(key="k_cmp_pick").value[0], "File: bank_branch.yaml"]).run()
    at.button(key="cmp_btn").click().run()
    assert not at.exception, at.exception
    assert any("different stores" in i.value for i in at.info)
    verdicts = [b.value for b in [*at.success, *at.warning, *at.info] if "against Store A" in b.value]
    assert verdicts and verdicts[0].lstrip("*").startswith("Store B")


# ---------------------------------------------------------------------------------------------
# Scenario page
# ---------------------------------------------------------------------------------------------


def test_scenario_download_keeps_comments_and_uses_the_plan_name() -> None:
    at = _app()
    at.number_input(key="k_all_day").set_value(STAFFED + 1).run()
    at.text_input(key="k_plan_name").set_value("Plan B").run()
    at.switch_page("storeq/app/scenario.py").run()
    code = at.code[0].value
    assert code.startswith("# Telecom business hall")
    s = scenario_from_yaml(code, "download")
    assert s.name == "Plan B" and list(s.staffed_schedule()) == [STAFFED + 1] * FLAG.n_intervals


# ---------------------------------------------------------------------------------------------
# Roster: the recommendation, the reason, breaks, named staff
# ---------------------------------------------------------------------------------------------


def _roster(at: AppTest) -> AppTest:
    at.switch_page("storeq/app/roster.py").run()
    at.radio(key="k_r_method").set_value("erlang_a_lagged")
    return at


def test_roster_breaks_are_on_by_default() -> None:
    at = _roster(_app())
    assert at.checkbox(key="k_r_brk_on").value


@pytest.mark.slow  # an optimizer run and a simulation check
def test_roster_recommends_a_rule_in_words_and_says_why_it_staffs_more_where_it_pitches() -> None:
    at = _roster(_app())
    next(b for b in at.button if b.label == "Build roster").click().run()
    assert not at.exception, at.exception
    rec = next(s.value for s in at.success if s.value.startswith("Recommended pitch rule:"))
    assert re.search(r"\*\*(Pitch only while fewer than \d+ are waiting|No pitches [^*]+|Pitch all day|No pitches all day)\*\*", rec), rec
    if "Pitch only while" in rec:
        assert re.search(r"earns [\d,]+ CNY a day more", rec)
    why = [i.value for i in at.info if i.value.startswith("Why ")]
    assert not why or ("pitching there earns about" in why[0] and "CNY" in why[0])
    assert _metric(at, "Staff cost").value.endswith(" CNY")
    assert "Shift" in " ".join(m.value for m in at.markdown)


@pytest.mark.slow  # the week: seven requirements, one CP-SAT roster, seven simulated checks
def test_named_staff_week_per_person_and_per_day() -> None:
    at = _roster(_app())
    at.number_input(key="k_r_week_limit").set_value(5).run()
    at.radio(key="k_r_method").set_value("erlang_a_lagged")  # the form's radio again: the rerun above dropped the unsubmitted value
    next(b for b in at.button if b.label == "Plan the week for the named staff").click().run()
    assert not at.exception, at.exception
    assert at.session_state["week_request"]["method"] == "erlang_a_lagged"
    people = next(d.value for d in at.dataframe if "Name" in d.value.columns)
    assert set(people["Name"]) == {p["name"] for p in load_staff_names()}
    assert list(people.columns[1:8]) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    # availability is kept: Ivo works mornings only, Ana never on Sunday or Monday
    ivo = people.set_index("Name").loc["Ivo"]
    for day in ("mon", "tue", "wed", "thu", "fri"):
        if ivo[day] != "–":
            start, end = ivo[day].split(" ")[0].split("-")
            assert start >= "09:00" and end <= "14:00"
    assert people.set_index("Name").loc["Ana", "sun"] == "–" and people.set_index("Name").loc["Ana", "mon"] == "–"
    check = at.table[0].value
    assert list(check.index)[:1] == ["mon"] and len(check) == 7
    assert all(re.fullmatch(r"[\d.]+% \([\d.]+–[\d.]+%\)", v) for v in check["Served within target"])


def load_staff_names() -> list[dict[str, object]]:
    import yaml

    return list(yaml.safe_load((ROOT / "scenarios" / "staff_week.yaml").read_text())["staff"])


def test_a_staff_list_with_a_problem_is_shown_next_to_it() -> None:
    at = _roster(_app())
    table = at.session_state["staff_table"].copy()
    table.loc[0, "min_hours"], table.loc[0, "max_hours"] = 50.0, 40.0
    at.session_state["staff_table"] = table
    at.run()
    errors = "\n".join(e.value for e in at.error)
    assert "staff table has problems" in errors and "Ana" in errors


def test_a_greeter_for_the_afternoon_only() -> None:
    from storeq.app.editing import apply_knobs, describe_edits, knobs_from_scenario

    plan = apply_knobs(FLAG, knobs_from_scenario(FLAG) | {"greeter": True, "greeter_windows": "14:00-18:00"})
    assert plan.kiosks.greeter == ("14:00-18:00",)
    assert "greeter at the door 14:00-18:00" in describe_edits(FLAG, plan)
    assert apply_knobs(plan, knobs_from_scenario(plan)) is plan  # the knobs reproduce the windows exactly
    all_day = apply_knobs(FLAG, knobs_from_scenario(FLAG) | {"greeter": True})
    assert all_day.kiosks.greeter is True


def test_the_example_logs_label_says_how_long_it_is() -> None:
    # the page once said "14 days" of a 28-day log: the label is checked against the file
    log = pd.read_csv(ROOT / "scenarios" / "example_ticket_log.csv", usecols=["issued_at"])
    days = pd.to_datetime(log["issued_at"]).dt.date.nunique()
    page = (ROOT / "storeq" / "app" / "calibration.py").read_text()
    assert days == 28 and "four weeks of a telecom hall" in page


def test_calibration_errors_go_when_the_input_changes() -> None:
    at = _app()
    at.switch_page("storeq/app/calibration.py").run()
    at.radio(key="k_cal_src").set_value("upload").run()
    at.button(key="cal_btn").click().run()
    assert any("choose a ticket log file" in e.value for e in at.error)
    at.radio(key="k_cal_src").set_value("example").run()  # another source: the old message is stale
    assert not at.error


def test_a_variant_downloads_with_its_files_comments() -> None:
    at = _app()
    at.switch_page("storeq/app/compare.py").run()
    _add_variant(at, 1, "one more late")
    at.switch_page("storeq/app/scenario.py").run()
    at.radio(key="k_scenario_pick").set_value("Saved plan: one more late").run()
    code = at.code[0].value
    assert code.startswith("# Telecom business hall") and "name: one more late" in code


def test_a_store_with_counter_groups_is_staffed_group_by_group() -> None:
    bank = load_scenario(ROOT / "scenarios" / "bank_branch.yaml")
    if not bank.counters.groups:
        pytest.skip("the bank branch has no counter groups in this build")
    at = _app()
    at.selectbox(key="k_source").set_value("bank_branch.yaml").run()
    groups = [g.name for g in bank.counters.groups]
    assert at.selectbox(key="k_group").options == groups and not at.error
    second = groups[1]
    at.selectbox(key="k_group").set_value(second).run()
    n = int(max(at.session_state["staff_row"]))
    at.number_input(key="k_all_day").set_value(n + 1).run()
    # the hall is full at its peak: the limit is explained next to the staffing, in words
    assert any("counters.physical" in re.sub(r"\\(.)", r"\1", e.value) for e in at.error)  # as read: messages are Markdown-escaped
    n -= 1
    at.number_input(key="k_all_day").set_value(n + 1).run()
    assert not at.error, [e.value for e in at.error]
    at.selectbox(key="k_group").set_value(groups[0]).run()  # the other group's edit is kept
    at.switch_page("storeq/app/scenario.py").run()
    plan = scenario_from_yaml(at.code[0].value, "plan")
    got = {g.name: list(g.staffed_schedule(plan.n_intervals)) for g in plan.counters.groups or ()}
    assert got[second] == [n + 1] * plan.n_intervals
    assert got[groups[0]] == list(bank.counters.groups[0].staffed_schedule(bank.n_intervals))
