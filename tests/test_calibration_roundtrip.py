"""End to end with the engine: synth-log from a known scenario, calibrate, recover the truth; fit report; CLI.

The 30-day round trip is the check issue 5 asks for (about 5 s, so not marked slow). Tolerances are 4 standard errors of each
estimator at the sample sizes the log gives (computed in the test from the counts actually seen),
so a correct calibration passes by a wide margin and a biased one (e.g. the naive patience
estimate) fails by many standard errors.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from calibration import calibrate, clean, customers_to_tickets, fit_report, read_log, synth_log, write_log
from simulation import load_scenario, scenario_from_yaml

TRUTH = """
name: Round-trip truth
store: {open: "09:00", close: "18:00", interval_min: 30, target_wait_min: 10}
demand:
  arrivals_per_hour: [50, 60, 70, 80, 80, 70, 60, 70, 80, 90, 100, 100, 90, 80, 70, 60, 50, 40]
  weekday_factors: [1.0, 0.95, 0.95, 1.0, 1.1, 0.9, 0.8]
  day_of_month_factors: {28: 1.3, 29: 1.3, 30: 1.4}
segments:
  - {name: regular, share: 0.85, priority: 1, patience: {dist: exponential, mean: 20}}
  - {name: vip, share: 0.15, priority: 0, patience: {dist: exponential, mean: 20}}
transactions:
  - {name: top_up, share: 0.45, counter_time: {dist: lognormal, mean: 2.5, cv: 0.5}, kiosk_time: {dist: lognormal, mean: 1.5, cv: 0.4}}
  - {name: plan_change, share: 0.35, counter_time: {dist: gamma, mean: 6, cv: 0.6}}
  - {name: new_line, share: 0.20, counter_time: {dist: lognormal, mean: 12, cv: 0.5}}
