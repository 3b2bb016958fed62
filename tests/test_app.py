"""The Streamlit app, page by page, with ``streamlit.testing.v1.AppTest`` (no browser).

Runs use few replications (``STOREQ_APP_REPLICATIONS``) so the file stays fast; the direction
checks (one more counter → shorter wait) hold by a wide margin at that size because both plans see
the same customers (common random numbers), see ``test_one_more_counter_shortens_the_wait``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from simulation import ScenarioError, load_scenario
from storeq.app.common import paired_change, parse_scenario_text
from storeq.app.editing import (
    apply_knobs,
    apply_row_edits,
    build_updates,
    knobs_from_scenario,
    remap_by_clock,
    section_of,
)
from storeq.app.verdict import best_window, staff_phrase, verdict

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"
STAFFED = int(load_scenario(FLAGSHIP).staffed_schedule().max())  # the flagship's all-day staffing
N_INTERVALS = load_scenario(FLAGSHIP).n_intervals
PAGES = ("storeq/app/whatif.py", "storeq/app/compare.py", "storeq/app/roster.py", "storeq/app/scenario.py", "storeq/app/calibration.py")


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "20")
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> str:
    """The error boxes as the user reads them (names and values in them are Markdown-escaped, see test_app_safe)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(e.value for e in at.error))


def _metric(at: AppTest, label: str) -> tuple[float, str | None]:
    m = next(m for m in at.metric if m.label == label)
    return float(re.match(r"[-\d.]+", m.value).group()), m.delta  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# every page renders
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page: str) -> None:
    at = _app()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title, f"{page} drew no title"


def test_what_if_starts_on_the_flagship_store() -> None:
    at = _app()
    assert at.selectbox(key="k_source").value == "telecom_month_end.yaml"
    assert at.number_input(key="k_all_day").value == STAFFED
    assert at.session_state["staff_row"] == [STAFFED] * N_INTERVALS


# ---------------------------------------------------------------------------------------------
# bad input: shown next to the input in words, nothing lost
# ---------------------------------------------------------------------------------------------


def test_invalid_edit_shows_the_problem_and_keeps_the_input() -> None:
    at = _app()
    at.number_input(key="k_vip").set_value(STAFFED + 2).run()
    assert f"{STAFFED + 2} VIP counters but only {STAFFED} staffed" in _errors(at)
    assert at.button(key="run_btn").disabled
    # the value survives a visit to another page and back
    at.switch_page("storeq/app/scenario.py").run()
    assert f"{STAFFED + 2} VIP counters" in _errors(at)
    at.switch_page("storeq/app/whatif.py").run()
    assert at.number_input(key="k_vip").value == STAFFED + 2
    at.number_input(key="k_vip").set_value(1).run()
    assert not at.error
    assert not at.button(key="run_btn").disabled


def test_hours_that_do_not_fit_the_interval_grid_are_explained() -> None:
    at = _app()
    at.selectbox(key="k_close").set_value("18:15").run()
    assert "does not divide the opening hours 09:00-18:15" in _errors(at)
    assert at.selectbox(key="k_close").value == "18:15"


def test_longer_hours_extend_the_staffing_row_by_clock() -> None:
    at = _app()
    at.number_input(key="k_all_day").set_value(6).run()
    at.selectbox(key="k_close").set_value("19:00").run()
    assert not at.error, _errors(at)
    assert at.session_state["staff_clocks"][-1] == "18:30"
    assert at.session_state["staff_row"] == [6] * (N_INTERVALS + 2)


def test_pitch_window_outside_the_hours_is_shown_by_the_policy() -> None:
    at = _app()
    at.selectbox(key="k_policy").set_value("windows").run()
    at.text_input(key="k_suspend").input("16:00-19:00").run()
    assert "window 16:00-19:00 is outside opening hours 09:00-18:00" in _errors(at)
    at.text_input(key="k_suspend").input("15:00-18:00").run()
    assert not at.error


def _paste(at: AppTest, text: str) -> AppTest:
    at.text_area(key="paste_text").input(text).run()
    next(b for b in at.button if b.label == "Use the pasted scenario").click().run()
    return at


