"""Counter workload per interval, read from a Scenario without sampling.

The counters see only part of the walk-ins: online diversion removes some kiosk-able demand before
it walks in, kiosks take some of the rest, and failed kiosk visits come back to the counters. What
reaches a counter takes its transaction's mean counter time plus, when pitched, the pitch time.
This module turns that into the three numbers the queueing formulas need per interval: counter
arrival rate, mean handling time and mean patience.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation import Scenario

__all__ = ["Workload", "workload"]


@dataclass(frozen=True)
class Workload:
    """Counter demand of one scenario day.

    Attributes
    ----------
    counter_rate_per_min : arrivals at the counters per minute, one per interval.
    handle_min_no_pitch : mean counter handling time (minutes) when nobody is pitched.
    handle_min_pitch : mean counter handling time when every pitchable customer is pitched
        (``pitch_time × share pitched`` added).
    pitch_share : share of counter customers who would be pitched (segments with ``pitch: true``).
    mean_patience_min : patience for Erlang A, the harmonic mix of the segments' patience means
        (abandonment rates add across segments); ``inf`` when nobody abandons.
    pitch_margin_per_customer : expected margin per counter customer when pitching
        (``share pitched × acceptance × margin``).
    """

    counter_rate_per_min: np.ndarray
    handle_min_no_pitch: float
    handle_min_pitch: float
    pitch_share: float
    mean_patience_min: float
    pitch_margin_per_customer: float

    def handle_min(self, pitching: bool) -> float:
        return self.handle_min_pitch if pitching else self.handle_min_no_pitch


def workload(scenario: Scenario) -> Workload:
    """Counter workload of ``scenario`` (kiosk diversion and failures, online diversion, pitching)."""
    walk_ins = scenario.arrival_rates_per_hour() / 60.0
    k = scenario.kiosks
    # Share of each interval with a greeter at the door (greeter windows: the greeter's adoption there).
    greeter = np.asarray(scenario.greeter_schedule().values, dtype=float) if k.count > 0 else np.zeros(len(walk_ins))
    share_a, minutes_a = _counter_mix(scenario, k.adoption if k.count > 0 else 0.0)
    share_g, minutes_g = _counter_mix(scenario, k.greeter_adoption if k.count > 0 else 0.0)
    counter_share_iv = greeter * share_g + (1.0 - greeter) * share_a
    counter_minutes_iv = greeter * minutes_g + (1.0 - greeter) * minutes_a
    if len(greeter) == 0 or np.all(greeter == greeter[0]):
        # with or without a greeter all day: one mix (exactly the figures before greeter windows existed)
        counter_share = float(counter_share_iv[0]) if len(greeter) else share_a
        counter_minutes = float(counter_minutes_iv[0]) if len(greeter) else minutes_a
    else:
        # greeter windows: the day's mix weighted by each interval's walk-ins
        weight = max(float(walk_ins.sum()), 1e-12)
        counter_share = float(np.dot(walk_ins, counter_share_iv)) / weight
        counter_minutes = float(np.dot(walk_ins, counter_minutes_iv)) / weight
    handle = counter_minutes / counter_share if counter_share > 0 else 1.0
    pitch_share = sum(s.share for s in scenario.segments if s.pitch)
    cs = scenario.cross_sell
    handle_pitch = handle + cs.pitch_time.mean * pitch_share
    theta = 0.0
    for s in scenario.segments:
        if s.patience is not None and s.patience.mean > 0:
            theta += s.share / s.patience.mean
    patience = 1.0 / theta if theta > 0 else math.inf
    return Workload(
        counter_rate_per_min=np.asarray(walk_ins * counter_share_iv, dtype=float),
        handle_min_no_pitch=float(handle),
        handle_min_pitch=float(handle_pitch),
        pitch_share=float(pitch_share),
        mean_patience_min=float(patience),
        pitch_margin_per_customer=float(pitch_share * cs.acceptance * cs.margin),
    )


def _counter_mix(scenario: Scenario, use_kiosk: float) -> tuple[float, float]:
    """Per unit of pre-diversion demand: the share reaching the counters and their counter minutes,
    when kiosk-eligible customers use a kiosk with probability ``use_kiosk``."""
    k = scenario.kiosks
    diversion = scenario.demand.online_diversion
    counter_share = 0.0
    counter_minutes = 0.0
    for t in scenario.transactions:
        if t.kiosk_time is not None:
            walks_in = t.share * (1.0 - diversion)
            to_counter = walks_in * (1.0 - use_kiosk + use_kiosk * k.failure)
        else:
            to_counter = t.share
        counter_share += to_counter
        counter_minutes += to_counter * t.counter_time.mean
    return counter_share, counter_minutes