counters: {staffed: [6, 6, 7, 8, 8, 7, 6, 7, 8, 8, 9, 9, 8, 8, 7, 6, 6, 5]}
kiosks: {count: 3, adoption: 0.5, failure: 0.05}
cross_sell: {policy: {mode: never}}
simulation: {replications: 20, seed: 7}
"""


@pytest.fixture(scope="module")
def truth():
    return scenario_from_yaml(TRUTH, "truth")


def test_customers_to_tickets_exact_rows():
    nan = math.nan
    cust = pd.DataFrame(
        {
            "replication": 0,
            "customer": [0, 1, 2, 3, 4],
            "segment": ["regular", "vip", "regular", "regular", "regular"],
            "transaction": ["top_up", "plan_change", "top_up", "top_up", "new_line"],
            "arrival_min": [1.0, 2.0, 3.0, 4.0, 5.0],
            "used_kiosk": [False, False, True, True, False],
            "kiosk_join_min": [nan, nan, 3.0, 4.0, nan],
            "kiosk_start_min": [nan, nan, 3.0, 4.5, nan],
            "kiosk_end_min": [nan, nan, 4.5, 6.0, nan],
            "kiosk_failed": [False, False, False, True, False],
            "queue_join_min": [1.0, 2.0, nan, 6.0, 5.0],
            "service_start_min": [1.0, nan, nan, 7.0, nan],
            "service_end_min": [3.5, nan, nan, 9.0, nan],
            "counter_id": [0, -1, -1, 1, -1],
            "pitched": False,
            "accepted": False,
            "outcome": ["served", "abandoned", "served", "served", "balked"],
            "wait_min": [0.0, nan, nan, 1.0, nan],
            "leave_min": [3.5, 12.25, 4.5, 9.0, 5.0],
        }
    )
    t = customers_to_tickets(cust, dt.date(2026, 11, 28), 540)
    # the balked customer took no ticket; the failed kiosk visit is a counter ticket issued at 09:06
    assert t["ticket_id"].tolist() == ["A0001", "A0002", "A0003", "A0004"]
    assert t["issued_at"].tolist() == ["2026-11-28 09:01:00", "2026-11-28 09:02:00", "2026-11-28 09:03:00", "2026-11-28 09:06:00"]
    assert t["called_at"].tolist() == ["2026-11-28 09:01:00", "2026-11-28 09:12:15", "2026-11-28 09:03:00", "2026-11-28 09:07:00"]
    assert t["service_end"].tolist() == ["2026-11-28 09:03:30", "", "2026-11-28 09:04:30", "2026-11-28 09:09:00"]
    assert t["counter_id"].tolist() == ["C01", "", "", "C02"]
    assert t["channel"].tolist() == ["counter", "counter", "kiosk", "counter"]
    assert t["outcome"].tolist() == ["served", "abandoned", "served", "served"]


def test_short_synth_calibrate_report_cli(tmp_path: Path, truth):
    """Three days through the CLI: synth-log, calibrate with a report; the scenario loads and the report exists."""
    from storeq.cli.calibrate import calibrate as cal_cmd
    from storeq.cli.calibrate import synth_log as synth_cmd

    src = tmp_path / "truth.yaml"
    src.write_text(TRUTH, encoding="utf-8")
    log = tmp_path / "log.csv"
    r = CliRunner().invoke(synth_cmd, [str(src), "--days", "3", "--out", str(log), "--start-date", "2026-11-26", "--seed", "3"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(log, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["ticket_id", "issued_at", "called_at", "service_start", "service_end", "counter_id", "transaction", "segment", "channel", "outcome"]
    assert set(df["outcome"]) <= {"served", "abandoned"} and set(df["channel"]) == {"counter", "kiosk"}
    assert df["issued_at"].str[:10].isin(["2026-11-26", "2026-11-27", "2026-11-28"]).all()
    out, rep = tmp_path / "cal.yaml", tmp_path / "rep"
    r = CliRunner().invoke(cal_cmd, [str(log), "--out", str(out), "--report", str(rep), "--replications", "3"])
    assert r.exit_code == 0, r.output
    s = load_scenario(out)
    assert s.n_intervals == 18 and s.store.open == "09:00"
    for f in ("report.html", "fit_intervals.png", "fit_days.png", "arrivals_profile.png", "patience.png", "fit_intervals.csv", "fit_by_day.csv"):
        assert (rep / f).stat().st_size > 0, f
    fit = pd.read_csv(rep / "fit_intervals.csv")
    assert set(fit["metric"]) == {"arrivals_per_hour", "mean_wait_min", "over_target_share", "abandonment_rate"}
    assert "Fit report verdict" in r.output and "Overall the calibrated scenario" in r.output and "Day by day, arrivals" in r.output
    by_day = pd.read_csv(rep / "fit_by_day.csv")
    assert sorted(set(by_day["day"])) == ["2026-11-26", "2026-11-27", "2026-11-28"]
    # synth-log is reproducible: same seed, same log
    log2 = tmp_path / "log2.csv"
    CliRunner().invoke(synth_cmd, [str(src), "--days", "3", "--out", str(log2), "--start-date", "2026-11-26", "--seed", "3"])
    assert log.read_bytes() == log2.read_bytes()


def test_round_trip_30_days_recovers_the_truth(tmp_path: Path, truth):
    log = synth_log(truth, 30, dt.date(2026, 11, 1), seed=7)
    path = write_log(log, tmp_path / "log.csv")
    c = clean(read_log(path), source="log.csv")
    # kiosk-failed customers who reach the counters after closing hold a ticket issued after 18:00
    assert c.rows_skipped == int(c.issues.set_index("category").loc["outside_opening_hours", "rows"]) <= 10
    cal = calibrate(c)
    s = cal.scenario
    n = len(c.tickets)

    # arrivals: the day factor × profile total, per day (normalisation-free), and the profile shape
    a = cal.arrivals
    per_day = a.counts.sum(axis=1)
    for day in cal.days:
        true = truth.demand.weekday_factors[day.weekday()] * truth.demand.day_of_month_factors.get(day.day, 1.0) * sum(truth.demand.arrivals_per_hour)
        got = a.day_factor(day) * a.base_per_hour.sum()
        # SE ≈ √(1/N_weekday + 1/N_day if it has its own factor); ~4% at most → 4 SE ≈ 16%
        assert abs(got / true - 1) < 4 * math.sqrt(1 / per_day.loc[day] + 1 / (4 * per_day.median())), day
    assert set(a.day_of_month) == {28, 29, 30}
    true_shape = np.array(truth.demand.arrivals_per_hour) / sum(truth.demand.arrivals_per_hour)
    got_shape = a.base_per_hour / a.base_per_hour.sum()
    n_i = a.counts.sum(axis=0).to_numpy()
    assert np.all(np.abs(got_shape - true_shape) < 4 * true_shape / np.sqrt(n_i))

    # shares (binomial SE)
    for seg in truth.segments:
        assert abs(cal.shares.segments[seg.name] - seg.share) < 4 * math.sqrt(seg.share * (1 - seg.share) / n)
    for tx in truth.transactions:
        assert abs(cal.shares.transactions[tx.name] - tx.share) < 4 * math.sqrt(tx.share * (1 - tx.share) / n)
    # kiosk: the log sees adoption net of failures (failed visits become counter tickets)
    net = truth.kiosks.adoption * (1 - truth.kiosks.failure)
    assert abs(cal.shares.kiosk_adoption - net) < 4 * math.sqrt(net * (1 - net) / cal.shares.eligible_tickets)
    assert cal.kiosk_count == truth.kiosks.count

    # service times: mean within 4 SE (cv/√n relative), cv within 0.05 (SE < 0.01 at n > 3000), family by AIC
    for tx in truth.transactions:
        fit, own = cal.counter_fits[tx.name]
        assert own and fit.best.dist == tx.counter_time.dist
        assert abs(fit.best.mean / tx.counter_time.mean - 1) < 4 * tx.counter_time.cv / math.sqrt(fit.n)
        assert abs(fit.best.cv - tx.counter_time.cv) < 0.05
    kf, _ = cal.kiosk_fits["top_up"]
    assert abs(kf.best.mean / 1.5 - 1) < 4 * 0.4 / math.sqrt(kf.n) and abs(kf.best.cv - 0.4) < 0.05

    # patience: censored MLE within 4 SE (mean/√events); the naive abandoners-only mean is many SE off
    p = cal.patience_pooled
    assert p is not None and p.events > 300
    se = 20.0 / math.sqrt(p.events)
    assert abs(p.exponential.mean - 20.0) < 4 * se
    assert p.naive_mean < 20.0 - 10 * se  # biased: only the impatient show up among abandoners
    assert s.segments[0].patience is not None and abs(s.segments[0].patience.mean - 20.0) < 4 * 20.0 / math.sqrt(cal.patience["regular"][0].events)

    # priority: VIPs wait far less, so the log reveals their priority
    assert {x.name: x.priority for x in s.segments} == {"regular": 1, "vip": 0}
    assert s.counters.vip == 0  # the truth has no VIP counter, and none is invented
    # staffing: median over days of counters serving per interval
    diff = np.abs(s.staffed_schedule() - truth.staffed_schedule())
    assert diff.max() <= 1 and (diff == 0).sum() >= 16


def test_fit_report_flags_a_wrong_scenario(truth):
    """The report must be able to say "does not fit": the right scenario fits, a 40% busier one does not."""
    from calibration import fit_report
    from simulation import with_updates

    log = synth_log(truth, 4, dt.date(2026, 11, 9), seed=5)
    cal = calibrate(clean(log))
    good = fit_report(cal, replications=5, seed=2)
    arr = good.intervals[good.intervals["metric"] == "arrivals_per_hour"]
    assert arr["fits"].sum() >= 15  # 18 intervals, ~1 in 20 misses by chance
    assert good.day.set_index("metric").loc["arrivals_per_day", "fits"]
    bad = fit_report(cal, replications=5, seed=2, scenario=with_updates(cal.scenario, {"demand.scale": 1.4}))
    arr = bad.intervals[bad.intervals["metric"] == "arrivals_per_hour"]
    assert arr["fits"].sum() <= 6 and (arr["observed"] < arr["sim_mean"]).all()
    assert not bad.day.set_index("metric").loc["arrivals_per_day", "fits"]
    assert any("lower at" in v and v.startswith("Arrivals per hour") for v in bad.verdict)
    # per segment: the right scenario fits both tiers; one without the VIP priority makes VIPs wait
    # far longer than the log shows, and the report names the segment
    assert set(good.by_segment["segment"]) == {"regular", "vip"}
    assert good.by_segment.set_index(["segment", "metric"]).loc[("vip", "mean_wait_min"), "fits"]
    flat = fit_report(cal, replications=5, seed=2, scenario=with_updates(cal.scenario, {"segments.vip.priority": 1}))
    vip = flat.by_segment.set_index(["segment", "metric"]).loc[("vip", "mean_wait_min")]
    assert not vip["fits"] and vip["observed"] < vip["sim_mean"]
    assert any(v.startswith("By segment, vip: mean wait") for v in flat.verdict)
    assert bad.verdict[0].startswith("Overall the scenario 'Calibrated from log' does not fit")


def test_quiet_bank_branch_staffing_on_15_minute_grid():
    """A quiet branch (~260 tickets a day on 4-6 desks, 15-minute grid, closed on Sundays): idle desks
    with nobody waiting are still staffed, so the branch's schedule comes back (at most one
    quarter-hour off by one, where a desk opening mid-morning served its first customer late)."""
    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bank_branch.yaml")
    # The branch as one shared line (its v1 desks: 4-6, one a VIP desk): advisers who idle for want of
    # advice customers are invisible in a log, so the grouped branch's staffing is a different question.
    from simulation import with_updates

    s = with_updates(s, {"counters": {"staffed": [4] * 8 + [5] * 4 + [6] * 6 + [5] * 10 + [6] * 4, "vip": 1, "physical": 7}})
    log = synth_log(s, 7, dt.date(2026, 11, 2), seed=4)
    assert not log["issued_at"].str.startswith("2026-11-08").any()  # Sunday: factor 0, no tickets
    cal = calibrate(clean(log, interval_min=15), 15)
    diff = np.abs(cal.scenario.staffed_schedule() - s.staffed_schedule())
    assert diff.max() <= 1 and (diff > 0).sum() <= 1
    assert cal.scenario.store.open == s.store.open and cal.scenario.store.close == s.store.close


def test_cross_selling_is_read_from_the_log():
    """The flagship hall stops pitching while 8 or more wait (its busy afternoon), so its logged
    counter times are shorter then. The calibration finds the mechanism — the queue threshold, the
    segment never pitched to, the pitch's length — and models it, instead of one all-day service
    law. A hall that never pitches gets no cross-selling."""
    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "telecom_month_end.yaml")
    cal = calibrate(clean(synth_log(s, 8, dt.date(2026, 11, 2), seed=6)))
    shorter = [n for n in cal.notes if n.startswith("counter service is shorter")]
    assert shorter and "# Note: counter service is shorter" in cal.yaml_text
    t = cal.service_by_interval
    assert t.loc[t["start"].between("14:00", "16:00"), "ratio"].mean() < 0.9
    # the mechanism is found and modelled: the queue threshold (8 in the file), the never-pitched
    # segment, the pitch's length (5 min in the file; ~1,000 services at short queues give an SE of
    # ~0.3 min, so 4 SE = 1.2) and the main transaction's time (top_up 2.5 min, cv 0.5; ~300 clean services)
    p = cal.pitch
    assert p is not None and p.threshold is not None and 7 <= p.threshold <= 9
    assert p.never_pitched == ("sensitive",)
    assert abs(p.pitch_mean - 5.0) < 1.2
    main, own = p.counter_fits["top_up"]
    assert own and abs(main.best.mean / 2.5 - 1) < 4 * 0.5 / math.sqrt(main.n)
    sc = cal.scenario
    assert sc.cross_sell.policy.mode == "queue_threshold" and sc.cross_sell.policy.threshold == p.threshold
    assert {x.name: x.pitch for x in sc.segments} == {"regular": True, "vip": True, "sensitive": False}
    assert "the cross-selling model in the scenario accounts for this" in shorter[0]
    quiet = calibrate(clean(synth_log(scenario_from_yaml(TRUTH, "truth"), 8, dt.date(2026, 11, 2), seed=6)))
    assert not [n for n in quiet.notes if n.startswith(("counter service is", "segment"))]
    assert quiet.pitch is None and quiet.scenario.cross_sell.policy.mode == "never"


def test_report_against_the_true_scenario(tmp_path: Path):
    """--against: the flagship's own file fits a log simulated from it, and so does the fresh
    calibration (which reads the queue-threshold pitching from the log); an edit that pitches at
    every queue length does not fit — its waits and abandonment run high, and the report says so."""
    import json

    from simulation import scenario_to_yaml, with_updates
    from storeq.cli.calibrate import calibrate as cal_cmd

    flagship = Path(__file__).resolve().parents[1] / "scenarios" / "telecom_month_end.yaml"
    log = tmp_path / "log.csv"
    write_log(synth_log(load_scenario(flagship), 6, dt.date(2026, 11, 2), seed=8), log)
    args = [str(log), "--out", str(tmp_path / "c.yaml"), "--replications", "6", "--format", "json"]
    r = CliRunner().invoke(cal_cmd, [*args, "--report", str(tmp_path / "r1"), "--against", str(flagship)])
    assert r.exit_code == 0, r.output
    truth = json.loads(r.stdout)["report"]
    assert "scenario 'Downtown hall, month-end weekday' fits the log well" in truth["verdict"][0]
    r = CliRunner().invoke(cal_cmd, [*args, "--report", str(tmp_path / "r2")])
    fresh = json.loads(r.stdout)["report"]
    assert fresh["verdict"][0].startswith("Overall the calibrated scenario fits the log")
    assert {d["metric"]: d for d in fresh["day"]}["abandonment_rate"]["fits"]
    always = tmp_path / "always.yaml"
    always.write_text(scenario_to_yaml(with_updates(load_scenario(tmp_path / "c.yaml"), {"cross_sell.policy": {"mode": "always"}})), encoding="utf-8")
    r = CliRunner().invoke(cal_cmd, [*args, "--report", str(tmp_path / "r3"), "--against", str(always)])
    bad = json.loads(r.stdout)["report"]
    day = {d["metric"]: d for d in bad["day"]}
    assert not day["abandonment_rate"]["fits"] and day["abandonment_rate"]["sim_mean"] > day["abandonment_rate"]["observed"]
    r = CliRunner().invoke(cal_cmd, [*args, "--against", str(flagship)])
    assert r.exit_code == 2 and "--against needs --report" in r.output


def test_bank_lunch_window_and_never_sold_segment():
    """The bank branch suspends pitching 12:00-14:00 and never sells to 'vulnerable' customers: a
    month of its log gives a windows policy over those hours and pitch: false on that segment, and the
    pitch's length (4 min in the file; ~1,500 pitched services, cv ~1 → SE ~0.4 min, 4 SE = 1.6)."""
    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bank_branch.yaml")
    cal = calibrate(clean(synth_log(s, 30, dt.date(2026, 11, 2), seed=5), interval_min=15), 15)
    p = cal.pitch
    # The rule is applied when a main transaction ends, so services that start 13:45-14:00 and end after
    # 14:00 are pitched: the last quarter-hour of the window may read as not suspended.
    lunch = (("12:00-14:00",), ("12:00-13:45",))
    assert p is not None and p.threshold is None and p.windows in lunch
    assert p.never_pitched == ("vulnerable",)
    assert abs(p.pitch_mean - 4.0) < 1.6
    pol = cal.scenario.cross_sell.policy
    assert pol.mode == "windows" and pol.suspend in lunch


