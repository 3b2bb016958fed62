"""Clock strings ("HH:MM") and minutes since opening.

Files speak in wall clocks; the model speaks in minutes since opening. These two helpers are the only
place that converts, so "16:30" means the same thing in the engine, the optimizer and the app.
"""

from __future__ import annotations

import re

_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def parse_clock(text: object) -> int:
    """Minutes after midnight for an "HH:MM" string.

    >>> parse_clock("16:30")
    990
    """
    if isinstance(text, bool) or not isinstance(text, str):
        if isinstance(text, int):
            # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080. Our loader keeps clocks as
            # strings, so an int here came from code or another loader: refuse rather than guess.
            raise ValueError(
                f'a clock must be written "HH:MM" in quotes, got the number {text!r} '
                f'(an unquoted 18:00 is read by some YAML readers as {18 * 60})'
            )
        raise ValueError(f'a clock must be written "HH:MM", got {text!r}')
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f'a clock must be written "HH:MM" (00:00 to 24:00), got {text!r}')
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"a clock must be at most 24:00, got {text!r}")
    return minutes


def format_clock(minutes_after_midnight: float) -> str:
    """ "HH:MM" for minutes after midnight (rounded down to the minute).

    >>> format_clock(990)
    '16:30'
    """
    total = int(minutes_after_midnight // 1)
    return f"{total // 60:02d}:{total % 60:02d}"


def parse_window(text: object) -> tuple[int, int]:
    """A "HH:MM-HH:MM" window as minutes after midnight (start, end), start before end."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f'a time window must be written "HH:MM-HH:MM", got {text!r}')
    a, b = (parse_clock(part.strip()) for part in text.split("-"))
    if b <= a:
        raise ValueError(f"a time window must end after it starts, got {text!r}")
    return a, b
