"""Fitting without the engine: service-time MLE/AIC, censored patience, arrival factors, shares, staffing.

Tolerances are stated per test from the estimator's standard error at the sample size used; seeds
are fixed, so each test is deterministic, and each bound is at 4 standard errors or more (a correct
estimator fails by chance with probability < 1e-4) while a wrong one (e.g. naive patience) misses
by many standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_calibration_clean import PROFILE, TX, make_log

from calibration import LogError, calibrate, clean, fit_patience, fit_service, kaplan_meier


def _lognormal(rng, mean, cv, n):
    s2 = math.log1p(cv**2)
    return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)


def test_service_fit_recovers_lognormal_and_aic_picks_it():
    rng = np.random.default_rng(11)
    n = 4000
    x = _lognormal(rng, 6.0, 0.6, n)
    f = fit_service(x)
    assert f.best.dist == "lognormal"
    # SE of the mean ≈ mean·cv/√n = 0.057; of the cv ≈ a few % at n = 4000
    assert abs(f.best.mean - 6.0) < 4 * 6.0 * 0.6 / math.sqrt(n)
    assert abs(f.best.cv - 0.6) < 0.05
    assert f.best.ks < 0.03  # KS of a correct fit ~ 1/√n scale; exponential is far off
    assert next(c for c in f.candidates if c.dist == "exponential").ks > 0.1


def test_service_fit_gamma_and_exponential_samples():
    rng = np.random.default_rng(12)
    g = fit_service(rng.gamma(4.0, 3.0 / 4.0, 4000))  # mean 3, cv 0.5
    assert g.best.dist == "gamma"
    assert abs(g.best.mean - 3.0) < 4 * 3.0 * 0.5 / math.sqrt(4000) and abs(g.best.cv - 0.5) < 0.03
    e = fit_service(rng.exponential(5.0, 4000))
    # gamma nests the exponential (shape 1): AIC must not pay for the extra parameter by much
    assert e.best.dist in ("exponential", "gamma")
    assert abs(e.best.mean - 5.0) < 4 * 5.0 / math.sqrt(4000)
    assert abs(e.best.cv - 1.0) < 0.05


def test_censored_patience_is_unbiased_where_naive_is_not():
    rng = np.random.default_rng(13)
    n = 20000
    wait = rng.exponential(8.0, n)
    patience = rng.exponential(20.0, n)
    ab = patience < wait
    obs = np.where(ab, patience, wait)
    p = fit_patience(obs, np.where(ab, "event", "right"))
    # events ≈ n·8/28 ≈ 5700; SE of the exponential MLE = mean/√events ≈ 0.26 min
    assert abs(p.exponential.mean - 20.0) < 4 * 20.0 / math.sqrt(p.events)
    # naive: E[P | P < W] = 1/(1/20 + 1/8) = 5.7 minutes — biased low by a factor ~3.5
    assert p.naive_mean < 7.0
    assert p.best.dist == "exponential"
    # KM at 10 min vs the truth exp(-0.5), Greenwood SE < 0.01 here
    s10 = float(p.km.loc[p.km["time"] <= 10, "survival"].iloc[-1])
    assert abs(s10 - math.exp(-0.5)) < 0.03
    assert p.km_median is not None and abs(p.km_median - 20 * math.log(2)) < 1.5


def test_censored_lognormal_patience_recovered():
    rng = np.random.default_rng(14)
    n = 20000
    wait = rng.exponential(12.0, n)
    patience = _lognormal(rng, 15.0, 0.8, n)
    ab = patience < wait
    p = fit_patience(np.where(ab, patience, wait), np.where(ab, "event", "right"))
    assert p.best.dist == "lognormal"
    assert p.lognormal is not None
    # censoring beyond ~40 min makes the tail less certain: 10% on the mean, 0.1 on the cv
    assert abs(p.lognormal.mean - 15.0) / 15.0 < 0.10
    assert abs(p.lognormal.cv - 0.8) < 0.1
    assert p.naive_mean < 10.0


def test_no_shows_are_left_censored_not_dropped():
    rng = np.random.default_rng(15)
    n = 20000
    wait = rng.exponential(8.0, n)
    patience = rng.exponential(20.0, n)
    ab = patience < wait
    # half the abandoners are only found at the call: we know patience < wait, not when they left
    no_show = ab & (rng.random(n) < 0.5)
    kind = np.where(no_show, "left", np.where(ab, "event", "right"))
    obs = np.where(ab & ~no_show, patience, wait)
    p = fit_patience(obs, kind)
    assert p.left_censored == int(no_show.sum())
    assert abs(p.exponential.mean - 20.0) < 4 * 20.0 / math.sqrt(p.events)


def test_kaplan_meier_hand_example():
    # times 1,2,2,3,4 with events 1,1,0,1,0: S(1)=4/5, S(2)=4/5·3/4=0.6, S(3)=0.6·1/2=0.3
    km = kaplan_meier(np.array([1, 2, 2, 3, 4.0]), np.array([1, 1, 0, 1, 0], bool))
    assert km["time"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(km["survival"], [0.8, 0.6, 0.3])
    assert km["at_risk"].tolist() == [5, 4, 2]


def test_arrivals_weekday_and_month_end_factors_recovered():
    weekday = (1.0, 0.9, 0.9, 1.0, 1.2, 0.8, 0.7)
    dom = {28: 1.5, 29: 1.4, 30: 1.6}
    log = make_log(days=60, seed=21, start="2026-09-01", weekday=weekday, dom=dom, patience_mean=1e9)
    cal = calibrate(clean(log))
    a = cal.arrivals
    assert set(a.day_of_month) == set(dom)  # and no ordinary day flagged
    # compare rates on each observed day (normalisation-free): model vs truth, all intervals pooled per day.
    # Per-day total SE ≈ √(1/N_day + 1/N_weekday + 1/N_profile) ≈ 4% with ~1,500 tickets a day → bound 15%.
    for day in cal.days:
        true = weekday[day.weekday()] * dom.get(day.day, 1.0) * PROFILE.sum()
        got = a.day_factor(day) * a.base_per_hour.sum()
        assert abs(got / true - 1) < 0.15, day
    # profile shape: each interval within 4 SE of its share of 60 days of counts
    true_shape = PROFILE / PROFILE.sum()
    got_shape = a.base_per_hour / a.base_per_hour.sum()
    n_i = a.counts.sum(axis=0).to_numpy()
    assert np.all(np.abs(got_shape - true_shape) < 4 * true_shape / np.sqrt(n_i))


def test_shares_kiosk_adoption_services_and_staffing():
    log = make_log(days=10, seed=22, kiosk_adoption=0.6, counters=5)
    cal = calibrate(clean(log))
    n = len(log)
    for name, (share, mean, cv) in TX.items():
        assert abs(cal.shares.transactions[name] - share) < 4 * math.sqrt(share * (1 - share) / n)
        fit, own = cal.counter_fits[name]
        assert own
        assert abs(fit.best.mean / mean - 1) < 4 * cv / math.sqrt(fit.n)
        assert abs(fit.best.cv - cv) < 0.1
    assert cal.shares.kiosk_eligible == ("top_up",)
    e = cal.shares.eligible_tickets
    assert abs(cal.shares.kiosk_adoption - 0.6) < 4 * math.sqrt(0.24 / e)
    assert abs(cal.shares.segments["vip"] - 0.1) < 4 * math.sqrt(0.09 / n)
    assert cal.staffing.staffed.tolist() == [5] * 18
    assert cal.scenario.counters.physical == 5
    # the YAML is a valid scenario whose numbers match the fits and carries its provenance comments
    assert cal.scenario.transactions[0].kiosk_time is not None
    assert "# counter: n=" in cal.yaml_text and "naive abandoners-only mean" in cal.yaml_text
    assert isinstance(cal.profiles(), pd.DataFrame) and cal.profiles()["busiest_day"].nunique() == 1


def test_minimal_log_one_day():
    """Issue and service times, transaction and outcome only: still a valid scenario, the gaps said out loud."""
    log = make_log(days=1, seed=30)
    with pytest.raises(LogError, match="counter service times cannot be fitted"):
        calibrate(clean(log[["issued_at", "transaction", "outcome"]]))
    cal = calibrate(clean(log[["issued_at", "service_start", "service_end", "transaction", "outcome"]]))
    s = cal.scenario
    assert [x.name for x in s.segments] == ["all"] and s.kiosks.count == 0
    assert s.segments[0].patience is None  # no close times: cannot fit patience, and says so
    assert any("patience is left unlimited although" in n for n in cal.notes)
    assert s.staffed_schedule().tolist() == [1] * 18  # no counter ids: one counter, said in the comment
    assert "no counter ids in the log" in cal.yaml_text


def test_closed_weekday_in_a_long_log_gets_factor_zero():
    log = make_log(days=21, seed=31, start="2026-11-02", weekday=(1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 1.0))
    sundays = pd.to_datetime(log["issued_at"]).dt.day_of_week == 6
    cal = calibrate(clean(log[~sundays]))
    assert cal.scenario.demand.weekday_factors[6] == 0.0
    assert "No ticket on any Sun in 18 days: closed (0)" in cal.yaml_text
    short = calibrate(clean(make_log(days=5, seed=32, start="2026-11-02")))  # Mon-Fri only: weekends unseen
    assert short.scenario.demand.weekday_factors[5:] == (1.0, 1.0)


def test_no_show_tickets_count_as_giving_up_and_inform_patience():
    log = make_log(days=4, seed=33).astype(object)
    ab = log.index[log["outcome"] == "abandoned"]
    log.loc[ab[::2], "outcome"] = "no_show"  # their called_at stays: the call that found nobody
    cal = calibrate(clean(log))
    p = cal.patience_pooled
    assert p is not None and p.left_censored == len(ab[::2]) and p.events == len(ab) - len(ab[::2])


def test_staffing_at_low_load_on_a_15_minute_grid():
    """The shipped example is a quiet hall (~140 tickets a day on 3-5 counters): idle staffed counters
    must still count. Its true schedule (30-min, set when the log was made) repeated per quarter hour."""
    from pathlib import Path

    from calibration import read_log

    truth30 = [3, 3, 3, 4, 4, 3, 3, 3, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3]
    log = read_log(Path(__file__).resolve().parents[1] / "scenarios" / "example_ticket_log.csv")
    cal15 = calibrate(clean(log, interval_min=15), 15)
    assert cal15.staffing.staffed.tolist() == [x for x in truth30 for _ in range(2)]
    cal30 = calibrate(clean(log))
    assert cal30.staffing.staffed.tolist() == truth30
    # the hall had one VIP counter (C01 in the log): it serves VIPs about three times as often
    assert cal30.scenario.counters.vip == 1 and "C01 served" in cal30.yaml_text
    assert {x.name: x.priority for x in cal30.scenario.segments}["vip"] == 0


def test_names_with_yaml_special_characters_survive_the_scenario_file():
    log = make_log(days=2)
    log["transaction"] = log["transaction"].map({"top_up": '充值: "快速"', "plan_change": "套餐#变更", "new_line": "新装 {入网}"})
    log["segment"] = log["segment"].map({"regular": "普通", "vip": "六星 VIP"})
    s = calibrate(clean(log)).scenario
    assert {t.name for t in s.transactions} == {'充值: "快速"', "套餐#变更", "新装 {入网}"}
    assert {x.name for x in s.segments} == {"普通", "六星 VIP"}


def test_demand_trend_and_extra_spread_are_reported():
    # 3 months, demand 30% higher by the end: named, with the advice to use --days
    parts = [make_log(days=30, seed=60 + k, start=str(pd.Timestamp("2026-06-01") + pd.Timedelta(days=30 * k))[:10], profile=PROFILE * 0.2 * f)
             for k, f in enumerate((1.0, 1.15, 1.3))]
    cal = calibrate(clean(pd.concat(parts, ignore_index=True)))
    assert any(n.startswith("demand grew") and "--days" in n for n in cal.notes)
    # a flat 60-day log: no trend note, no spread note (Poisson days)
    flat = calibrate(clean(make_log(days=60, seed=70, start="2026-06-01", profile=PROFILE * 0.2)))
    assert not [n for n in flat.notes if n.startswith(("demand", "day totals"))]
    # days whose demand swings ±25% at random (weather): more spread than chance, said so
    rng = np.random.default_rng(71)
    swings = [make_log(days=1, seed=100 + k, start=str(pd.Timestamp("2026-06-01") + pd.Timedelta(days=k))[:10], profile=PROFILE * 0.3 * rng.uniform(0.75, 1.25))
              for k in range(42)]
    wild = calibrate(clean(pd.concat(swings, ignore_index=True)))
    assert any(n.startswith("day totals vary") for n in wild.notes)
    assert wild.arrivals.dispersion > 2
    # ... and fitted: uniform(0.75, 1.25) day factors have cv 0.25/sqrt(3) = 0.144; over 42 days the
    # moment estimate's SE is about 0.02, so 4 SE is 0.08
    assert abs(wild.arrivals.day_cv - 0.144) < 0.08
    assert "day_cv: " in wild.yaml_text and wild.scenario.demand.day_cv == round(wild.arrivals.day_cv, 3)
    # Poisson days: no spread fitted, and the file says why it is 0
    assert flat.arrivals.day_cv == 0 and "no day-to-day spread beyond Poisson at 5% over 60 days" in flat.yaml_text


def test_day_cv_moment_estimate_recovers_the_gamma_spread():
    """fit_day_cv on day totals drawn as the engine draws them: Poisson(mu x G), G gamma (mean 1, cv 0.15).

    300 days with seven weekday levels: the SE of the estimate is about c·sqrt(1/(2n)) ≈ 0.006 (plus
    Poisson noise), so a tolerance of 0.025 is 4 SE; without the n/(n-p) correction the estimate
    would still pass, so the correction is checked on few days, where it matters, by the mean of
    many estimates (bias < 0.01 against 0.15).
    """
    from calibration.calibrate import fit_day_cv

    rng = np.random.default_rng(5)
    weekday = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 0.8, 0.7])

    def draw(n_days: int, cv: float) -> tuple[np.ndarray, np.ndarray]:
        wd = np.arange(n_days) % 7
        mu_true = 900 * weekday[wd]
        g = rng.gamma(1 / cv**2, cv**2, n_days) if cv > 0 else np.ones(n_days)
        tot = rng.poisson(mu_true * g).astype(float)
        # fitted expectation: the mean of each weekday (what the weekday factors give)
        mu = np.array([tot[wd == k].mean() for k in range(7)])[wd]
        return tot, mu

    c, raw, p = fit_day_cv(*draw(300, 0.15), params=7)
    assert abs(c - 0.15) < 0.025 and c == raw and p < 1e-6
    est = [fit_day_cv(*draw(28, 0.15), params=7)[1] for _ in range(200)]
    assert abs(float(np.mean(est)) - 0.15) < 0.01
    # pure Poisson: the gate keeps 0 on nearly every log (5% false alarms by design)
    zeros = [fit_day_cv(*draw(60, 0.0), params=7)[0] == 0 for _ in range(200)]
    assert 0.88 < np.mean(zeros) <= 1.0


def test_weekday_with_its_own_staffing_is_noted():
    days = pd.date_range("2026-11-02", periods=21)
    parts = [make_log(days=1, seed=200 + i, start=str(d.date()), counters=3 if d.weekday() == 5 else 6) for i, d in enumerate(days)]
    cal = calibrate(clean(pd.concat(parts, ignore_index=True)))
    assert cal.staffing.staffed.tolist() == [6] * 18
    sat = [n for n in cal.notes if n.startswith("Sats are staffed differently")]
    assert len(sat) == 1 and "-54 counter-intervals" in sat[0]
    assert not [n for n in cal.notes if "staffed differently" in n and not n.startswith("Sats")]


def test_counters_that_serve_only_some_customers_become_groups():
    # C07/C08 take only top-ups, C09 only VIPs; C1-C6 serve everyone. At the hall's mix a general
    # counter with C07's ~190 tickets would serve ~75 plan changes: never serving one is a rule.
    log = make_log(days=5, seed=9)
    rng = np.random.default_rng(1)
    at_counter = (log["channel"] == "counter") & (log["counter_id"] != "")
    top = at_counter & (log["transaction"] == "top_up") & (rng.random(len(log)) < 0.6)
    log.loc[top, "counter_id"] = np.where(rng.random(int(top.sum())) < 0.5, "C07", "C08")
    vip = at_counter & ~top & (log["segment"] == "vip") & (rng.random(len(log)) < 0.7)
    log.loc[vip, "counter_id"] = "C09"
    cal = calibrate(clean(log, source="t"))
    got = {g.name: (g.counters, g.transactions, g.segments) for g in cal.groups}
    assert got == {
        "general": (("C1", "C2", "C3", "C4", "C5", "C6"), None, None),
        "top_up": (("C07", "C08"), ("top_up",), None),
        "vip": (("C09",), None, ("vip",)),
    }
    groups = {g.name: g for g in cal.scenario.counters.groups}
    assert groups["top_up"].transactions == ("top_up",) and groups["vip"].segments == ("vip",)
    assert max(groups["top_up"].staffed) == 2 and max(groups["vip"].staffed) == 1
    assert cal.scenario.counters.staffed is None  # groups replace the staffed/vip shorthand
    text = cal.yaml_text
    assert "# Counter groups read from the log" in text and "C07, C08: " in text and "never plan_change" in text
    assert cal.counter_group_of()["C09"] == "vip"


def test_a_log_of_interchangeable_counters_keeps_the_v1_form():
    cal = calibrate(clean(make_log(days=5, seed=9), source="t"))
    assert cal.groups == () and cal.scenario.counters.groups is None and "groups" not in cal.yaml_text


def test_the_scenario_writer_places_comments_and_keeps_them_comments():
    """simulation.yamlwriter: comments by key path, above or at the end of a line; a line break or
    control code in a comment (a file name or counter id from a log) cannot end it early and inject
    YAML; a comment on a key the data lacks is refused; the text reads back to the same scenario."""
    from simulation import load_scenario, scenario_from_yaml, scenario_to_yaml
    from simulation.yamlwriter import emit

    s = load_scenario("scenarios/telecom_month_end.yaml")
    text = scenario_to_yaml(
        s,
        above={"counters.staffed": "line one\nline two", "segments[1]": "the VIPs"},
        trailing={"store.open": "evil\ncounters: {staffed: 1}", "kiosks": "tab\there \x1b[31m"},
        header=["made by a test"],
    )
    assert scenario_from_yaml(text, "again") == s
    lines = text.splitlines()
    assert lines[0] == "# made by a test"
    assert "  # line one" in lines and "  # line two" in lines
    i = lines.index("  # line one")
    assert lines[i + 2].startswith("  staffed: ")
    assert "  # the VIPs" in lines and lines[lines.index("  # the VIPs") + 1].startswith("  - {name: vip")
    assert "  open: '09:00'   # evil counters: {staffed: 1}" in lines  # one line, still a comment
    assert any(x.startswith("kiosks: {count: 3") and x.endswith("   # tab\there ?[31m") for x in lines)
    with pytest.raises(ValueError, match=r"demand\.nope"):
        emit(s.to_dict(), above={"demand.nope": "x"})