def test_invalid_upload_shares_not_summing_to_one_is_shown_and_the_store_is_kept() -> None:
    at = _app()
    bad = FLAGSHIP.read_text().replace("share: 0.82", "share: 0.70")
    _paste(at, bad)
    errs = _errors(at)
    assert "was not loaded" in errs and "shares must add up to 1" in errs
    assert at.selectbox(key="k_source").value == "telecom_month_end.yaml"
    assert at.text_area(key="paste_text").value == bad  # what the user typed is still there


def test_invalid_upload_schedule_of_the_wrong_length() -> None:
    at = _app()
    bad = FLAGSHIP.read_text().replace(f"staffed: {STAFFED} ", "staffed: [7, 7, 8] ")
    assert bad != FLAGSHIP.read_text()
    _paste(at, bad)
    assert f"needs one value per interval: {N_INTERVALS}" in _errors(at)


def test_invalid_upload_not_yaml() -> None:
    at = _app()
    _paste(at, "store: {open: '09:00'\n  close: [")
    assert "not valid YAML" in _errors(at)


def test_valid_paste_becomes_the_starting_store() -> None:
    at = _app()
    text = FLAGSHIP.read_text().replace("name: Downtown hall, month-end weekday", "name: Pasted hall").replace(f"staffed: {STAFFED} ", "staffed: 5 ")
    _paste(at, text)
    assert not at.error, _errors(at)
    assert at.selectbox(key="k_source").value == "pasted scenario (uploaded)"
    assert at.number_input(key="k_all_day").value == 5


