"""The optimizer's only file I/O: shift-rules files and named-staff files (YAML or CSV).

Both fail with ``simulation.ScenarioError`` naming the file, the key and the value, like a scenario.
"""

from __future__ import annotations

import csv
import io as _io
from pathlib import Path
from typing import Any

from simulation import Scenario, ScenarioError, with_updates
from simulation.loader import decode_text, parse_yaml_text, read_bytes_limited
from simulation.scenario import ShiftRules

from .staff import StaffRules, staff_from_data, staff_rows_to_data

__all__ = ["load_shift_rules", "load_staff", "shift_rules_from_data", "staff_from_text"]


def _read(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a folder, expected a file")
    # the one safe reader: bytes counted while reading (a FIFO or /dev/zero cannot hang or fill memory)
    return decode_text(
        read_bytes_limited(p, what="staff or shift-rules file"), str(p), what="staff or shift-rules file"
    )


def shift_rules_from_data(data: Any, scenario: Scenario, source: str = "shift rules") -> ShiftRules:
    """Validate shift rules (a mapping, or one with a top-level ``shifts`` key) against ``scenario``.

    Validation goes through the scenario so the messages and the checks (clocks inside opening
    hours) are exactly those of a ``shifts:`` block in a scenario file.
    """
    if isinstance(data, dict) and set(data) == {"shifts"}:
        data = data["shifts"]
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [("shifts", f"must be a mapping (lengths_hours, earliest_start, ...), got {type(data).__name__}")]
        )
    checked = with_updates(scenario, {"shifts": data}, source=source)
    assert checked.shifts is not None
    return checked.shifts


def load_shift_rules(path: str | Path, scenario: Scenario) -> ShiftRules:
    """Read a YAML shift-rules file (same keys as a scenario's ``shifts`` block)."""
    return shift_rules_from_data(parse_yaml_text(_read(path), str(path)), scenario, str(path))


def staff_from_text(text: str, source: str, csv_format: bool | None = None) -> StaffRules:
    """Parse a staff list from YAML or CSV text (CSV when ``csv_format`` or the source ends in .csv)."""
    is_csv = csv_format if csv_format is not None else source.lower().endswith(".csv")
    if is_csv:
        reader = csv.DictReader(_io.StringIO(text))
        try:
            if not reader.fieldnames or "name" not in [f.strip().lower() for f in reader.fieldnames]:
                raise ScenarioError(
                    source, [("", f"a staff CSV needs a header with at least `name`; got {reader.fieldnames!r}")]
                )
            rows = [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
        except csv.Error as exc:  # a NUL byte, a field over 128 KB, a broken quote: bad input, not a crash
            raise ScenarioError(source, [("", f"not a readable staff CSV: line {reader.line_num}: {exc}")]) from None
        return staff_from_data(staff_rows_to_data(rows), source)
    return staff_from_data(parse_yaml_text(text, source), source)


def load_staff(path: str | Path) -> StaffRules:
    """Read a named-staff file (``.yaml``/``.yml`` or ``.csv``)."""
    return staff_from_text(_read(path), str(path))
