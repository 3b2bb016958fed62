"""Every scenario validation error a user can hit, asserted by its message.

A store manager edits these files by hand, so each mistake must come back as one readable line that
names the file, the key path, the value and what is allowed — never a traceback, never a silently
wrong model. Each test writes a small scenario file with exactly one mistake and checks the message.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from simulation import (
    ScenarioError,
    load_scenario,
    parse_overrides,
    scenario_from_dict,
    scenario_from_yaml,
    scenario_to_yaml,
    with_updates,
)

REPO = Path(__file__).resolve().parent.parent

# A small but complete store: 09:00-13:00 in 30-minute intervals (8 intervals), two segments, three
# transactions (one kiosk-able), a VIP counter, windows cross-sell policy and shift rules, so every
# check below has something to bite on. Each test changes exactly one thing.
BASE = """\
name: Test hall
store:
  open: "09:00"
  close: "13:00"
  interval_min: 30
  target_wait_min: 10
demand:
  arrivals_per_hour: [20, 30, 40, 50, 50, 40, 30, 20]
  scale: 1.0
  online_diversion: 0.1
segments:
  - {name: regular, share: 0.9, priority: 1, patience: {dist: exponential, mean: 20}}
  - {name: vip, share: 0.1, priority: 0, patience: {dist: exponential, mean: 30}, pitch: false}
transactions:
  - {name: top_up, share: 0.5, counter_time: {dist: lognormal, mean: 2.5, cv: 0.5}, kiosk_time: {dist: lognormal, mean: 1.5, cv: 0.4}}
  - {name: plan_change, share: 0.3, counter_time: {dist: lognormal, mean: 6, cv: 0.6}}
  - {name: new_line, share: 0.2, counter_time: {dist: gamma, mean: 12, cv: 0.5}}
counters:
  staffed: [3, 3, 4, 4, 4, 4, 3, 3]
  vip: 1
kiosks: {count: 2, adoption: 0.6, greeter_adoption: 0.85, greeter: false, failure: 0.05}
cross_sell:
  pitch_time: {dist: lognormal, mean: 3, cv: 0.5}
  acceptance: 0.2
  margin: 25
  policy: {mode: windows, suspend: ["11:00-12:00"]}
balking: {queue_at_least: 30}
costs: {staff_hour: 40}
shifts:
  lengths_hours: [4]
  earliest_start: "09:00"
  latest_end: "13:00"