def test_parse_scenario_text_refuses_oversize_and_binary() -> None:
    with pytest.raises(ScenarioError, match="at most 1,000,000 bytes"):
        parse_scenario_text(b"#" * 1_000_001, "big.yaml")
    with pytest.raises(ScenarioError, match="not a UTF-8 text file"):
        parse_scenario_text(b"\xff\xfe\x00\x81", "photo.yaml")
    with pytest.raises(ScenarioError, match="is empty"):
        parse_scenario_text("   \n", "empty.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_scenario_text("a: !!python/object:os.system ls", "evil.yaml")
    # "billion laughs": 9 levels of 9 aliases would expand to 9**9 values when validated
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    with pytest.raises(ScenarioError, match="YAML alias references"):
        parse_scenario_text(bomb, "laughs.yaml")


# ---------------------------------------------------------------------------------------------
# knobs → scenario (pure)
# ---------------------------------------------------------------------------------------------


def test_untouched_knobs_change_nothing() -> None:
    s = load_scenario(FLAGSHIP)
    assert build_updates(s, knobs_from_scenario(s)) == {}
    assert apply_knobs(s, knobs_from_scenario(s)) is s


def test_knobs_become_a_validated_scenario() -> None:
    s = load_scenario(FLAGSHIP)
    k = knobs_from_scenario(s) | {"staff_row": [7] * (N_INTERVALS - 6) + [9] * 6, "kiosks": 5, "greeter": True, "patience": 2.0, "policy": "windows", "suspend": "15:00-18:00"}
    e = apply_knobs(s, k)
    assert list(e.staffed_schedule()) == [7] * (N_INTERVALS - 6) + [9] * 6
    assert e.kiosks.count == 5 and e.kiosks.greeter
    for before, after in zip(s.segments, e.segments, strict=True):
        if before.patience is not None:  # twice as patient: every patience mean doubles, its cv stays
            assert after.patience is not None and after.patience.mean == pytest.approx(2 * before.patience.mean)
            assert after.patience.cv == pytest.approx(before.patience.cv)
    assert e.cross_sell.policy.suspend == ("15:00-18:00",)
    assert e.demand == s.demand and e.transactions == s.transactions


def test_staffing_row_edits_from_the_data_editor() -> None:
    clocks = ["09:00", "09:30", "10:00"]
    assert apply_row_edits([7, 7, 7], clocks, {0: {"09:30": 9, "10:00": 8.6}}) == [7, 9, 9]
    assert apply_row_edits([7, 7, 7], clocks, {0: {"09:30": None, "10:00": float("nan")}}) == [7, 7, 7]  # cleared cells keep
    assert apply_row_edits([7, 7, 7], clocks, {0: {"09:00": -2, "11:00": 5}}) == [0, 7, 7]  # never negative; unknown clock ignored


def test_demand_row_edits_become_the_forecast() -> None:
    s = load_scenario(FLAGSHIP)
    k = knobs_from_scenario(s)
    row = list(k["demand_row"])
    row[-1] += 25.0
    e = apply_knobs(s, k | {"demand_row": row})
    assert list(e.demand.arrivals_per_hour) == row  # type: ignore[arg-type]
    assert e.demand.scale == s.demand.scale  # the scale knob still applies on top
    # an hour longer: the new intervals take the edited closing demand
    longer = apply_knobs(s, k | {"demand_row": row, "close": "19:00"})
    assert list(longer.demand.arrivals_per_hour)[-2:] == [row[-1], row[-1]]  # type: ignore[arg-type]
    assert apply_row_edits([40.0, 55.0], ["09:00", "09:30"], {0: {"09:30": 60.5}}, whole=False) == [40.0, 60.5]


def test_demand_row_in_the_app_reaches_the_scenario_file() -> None:
    at = _app()
    row = list(at.session_state["demand_row"])
    row[0] = 99.0
    at.session_state["demand_row"] = row
    at.run()
    assert any("demand forecast edited" in c.value for c in at.caption)
    at.switch_page("storeq/app/scenario.py").run()
    assert "arrivals_per_hour: [99.0," in at.code[0].value


def test_remap_by_clock_keeps_values_and_extends_with_the_nearest() -> None:
    assert remap_by_clock([1, 2, 3], ["09:00", "09:30", "10:00"], ["08:30", "09:00", "09:30", "10:00", "10:30"]) == [1, 1, 2, 3, 3]
    assert remap_by_clock([1, 2, 3], ["09:00", "09:30", "10:00"], ["09:30"]) == [2]


def test_problem_sections() -> None:
    assert section_of("store") == "hours"
    assert section_of("counters.staffed") == "staffing"
    assert section_of("counters.vip") == "vip"
    assert section_of("cross_sell.policy.suspend[0]") == "policy"
    assert section_of("demand.online_diversion") == "kiosks"
    assert section_of("segments[0](regular).patience.mean") == "patience"
    assert section_of("name") == "general"


def test_paired_change_is_zero_for_the_same_plan_and_tight_for_one_more_counter() -> None:
    from simulation import run, with_updates

    s = load_scenario(FLAGSHIP)
    a = run(s, replications=10, seed=3)
    same = paired_change(a, run(s, replications=10, seed=3))
    assert (same["diff_mean"] == 0).all() and (same["diff_ci_high"] - same["diff_ci_low"] == 0).all()
    b = run(with_updates(s, {"counters.staffed": STAFFED + 1}), replications=10, seed=3)
    d, lo, hi = (float(v) for v in paired_change(a, b).loc["mean_wait_min"])
    assert hi < 0 and lo <= d <= hi


# ---------------------------------------------------------------------------------------------
# the verdict
# ---------------------------------------------------------------------------------------------


def _diff(values: list[tuple[float, float, float]]) -> pd.DataFrame:
    starts = [f"{9 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(len(values))]
    return pd.DataFrame({"interval": range(len(values)), "start": starts, "diff_mean": [v[0] for v in values],
                         "diff_ci_low": [v[1] for v in values], "diff_ci_high": [v[2] for v in values]})


def test_verdict_names_the_window_with_the_biggest_significant_change() -> None:
    # intervals 1-2 cut by 1 min each; 4-6 (11:00-12:30) cut by 8 min each: that is the window
    d = _diff([(0.1, -0.5, 0.7), (-1, -1.5, -0.5), (-1, -1.5, -0.5), (0.2, -0.1, 0.5), (-8, -9, -7), (-8, -9, -7), (-8, -10, -6), (0.0, -1, 1)])
    w = best_window(d)
    assert w is not None and (w.first, w.last) == (4, 6)
    first = pd.Series([5, 6, 7, 8, 14, 14, 14, 5.0])
    plan = pd.Series([5, 5, 6, 8, 6, 6, 6, 5.0])
    text = verdict("Plan B", d, first, plan, 30, 2.0, (-2.0, -2.5, -1.5))
    assert text.startswith("Plan B cuts the 11:00-12:30 wait from 14.0 to 6.0 minutes for 2 more staff hours")


def test_verdict_over_the_whole_day_says_all_day() -> None:
    d = _diff([(-1, -1.5, -0.5), (-2, -2.5, -1.5)])
    text = verdict("Plan B", d, pd.Series([5.0, 6.0]), pd.Series([4.0, 4.0]), 30, -1.0, (-1.5, -2.0, -1.0))
    assert text.startswith("Plan B cuts the wait all day (09:00-10:00) from 5.5 to 4.0 minutes and saves 1 staff hour")


def test_verdict_says_so_when_nothing_is_significant() -> None:
    d = _diff([(0.1, -0.5, 0.7), (-0.2, -0.6, 0.3)])
    text = verdict("Plan B", d, pd.Series([1.0, 1.0]), pd.Series([1.0, 1.0]), 30, 0.0, (0.0, -0.1, 0.1))
    assert "no difference" in text and "same staff hours" in text


def test_staff_phrase() -> None:
    assert staff_phrase(2) == "for 2 more staff hours"
    assert staff_phrase(-1.5) == "and saves 1.5 staff hours"
    assert staff_phrase(1) == "for 1 more staff hour"


# ---------------------------------------------------------------------------------------------
# runs (need the engine)
# ---------------------------------------------------------------------------------------------


def test_one_more_counter_shortens_the_wait() -> None:
    at = _app()
    base_wait, delta = _metric(at, "Mean wait")
    assert not delta  # the store as loaded: nothing to compare with yet
    at.number_input(key="k_all_day").set_value(STAFFED + 1).run()
    at.button(key="run_btn").click().run()
    assert not at.exception, at.exception
    new_wait, delta = _metric(at, "Mean wait")
    # 20 paired replications: one more counter in the flagship hall cuts the day-mean wait by
    # minutes, far beyond the paired CI half-width (a fraction of a minute), so the sign is certain.
    assert new_wait < base_wait
    assert delta and delta.startswith("-")
    sentence = " ".join(s.value for s in at.success)
    assert sentence.startswith("Your plan cuts the") and f"for {load_scenario(FLAGSHIP).store.duration_min / 60:g} more staff hours" in sentence


@pytest.mark.slow  # end to end through every store / the optimizer / the calibration
def test_every_bundled_store_loads_edits_and_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from storeq.app.common import bundled_scenarios

    # 8 paired days are plenty for the sign: one more counter all day cuts these stores' mean wait
    # by 0.5-2 minutes, against a paired CI half-width of a few hundredths of a minute.
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "8")

    names = bundled_scenarios()
    assert "telecom_month_end.yaml" in names and "staff_week.yaml" not in names  # scenario files only
    at = _app()
    for name in names:
        at.selectbox(key="k_source").set_value(name).run()
        assert not at.exception and not at.error, (name, at.exception, _errors(at))
        # the row on show: the store's staffing, or its first counter group's (a store with groups)
        n = int(max(at.session_state["staff_row"]))
        at.number_input(key="k_all_day").set_value(n + 1).run()
        more = not at.error
        if not more:  # the hall is full at its peak (counters.physical): one fewer instead
            assert "counters.physical" in _errors(at), (name, _errors(at))
            at.number_input(key="k_all_day").set_value(max(n - 1, 0)).run()
        at.button(key="run_btn").click().run()
        assert not at.exception, (name, at.exception)
        wait, delta = _metric(at, "Mean wait")
        # one more counter never lengthens the wait; one fewer never shortens it
        assert delta and not delta.startswith("+" if more else "-"), (name, wait, delta, more)


def test_compare_page_gives_a_verdict_for_a_variant() -> None:
    at = _app()
    at.switch_page("storeq/app/compare.py").run()
    at.number_input(key="k_var_n").set_value(2).run()
    next(b for b in at.button if b.label == "Add plan").click().run()
    assert len(at.multiselect(key="k_cmp_pick").value) == 2
    at.button(key="cmp_btn").click().run()
    assert not at.exception, at.exception
    verdicts = " ".join(s.value for s in at.success)
    assert "Plan B cuts the" in verdicts and "more staff hours" in verdicts


def test_scenario_page_yaml_runs_with_the_cli(tmp_path: Path) -> None:
    at = _app()
    at.number_input(key="k_all_day").set_value(STAFFED + 1).run()
    at.number_input(key="k_vip").set_value(2).run()
    at.switch_page("storeq/app/scenario.py").run()
    text = at.code[0].value
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    s = load_scenario(path)
    assert list(s.staffed_schedule()) == [STAFFED + 1] * N_INTERVALS and s.counters.vip == 2
    exe = shutil.which("storeq")
    cmd = [exe] if exe else [sys.executable, "-m", "storeq"]
    out = subprocess.run([*cmd, "run", str(path), "--replications", "2", "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["replications"] == 2


@pytest.mark.slow  # end to end through every store / the optimizer / the calibration
def test_roster_page_builds_a_verified_roster() -> None:
    at = _app()
    at.switch_page("storeq/app/roster.py").run()
    at.radio(key="k_r_method").set_value("erlang_a_lagged")
    next(b for b in at.button if b.label == "Build roster").click().run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    status = re.search(r"Solver status: \*\*(optimal|feasible)[^*]*\*\*(, optimality gap (under 0\.1|[\d.]+)%)?", text)
    assert status, text
    # an optimal roster has nothing left to prove; a feasible one says how far from proven it may be
    if status.group(1) == "optimal":
        assert status.group(3) is None or status.group(3) == "0.0"
    else:
        assert status.group(3) is not None
    assert any(s.value.startswith("Recommended pitch rule:") for s in at.success)
    # the verification box agrees with the share of intervals meeting the target
    share = next(m for m in at.metric if m.label == "Intervals meeting the target").value
    missed_box = [w.value for w in at.warning if "miss the target" in w.value]
    if share == "100%":
        assert not missed_box and any("Every interval meets the target" in s.value for s in at.success)
    else:
        assert len(missed_box) == 1
        listed = missed_box[0].split("miss the target: ")[1].split(" (clearly")[0].split(", ")
        n = load_scenario(FLAGSHIP).n_intervals
        assert round(100 * (n - len(listed)) / n) == int(share.rstrip("%"))
    # "Open this roster on the What-if page" really opens it, with the roster as the starting store
    next(b for b in at.button if b.label == "Open this roster on the What-if page").click().run()  # the rerun switches page
    assert not at.exception, at.exception
    assert at.title[0].value == "What-if"
    assert str(at.selectbox(key="k_source").value).startswith("optimized roster")


def test_what_if_shows_the_required_counters() -> None:
    at = _app()
    assert any("Erlang A" in c.value for c in at.caption)


@pytest.mark.slow  # end to end through every store / the optimizer / the calibration
def test_calibration_page_fits_the_example_log_and_hands_it_to_what_if() -> None:
    at = _app()
    at.switch_page("storeq/app/calibration.py").run()
    at.number_input(key="k_cal_reps").set_value(3).run()
    at.button(key="cal_btn").click().run()
    assert not at.exception, at.exception
    # the example log is the bundled hall's own: it fits well, so the box is green and says so
    assert any("fits the log well" in s.value and "interval values lie inside" in s.value for s in at.success), [w.value for w in at.warning]
    next(b for b in at.button if b.label == "Use this scenario on the What-if page").click().run()  # the rerun switches page
    assert not at.exception, at.exception
    assert at.title[0].value == "What-if"
    assert at.selectbox(key="k_source").value == "calibrated from example_ticket_log.csv"
    assert any(m.label == "Mean wait" for m in at.metric)


def test_calibration_page_asks_for_a_file_before_calibrating_an_upload() -> None:
    at = _app()
    at.switch_page("storeq/app/calibration.py").run()
    at.radio(key="k_cal_src").set_value("upload").run()
    at.button(key="cal_btn").click().run()
    assert "choose a ticket log file" in _errors(at)


def test_day_picker_applies_the_files_day_factors() -> None:
    import datetime

    at = _app()
    assert not at.date_input, "the flagship file has no day factors, so there is no day to pick"
    at.selectbox(key="k_source").set_value("bank_branch.yaml").run()
    bank = load_scenario(ROOT / "scenarios" / "bank_branch.yaml")
    assert at.date_input(key="k_date").value == bank.store.date
    at.date_input(key="k_date").set_value(datetime.date(2026, 11, 30)).run()
    assert not at.error, _errors(at)
    moved = bank.model_copy(update={"store": bank.store.model_copy(update={"date": datetime.date(2026, 11, 30)})})
    assert any(f"×{moved.day_factor():.2f}" in c.value for c in at.caption)
    at.switch_page("storeq/app/scenario.py").run()
    assert "date: '2026-11-30'" in at.code[0].value