def test_calibrated_file_is_validated_data_with_comments_and_reproducible(truth):
    """The scenario is written by the one YAML writer from validated data: it reads back to the very
    same scenario, every section carries its evidence, and the same log gives the same bytes (no
    date of the run in it)."""
    log = synth_log(truth, 4, dt.date(2026, 11, 2), seed=11)
    c = clean(log, source="log.csv")
    cal = calibrate(c)
    assert scenario_from_yaml(cal.yaml_text, "again") == cal.scenario
    assert calibrate(clean(log, source="log.csv")).yaml_text == cal.yaml_text
    assert dt.date.today().isoformat() not in cal.yaml_text
    text = cal.yaml_text
    assert text.startswith("# Calibrated by `storeq calibrate` from log.csv:")
    assert "  # Tickets issued per hour" in text and "target_wait_min: 10   # not in a log" in text
    assert "- {name: top_up, share: " in text and "# counter: n=" in text


DAY_CV_TRUTH = """
name: day_cv truth
store: {open: "09:00", close: "17:00", interval_min: 60, target_wait_min: 10}
demand: {arrivals_per_hour: [40, 60, 70, 60, 50, 70, 60, 40], day_cv: 0.15}
segments: [{name: all, share: 1.0, priority: 1}]
transactions:
  - {name: quick, share: 0.7, counter_time: {dist: exponential, mean: 3}}
  - {name: long, share: 0.3, counter_time: {dist: exponential, mean: 8}}
counters: {staffed: 8}
simulation: {replications: 1, seed: 3}
"""


