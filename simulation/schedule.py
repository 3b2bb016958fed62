"""Time variation as one type: a value per interval of the store's day, with clock labels and windows.

A store day is cut into intervals (15, 30 or 60 minutes) and almost everything that varies in it is
a step function on that grid: walk-in rates, staffed counters (per counter group), when pitching is
suspended, when a greeter stands at the door. :class:`IntervalGrid` is the grid (opening time,
interval length, number of intervals) with the only "interval → HH:MM" and "HH:MM-HH:MM → intervals"
conversions; :class:`StepSchedule` is one value per interval on a grid. The engine, the optimizer and
the app read schedules through these so "16:30" means the same interval everywhere.

Windows ("HH:MM-HH:MM") need not align with intervals: :meth:`IntervalGrid.coverage` says what share
of each interval a set of windows covers, :meth:`IntervalGrid.mask` which intervals they touch, and
:meth:`IntervalGrid.windows_min` gives them in minutes since opening for the engine, which applies
them exactly (a pitch at 16:20 is suspended by "16:15-17:00" even on a 30-minute grid).

>>> g = IntervalGrid(open_min=9 * 60, interval_min=30, n=4)
>>> g.labels
['09:00', '09:30', '10:00', '10:30']
>>> g.mask(["09:45-10:15"]).tolist()
[False, True, True, False]
>>> s = StepSchedule.of(g, [3, 3, 4, 2])
>>> s.at(61.0), s.changes()
(4, [(2, 4), (3, 2)])
>>> g.windows_text([True, True, False, True])
['09:00-10:00', '10:30-11:00']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from .clock import format_clock, parse_window

V = TypeVar("V", int, float, bool)


@dataclass(frozen=True)
class IntervalGrid:
    """The day's intervals: ``n`` intervals of ``interval_min`` minutes from ``open_min`` (minutes after midnight)."""

    open_min: int
    interval_min: int
    n: int

    @property
    def close_min(self) -> int:
        """Closing time in minutes after midnight."""
        return self.open_min + self.n * self.interval_min

    @property
    def starts(self) -> np.ndarray:
        """Start of each interval in minutes since opening."""
        return np.arange(self.n) * self.interval_min

    @property
    def labels(self) -> list[str]:
        """Start of each interval as an "HH:MM" clock."""
        return [self.label(i) for i in range(self.n)]

    def label(self, i: int) -> str:
        """Interval ``i``'s start as "HH:MM"."""
        return format_clock(self.open_min + i * self.interval_min)

    def span(self, i: int, j: int | None = None) -> str:
        """Intervals ``i`` to ``j`` (inclusive; default ``i``) as one "HH:MM-HH:MM" window."""
        j = i if j is None else j
        return f"{self.label(i)}-{format_clock(self.open_min + (j + 1) * self.interval_min)}"

    def interval_of(self, minute: float) -> int:
        """The interval holding ``minute`` (minutes since opening); after closing, the last one."""
        return min(max(int(minute // self.interval_min), 0), self.n - 1)

    def windows_min(self, windows: Iterable[str]) -> list[tuple[float, float]]:
        """"HH:MM-HH:MM" windows as ``(start, end)`` minutes since opening."""
        return [(float(a - self.open_min), float(b - self.open_min)) for a, b in map(parse_window, windows)]

    def coverage(self, windows: Iterable[str]) -> np.ndarray:
        """Share of each interval (0 to 1) that the windows cover (overlapping windows count once)."""
        lo = self.starts.astype(float)
        hi = lo + self.interval_min
        covered = np.zeros(self.n, bool)
        minutes = np.zeros(self.n)
        # Merge first so overlapping windows are not counted twice.
        merged: list[list[float]] = []
        for a, b in sorted(self.windows_min(windows)):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            part = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
            minutes += part
            covered |= part > 0
        return np.where(covered, minutes / self.interval_min, 0.0)

    def mask(self, windows: Iterable[str]) -> np.ndarray:
        """True for each interval that the windows touch (cover any part of)."""
        return self.coverage(windows) > 0

    def windows_text(self, flags: Sequence[bool]) -> list[str]:
        """Runs of True intervals as "HH:MM-HH:MM" windows (the inverse of :meth:`mask` on whole intervals)."""
        out: list[str] = []
        i = 0
        while i < len(flags):
            if flags[i]:
                j = i
                while j + 1 < len(flags) and flags[j + 1]:
                    j += 1
                out.append(self.span(i, j))
                i = j + 1
            else:
                i += 1
        return out


@dataclass(frozen=True)
class StepSchedule(Generic[V]):
    """One value per interval of ``grid``: staffed counters, a rate, a flag. Immutable."""

    grid: IntervalGrid
    values: tuple[V, ...]

    def __post_init__(self) -> None:
        if len(self.values) != self.grid.n:
            raise ValueError(f"a schedule needs one value per interval: {self.grid.n}, got {len(self.values)}")

    @classmethod
    def of(cls, grid: IntervalGrid, value: V | Sequence[V]) -> StepSchedule[V]:
        """From one value for the whole day or one value per interval (the scenario files' two forms)."""
        if isinstance(value, (int, float, bool, np.integer, np.floating)):
            return cls(grid, (value,) * grid.n)  # type: ignore[arg-type]
        return cls(grid, tuple(value))

    @classmethod
    def from_windows(cls, grid: IntervalGrid, windows: Iterable[str]) -> StepSchedule[float]:
        """The share of each interval inside the windows (1.0 = the whole interval)."""
        return StepSchedule(grid, tuple(float(x) for x in grid.coverage(windows)))

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[V]:
        return iter(self.values)

    def __getitem__(self, i: int) -> V:
        return self.values[i]

    @property
    def labels(self) -> list[str]:
        return self.grid.labels

    def array(self, dtype: type | None = None) -> np.ndarray:
        """The values as a numpy array (a copy)."""
        return np.array(self.values, dtype=dtype)

    def at(self, minute: float) -> V:
        """The value in force ``minute`` minutes after opening (after closing: the last interval's)."""
        return self.values[self.grid.interval_of(minute)]

    def changes(self) -> list[tuple[int, V]]:
        """``(interval, new value)`` at each boundary where the value changes (interval 0 excluded)."""
        v = self.values
        return [(i, v[i]) for i in range(1, len(v)) if v[i] != v[i - 1]]

    def windows(self, where: Iterable[V] | None = None) -> list[str]:
        """Runs of intervals whose value is truthy (or in ``where``) as "HH:MM-HH:MM" windows."""
        keep = set(where) if where is not None else None
        return self.grid.windows_text([(x in keep) if keep is not None else bool(x) for x in self.values])

    def by_label(self) -> dict[str, V]:
        """``{"HH:MM": value}`` per interval start, for tables and JSON."""
        return dict(zip(self.grid.labels, self.values, strict=True))
