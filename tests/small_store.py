"""The small hall the CLI, sweep, scale-out and results-store tests share (3 hours, 2 segments,
kiosk-eligible top-ups, a VIP counter, pitching): fast to simulate, and every part of a result is in it."""

from typing import Any

SMALL = """\
name: Small hall
store: {open: "09:00", close: "12:00", interval_min: 60, target_wait_min: 5}
demand: {arrivals_per_hour: [30, 50, 40]}
segments:
  - {name: regular, share: 0.9, priority: 1, patience: {dist: exponential, mean: 15}}
  - {name: vip, share: 0.1, priority: 0, pitch: false}
transactions:
  - {name: top_up, share: 0.6, counter_time: {dist: lognormal, mean: 3, cv: 0.5}, kiosk_time: {dist: lognormal, mean: 1.5, cv: 0.4}}
  - {name: plan_change, share: 0.4, counter_time: {dist: exponential, mean: 6}}
counters: {staffed: [3, 4, 3], vip: 1}
kiosks: {count: 1, adoption: 0.5}
cross_sell: {pitch_time: {dist: deterministic, value: 2}, acceptance: 0.3, margin: 10, policy: {mode: always}}
costs: {staff_hour: 30}
simulation: {replications: 4, seed: 3}
"""


# Two counter groups that never help each other (payments: 1-minute payments only; general: the
# rest), so each is its own M/M/c and their needs are known by hand; the day plan, group and week
# tests share it.
TWO_GROUPS: dict[str, Any] = {
    "name": "Two independent groups",
    "store": {"open": "09:00", "close": "12:00", "interval_min": 60, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": 60},
    "segments": [{"name": "all", "share": 1.0, "priority": 1}],
    "transactions": [
        {"name": "pay", "share": 0.5, "counter_time": {"dist": "deterministic", "value": 1}},
        {"name": "other", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 6}},
    ],
    "counters": {
        "groups": [
            {"name": "payments", "staffed": 1, "transactions": ["pay"]},
            {"name": "general", "staffed": 4, "transactions": ["other"]},
        ],
        "physical": 8,
    },
    "costs": {"staff_hour": 40},
    "shifts": {"lengths_hours": [1, 2, 3], "start_step_min": 60, "min_on_duty": 1},
    "simulation": {"replications": 20, "seed": 7},
}
