"""Tiny deterministic store days with hand-placed customers and exact expected logs.

Every expected time below is worked out by hand in the comments (layer 1 of the test plan in
STYLE.md). Customers are fed through ``customers_from_rows``; uniforms default to 1.0, which means
"no" for every random decision (no diversion, no kiosk, no kiosk failure, no acceptance).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from simulation import scenario_from_dict
from simulation.engine import ABANDONED, BALKED, DIVERTED, SERVED, customers_from_rows, simulate_day
from simulation.results import INTERVAL_KPI_NAMES, KPI_NAMES, summarise_day

DET5 = {"dist": "deterministic", "value": 5}


def make(**over: Any) -> Any:
    """A one-hour store (09:00-10:00, one 60-minute interval), one counter, 5-minute service."""
    data: dict[str, Any] = {
        "name": "tiny",
        "store": {"open": "09:00", "close": "10:00", "interval_min": 60, "target_wait_min": 5},
        "demand": {"arrivals_per_hour": 0},
        "segments": [{"name": "regular", "share": 1.0, "priority": 1}],
        "transactions": [{"name": "t", "share": 1.0, "counter_time": DET5}],
        "counters": {"staffed": 1},
    }
    for key, value in over.items():
        data[key] = value
    return scenario_from_dict(data, "test")


def play(sc: Any, rows: list[dict[str, Any]]) -> Any:
    return simulate_day(sc, customers_from_rows(sc, rows))


def test_single_counter_fcfs_log_and_kpis() -> None:
    # Arrivals 0, 1, 2, 20 at one counter, 5 minutes each:
    #   c0 0-5 (wait 0), c1 5-10 (wait 4), c2 10-15 (wait 8), c3 20-25 (wait 0).
    sc = make()
    log = play(sc, [{"arrival_min": t} for t in (0, 1, 2, 20)])
    np.testing.assert_array_equal(log.service_start, [0, 5, 10, 20])
    np.testing.assert_array_equal(log.service_end, [5, 10, 15, 25])
    np.testing.assert_array_equal(log.queue_join, [0, 1, 2, 20])
    np.testing.assert_array_equal(log.counter_id, [0, 0, 0, 0])
    assert (log.outcome == SERVED).all()
    s = summarise_day(sc, log)
    day = dict(zip(KPI_NAMES, s.day, strict=True))
    assert day["mean_wait_min"] == pytest.approx(3.0)  # (0+4+8+0)/4
    assert day["p90_wait_min"] == pytest.approx(6.8)  # sorted 0,0,4,8: 4 + 0.7*(8-4)
    assert day["prob_wait"] == pytest.approx(0.5)
    assert day["service_level"] == pytest.approx(0.75)  # waits <= 5: three of four
    assert day["utilization"] == pytest.approx(20 / 60)  # 4 × 5 busy minutes in a 60-minute day
    assert day["mean_queue_len"] == pytest.approx((4 + 8) / 60)  # c1 waits [1,5), c2 [2,10)
    assert day["last_departure_min"] == 25
    assert day["staff_hours"] == 1 and day["arrivals"] == 4 and day["served"] == 4


def test_priority_is_non_preemptive_and_fcfs_within_priority() -> None:
    # c0 regular at 0 (0-5). c1 regular at 1, c2 regular at 1.5, c3 vip at 2 (priority 0).
    # At 5 the VIP goes first (5-10, wait 3) though it came last; c0 is not interrupted.
    # Then c1 10-15 (wait 9), c2 15-20 (wait 13.5): FCFS within priority 1.
    sc = make(segments=[{"name": "regular", "share": 0.9, "priority": 1}, {"name": "vip", "share": 0.1, "priority": 0}])
    log = play(
        sc,
        [
            {"arrival_min": 0},
            {"arrival_min": 1},
            {"arrival_min": 1.5},
            {"arrival_min": 2, "segment": "vip"},
        ],
    )
    np.testing.assert_array_equal(log.service_start, [0, 10, 15, 5])
    np.testing.assert_array_equal(log.service_end, [5, 15, 20, 10])


def test_abandonment_at_patience_and_after_closing() -> None:
    # c0 at 0 takes 10 minutes. c1 at 1 with patience 3 leaves at 4. c2 at 2 with patience 20 starts at 10.
    # c3 at 58 with patience 10: c2 ends 15, so c3... counter is free at 58 → served 58-68 past closing.
    # c4 at 59 with patience 5 waits behind c3 (busy until 68) and leaves at 64, after closing.
    sc = make(transactions=[{"name": "t", "share": 1.0, "counter_time": {"dist": "deterministic", "value": 10}}])
    log = play(
        sc,
        [
            {"arrival_min": 0},
            {"arrival_min": 1, "patience": 3},
            {"arrival_min": 2, "patience": 20},
            {"arrival_min": 58, "patience": 10},
            {"arrival_min": 59, "patience": 5},
        ],
    )
    np.testing.assert_array_equal(log.outcome, [SERVED, ABANDONED, SERVED, SERVED, ABANDONED])
    np.testing.assert_array_equal(log.leave_min, [10, 4, 20, 68, 64])
    assert math.isnan(log.service_start[1]) and math.isnan(log.service_start[4])
    day = dict(zip(KPI_NAMES, summarise_day(sc, log).day, strict=True))
    assert day["abandonment_rate"] == pytest.approx(2 / 5)
    assert day["service_level"] == pytest.approx(2 / 5)  # waits 0, 8, 0 → 0 and 0 within 5, of 3 served + 2 abandoned
    assert day["last_departure_min"] == 68
    # queue: c1 [1,4) 3, c2 [2,10) 8, c4 [59,60) 1 inside opening hours (the rest is after closing)
    assert day["mean_queue_len"] == pytest.approx(12 / 60)


def test_balking_counts_the_queue_it_sees() -> None:
    # queue_at_least 2. c0 at 0 (0-5); c1 at 1 and c2 at 2 wait; c3 at 3 sees 2 waiting → balks.
    # c4 at 4: still 2 waiting → balks. c5 at 6: c1 started at 5, 1 waiting → joins.
    sc = make(balking={"queue_at_least": 2})
    log = play(sc, [{"arrival_min": t} for t in (0, 1, 2, 3, 4, 6)])
    np.testing.assert_array_equal(log.outcome, [SERVED, SERVED, SERVED, BALKED, BALKED, SERVED])
    np.testing.assert_array_equal(log.leave_min[3:5], [3, 4])
    np.testing.assert_array_equal(log.service_start[[0, 1, 2, 5]], [0, 5, 10, 15])
    day = dict(zip(KPI_NAMES, summarise_day(sc, log).day, strict=True))
    assert day["balked"] == 2 and day["arrivals"] == 6 and day["abandonment_rate"] == 0


def test_schedule_drop_closes_next_to_finish_without_overlap() -> None:
    # Two 30-minute intervals, staffed [2, 1].
    # c0 at 0: counter 0, 0-40. c1 at 1: counter 1, 1-21. c2 at 25: counter 1, 25-35.
    # At 30 staffing drops to 1; both counters are busy, so the next to finish (counter 1, at 35) closes.
    # c3 at 31 waits: at 35 one customer (c0) is still in service and one counter is staffed → no start.
    # At 40 c0 finishes; c3 starts at counter 0, 40-45 (wait 9). Nobody was interrupted.
    sc = make(
        store={"open": "09:00", "close": "10:00", "interval_min": 30, "target_wait_min": 5},
        counters={"staffed": [2, 1]},
    )
    log = play(
        sc,
        [
            {"arrival_min": 0, "counter_time": 40},
            {"arrival_min": 1, "counter_time": 20},
            {"arrival_min": 25, "counter_time": 10},
            {"arrival_min": 31, "counter_time": 5},
        ],
    )
    np.testing.assert_array_equal(log.service_start, [0, 1, 25, 40])
    np.testing.assert_array_equal(log.service_end, [40, 21, 35, 45])
    np.testing.assert_array_equal(log.counter_id, [0, 1, 1, 0])
    s = summarise_day(sc, log)
    # Interval 2 (30-60): staffed 30 counter-minutes plus counter 1's 5 minutes finishing c2 → 35;
    # busy: c0 30-40 (10) + c2 30-35 (5) + c3 40-45 (5) = 20.
    util = s.intervals[:, INTERVAL_KPI_NAMES.index("utilization")]
    assert util[1] == pytest.approx(20 / 35)
    # Interval 1 (0-30): busy c0 30 + c1 20 + c2 5 = 55 of 60 staffed.
    assert util[0] == pytest.approx(55 / 60)


def test_vip_counter_takes_top_priority_and_regulars_leave_it_free() -> None:
    # Two counters, counter 0 is VIP. c0 regular at 0 → regular counter 1 (VIP counter left free), 0-5.
    # c1 vip at 1 → VIP counter 0, 1-6. c2 regular at 2: nobody free → waits; c3 vip at 3 waits.
    # At 5 counter 1 frees: the VIP c3 goes first (priority), on counter 1 (5-10).
    # At 6 counter 0 (VIP) frees: only c2 waits, a regular, so the VIP counter serves it (6-11).
    sc = make(
        segments=[{"name": "regular", "share": 0.9, "priority": 1}, {"name": "vip", "share": 0.1, "priority": 0}],
        counters={"staffed": 2, "vip": 1},
    )
    log = play(
        sc,
        [
            {"arrival_min": 0},
            {"arrival_min": 1, "segment": "vip"},
            {"arrival_min": 2},
            {"arrival_min": 3, "segment": "vip"},
        ],
    )
    np.testing.assert_array_equal(log.counter_id, [1, 0, 0, 1])
    np.testing.assert_array_equal(log.service_start, [0, 1, 6, 5])


def test_kiosk_routing_failure_and_diversion() -> None:
    # One kiosk, adoption 0.5, failure 0.5. Top-up: kiosk 2 min, counter 3 min. One counter.
    # c0 at 0, u_kiosk 0.1 → kiosk 0-2, u_fail 0.9 → served at the kiosk.
    # c2 at 1.5, u_kiosk 0.9 → straight to the counter 1.5-4.5.
    # c1 at 1, u_kiosk 0.1 → kiosk queue, kiosk 2-4, u_fail 0.1 → fails, joins the counter queue at 4,
    #   waits for c2, counter 4.5-7.5 (a counter wait of 0.5).
    # c3 at 2, u_divert 0.1 < diversion 0.2 → never walks in.
    sc = make(
        transactions=[
            {
                "name": "top_up",
                "share": 1.0,
                "counter_time": {"dist": "deterministic", "value": 3},
                "kiosk_time": {"dist": "deterministic", "value": 2},
            }
        ],
        kiosks={"count": 1, "adoption": 0.5, "failure": 0.5},
        demand={"arrivals_per_hour": 0, "online_diversion": 0.2},
    )
    log = play(
        sc,
        [
            {"arrival_min": 0, "u_kiosk": 0.1, "u_fail": 0.9},
            {"arrival_min": 1, "u_kiosk": 0.1, "u_fail": 0.1},
            {"arrival_min": 1.5, "u_kiosk": 0.9},
            {"arrival_min": 2, "u_divert": 0.1},
        ],
    )
    np.testing.assert_array_equal(log.used_kiosk, [True, True, False, False])
    np.testing.assert_array_equal(log.kiosk_start[:2], [0, 2])
    np.testing.assert_array_equal(log.kiosk_end[:2], [2, 4])
    np.testing.assert_array_equal(log.kiosk_failed, [False, True, False, False])
    assert math.isnan(log.queue_join[0])
    np.testing.assert_array_equal(log.queue_join[1:3], [4, 1.5])
    np.testing.assert_array_equal(log.service_start[1:3], [4.5, 1.5])
    np.testing.assert_array_equal(log.outcome, [SERVED, SERVED, SERVED, DIVERTED])
    day = dict(zip(KPI_NAMES, summarise_day(sc, log).day, strict=True))
    assert day["arrivals"] == 3 and day["diverted"] == 1 and day["served"] == 3
    assert day["kiosk_share"] == pytest.approx(2 / 3)
    assert day["kiosk_mean_wait_min"] == pytest.approx(0.5)  # c0 0, c1 waited 1-2
    assert day["mean_wait_min"] == pytest.approx(0.25)  # counter waits: c1 0.5 (from the kiosk), c2 0


def test_queue_threshold_pitch_decided_when_main_transaction_ends() -> None:
    # threshold 1: suspend while 1 or more wait. Pitch 4 minutes, acceptance 0.5, margin 10.
    # c0 at 0: main 0-5; at 5 c1 (arrived 1) waits → no pitch, ends 5.
    # c1: main 5-10; at 10 nobody waits → pitched, ends 14; u_accept 0.1 → accepted.
    # c2 at 12 (pitch: false segment) waits to 14, main 14-19, never pitched.
    sc = make(
        segments=[
            {"name": "regular", "share": 0.9, "priority": 1},
            {"name": "sensitive", "share": 0.1, "priority": 1, "pitch": False},
        ],
        cross_sell={
            "pitch_time": {"dist": "deterministic", "value": 4},
            "acceptance": 0.5,
            "margin": 10,
            "policy": {"mode": "queue_threshold", "threshold": 1},
        },
    )
    log = play(
        sc,
        [
            {"arrival_min": 0, "pitch_time": 4, "u_accept": 0.1},
            {"arrival_min": 1, "pitch_time": 4, "u_accept": 0.1},
            {"arrival_min": 12, "segment": "sensitive", "pitch_time": 4, "u_accept": 0.1},
        ],
    )
    np.testing.assert_array_equal(log.pitched, [False, True, False])
    np.testing.assert_array_equal(log.accepted, [False, True, False])
    np.testing.assert_array_equal(log.service_end, [5, 14, 19])
    day = dict(zip(KPI_NAMES, summarise_day(sc, log).day, strict=True))
    assert day["cross_sell_revenue"] == 10 and day["pitches"] == 1 and day["pitch_accepted"] == 1


def test_windows_policy_judges_the_moment_of_pitching() -> None:
    # Suspend 09:10-09:20 (minutes 10-20). Pitch 4 min. c0 at 0: main ends 5 → pitched, 0-9.
    # c1 at 9: main 9-14, 14 is inside the window → not pitched, ends 14.
    # c2 at 16: main 16-21, 21 is after the window → pitched though it started inside it, 16-25.
    sc = make(
        cross_sell={
            "pitch_time": {"dist": "deterministic", "value": 4},
            "acceptance": 0.0,
            "margin": 10,
            "policy": {"mode": "windows", "suspend": ["09:10-09:20"]},
        }
    )
    log = play(sc, [{"arrival_min": t, "pitch_time": 4} for t in (0, 9, 16)])
    np.testing.assert_array_equal(log.pitched, [True, False, True])
    np.testing.assert_array_equal(log.service_end, [9, 14, 25])


def test_warmup_drops_early_customers_and_early_time() -> None:
    # warm-up 10: c0 at 0 (0-5) is left out of customer stats; c1 at 12 (12-17), c2 at 13 waits 4 (17-22).
    sc = make(simulation={"replications": 2, "seed": 1, "warmup_min": 10})
    log = play(sc, [{"arrival_min": t} for t in (0, 12, 13)])
    day = dict(zip(KPI_NAMES, summarise_day(sc, log).day, strict=True))
    assert day["arrivals"] == 2
    assert day["mean_wait_min"] == pytest.approx(2.0)
    assert day["utilization"] == pytest.approx(10 / 50)  # busy 12-22 of the 50 minutes after warm-up
    assert day["mean_queue_len"] == pytest.approx(4 / 50)


def test_conservation_check_fires_when_someone_is_left_inside() -> None:
    # A hand-fed customer arriving when no counter is staffed and none ever will be (the scenario
    # has no demand, so validation allows a last interval with 0 staffed): the impatient one
    # abandons, the patient one would be stuck inside, and the engine refuses to report the day.
    from simulation.engine import ConservationError

    sc = make(
        store={"open": "09:00", "close": "10:00", "interval_min": 30, "target_wait_min": 5},
        counters={"staffed": [1, 0]},
    )
    log = play(sc, [{"arrival_min": 40, "patience": 5}])
    assert log.outcome[0] == ABANDONED and log.leave_min[0] == 45
    with pytest.raises(ConservationError, match="left inside"):
        play(sc, [{"arrival_min": 40}])


def test_group_p90_matches_numpy_percentile() -> None:
    from simulation.results import _group_p90

    rng = np.random.default_rng(0)
    g = rng.integers(0, 6, 200)
    v = rng.exponential(3, 200)
    got = _group_p90(g, v, 7)  # group 6 is empty → NaN
    for k in range(6):
        assert got[k] == pytest.approx(np.percentile(v[g == k], 90), rel=1e-12)
    assert math.isnan(got[6])


def test_mean_ci_skips_nan_replications() -> None:
    from simulation.results import mean_ci

    vals = np.array([[1.0, 5.0, np.nan], [np.nan, 5.0, np.nan], [3.0, 5.0, 2.0]])
    mean, lo, hi = mean_ci(vals)
    # column 0: values 1 and 3 → mean 2, s = sqrt(2), half-width t_{0.975,1} · s / sqrt(2) = 12.7062
    assert mean[0] == 2 and hi[0] - mean[0] == pytest.approx(12.706204736174698)
    # column 1: no spread → the interval collapses on the mean; column 2: one value → no interval
    assert lo[1] == hi[1] == 5
    assert mean[2] == 2 and math.isnan(lo[2]) and math.isnan(hi[2])


def test_warmup_cuts_an_interval_and_keeps_the_state_it_inherits() -> None:
    # 30-minute intervals, warm-up 15, 20-minute service. c0 arrives at 0, served 0-20; c1 arrives at
    # 10, waits 10-20, served 20-40: both are left out of the customer statistics, but the state they
    # leave counts after 15: interval 0 is busy 15-30 (15 of its 15 counted minutes) and has one
    # waiting 15-20 (queue area 5). c2 arrives at 45, served 45-65: interval 1 busy 30-40 and 45-60.
    sc = make(
        store={"open": "09:00", "close": "10:00", "interval_min": 30, "target_wait_min": 5},
        transactions=[{"name": "t", "share": 1.0, "counter_time": {"dist": "deterministic", "value": 20}}],
        simulation={"replications": 1, "seed": 1, "warmup_min": 15},
    )
    log = play(sc, [{"arrival_min": 0}, {"arrival_min": 10}, {"arrival_min": 45}])
    s = summarise_day(sc, log)
    iv = {k: s.intervals[:, INTERVAL_KPI_NAMES.index(k)] for k in ("utilization", "mean_queue_len", "arrivals")}
    np.testing.assert_allclose(iv["utilization"], [15 / 15, 25 / 30])
    np.testing.assert_allclose(iv["mean_queue_len"], [5 / 15, 0.0])
    np.testing.assert_array_equal(iv["arrivals"], [0, 1])
    day = dict(zip(KPI_NAMES, s.day, strict=True))
    assert day["utilization"] == pytest.approx(40 / 45)
    assert day["mean_queue_len"] == pytest.approx(5 / 45)
    assert day["arrivals"] == 1 and day["mean_wait_min"] == 0
    assert day["last_departure_min"] == 65
