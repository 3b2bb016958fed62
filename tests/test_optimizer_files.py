"""Shift-rules and staff files: the examples load; bad ones name the file, the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.io import load_shift_rules, load_staff, shift_rules_from_data, staff_from_text
from simulation import ScenarioError, load_scenario

REPO = Path(__file__).resolve().parent.parent
FLAGSHIP = REPO / "scenarios" / "telecom_month_end.yaml"


def test_example_staff_file_loads() -> None:
    staff = load_staff(REPO / "scenarios" / "staff_week.yaml")
    assert len(staff.staff) == 15
    assert staff.min_rest_hours == 11
    ana = next(p for p in staff.staff if p.name == "Ana")
    assert ana.availability[6] == () and ana.availability[0] == ()  # sun and mon off
    assert ana.max_days == 5
    ivo = next(p for p in staff.staff if p.name == "Ivo")
    assert ivo.available(0, 9 * 60, 13 * 60) and not ivo.available(0, 9 * 60, 15 * 60)
    assert ivo.availability[5] == ()  # Saturday not listed -> off
    goran = next(p for p in staff.staff if p.name == "Goran")
    assert goran.can_close is False


def test_staff_csv(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "name,min_hours,max_hours,days_off,can_close,mon,tue,wed,thu,fri,sat,sun\n"
        "Ana,30,40,sun,true,all,all,all,all,all,09:00-14:00,\n"
        "Bo,0,20,,no,13:00-18:00,-,13:00-18:00,,13:00-18:00;09:00-10:00,all,all\n",
        encoding="utf-8",
    )
    staff = load_staff(path)
    ana, bo = staff.staff
    assert ana.min_hours == 30 and ana.availability[6] == () and ana.availability[5] == ((540, 840),)
    assert bo.can_close is False and bo.availability[1] == () and bo.availability[3] == ()
    assert bo.availability[4] == ((780, 1080), (540, 600))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "staff:\n  - {name: Ana, max_hours: lots}\n",
            "staff[0](Ana).max_hours: must be a number of hours, got 'lots'",
        ),
        (
            "staff:\n  - {name: Ana, min_hours: 40, max_hours: 20}\n",
            "staff[0](Ana).min_hours: 40 is more than max_hours 20",
        ),
        ("staff:\n  - {name: Ana, days_off: [mnday]}\n", "staff[0](Ana).days_off[0]: unknown weekday 'mnday'"),
        ("staff:\n  - {nmae: Ana}\n", "staff[0].nmae: unknown key"),
        ("staff:\n  - {name: Ana, availability: {mon: ['9-5']}}\n", "staff[0](Ana).availability.mon: window '9-5'"),
        ("staff:\n  - {name: Ana}\n  - {name: Ana}\n", "'Ana' appears twice"),
        ("staff: []\n", "staff: needs a non-empty list"),
        ("min_rest_hours: -3\nstaff:\n  - {name: Ana}\n", "min_rest_hours: must be a finite number >= 0, got -3"),
        ("staff:\n  - {name: Ana, max_days: 9}\n", "staff[0](Ana).max_days: must be a whole number 0-7, got 9"),
    ],
)
def test_bad_staff_yaml_named(text: str, needle: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        staff_from_text(text, "team.yaml")
    assert str(exc.value).startswith("team.yaml: ")
    assert needle in str(exc.value)


def test_bad_staff_csv_header() -> None:
    with pytest.raises(ScenarioError, match=r"team\.csv: a staff CSV needs a header with at least `name`"):
        staff_from_text("who,hours\nAna,40\n", "team.csv")


def test_missing_staff_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_staff(tmp_path / "nope.yaml")


def test_rules_file(tmp_path: Path) -> None:
    scn = load_scenario(FLAGSHIP)
    path = tmp_path / "rules.yaml"
    path.write_text("lengths_hours: [4, 8]\nearliest_start: 09:00\nmin_on_duty: 3\nbreak: {length_min: 30}\n")
    rules = load_shift_rules(path, scn)
    assert rules.lengths_hours == (4.0, 8.0)
    assert rules.earliest_start == "09:00"
    assert rules.min_on_duty == 3
    assert rules.break_ is not None and rules.break_.length_min == 30


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"lengths_hours": [-4]}, "shifts.lengths_hours[0]: must be greater than 0.0, got -4"),
        ({"earliest_start": "07:00"}, "shifts.earliest_start: 07:00 is outside opening hours 09:00-18:00"),
        ({"min_on_duty": "two"}, "shifts.min_on_duty: must be a whole number, got 'two'"),
        ({"lenghts_hours": [4]}, "did you mean `lengths_hours`?"),
        ({"break": {"length_min": 0}}, "shifts.break.length_min: must be greater than 0, got 0"),
    ],
)
def test_bad_rules_named(data: dict, needle: str) -> None:
    scn = load_scenario(FLAGSHIP)
    with pytest.raises(ScenarioError) as exc:
        shift_rules_from_data(data, scn, "rules.yaml")
    assert str(exc.value).startswith("rules.yaml: ")
    assert needle in str(exc.value)