simulation: {replications: 10, seed: 1, warmup_min: 0}
"""


def _write(tmp_path: Path, text: str, name: str = "hall.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _edit(old: str, new: str, text: str = BASE) -> str:
    """BASE with one exact edit (fails loudly if the edit does not apply, so no test passes vacuously)."""
    assert text.count(old) == 1, f"edit target {old!r} must occur exactly once"
    return text.replace(old, new)


def _error(tmp_path: Path, text: str) -> ScenarioError:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def _line_for(err: ScenarioError, key_path: str) -> str:
    """The one message line for ``key_path``; also checks the line names the file first."""
    lines = str(err).splitlines()
    hits = [line for line in lines if f": {key_path}: " in line]
    assert hits, f"no message for {key_path!r} in:\n{err}"
    assert hits[0].startswith(f"{err.source}: "), hits[0]
    assert err.source.endswith("hall.yaml"), err.source
    return hits[0]


def test_base_is_valid(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, BASE))
    assert s.n_intervals == 8
    assert s.store.close == "13:00"
    assert list(s.staffed_schedule()) == [3, 3, 4, 4, 4, 4, 3, 3]


# ----- unknown keys, with the closest valid key suggested -----


def test_unknown_top_level_key_suggests_counters(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("counters:\n  staffed", "conters:\n  staffed"))
    line = _line_for(err, "conters")
    assert "unknown key; did you mean `counters`?" in line
    assert "allowed here: name, store, demand" in line


def test_unknown_nested_key_suggests_staffed(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("  staffed: [3", "  stafed: [3"))
    assert "did you mean `staffed`?" in _line_for(err, "counters.stafed")


def test_typo_in_distribution_key_names_the_transaction(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("mean: 6, cv: 0.6", "mean: 6, cvv: 0.6"))
    line = _line_for(err, "transactions[1](plan_change).counter_time.cvv")
    assert "did you mean `cv`?" in line
    # the real key is then missing too, but the suggestion already says so: one message, not two
    assert not any(path.endswith("counter_time.cv") for path, _ in err.problems)


def test_key_from_another_distribution_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("{dist: exponential, mean: 20}", "{dist: exponential, mean: 20, cv: 1}"))
    line = _line_for(err, "segments[0](regular).patience.cv")
    assert "unknown key; allowed here: dist, mean" in line


def test_unknown_distribution_name(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("{dist: gamma, mean: 12", "{dist: gama, mean: 12"))
    line = _line_for(err, "transactions[2](new_line).counter_time")
    assert "unknown distribution 'gama'" in line
    assert "allowed dist: exponential, lognormal, gamma" in line


# ----- shares -----


def test_segment_shares_must_sum_to_one(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("share: 0.9, priority: 1", "share: 0.8, priority: 1"))
    line = _line_for(err, "segments")
    assert "shares must add up to 1, got 0.9 (regular 0.8, vip 0.1)" in line


def test_transaction_shares_must_sum_to_one(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("name: new_line, share: 0.2", "name: new_line, share: 0.25"))
    assert "shares must add up to 1, got 1.05" in _line_for(err, "transactions")


def test_share_above_one_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("acceptance: 0.2", "acceptance: 1.2"))
    assert "must be at most 1.0, got 1.2" in _line_for(err, "cross_sell.acceptance")


# ----- negative and non-finite numbers -----


def test_negative_number(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("scale: 1.0", "scale: -0.5"))
    assert "must be at least 0.0, got -0.5" in _line_for(err, "demand.scale")


def test_negative_entry_in_schedule_names_its_index(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("[20, 30, 40,", "[20, -30, 40,"))
    assert "must be at least 0.0, got -30" in _line_for(err, "demand.arrivals_per_hour[1]")


def test_negative_staffed_count(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("staffed: [3, 3, 4, 4, 4, 4, 3, 3]", "staffed: -2"))
    assert "must be at least 0, got -2" in _line_for(err, "counters.staffed")


def test_fractional_staffed_count(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("staffed: [3, 3, 4, 4, 4, 4, 3, 3]", "staffed: 3.5"))
    assert "must be a whole number, got 3.5" in _line_for(err, "counters.staffed")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers(tmp_path: Path, value: str) -> None:
    err = _error(tmp_path, _edit("margin: 25", f"margin: {value}"))
    assert "must be a finite number, got" in _line_for(err, "cross_sell.margin")


def test_non_finite_distribution_parameter(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("mean: 2.5, cv: 0.5", "mean: .inf, cv: 0.5"))
    assert "must be a finite number, got inf" in _line_for(err, "transactions[0](top_up).counter_time.mean")


def test_non_positive_distribution_parameter(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("mean: 6, cv: 0.6", "mean: 6, cv: -1"))
    assert "must be greater than 0.0, got -1" in _line_for(err, "transactions[1](plan_change).counter_time.cv")


# ----- the day's grid -----


def test_interval_must_divide_opening_hours(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('close: "13:00"', 'close: "13:10"'))
    line = _line_for(err, "store")
    assert line.endswith(
        "interval_min 30 does not divide the opening hours 09:00-13:10 (250 minutes); "
        "no allowed interval (15, 30, 60) does: adjust open or close"
    )


def test_interval_that_does_not_divide_suggests_one_that_does(tmp_path: Path) -> None:
    text = _edit('close: "13:00"', 'close: "12:45"')
    text = _edit("[20, 30, 40, 50, 50, 40, 30, 20]", "30", text)
    text = _edit("[3, 3, 4, 4, 4, 4, 3, 3]", "4", text)
    text = _edit('latest_end: "13:00"', 'latest_end: "12:45"', text)
    err = _error(tmp_path, text)
    assert _line_for(err, "store").endswith("(225 minutes); use interval_min 15")


def test_interval_must_be_15_30_or_60(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("interval_min: 30", "interval_min: 20"))
    assert "must be one of 15, 30, 60 minutes, got 20" in _line_for(err, "store.interval_min")


def test_arrivals_schedule_of_wrong_length(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("[20, 30, 40, 50, 50, 40, 30, 20]", "[20, 30, 40, 50, 50, 40, 30]"))
    line = _line_for(err, "demand.arrivals_per_hour")
    assert "needs one value per interval: 8 for 09:00-13:00 in 30-minute intervals, got 7" in line


def test_staffed_schedule_of_wrong_length(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("[3, 3, 4, 4, 4, 4, 3, 3]", "[3, 3, 4, 4, 4, 4, 3, 3, 3]"))
    assert "needs one value per interval: 8" in _line_for(err, "counters.staffed")


def test_schedule_length_follows_interval_change(tmp_path: Path) -> None:
    # the 8 values were right for 30-minute intervals; with 60-minute ones there are 4 intervals
    err = _error(tmp_path, _edit("interval_min: 30", "interval_min: 60"))
    assert "needs one value per interval: 4 for 09:00-13:00 in 60-minute intervals, got 8" in _line_for(
        err, "demand.arrivals_per_hour"
    )


def test_close_before_open(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('close: "13:00"', 'close: "08:00"'))
    assert "close (08:00) must be after open (09:00)" in _line_for(err, "store")


def test_clock_out_of_range(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('close: "13:00"', 'close: "25:00"'))
    assert "a clock must be written \"HH:MM\" (00:00 to 24:00), got '25:00'" in _line_for(err, "store.close")


def test_suspend_window_after_closing(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('suspend: ["11:00-12:00"]', 'suspend: ["12:00-14:00"]'))
    line = _line_for(err, "cross_sell.policy.suspend[0]")
    assert "window 12:00-14:00 is outside opening hours 09:00-13:00" in line


def test_suspend_window_backwards(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('suspend: ["11:00-12:00"]', 'suspend: ["12:00-11:00"]'))
    assert "a time window must end after it starts, got '12:00-11:00'" in _line_for(err, "cross_sell.policy.suspend")


def test_shift_rule_clock_after_closing(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('latest_end: "13:00"', 'latest_end: "14:00"'))
    assert "14:00 is outside opening hours 09:00-13:00" in _line_for(err, "shifts.latest_end")


def test_windows_mode_without_windows(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('{mode: windows, suspend: ["11:00-12:00"]}', "{mode: windows}"))
    assert 'mode "windows" needs suspend' in _line_for(err, "cross_sell.policy")


def test_unknown_policy_mode(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('{mode: windows, suspend: ["11:00-12:00"]}', "{mode: sometimes}"))
    line = _line_for(err, "cross_sell.policy.mode")
    assert "must be one of" in line and "'queue_threshold'" in line and "got 'sometimes'" in line


def test_warmup_longer_than_day(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("warmup_min: 0", "warmup_min: 240"))
    assert "is not shorter than the day (240 minutes)" in _line_for(err, "simulation.warmup_min")


# ----- clocks: an unquoted 18:00 means six in the evening -----


def test_unquoted_clock_is_read_as_a_clock(tmp_path: Path) -> None:
    text = _edit('close: "13:00"', "close: 13:00")
    text = _edit('open: "09:00"', "open: 09:00", text)
    text = _edit('suspend: ["11:00-12:00"]', "suspend: [11:00-12:00]", text)
    s = load_scenario(_write(tmp_path, text))
    assert (s.store.open, s.store.close) == ("09:00", "13:00")
    assert s.store.duration_min == 240
    assert s.suspend_windows_min() == [(120, 180)]


def test_unquoted_evening_clock_is_not_1080(tmp_path: Path) -> None:
    text = _edit('close: "13:00"', "close: 18:00")
    text = _edit("interval_min: 30", "interval_min: 60", text)
    text = _edit("[20, 30, 40, 50, 50, 40, 30, 20]", "40", text)
    text = _edit("[3, 3, 4, 4, 4, 4, 3, 3]", "4", text)
    text = _edit('latest_end: "13:00"', "latest_end: 18:00", text)
    s = load_scenario(_write(tmp_path, text))
    assert s.store.close_min == 18 * 60
    assert s.n_intervals == 9


def test_numeric_clock_through_the_api_is_refused() -> None:
    data = yaml.safe_load(BASE)
    data["store"]["close"] = 1080  # what plain YAML 1.1 makes of an unquoted 18:00
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "api")
    line = str(info.value)
    assert line.startswith("api: store.close: ")
    assert 'a clock must be written "HH:MM" in quotes, got the number 1080' in line


# ----- the file itself -----


def test_bad_yaml_syntax_gives_line_number(tmp_path: Path) -> None:
    text = _edit("costs: {staff_hour: 40}", "costs: {staff_hour: 40")
    err = _error(tmp_path, text)
    msg = str(err)
    assert msg.startswith(f"{tmp_path / 'hall.yaml'}: not valid YAML: line ")
    line_no = int(msg.split("line ")[1].split(",")[0])
    # the unclosed brace is on the costs line; the parser notices on that line or the next one
    costs_line = BASE.splitlines().index("costs: {staff_hour: 40}") + 1
    assert costs_line <= line_no <= costs_line + 1


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "missing.yaml")
    assert str(info.value) == f"{tmp_path / 'missing.yaml'}: file not found"


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a folder, not a scenario file"):
        load_scenario(tmp_path)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n", "42\n"])
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    err = _error(tmp_path, text)
    assert "a scenario must be a mapping of keys (name, store, demand, ...)" in str(err)
    assert str(err).startswith(str(tmp_path / "hall.yaml"))


def test_empty_file(tmp_path: Path) -> None:
    err = _error(tmp_path, "")
    assert "is empty: a scenario needs at least demand, transactions and counters" in str(err)


def test_binary_upload_is_refused() -> None:
    with pytest.raises(ScenarioError, match="is not a UTF-8 text file"):
        scenario_from_yaml(b"\xff\xfe\x00bad", "upload.yaml")


def test_missing_required_section(tmp_path: Path) -> None:
    text = _edit(
        "demand:\n  arrivals_per_hour: [20, 30, 40, 50, 50, 40, 30, 20]\n  scale: 1.0\n  online_diversion: 0.1\n", ""
    )
    err = _error(tmp_path, text)
    assert "is required but missing" in _line_for(err, "demand")


def test_several_problems_reported_together(tmp_path: Path) -> None:
    text = _edit("scale: 1.0", "scale: -1")
    text = _edit("counters:\n  staffed", "conters:\n  staffed", text)
    text = _edit("acceptance: 0.2", "acceptance: 2", text)
    err = _error(tmp_path, text)
    keys = {path for path, _ in err.problems}
    assert keys == {"demand.scale", "conters", "cross_sell.acceptance"}  # `counters` missing is implied by the typo


# ----- counters -----


def test_more_vip_counters_than_staffed(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("vip: 1", "vip: 4"))
    assert "4 VIP counters but only 3 staffed in some interval" in _line_for(err, "counters.vip")


def test_more_staffed_than_physical(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("  vip: 1\n", "  vip: 1\n  physical: 3\n"))
    assert "4 staffed but the hall has only 3 counters" in _line_for(err, "counters.staffed")


def test_nobody_staffed_at_closing(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("[3, 3, 4, 4, 4, 4, 3, 3]", "[3, 3, 4, 4, 4, 4, 3, 0]"))
    line = _line_for(err, "counters.staffed")
    assert "the last interval has no counter staffed" in line


def test_kiosks_without_kiosk_transactions(tmp_path: Path) -> None:
    text = _edit(", kiosk_time: {dist: lognormal, mean: 1.5, cv: 0.4}}", "}")
    err = _error(tmp_path, text)
    assert "no transaction has a kiosk_time" in _line_for(err, "kiosks.count")


def test_repeated_segment_names(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("{name: vip, share: 0.1", "{name: regular, share: 0.1"))
    assert "names must be unique, repeated: regular" in _line_for(err, "segments")


# ----- --set overrides -----


def test_set_by_name_and_by_index(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    s = load_scenario(
        path,
        [
            "segments.vip.share=0.2",
            "segments.regular.share=0.8",
            "transactions.0.counter_time.mean=3",
            "counters.staffed=5",
            "cross_sell.policy={mode: queue_threshold, threshold: 6}",
        ],
    )
    assert [seg.share for seg in s.segments] == [0.8, 0.2]
    assert s.transactions[0].counter_time.mean == 3.0
    assert list(s.staffed_schedule()) == [5] * 8
    assert s.cross_sell.policy.mode == "queue_threshold" and s.cross_sell.policy.threshold == 6


def test_set_schedule_as_yaml_list(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, BASE), ["counters.staffed=[2,2,3,3,3,3,2,2]"])
    assert list(s.staffed_schedule()) == [2, 2, 3, 3, 3, 3, 2, 2]


def test_set_unquoted_clock(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, BASE), ["cross_sell.policy.suspend=[12:00-13:00]"])
    assert s.suspend_windows_min() == [(180, 240)]


def test_set_that_breaks_a_rule_names_the_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["segments.vip.share=0.2"])
    msg = str(info.value)
    assert msg.startswith(f"{path} with --set: segments: shares must add up to 1, got 1.1")


def test_set_unknown_element_lists_the_names(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, BASE), ["segments.vipp.share=0.2"])
    assert "segments.vipp: no element 'vipp'; use an index or one of: regular, vip" in str(info.value)


def test_set_unknown_key_suggests(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, BASE), ["counters.stafed=5"])
    assert "counters.stafed: unknown key; did you mean `staffed`?" in str(info.value)


@pytest.mark.parametrize("item", ["counters.staffed", "=5", ""])
def test_set_without_key_value(item: str) -> None:
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        parse_overrides([item])


def test_set_value_with_bad_yaml() -> None:
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_overrides(["counters.staffed=[1,2"])


def test_with_updates_leaves_the_original_unchanged(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, BASE))
    s2 = with_updates(s, {"counters.staffed": 6})
    assert list(s.staffed_schedule()) == [3, 3, 4, 4, 4, 4, 3, 3]
    assert list(s2.staffed_schedule()) == [6] * 8
    assert s.digest() != s2.digest()


# ----- round trip -----


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, BASE))
    again = scenario_from_yaml(scenario_to_yaml(s), "round trip")
    assert again == s
    assert again.digest() == s.digest()


def _scenario_files() -> list[Path]:
    # scenarios/ also holds other inputs (the optimizer's staff file, calibration's column mapping):
    # a YAML file there with none of a scenario's keys is one of those
    keys = {"store", "demand", "segments", "transactions", "counters", "kiosks", "cross_sell"}
    out = []
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not (isinstance(data, dict) and not keys & set(data)):
            out.append(path)
    return out


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.name)
def test_round_trip_every_example(path: Path) -> None:
    s = load_scenario(path)
    again = scenario_from_yaml(scenario_to_yaml(s), "round trip")
    assert again == s
    assert math.isclose(float(again.arrival_rates_per_hour().sum()), float(s.arrival_rates_per_hour().sum()))


# ----- dates -----


def test_impossible_date_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # An unquoted impossible date stays text in the YAML reader, so validation names its key.
    err = _error(tmp_path, _edit('  open: "09:00"\n', '  open: "09:00"\n  date: 2026-02-30\n'))
    assert "must be a calendar date like 2026-11-28, got '2026-02-30'" in _line_for(err, "store.date")


def test_quoted_impossible_date_names_the_key(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit('  open: "09:00"\n', '  open: "09:00"\n  date: "2026-02-30"\n'))
    _line_for(err, "store.date")


def test_date_applies_weekday_and_day_of_month_factors(tmp_path: Path) -> None:
    text = _edit('  open: "09:00"\n', '  open: "09:00"\n  date: 2026-11-27\n')  # a Friday
    text = _edit(
        "  online_diversion: 0.1\n",
        "  online_diversion: 0.1\n  weekday_factors: [1, 1, 1, 1, 1.2, 0.8, 0.5]\n  day_of_month_factors: {27: 1.5}\n",
        text,
    )
    s = load_scenario(_write(tmp_path, text))
    assert s.day_factor() == pytest.approx(1.2 * 1.5)
    assert s.arrival_rates_per_hour()[0] == pytest.approx(20 * 1.8)


# ----- silently wrong models that must be refused -----


def test_duplicate_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    # plain YAML keeps the last `counters:` silently; a pasted second block must not replace the first
    text = BASE + "counters: {staffed: 9}\n"
    err = _error(tmp_path, text)
    first = BASE.splitlines().index("counters:") + 1
    last = len(BASE.splitlines()) + 1
    assert str(err) == (
        f"{tmp_path / 'hall.yaml'}: not valid YAML: line {last}, column 1: "
        f"key 'counters' appears twice in one mapping (first on line {first})"
    )


def test_duplicate_key_inside_a_flow_mapping(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("costs: {staff_hour: 40}", "costs: {staff_hour: 40, staff_hour: 50}"))
    assert "key 'staff_hour' appears twice in one mapping" in str(err)


def test_yaml_merge_keys_still_work(tmp_path: Path) -> None:
    # anchors and merges are how people share a distribution between transactions: not duplicates
    text = _edit(
        "  - {name: plan_change, share: 0.3, counter_time: {dist: lognormal, mean: 6, cv: 0.6}}",
        "  - {name: plan_change, share: 0.3, counter_time: &long {dist: lognormal, mean: 6, cv: 0.6}}",
    )
    text = _edit("counter_time: {dist: gamma, mean: 12, cv: 0.5}", "counter_time: {<<: *long, mean: 12}", text)
    s = load_scenario(_write(tmp_path, text))
    assert s.transactions[2].counter_time.mean == 12 and s.transactions[2].counter_time.cv == 0.6


def test_balking_at_zero_would_turn_everyone_away(tmp_path: Path) -> None:
    # "queue_at_least: 0" reads like "no balking" but would mean nobody ever joins the queue
    err = _error(tmp_path, _edit("balking: {queue_at_least: 30}", "balking: {queue_at_least: 0}"))
    assert "must be at least 1, got 0" in _line_for(err, "balking.queue_at_least")


def test_shift_window_backwards(tmp_path: Path) -> None:
    text = _edit('earliest_start: "09:00"', 'earliest_start: "12:00"')
    text = _edit('latest_end: "13:00"', 'latest_end: "10:00"', text)
    err = _error(tmp_path, text)
    assert "latest_end (10:00) must be after earliest_start (12:00)" in _line_for(err, "shifts")


def test_break_window_backwards(tmp_path: Path) -> None:
    err = _error(tmp_path, _edit("  lengths_hours: [4]\n", "  lengths_hours: [4]\n  break: {window_hours: [3, 1]}\n"))
    assert "got [3, 1], latest before earliest" in _line_for(err, "shifts.break")


def test_yaml_alias_bomb_is_refused_before_it_expands() -> None:
    # Nine levels of nine aliases would expand to 9**9 (387 million) values once validated.
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(ScenarioError, match="alias references"):
        scenario_from_yaml("\n".join(lines), "bomb.yaml")
