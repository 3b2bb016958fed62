"""The Roster page for a store with counter groups and for the "on most days" target (issue 10).

``streamlit.testing.v1.AppTest`` on the bank branch (three counter groups, ``demand.day_cv: 0.10``)
with few replications (``STOREQ_APP_REPLICATIONS``) and the fast Erlang A requirement: the tests
check that what the manager sets reaches the optimizer and that what it returns is on the page,
not the plans' quality (tests/test_optimizer_groups.py and test_optimizer_week_groups.py do that).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from simulation import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BANK = load_scenario(ROOT / "scenarios" / "bank_branch.yaml")
GROUPS = [g.name for g in BANK.counters.groups or ()]
BANK_STAFF = yaml.safe_load((ROOT / "scenarios" / "staff_bank_week.yaml").read_text())["staff"]
REPS = 12

pytestmark = pytest.mark.skipif(not GROUPS, reason="the bank branch has no counter groups in this build")


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", str(REPS))
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _roster(store: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    if store is not None:
        at.selectbox(key="k_source").set_value(store).run()
    at.switch_page("storeq/app/roster.py").run()
    assert not at.exception, at.exception
    return at


def _fast(at: AppTest) -> AppTest:
    """The Erlang A requirement (seconds, not a simulation-refined one). The radio is in the form:
    set it right before pressing a form button (a rerun in between drops the unsubmitted value)."""
    at.radio(key="k_r_method").set_value("erlang_a_lagged")
    return at


def _staff_editor(at: AppTest) -> object:
    return next(d for d in at.dataframe if "can_close" in d.value.columns)


def _plain(text: str) -> str:
    """Markdown as read: the page escapes user text (``private\\_banking``)."""
    return re.sub(r"\\(.)", r"\1", text)


def _errors(at: AppTest) -> str:
    return _plain("\n".join(e.value for e in at.error))


def test_the_group_column_is_shown_only_for_a_store_with_counter_groups() -> None:
    at = _roster()  # the flagship: one pool of counters
    editor = _staff_editor(at)
    assert "group" not in list(editor.proto.column_order)
    assert next(b.label for b in at.button if b.label.startswith("Use the example staff")) == "Use the example staff (15 people)"

    at.switch_page("storeq/app/whatif.py").run()
    at.selectbox(key="k_source").set_value("bank_branch.yaml").run()
    at.switch_page("storeq/app/roster.py").run()
    editor = _staff_editor(at)
    order = list(editor.proto.column_order)
    assert order[:2] == ["name", "group"]
    # the untouched flagship example gave way to the bank's, everyone with their group
    table = at.session_state["staff_table"]
    assert dict(zip(table["name"], table["group"], strict=True)) == {p["name"]: p["group"] for p in BANK_STAFF}
    assert next(b.label for b in at.button if b.label.startswith("Use the example staff")) == f"Use the example staff ({len(BANK_STAFF)} people)"
    assert not at.error, _errors(at)


def test_a_person_without_a_group_is_a_named_problem_before_planning() -> None:
    at = _roster("bank_branch.yaml")
    table = at.session_state["staff_table"].copy()
    table.loc[table["name"] == "Dalia", "group"] = ""
    table.loc[table["name"] == "Jonas", "group"] = "cashiers"
    at.session_state["staff_table"] = table
    at.run()
    errors = _errors(at)
    assert "The staff table has problems" in errors
    allowed = ", ".join(GROUPS)
    assert f"Dalia has no counter group; choose one of {allowed}" in errors
    assert f"Jonas: 'cashiers' is not a counter group of this store; choose among {allowed}" in errors
    # planning is refused with the reason, and no week is planned
    next(b for b in at.button if b.label == "Plan the week for the named staff").click().run()
    assert "the staff table has problems" in _errors(at)
    assert "week_request" not in at.session_state and not any(s.value == "A week for named staff" for s in at.subheader)


def test_a_person_may_list_several_groups_and_each_name_is_checked() -> None:
    from storeq.app.editing import group_choices, group_problems

    own, other = GROUPS[0], GROUPS[1]
    table = pd.DataFrame({"name": ["Ana", "Ben", "Cy"], "group": [f"{own}, {other}", f"{own}, cashiers", own]})
    problems = group_problems(table, GROUPS)
    assert problems == [("staff[1](Ben).group", f"Ben: 'cashiers' is not a counter group of this store; choose among {', '.join(GROUPS)}")]
    # The column offers each group, each group with one more (own first), and a longer list from a file.
    three = ", ".join(GROUPS[:3])
    choices = group_choices(GROUPS, pd.Series([own, three, None]))
    assert choices[: len(GROUPS)] == GROUPS
    assert f"{own}, {other}" in choices and f"{other}, {own}" in choices and three in choices
    assert len(choices) == len(set(choices)) == len(GROUPS) ** 2 + (len(GROUPS) >= 3)


def test_the_days_meeting_target_reaches_the_optimizer_and_the_share_of_days_is_shown_per_group() -> None:
    at = _roster("bank_branch.yaml")
    at.checkbox(key="k_r_days_on").check()
    at.slider(key="k_r_days").set_value(85)
    _fast(at)
    next(b for b in at.button if b.label == "Build roster").click().run()
    assert not at.exception, at.exception
    assert at.session_state["roster_request"]["method"] == "erlang_a_lagged"
    # the target in words comes from the plan the optimizer returned (plan.target.describe)
    target = next(m.value for m in at.markdown if m.value.startswith("Target:"))
    assert "in each interval on 85% of days" in target
    assert at.session_state["roster_request"]["target"][3] == 0.85
    # per group: its own customers, the intervals they miss and the lowest share of days
    groups = next(d.value for d in at.dataframe if "Lowest share of days" in d.value.columns)
    assert list(groups["Group"]) == GROUPS
    assert all(re.fullmatch(r"\d+% at \d\d:\d\d \(asked 85%\)", v) for v in groups["Lowest share of days"])
    days = next(c.value for c in at.caption if c.value.startswith("Share of the simulated days"))
    assert "on at least 85% of days" in days
    # the bank's file has day_cv 0.10, so no "randomness only" caption
    assert not any("day-to-day randomness only" in c.value for c in at.caption)


def test_a_store_without_day_to_day_spread_says_the_share_is_randomness_only() -> None:
    text = (ROOT / "scenarios" / "bank_branch.yaml").read_text()
    no_spread, n = re.subn(r"^  day_cv: .*$", "", text, flags=re.M)
    assert n == 1
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.text_area(key="paste_text").input(no_spread)
    next(b for b in at.button if b.label == "Use the pasted scenario").click().run()
    assert not at.error, _errors(at)
    at.switch_page("storeq/app/roster.py").run()
    _fast(at)
    next(b for b in at.button if b.label == "Build roster").click().run()
    assert not at.exception, at.exception
    target = next(m.value for m in at.markdown if m.value.startswith("Target:"))
    assert "on average over the simulated days" in target and "of days" not in target  # off by default: the mean target
    assert at.session_state["roster_request"]["target"][3] is None
    assert any("day-to-day randomness only" in c.value for c in at.caption)


@pytest.mark.slow  # the week: seven requirements, one CP-SAT week across the groups, its repair and seven simulated checks (~30 s)
def test_a_bank_week_with_the_bank_staff_shows_each_group_per_day() -> None:
    at = _roster("bank_branch.yaml")
    at.number_input(key="k_r_week_limit").set_value(5).run()
    _fast(at)
    next(b for b in at.button if b.label == "Plan the week for the named staff").click().run()
    assert not at.exception, at.exception
    assert at.session_state["week_request"]["method"] == "erlang_a_lagged"
    assert not at.error, _errors(at)
    people = next(d.value for d in at.dataframe if "Name" in d.value.columns).set_index("Name")
    assert dict(people["Group"]) == {p["name"]: p["group"] for p in BANK_STAFF}
    # every person-day worked lies in the person's availability (Dalia: never Wednesday or Thursday)
    assert people.loc["Dalia", [c for c in people.columns if c.startswith(("wed", "thu"))]].eq("–").all()
    per_group = next(d.value for d in at.dataframe if "Intervals missing" in d.value.columns and "Day" in d.value.columns)
    labels = list(at.table[0].value.index)
    assert len(labels) == 7 and list(dict.fromkeys(per_group["Day"])) == labels
    assert all(list(per_group[per_group["Day"] == d]["Group"]) == GROUPS for d in labels)
    open_days = per_group[per_group["Intervals meeting the target"] != "no customers"]
    assert len(open_days) == 6 * len(GROUPS)  # the branch is shut on Sunday
    assert all(re.fullmatch(r"\d+ of \d+", v) for v in open_days["Intervals meeting the target"])
    # the pitch rule of each day, as for a one-pool week
    assert all(str(r).startswith(("no pitches", "pitch", "never", "always")) for r in at.table[0].value["Pitch rule"])
    # the chosen day's shifts say each person's group
    day = next(c.value for c in at.caption if "people on duty:" in c.value)
    assert all(_plain(g) in _plain(day) for g in GROUPS)
    frame = pd.DataFrame(per_group)
    assert set(frame.columns) >= {"Lowest served within target", "Lowest share of days"}
    # the printable week names each person with their group
    at.button(key="print_week_btn").click().run()
    assert not at.exception, at.exception
    html = at.session_state["print_week_html"]
    assert "Petra (private_banking)" in html and "(tellers)" in html


@pytest.mark.slow
def test_a_week_where_advisers_also_work_the_tellers_desks_says_where_each_shift_went() -> None:
    # Two tellers away all week, every adviser able to work the tellers' desks too (the Group cell
    # "advisers, tellers"): the week sends some adviser shifts to the tellers (bench_week_groups
    # --only skills measured 5 such shifts), and the people table says so on those days.
    at = _roster("bank_branch.yaml")
    table = at.session_state["staff_table"].copy()
    table = table[~table["name"].isin(["Emil", "Fenna"])]
    table.loc[table["group"] == "advisers", "group"] = "advisers, tellers"
    at.session_state["staff_table"] = table.reset_index(drop=True)
    at.run()
    assert not at.error, _errors(at)
    at.number_input(key="k_r_week_limit").set_value(5).run()
    _fast(at)
    next(b for b in at.button if b.label == "Plan the week for the named staff").click().run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    people = next(d.value for d in at.dataframe if "Name" in d.value.columns).set_index("Name")
    advisers = [p["name"] for p in BANK_STAFF if p["group"] == "advisers"]
    assert set(people.loc[advisers, "Group"]) == {"advisers, tellers"}
    days = [c for c in people.columns if c not in ("Group", "Hours", "Closings")]
    cells = people.loc[advisers, days].to_numpy().ravel()
    assert any(str(v).endswith(" at tellers") for v in cells)
    # nobody else is ever sent to another group's desks
    others = people.drop(index=advisers)[days].to_numpy().ravel()
    assert not any(" at " in str(v) for v in others)
    assert any("with several groups work whichever the week needs" in _plain(m.value) for m in at.markdown)
    # The card counts each group's own intervals, as the per-group table does (not the store-wide ones,
    # which could read 100% beside a group's miss).
    card = next(m for m in at.metric if m.label == "Group intervals meeting the target")
    per_group = next(d.value for d in at.dataframe if "Intervals missing" in d.value.columns and "Day" in d.value.columns)
    counts = [re.fullmatch(r"(\d+) of (\d+)", v) for v in per_group["Intervals meeting the target"] if v != "no customers"]
    met, cells = sum(int(c.group(1)) for c in counts if c), sum(int(c.group(2)) for c in counts if c)
    assert card.value == f"{100 * met // cells}%" and f"{met} of {cells}" in card.help  # rounded down: 100% only if all meet