@pytest.mark.slow
def test_day_cv_round_trip_through_the_engine():
    """synth-log 120 days of a store whose demand has day_cv 0.15, calibrate, recover it.

    About 450 tickets a day: Var(c²-hat) ≈ 2 (1/mu + c²)² / n gives SE(c) ≈ 0.011 over 120 days, so
    the tolerance 0.045 is 4 SE. (About 20 s: synth-log runs the engine once per day.)
    """
    truth = scenario_from_yaml(DAY_CV_TRUTH, "truth")
    log = synth_log(truth, 120, dt.date(2026, 1, 5), seed=4)
    cal = calibrate(clean(log, source="log.csv"))
    assert abs(cal.arrivals.day_cv - 0.15) < 0.045
    assert cal.scenario.demand.day_cv == round(cal.arrivals.day_cv, 3)
    assert "day_cv: " in cal.yaml_text and "method of moments on daily totals" in cal.yaml_text


GROUPS_TRUTH = """
name: groups truth
store: {open: "09:00", close: "17:00", interval_min: 60, target_wait_min: 10}
demand: {arrivals_per_hour: [40, 60, 70, 60, 50, 70, 60, 40]}
segments:
  - {name: regular, share: 0.9, priority: 1, patience: {dist: exponential, mean: 25}}
  - {name: vip, share: 0.1, priority: 0, patience: {dist: exponential, mean: 25}}
transactions:
  - {name: top_up, share: 0.5, counter_time: {dist: exponential, mean: 2.5}}
  - {name: plan_change, share: 0.3, counter_time: {dist: exponential, mean: 7}}
  - {name: new_line, share: 0.2, counter_time: {dist: exponential, mean: 10}}
counters:
  groups:
    - {name: general, staffed: [4, 5, 6, 5, 5, 6, 5, 4]}
    - {name: payments, staffed: 2, transactions: [top_up]}
simulation: {replications: 1, seed: 3}
"""


