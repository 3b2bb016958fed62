"""Counter routing (DESIGN.md "Counter routing"): hand-worked tiny days with exact logs, the schema and its checks.

Every expected time below is worked out by hand in the comments. The store is open one hour (09:00-10:00),
service is 5 minutes unless a row says otherwise, and uniforms default to 1.0 ("no" to every random
decision), as in ``test_engine_exact.py``. Counter ids run group by group in ``counter_groups()`` order
(the shorthand's VIP counters first), and ``log.group`` is the index of the serving counter's group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulation import ScenarioError, load_scenario, scenario_from_dict, with_updates
from simulation.engine import SERVED, customers_from_rows, simulate_day

ROOT = Path(__file__).resolve().parents[1]
DET5 = {"dist": "deterministic", "value": 5}
TWO_SEGMENTS = [{"name": "regular", "share": 0.9, "priority": 1}, {"name": "vip", "share": 0.1, "priority": 0}]
TWO_TRANSACTIONS = [
    {"name": "top_up", "share": 0.5, "counter_time": DET5},
    {"name": "plan_change", "share": 0.5, "counter_time": DET5},
]


def make(**over: Any) -> Any:
    data: dict[str, Any] = {
        "name": "routing",
        "store": {"open": "09:00", "close": "10:00", "interval_min": 60, "target_wait_min": 5},
        "demand": {"arrivals_per_hour": 0},
        "segments": TWO_SEGMENTS,
        "transactions": [{"name": "t", "share": 1.0, "counter_time": DET5}],
        "counters": {"staffed": 1},
    }
    data.update(over)
    return scenario_from_dict(data, "test")


def play(sc: Any, rows: list[dict[str, Any]]) -> Any:
    return simulate_day(sc, customers_from_rows(sc, rows))


# ---------------------------------------------------------------------------------------------
# the VIP shorthand: vip_serves first | only
# ---------------------------------------------------------------------------------------------

ROWS_VIP: list[dict[str, Any]] = [
    {"arrival_min": 0},  # r0
    {"arrival_min": 1},  # r1
    {"arrival_min": 2},  # r2
    {"arrival_min": 3, "segment": "vip"},  # v
]


def test_vip_only_counter_idles_while_regulars_wait() -> None:
    # staffed 2, vip 1, only: counter 0 is the VIP counter (group 0), counter 1 regular (group 1).
    # r0 at 0 → counter 1, 0-5. r1 at 1: counter 1 busy, the VIP counter idle but serves VIPs only → waits.
    # r2 at 2 waits. v at 3 → idle VIP counter 0, 3-8. At 5 counter 1 calls r1 (5-10), at 10 r2 (10-15).
    # The VIP counter stays idle 0-3 and 8-60 while r1 and r2 wait.
    sc = make(counters={"staffed": 2, "vip": 1, "vip_serves": "only"})
    log = play(sc, ROWS_VIP)
    np.testing.assert_array_equal(log.service_start, [0, 5, 10, 3])
    np.testing.assert_array_equal(log.counter_id, [1, 1, 1, 0])
    np.testing.assert_array_equal(log.group, [1, 1, 1, 0])
    assert (log.outcome == SERVED).all()
    # VIPs have their own line: v2 at 4 waits for the VIP counter (8-13) though counter 1 frees at 5
    # and only regulars are ahead of it there.
    log = play(sc, [*ROWS_VIP, {"arrival_min": 4, "segment": "vip"}])
    np.testing.assert_array_equal(log.service_start, [0, 5, 10, 3, 8])
    np.testing.assert_array_equal(log.counter_id, [1, 1, 1, 0, 0])


def test_vip_first_counter_serves_regulars_when_no_vip_waits() -> None:
    # The same customers with vip_serves: first (the default). r0 → counter 1 (0-5). r1 at 1 → the idle VIP
    # counter helps (1-6). r2 at 2 waits; v at 3 waits. At 5 counter 1 calls by priority: v (5-10). At 6
    # the VIP counter has no VIP waiting, so it calls r2 (6-11).
    sc = make(counters={"staffed": 2, "vip": 1})
    log = play(sc, ROWS_VIP)
    np.testing.assert_array_equal(log.service_start, [0, 1, 6, 5])
    np.testing.assert_array_equal(log.counter_id, [1, 0, 0, 1])


# ---------------------------------------------------------------------------------------------
# calling order: priority | ticket
# ---------------------------------------------------------------------------------------------

ROWS_ORDER: list[dict[str, Any]] = [
    {"arrival_min": 0},  # r0
    {"arrival_min": 1},  # r1
    {"arrival_min": 2, "segment": "vip"},  # v
]


def test_ticket_order_serves_a_vip_after_an_earlier_regular() -> None:
    # One counter. r0 0-5. r1 (ticket 0) and v (ticket 1) wait; in ticket order r1 goes first (5-10), v 10-15.
    log = play(make(counters={"staffed": 1, "order": "ticket"}), ROWS_ORDER)
    np.testing.assert_array_equal(log.service_start, [0, 5, 10])
    # by priority (the default) the VIP is called first: v 5-10, r1 10-15
    log = play(make(counters={"staffed": 1}), ROWS_ORDER)
    np.testing.assert_array_equal(log.service_start, [0, 10, 5])


def test_ticket_order_vip_counter_still_calls_its_own_first() -> None:
    # staffed 2, vip 1 (first), order ticket. r0 at 0 → regular counter 1 (0-5); r1 at 0.5 → VIP counter 0
    # helps (0.5-5.5); r2 at 1 (ticket 0) and v at 2 (ticket 1) wait. At 5 the regular counter calls in
    # ticket order: r2 (5-10). At 5.5 the VIP counter calls its own first: v (5.5-10.5).
    sc = make(counters={"staffed": 2, "vip": 1, "order": "ticket"})
    rows: list[dict[str, Any]] = [{"arrival_min": 0}, {"arrival_min": 0.5}, {"arrival_min": 1}, {"arrival_min": 2, "segment": "vip"}]
    log = play(sc, rows)
    np.testing.assert_array_equal(log.service_start, [0, 0.5, 5, 5.5])
    np.testing.assert_array_equal(log.counter_id, [1, 0, 1, 0])


# ---------------------------------------------------------------------------------------------
# counter groups
# ---------------------------------------------------------------------------------------------


def test_payment_only_counter_never_takes_a_plan_change() -> None:
    # general (counter 0, serves all) and payments (counter 1, top_up only).
    # p0 plan at 0 → general 0-5. p1 plan at 1: general busy, payments may not → waits.
    # t0 top-up at 2 → payments is its most specialised idle group: counter 1, 2-7.
    # t1 top-up at 3: both busy → waits. At 5 general calls its own by priority and ticket: p1 (5-10).
    # At 7 payments calls its own: t1 (7-12). No plan change ever at counter 1.
    sc = make(
        segments=[{"name": "all", "share": 1.0}],
        transactions=TWO_TRANSACTIONS,
        counters={"groups": [{"name": "general", "staffed": 1}, {"name": "payments", "staffed": 1, "transactions": ["top_up"]}]},
    )
    rows = [
        {"arrival_min": 0, "transaction": "plan_change"},
        {"arrival_min": 1, "transaction": "plan_change"},
        {"arrival_min": 2, "transaction": "top_up"},
        {"arrival_min": 3, "transaction": "top_up"},
    ]
    log = play(sc, rows)
    np.testing.assert_array_equal(log.service_start, [0, 5, 2, 7])
    np.testing.assert_array_equal(log.counter_id, [0, 0, 1, 1])
    np.testing.assert_array_equal(log.group, [0, 0, 1, 1])


def test_then_any_helps_others_only_when_no_own_customer_waits() -> None:
    # vip group (counter 0, VIPs, then: any) and regular group (counter 1, regulars only).
    # r0 at 0 → regular 0-5. v0 at 0.5 → VIP counter 0.5-5.5. r1 at 1, r2 at 1.5, v1 at 2 wait.
    # At 5 the regular counter calls its own: r1 (5-10). At 5.5 the VIP counter calls its own first,
    # v1 (5.5-10.5), although r2 took a ticket before it. At 10 regular calls r2 (10-15).
    # At 10.5 nobody waits: the VIP counter idles. r3 at 11: the regular counter is busy and the idle
    # VIP counter helps at once (11-16). r4 at 12, r5 at 13 wait. At 15 regular calls r4 (15-20); at 16
    # the VIP counter has no VIP waiting and helps r5 (16-21).
    sc = make(
        counters={"groups": [
            {"name": "vip", "staffed": 1, "segments": ["vip"], "then": "any"},
            {"name": "regular", "staffed": 1, "segments": ["regular"]},
        ]},
    )  # fmt: skip
    rows: list[dict[str, Any]] = [
        {"arrival_min": 0},  # r0
        {"arrival_min": 0.5, "segment": "vip"},  # v0
        {"arrival_min": 1},  # r1
        {"arrival_min": 1.5},  # r2
        {"arrival_min": 2, "segment": "vip"},  # v1
        {"arrival_min": 11},  # r3
        {"arrival_min": 12},  # r4
        {"arrival_min": 13},  # r5
    ]
    log = play(sc, rows)
    np.testing.assert_array_equal(log.service_start, [0, 0.5, 5, 10, 5.5, 11, 15, 16])
    np.testing.assert_array_equal(log.counter_id, [1, 0, 1, 1, 0, 0, 1, 0])
    # With then: none the VIP counter never serves a regular: r3 waits for the regular counter.
    none = with_updates(sc, {"counters.groups.vip.then": "none"})
    log = play(none, rows)
    regular = np.array([0, 2, 3, 5, 6, 7])
    assert (log.counter_id[regular] == 1).all()


def test_group_schedules_close_and_finish_per_group() -> None:
    # Two 30-minute intervals. Group a (counter 0, plan changes) is staffed [1, 0], group b (counter 1,
    # everything) [0, 1]. x (plan) at 28 → a, 28-33: a's counter goes off duty at 30 but finishes x.
    # y (plan) at 29: a busy, b off → waits; at 30 b opens and calls y (30-35). z (plan) at 31: a has
    # no counter on duty, b busy → waits; b calls z at 35 (35-40). Nobody starts at a after 30.
    sc = make(
        store={"open": "09:00", "close": "10:00", "interval_min": 30, "target_wait_min": 5},
        segments=[{"name": "all", "share": 1.0}],
        transactions=TWO_TRANSACTIONS,
        counters={"groups": [
            {"name": "a", "staffed": [1, 0], "transactions": ["plan_change"]},
            {"name": "b", "staffed": [0, 1]},
        ]},
    )  # fmt: skip
    rows = [{"arrival_min": t, "transaction": "plan_change"} for t in (28, 29, 31)]
    log = play(sc, rows)
    np.testing.assert_array_equal(log.service_start, [28, 30, 35])
    np.testing.assert_array_equal(log.service_end, [33, 35, 40])
    np.testing.assert_array_equal(log.counter_id, [0, 1, 1])
    np.testing.assert_array_equal(log.group, [0, 1, 1])


def test_shorthand_keeps_the_store_level_no_overlap_rule_groups_apply_it_per_group() -> None:
    # Two 30-minute intervals; staffed [2, 1] with one VIP counter (VIPs first, then anyone), i.e. regular
    # counters [1, 0]. r0 at 25 takes the regular counter 1 for 10 minutes (25-35). At 30 the regular
    # counter goes off duty but finishes r0. r1 (regular) at 31: the VIP counter is idle, but under the
    # v1 shorthand the store has 1 staffed and 1 in service, so r1 waits until r0 leaves (35-40, counter 0).
    # Written as explicit groups the rule is per group: the VIP group has its counter free, r1 starts at 31.
    store = {"open": "09:00", "close": "10:00", "interval_min": 30, "target_wait_min": 5}
    rows = [{"arrival_min": 25, "counter_time": 10}, {"arrival_min": 31}]
    shorthand = make(store=store, counters={"staffed": [2, 1], "vip": 1})
    log = play(shorthand, rows)
    np.testing.assert_array_equal(log.service_start, [25, 35])
    np.testing.assert_array_equal(log.counter_id, [1, 0])
    groups = make(store=store, counters={"groups": [
        {"name": "vip", "staffed": 1, "segments": ["vip"], "then": "any"},
        {"name": "regular", "staffed": [1, 0]},
    ]})  # fmt: skip
    log = play(groups, rows)
    np.testing.assert_array_equal(log.service_start, [25, 31])
    np.testing.assert_array_equal(log.counter_id, [1, 0])


def test_most_specialised_idle_group_is_taken_first() -> None:
    # general (counter 0) and payments (counter 1) both idle: a top-up goes to payments, the most
    # specialised group that serves it, leaving the general counter for whoever payments cannot serve.
    sc = make(
        segments=[{"name": "all", "share": 1.0}],
        transactions=TWO_TRANSACTIONS,
        counters={"groups": [{"name": "general", "staffed": 1}, {"name": "payments", "staffed": 1, "transactions": ["top_up"]}]},
    )
    log = play(sc, [{"arrival_min": 0, "transaction": "top_up"}, {"arrival_min": 1, "transaction": "plan_change"}])
    np.testing.assert_array_equal(log.counter_id, [1, 0])
    np.testing.assert_array_equal(log.service_start, [0, 1])


# ---------------------------------------------------------------------------------------------
# combined pitch rule and greeter windows
# ---------------------------------------------------------------------------------------------


def test_combined_pitch_rule_stops_while_either_holds() -> None:
    # One counter; pitching suspended 09:20-09:40 and while 2 or more wait. Pitch 3 minutes.
    # c0 at 0: main part ends 5, outside the window, but c1 (1) and c2 (2) wait: 2 → no pitch, ends 5.
    # c1 5-10: at 10 one waits (c2) → pitched, ends 13. c2 13-18: nobody waits → pitched, ends 21.
    # c3 at 19 starts 21; its main part ends 26, inside the window → no pitch, ends 26.
    # c4 at 40: main ends 45, outside, nobody waits → pitched, ends 48.
    sc = make(
        segments=[{"name": "all", "share": 1.0}],
        cross_sell={"acceptance": 0.5, "margin": 10, "policy": {"mode": "windows", "suspend": ["09:20-09:40"], "threshold": 2}},
    )
    rows = [{"arrival_min": t, "pitch_time": 3} for t in (0, 1, 2, 19, 40)]
    log = play(sc, rows)
    np.testing.assert_array_equal(log.pitched, [False, True, True, False, True])
    np.testing.assert_array_equal(log.service_end, [5, 13, 21, 26, 48])
    # the same rule written as mode queue_threshold with suspend windows means the same
    sc2 = with_updates(sc, {"cross_sell.policy.mode": "queue_threshold"})
    np.testing.assert_array_equal(play(sc2, rows).pitched, log.pitched)


def test_greeter_windows_apply_greeter_adoption_to_arrivals_inside_them() -> None:
    # Nobody uses a kiosk unprompted (adoption 0); with the greeter (09:20-09:40) everyone does.
    # Arrivals at 10, 25 and 45 with kiosk uniform 0.5: only the one at 25 meets the greeter.
    kiosk_tr = [{"name": "t", "share": 1.0, "counter_time": DET5, "kiosk_time": {"dist": "deterministic", "value": 2}}]
    sc = make(
        segments=[{"name": "all", "share": 1.0}],
        transactions=kiosk_tr,
        kiosks={"count": 1, "adoption": 0.0, "greeter_adoption": 1.0, "greeter": ["09:20-09:40"]},
    )
    log = play(sc, [{"arrival_min": t, "u_kiosk": 0.5} for t in (10, 25, 45)])
    np.testing.assert_array_equal(log.used_kiosk, [False, True, False])
    assert sc.greeter_schedule().values == (1 / 3,)  # 20 of the hour's 60 minutes
    all_day = with_updates(sc, {"kiosks.greeter": True})
    np.testing.assert_array_equal(play(all_day, [{"arrival_min": t, "u_kiosk": 0.5} for t in (10, 25, 45)]).used_kiosk, [True] * 3)


# ---------------------------------------------------------------------------------------------
# the schema: counter_groups(), round trips, checks
# ---------------------------------------------------------------------------------------------


def test_counter_groups_expand_the_shorthand() -> None:
    flagship = load_scenario(ROOT / "scenarios" / "telecom_month_end.yaml")
    vip, regular = flagship.counter_groups()
    assert (vip.name, vip.segments, vip.then, vip.staffed) == ("vip", ("vip",), "any", (1,) * 18)
    assert regular.name == "regular" and regular.staffed == (8,) * 18 and regular.then == "none"
    assert regular.segments == ("regular", "vip", "sensitive") and len(regular.transactions or ()) == 6
    only = with_updates(flagship, {"counters.vip_serves": "only"})
    assert only.counter_groups()[0].then == "none"
    assert only.counter_groups()[1].segments == ("regular", "sensitive")  # VIPs have their own line
    plain = make(counters={"staffed": [2]})
    assert [g.name for g in plain.counter_groups()] == ["regular"]
    # staffed_schedule() is the store's total over groups
    grouped = make(counters={"groups": [{"name": "a", "staffed": 2}, {"name": "b", "staffed": [3], "segments": ["vip"], "then": "any"}]})
    assert grouped.staffed_schedule().tolist() == [5] and grouped.physical_counters == 5
    assert grouped.counter_groups()[0].segments == ("regular", "vip")


def test_v1_files_keep_their_dict_and_new_keys_round_trip() -> None:
    flagship = load_scenario(ROOT / "scenarios" / "telecom_month_end.yaml")
    d = flagship.to_dict()
    assert set(d["counters"]) == {"staffed", "vip", "physical"} and "day_cv" not in d["demand"]
    sc = make(
        demand={"arrivals_per_hour": 10, "day_cv": 0.2},
        counters={"order": "ticket", "groups": [{"name": "a", "staffed": 1}, {"name": "b", "staffed": 1, "segments": ["vip"], "then": "any"}]},
        kiosks={"greeter": "09:15-09:45"},
    )
    again = scenario_from_dict(sc.to_dict(), "again")
    assert again == sc and again.kiosks.greeter == ("09:15-09:45",)
    assert again.to_dict()["counters"]["groups"][1] == {"name": "b", "staffed": 1, "segments": ["vip"], "then": "any"}


@pytest.mark.parametrize(
    ("counters", "key", "words"),
    [
        ({"staffed": 2, "groups": [{"name": "a", "staffed": 1}]}, "counters.staffed", "either staffed (with vip) or groups"),
        ({"vip": 1, "groups": [{"name": "a", "staffed": 1}]}, "counters.vip", "either vip or groups"),
        ({"vip_serves": "only", "groups": [{"name": "a", "staffed": 1}]}, "counters.vip_serves", "then: none"),
        ({"groups": []}, "counters.groups", "at least one group"),
        ({"groups": [{"name": "a", "staffed": 1}, {"name": "a", "staffed": 1}]}, "counters.groups", "repeated: a"),
        ({"groups": [{"name": "a", "staffed": 1, "transactions": ["top_upp"]}]}, "counters.groups[0](a).transactions", "unknown transaction 'top_upp'; known: top_up, plan_change"),
        ({"groups": [{"name": "a", "staffed": 1, "segments": ["gold"]}]}, "counters.groups[0](a).segments", "unknown segment 'gold'"),
        ({"groups": [{"name": "a", "staffed": [1, 1]}]}, "counters.groups[0](a).staffed", "needs one value per interval: 1"),
        ({"groups": [{"name": "pay", "staffed": 1, "transactions": ["top_up"]}]}, "counters.groups", "no staffed counter group serves plan_change × regular, plan_change × vip"),
        ({"groups": [{"name": "a", "staffed": 1, "transactions": []}]}, "counters.groups[0](a).transactions", "empty list serves nobody"),
        ({"staffed": 1, "vip": 1, "vip_serves": "only"}, "counters.vip_serves", "no staffed counter group serves top_up × regular"),
        ({"groups": [{"name": "a", "staffed": 1, "then": "sometimes"}]}, "counters.groups[0](a).then", "'any' or 'none'"),
        ({"groups": [{"name": "a", "staffed": [5_000_000]}]}, "counters.groups[0](a).staffed", "5,000,000 is more than the limit of 1,000"),
        ({"groups": [{"name": "a", "staffed": 1, "colour": "red"}]}, "counters.groups[0](a).colour", "unknown key; allowed here: name, staffed, transactions, segments, then"),
    ],
)
def test_bad_routing_is_refused_with_the_key_and_what_is_allowed(counters: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        make(demand={"arrivals_per_hour": 10}, transactions=TWO_TRANSACTIONS, counters=counters)
    text = str(info.value)
    lines = [line for line in text.splitlines() if f": {key}: " in line]
    assert lines and words in lines[0], text


def test_customers_stranded_at_closing_are_named() -> None:
    # payments is the only group serving top-ups and is off duty in the last interval.
    with pytest.raises(ScenarioError, match=r"no counter that serves top_up × regular, top_up × vip .* last interval"):
        make(
            store={"open": "09:00", "close": "10:00", "interval_min": 30},
            demand={"arrivals_per_hour": 10},
            transactions=TWO_TRANSACTIONS,
            counters={"groups": [
                {"name": "plans", "staffed": 1, "transactions": ["plan_change"]},
                {"name": "payments", "staffed": [1, 0], "transactions": ["top_up"]},
            ]},
        )  # fmt: skip


def test_day_cv_is_a_non_negative_number() -> None:
    with pytest.raises(ScenarioError, match=r"demand\.day_cv: must be at least 0"):
        make(demand={"arrivals_per_hour": 10, "day_cv": -0.1})
    with pytest.raises(ScenarioError, match=r"kiosks\.greeter.*outside opening hours"):
        make(kiosks={"greeter": ["08:00-09:30"]})
