"""Shift templates from the scenario's shift rules, on a slot grid, and a greedy cover.

A template is one way to work a day: a start, a length and (for long shifts) where the break goes.
Coverage is counted on slots of ``g`` minutes, the greatest common divisor of the reporting
interval, the start step, the shift lengths and the break length, so a 15-minute start step on a
30-minute grid is modelled exactly. An interval's staffed counters are the fewest on the floor in
any of its slots: the engine staffs whole intervals, so a half-covered interval only counts what
is there for all of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation import Scenario, format_clock, parse_clock
from simulation.scenario import ShiftRules

__all__ = ["Grid", "ShiftTemplate", "build_grid", "build_templates", "greedy_cover", "interval_staffed"]


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift: start and length in minutes since opening, an optional break (start, length)."""

    start: int
    length: int
    break_start: int | None = None
    break_len: int = 0

    @property
    def end(self) -> int:
        return self.start + self.length

    def on_floor(self, minute: int) -> bool:
        if not self.start <= minute < self.end:
            return False
        return not (self.break_start is not None and self.break_start <= minute < self.break_start + self.break_len)

    def label(self, open_min: int) -> str:
        text = f"{format_clock(open_min + self.start)}-{format_clock(open_min + self.end)}"
        if self.break_start is not None:
            text += f" (break {format_clock(open_min + self.break_start)})"
        return text


@dataclass(frozen=True)
class Grid:
    """The slot grid: ``slot_min`` minutes per slot, ``per_interval`` slots per reporting interval."""

    slot_min: int
    n_slots: int
    per_interval: int
    n_intervals: int
    open_min: int

    def interval_of(self, slot: int) -> int:
        return slot // self.per_interval


def _rules(scenario: Scenario, rules: ShiftRules | None) -> ShiftRules:
    return rules if rules is not None else (scenario.shifts or ShiftRules())


def build_grid(scenario: Scenario, rules: ShiftRules | None = None) -> Grid:
    r = _rules(scenario, rules)
    interval = scenario.store.interval_min
    parts = [interval, r.start_step_min or interval, *[round(h * 60) for h in r.lengths_hours]]
    if r.break_ is not None:
        parts += [r.break_.length_min, round(r.break_.window_hours[0] * 60), round(r.break_.window_hours[1] * 60)]
    g = 0
    for p in parts:
        g = math.gcd(g, int(p))
    g = max(g, 1)
    # Guard against a pathological 1-minute grid: 5 minutes is the finest a roster needs.
    if g < 5:
        g = math.gcd(interval, 5) or 1
    return Grid(
        slot_min=g,
        n_slots=scenario.store.duration_min // g,
        per_interval=interval // g,
        n_intervals=scenario.n_intervals,
        open_min=scenario.store.open_min,
    )


def build_templates(scenario: Scenario, rules: ShiftRules | None = None) -> list[ShiftTemplate]:
    """Every allowed (start, length, break) combination within the opening hours and the rules."""
    r = _rules(scenario, rules)
    o = scenario.store.open_min
    first = (parse_clock(r.earliest_start) if r.earliest_start else o) - o
    last_end = (parse_clock(r.latest_end) if r.latest_end else scenario.store.close_min) - o
    step = r.start_step_min or scenario.store.interval_min
    out: list[ShiftTemplate] = []
    for hours in sorted(set(r.lengths_hours)):
        length = round(hours * 60)
        start = first
        while start + length <= last_end:
            if r.break_ is not None and hours > r.break_.for_shifts_over_hours:
                b = r.break_
                lo = start + round(b.window_hours[0] * 60)
                hi = start + round(b.window_hours[1] * 60)
                bstart = lo
                placed = False
                while bstart <= hi and bstart + b.length_min <= start + length:
                    out.append(ShiftTemplate(start, length, bstart, b.length_min))
                    placed = True
                    bstart += step if step <= b.length_min else b.length_min
                if not placed:
                    out.append(ShiftTemplate(start, length, None, 0))
            else:
                out.append(ShiftTemplate(start, length))
            start += step
    return out


def coverage_matrix(templates: Sequence[ShiftTemplate], grid: Grid) -> np.ndarray:
    """Boolean (templates × slots): template k is on the floor for the whole of slot s."""
    cov = np.zeros((len(templates), grid.n_slots), dtype=bool)
    for k, t in enumerate(templates):
        for s in range(grid.n_slots):
            a = s * grid.slot_min
            cov[k, s] = t.on_floor(a) and t.on_floor(a + grid.slot_min - 1)
    return cov


def interval_staffed(on_floor_slots: np.ndarray, grid: Grid) -> np.ndarray:
    """Counters staffed per interval: the fewest on the floor in any of its slots."""
    return np.asarray(on_floor_slots, dtype=int).reshape(grid.n_intervals, grid.per_interval).min(axis=1)


def greedy_cover(
    templates: Sequence[ShiftTemplate],
    grid: Grid,
    need: Sequence[int],
    physical: int,
    cost_per_min: float = 1.0,
) -> list[int]:
    """A simple greedy cover of ``need`` (per interval): the baseline CP-SAT must never lose to.

    Walk the slots in time order; while a slot is under-covered, add the template covering it
    that covers the most still-missing staff-slots per unit of cost, never exceeding the hall.
    Returns the template indices chosen (with repeats).
    """
    cov = coverage_matrix(templates, grid)
    need_slots = np.repeat(np.minimum(np.asarray(need, dtype=int), physical), grid.per_interval)
    have = np.zeros(grid.n_slots, dtype=int)
    chosen: list[int] = []
    for s in range(grid.n_slots):
        while have[s] < need_slots[s]:
            best, best_score = -1, -1.0
            for k in (int(v) for v in np.flatnonzero(cov[:, s])):
                if np.any(have[cov[k]] + 1 > physical):
                    continue
                gain = float(np.clip(need_slots[cov[k]] - have[cov[k]], 0, 1).sum())
                score = gain / (templates[k].length * max(cost_per_min, 1e-9))
                if score > best_score:
                    best, best_score = int(k), score
            if best < 0:
                break
            chosen.append(best)
            have[cov[best]] += 1
    return chosen