def test_counter_groups_round_trip_and_the_report_checks_their_waits():
    """A hall with two top-up-only counters: the log shows them, the fitted scenario has the group with
    its staffing, and the fit report compares each group's waits and share of customers with the log."""
    truth = scenario_from_yaml(GROUPS_TRUTH, "truth")
    log = synth_log(truth, 10, dt.date(2026, 1, 5), seed=4)
    cal = calibrate(clean(log, source="log.csv"))
    got = {g.name: (g.counters, g.transactions) for g in cal.groups}
    assert got == {"general": (("C01", "C02", "C03", "C04", "C05", "C06"), None), "top_up": (("C07", "C08"), ("top_up",))}
    groups = {g.name: g for g in cal.scenario.counter_groups()}
    assert set(groups["top_up"].staffed) == {2}  # on duty all day, as in the truth
    general = np.array(groups["general"].staffed)  # 30-minute grid: each truth hour twice
    assert np.abs(general - np.repeat(truth.counter_groups()[0].staffed, 2)).max() <= 1
    assert "never plan_change" in cal.yaml_text
    rep = fit_report(cal, replications=3, seed=2)
    assert set(rep.by_group["group"]) == {"general", "top_up"}
    assert set(rep.by_group["metric"]) == {"mean_wait_min", "served_share"}
    share = rep.by_group[rep.by_group["metric"] == "served_share"].set_index("group")
    assert share["observed"].sum() == pytest.approx(1.0) and share["fits"].all()
    assert any(v.startswith("By counter group") for v in rep.verdict)


def test_bank_branch_tellers_and_advisers_come_back_as_groups():
    """The bundled bank branch runs tellers (cash, deposits, transfers, servicing) and advisers
    (advice, new accounts) as groups beside a private-banking desk that serves anyone: a week of its
    log gives those groups, each staffed within one counter of its schedule (the desk serving
    everyone reads as a general counter). An adviser idle while only cash customers queue is on
    duty: each group's idle spells are judged by whether its own customers waited."""
    s = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "bank_branch.yaml")
    truth = {g.name: g for g in s.counter_groups()}
    log = synth_log(s, 7, dt.date(2026, 11, 2), seed=4)
    cal = calibrate(clean(log, interval_min=15), 15)
    got = {frozenset(g.transactions or ()): g for g in cal.groups}
    tellers, advisers = truth["tellers"], truth["advisers"]
    assert set(got) == {frozenset(), frozenset(tellers.transactions), frozenset(advisers.transactions)}
    for want in (tellers, advisers):
        fit = got[frozenset(want.transactions)]
        assert np.abs(np.array(fit.staffed) - np.array(want.staffed)).max() <= 1
    assert got[frozenset()].counters == ("C01",)  # the private-banking desk
