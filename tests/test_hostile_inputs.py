"""Hostile and careless inputs (issue 8): each refused with exit code 2 and a message naming the file,
the key, the value and what is allowed, within bounded memory; never exit 1, never a traceback.

One case per category of the issue. The limits come from ``simulation.limits.LIMITS`` (data), so a
limit changed there changes these tests and the docs with it. Cases that could use unbounded memory
(``/dev/zero``, alias bombs, 1e7 customers an hour, a 20-million-row Parquet file) run the real CLI in
a subprocess under an address-space limit (``resource.setrlimit(RLIMIT_AS)``): going past it would
fail the run with a MemoryError instead of exit 2. The rest run in-process through click's runner.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import load_scenario, scenario_from_yaml
from simulation.limits import LIMITS, Limit, limit
from simulation.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "supermarket.yaml"  # 08:00-22:00, hourly: small and quick
NINE_HOURS = ROOT / "scenarios" / "telecom_mid_month.yaml"  # 09:00-18:00
MEMORY_MB = 1024
"""Address-space cap for the subprocess cases: storeq itself needs about 600 MB of address space."""


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB << 20, MEMORY_MB << 20))


def storeq_bounded(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, under the address-space cap, with a hang guard."""
    return subprocess.run(
        [sys.executable, "-m", "storeq", *args], capture_output=True, text=True, preexec_fn=_cap_memory, timeout=300, cwd=cwd
    )


def storeq(*args: str) -> tuple[int, str, str]:
    from storeq.cli import main

    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _refused(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "failed:" not in err
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"


# ---------------------------------------------------------------------------------------------
# 1. bad values: exit 2 with file, key, value and what is allowed
# ---------------------------------------------------------------------------------------------

BAD_SETS = [
    # (--set ..., what the message must say)
    (["name.x=1"], ["name.x", "name is a value", "set name itself"]),
    (["demand.scale=1e308"], ["demand", "customers in one simulated day", f"{limit('customers_per_day'):,}"]),
    (["demand.arrivals_per_hour=1e7"], ["about 140,000,000 customers", f"limit is {limit('customers_per_day'):,}"]),
    (["demand.day_of_month_factors=[1,2]"], ["demand.day_of_month_factors", "must be a mapping", "[1, 2]"]),
    (['demand.day_of_month_factors={"x": 1}'], ["demand.day_of_month_factors.x", "key 'x' is not allowed"]),
    (["simulation.replications=true"], ["simulation.replications", "got true", "not a number"]),
    (["simulation.replications=1000000"], ["simulation.replications", f"at most {limit('replications')}"]),
    (["version=2"], ["version", "format version 2", "reads version 1"]),
    (["store.date=2026-02-30"], ["store.date", "2026-02-30", "calendar date"]),
    (["counters.staffed=5000"], ["counters.staffed", f"limit of {limit('counters'):,}"]),
    (["transactions.0.counter_time.mean=100000"], ["counter_time", "more than a day"]),
    ([f"name={'n' * (limit('name_chars') + 1)}"], ["name", f"at most {limit('name_chars')}"]),
]


@pytest.mark.parametrize(("sets", "needles"), BAD_SETS, ids=[s[0][0][:30] for s in BAD_SETS])
def test_bad_value_is_refused_by_check_and_by_run_alike(sets: list[str], needles: list[str]) -> None:
    args = [a for s in sets for a in ("--set", s)]
    for command in (["check"], ["run", "-n", "2", "--workers", "1", "--format", "json"]):
        code, out, err = storeq(*command, str(BASE), *args)
        _refused(code, err, *needles)
        assert out == ""  # check = run's validation: run refuses before simulating, like check


def test_every_problem_at_once_field_errors_and_cross_checks(tmp_path: Path) -> None:
    """Issue 13.16: negative counters AND shares summing to 0.88, both reported in one message."""
    import yaml

    data = yaml.safe_load(BASE.read_text().replace(": 08:00", ': "08:00"').replace(": 22:00", ': "22:00"'))
    data["counters"]["staffed"] = -1
    data["kiosks"]["count"] = True
    data["segments"][0]["share"] = round(data["segments"][0]["share"] - 0.12, 2)
    bad = tmp_path / "three_problems.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    code, _, err = storeq("check", str(bad))
    _refused(code, err, "counters.staffed: must be at least 0, got -1", "segments: shares must add up to 1, got 0.88", "kiosks.count: must be a whole number, got true")
    with pytest.raises(ScenarioError) as exc:  # the same from the API (and so the app)
        load_scenario(bad)
    assert {p for p, _ in exc.value.problems} >= {"counters.staffed", "segments", "kiosks.count"}


def test_shift_rules_that_fit_no_shift_are_refused() -> None:
    code, _, err = storeq("check", str(NINE_HOURS), "--set", "shifts={lengths_hours: [10]}")
    _refused(code, err, "shifts.lengths_hours", "no shift fits the day", "10 h", "09:00", "18:00")
    code, _, err = storeq("check", str(NINE_HOURS), "--set", 'shifts={earliest_start: "17:00", latest_end: "12:00"}')
    _refused(code, err, "latest_end (12:00) must be after earliest_start (17:00)")
    code, _, err = storeq("check", str(NINE_HOURS), "--set", 'shifts={earliest_start: "16:00"}')
    _refused(code, err, "no shift fits the day", "4 h")


def test_impossible_date_in_a_file_names_its_key(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(BASE.read_text().replace("store:\n", "store:\n  date: 2026-13-01\n", 1))
    code, _, err = storeq("check", str(f))
    _refused(code, err, str(f), "store.date", "2026-13-01")


# ---------------------------------------------------------------------------------------------
# 2. bounded work for any input
# ---------------------------------------------------------------------------------------------


def test_dev_zero_is_refused_after_reading_the_limit_not_the_whole(tmp_path: Path) -> None:
    r = storeq_bounded("check", "/dev/zero")
    _refused(r.returncode, r.stderr, "/dev/zero", f"larger than {limit('yaml_bytes'):,} bytes")


def test_a_fifo_nobody_writes_to_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    r = storeq_bounded("check", str(fifo))
    _refused(r.returncode, r.stderr, "is empty")


def test_yaml_nested_a_thousand_deep_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "deep.yaml"
    f.write_text("name: " + "[" * 1000 + "]" * 1000 + "\n")
    code, _, err = storeq("check", str(f))
    _refused(code, err, f"nested more than {limit('yaml_depth')} levels")
    with pytest.raises(ScenarioError, match="nested more than"):
        scenario_from_yaml("a: " + "{b: " * 3000 + "1" + "}" * 3000)  # the API (and the app) say the same


def _bomb() -> str:
    return "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )


def test_alias_bombs_are_refused_in_every_yaml_file(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_bomb())
    r = storeq_bounded("check", str(bomb))
    _refused(r.returncode, r.stderr, "alias references")
    log = tmp_path / "log.csv"
    log.write_text("issued_at,transaction,outcome\n2026-11-02 09:00,a,served\n")
    r = storeq_bounded("calibrate", str(log), "--map", str(bomb), "--out", str(tmp_path / "s.yaml"))  # a mapping file
    _refused(r.returncode, r.stderr, "bomb.yaml", "alias references")
    from optimizer.io import load_staff

    with pytest.raises(ScenarioError, match="alias references"):  # staff (and rules) files
        load_staff(bomb)


def test_a_small_expansion_under_the_alias_count_is_still_bounded() -> None:
    # 20 aliases in a chain can still multiply: the expanded size is counted too
    text = "a0: &a0 [" + ", ".join(["0"] * 100) + "]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 11))
    with pytest.raises(ScenarioError, match="expand to"):
        scenario_from_yaml(text)


def test_absurd_arrival_rate_is_refused_before_any_allocation() -> None:
    r = storeq_bounded("run", str(BASE), "--set", "demand.arrivals_per_hour=1e7", "-n", "100")
    _refused(r.returncode, r.stderr, "customers in one simulated day")


def test_a_staff_file_over_the_limits_is_refused_before_any_roster(tmp_path: Path) -> None:
    # Named staff are rostered one Boolean per person, day and shift: 3,000 people took 2.6 GB and
    # 100 s before the limit. Refused by count, and a group list over the list limit by the walk.
    crowd = tmp_path / "crowd.yaml"
    crowd.write_text("staff:\n" + "".join(f"  - {{name: P{i}}}\n" for i in range(limit("staff") + 1)))
    r = storeq_bounded("optimize", str(BASE), "--staff", str(crowd), "--method", "erlang_a")
    _refused(r.returncode, r.stderr, "crowd.yaml", "staff", f"has {limit('staff') + 1:,} people", f"at most {limit('staff'):,}")
    skills = tmp_path / "skills.yaml"
    many = ", ".join(f"g{i}" for i in range(limit("list_items") + 1))
    skills.write_text(f"staff:\n  - {{name: A, group: [{many}]}}\n")
    r = storeq_bounded("optimize", str(BASE), "--staff", str(skills), "--method", "erlang_a")
    _refused(r.returncode, r.stderr, "staff[0].group", f"has {limit('list_items') + 1:,} items")


def test_lists_and_texts_over_the_limits(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text(BASE.read_text() + f"\nextra: [{', '.join(['-1'] * (limit('list_items') + 5))}]\n")
    code, _, err = storeq("check", str(many))
    _refused(code, err, "extra", f"has {limit('list_items') + 5:,} items; at most {limit('list_items'):,}")
    huge = tmp_path / "huge.yaml"  # 300,000 invalid items: refused by the value count while parsing
    huge.write_text("demand: {arrivals_per_hour: [" + ", ".join(["-1"] * 300_000) + "]}\n")
    r = storeq_bounded("check", str(huge))
    _refused(r.returncode, r.stderr, f"more than {limit('yaml_nodes'):,} values")
    longname = tmp_path / "long.yaml"
    longname.write_text(BASE.read_text().replace("name:", f"name: {'x' * 5_000_000}\nold_name:", 1))
    r = storeq_bounded("check", str(longname))
    _refused(r.returncode, r.stderr, "larger than")  # 5 MB is over the file limit before any text limit


def test_an_error_laden_60kb_file_lists_the_first_problems_and_a_count(tmp_path: Path) -> None:
    scen = load_scenario(BASE)
    segs = "".join(f"  - {{name: s{i}, share: -1, priority: x, patience: {{dist: exponential, mean: -{i}}}}}\n" for i in range(900))
    text = BASE.read_text().split("segments:")[0] + "segments:\n" + segs + "transactions:" + BASE.read_text().split("transactions:", 1)[1]
    f = tmp_path / "errors.yaml"
    f.write_text(text)
    assert len(text) > 60_000
    code, _, err = storeq("check", str(f))
    assert code == 2 and "more problems" in err
    assert err.count("\n") <= 52  # at most 50 problems and the count
    assert scen.name  # the valid file is untouched


def test_replications_over_the_limit_from_the_file(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text(BASE.read_text() + "\n# appended\nsimulation_x: 1\n")
    code, _, err = storeq("check", str(f))
    _refused(code, err, "simulation_x", "unknown key")


# ---------------------------------------------------------------------------------------------
# 3. calibration inputs
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from calibration.synth import synth_log

    path = tmp_path_factory.mktemp("log") / "log.csv"
    synth_log(load_scenario(NINE_HOURS), 14, dt.date(2026, 11, 1), seed=3).to_csv(path, index=False)
    return path


MAPPINGS = [
    ("sheet: null\n", "sheet: must be one sheet"),
    ("sheet: [0, 1]\n", "sheet: must be one sheet"),
    ('datetime_format: "%Q"\n', "datetime_format: '%Q' is not a date-time format"),
    ("columns: {issued_at: [a, b]}\n", "columns.issued_at: must be the export's column name"),
    ("values: {outcome: {ok: served, gone: vanished}}\n", "values.outcome: vanished not allowed"),
    ("encoding: rot13\n", "encoding: unknown encoding"),
    ("separator: ''\n", "separator: must be 1 to 10 characters"),
    ("[1, 2]\n", "a mapping file must be a YAML mapping"),
]


@pytest.mark.parametrize(("mapping", "needle"), MAPPINGS, ids=[m[0][:20] for m in MAPPINGS])
def test_bad_mapping_values_are_refused(tmp_path: Path, log_csv: Path, mapping: str, needle: str) -> None:
    m = tmp_path / "map.yaml"
    m.write_text(mapping)
    code, _, err = storeq("calibrate", str(log_csv), "--map", str(m), "--out", str(tmp_path / "s.yaml"))
    _refused(code, err, "map.yaml", needle)
    assert not (tmp_path / "s.yaml").exists()


def _rewrite_times(log: Path, out: Path, fn) -> None:  # type: ignore[no-untyped-def]
    df = pd.read_csv(log, dtype=str)
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        df[col] = df[col].map(lambda v: fn(v) if isinstance(v, str) else v)
    df.to_csv(out, index=False)


def test_mixed_utc_offsets_are_dropped_as_documented(tmp_path: Path, log_csv: Path) -> None:
    mixed = tmp_path / "tz.csv"
    flip = iter(range(10**9))
    _rewrite_times(log_csv, mixed, lambda v: v + ("+08:00" if next(flip) % 2 else "Z"))
    code, out, err = storeq("calibrate", str(mixed), "--out", str(tmp_path / "s.yaml"))
    assert code == 0, err
    assert "2026-11-01 to 2026-11-14" in out and "0 rows" not in err


def test_day_first_dates_are_detected_never_swapped(tmp_path: Path, log_csv: Path) -> None:
    dm = tmp_path / "dm.csv"
    _rewrite_times(log_csv, dm, lambda v: f"{v[8:10]}/{v[5:7]}/{v[:4]}{v[10:]}")
    code, out, err = storeq("calibrate", str(dm), "--out", str(tmp_path / "s.yaml"))
    assert code == 0, err
    assert "2026-11-01 to 2026-11-14" in out and "unparseable" not in err
    early = tmp_path / "early.csv"  # days 1-12 only: day and month cannot be told apart
    df = pd.read_csv(dm, dtype=str)
    df[df["issued_at"].str[:2].astype(int) <= 12].to_csv(early, index=False)
    code, _, err = storeq("calibrate", str(early), "--out", str(tmp_path / "s2.yaml"))
    _refused(code, err, "could be day-first or month-first", "datetime_format")


def test_gbk_export_without_a_mapping_is_read_and_said(tmp_path: Path, log_csv: Path) -> None:
    df = pd.read_csv(log_csv, dtype=str)
    df["segment"] = df["segment"].replace({"regular": "普通"})
    gbk = tmp_path / "gbk.csv"
    df.to_csv(gbk, index=False, encoding="gbk")
    code, out, err = storeq("calibrate", str(gbk), "--out", str(tmp_path / "s.yaml"))
    assert code == 0, err
    assert "GB18030" in err and "普通" in out


def test_regex_separator_is_a_literal(tmp_path: Path, log_csv: Path) -> None:
    m = tmp_path / "map.yaml"
    m.write_text('separator: "(a+)+b"\n')
    r = storeq_bounded("calibrate", str(log_csv), "--map", str(m), "--out", str(tmp_path / "s.yaml"))
    _refused(r.returncode, r.stderr, "not a ticket log")  # read literally: one column, no backtracking


def test_parquet_that_expands_to_millions_of_rows_is_refused_from_its_metadata(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 20_000_000
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"issued_at": pa.nulls(rows, pa.string())}), path, row_group_size=2_000_000)
    assert path.stat().st_size < 2_000_000
    r = storeq_bounded("calibrate", str(path), "--out", str(tmp_path / "s.yaml"))
    _refused(r.returncode, r.stderr, f"has {rows:,} rows", f"at most {limit('log_rows'):,}")


def test_csv_row_cap(tmp_path: Path, log_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calibration import LogError, read_log

    monkeypatch.setitem(LIMITS, "log_rows", Limit(100, "rows", "test"))
    with pytest.raises(LogError, match="at most 100 rows"):
        read_log(log_csv)


def test_calibrate_never_overwrites_an_input_nor_writes_on_failure(tmp_path: Path, log_csv: Path) -> None:
    copy = tmp_path / "v.csv"
    copy.write_bytes(log_csv.read_bytes())
    code, _, err = storeq("calibrate", str(copy), "--out", str(copy))
    _refused(code, err, "is the input file")
    assert copy.read_bytes() == log_csv.read_bytes()
    other = tmp_path / "other.yaml"  # --against with other hours: refused, and no --out file
    other.write_text(BASE.read_text())
    out = tmp_path / "s.yaml"
    code, _, err = storeq("calibrate", str(log_csv), "--out", str(out), "--report", str(tmp_path / "rep"), "--against", str(other), "--replications", "2")
    _refused(code, err, "--against")
    assert not out.exists() and not (tmp_path / "rep").exists()


def test_one_kiosk_ticket_still_gives_a_scenario_that_loads(tmp_path: Path, log_csv: Path) -> None:
    df = pd.read_csv(log_csv, dtype=str)
    df.loc[df.index[5], "channel"] = "kiosk"
    one = tmp_path / "one.csv"
    df.to_csv(one, index=False)
    out = tmp_path / "s.yaml"
    code, _, err = storeq("calibrate", str(one), "--out", str(out))
    if code == 0:
        load_scenario(out)  # what calibrate writes, check accepts
    else:
        _refused(code, err, "too little")


def test_calibrated_scenario_that_check_would_refuse_is_not_written(tmp_path: Path, log_csv: Path) -> None:
    df = pd.read_csv(log_csv, dtype=str)
    df.loc[df.index[3], "transaction"] = "t" * 20_000
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    out = tmp_path / "s.yaml"
    code, _, err = storeq("calibrate", str(bad), "--out", str(out))
    _refused(code, err, "20,000 characters")
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# 4. outputs: never overwrite an input
# ---------------------------------------------------------------------------------------------


def test_run_out_into_the_folder_of_its_input_is_refused(tmp_path: Path) -> None:
    s = tmp_path / "s.yaml"
    s.write_text(BASE.read_text())
    code, _, err = storeq("run", str(s), "-n", "2", "--out", str(tmp_path))
    _refused(code, err, "holds the input")
    assert s.read_text() == BASE.read_text()
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = storeq("run", str(BASE), "-n", "2", "--workers", "1", "--out", str(tmp_path))
    _refused(code, err, "not a storeq result set")
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ---------------------------------------------------------------------------------------------
# 5. nothing a user writes runs in a spreadsheet or a terminal
# ---------------------------------------------------------------------------------------------


def test_names_are_printed_literally() -> None:
    code, out, err = storeq("run", str(BASE), "-n", "2", "--workers", "1", "--set", 'name="[/x] [draft]"', "--set", 'segments.0.name="[/seg]"')
    assert code == 0, err
    assert "[/x] [draft]" in out and "[/seg]" in out
    code, out, err = storeq("run", str(BASE), "-n", "2", "--workers", "1", "--set", r'name="evil\x1b[2J\x07"')  # YAML escapes
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J" in out


def test_formula_names_are_text_in_every_csv_and_excel_output(tmp_path: Path) -> None:
    code, _, err = storeq("run", str(BASE), "-n", "2", "--workers", "1", "--set", "segments.0.name==cmd|' /C calc'!A0", "--out", str(tmp_path / "o"))
    assert code == 0, err
    seg = (tmp_path / "o" / "by_segment.csv").read_text()
    assert "'=cmd|" in seg and "\n=cmd" not in seg and ",=cmd" not in seg
    xlsx = tmp_path / "log.xlsx"
    code, _, err = storeq("synth-log", str(BASE), "--days", "1", "--out", str(xlsx), "--set", 'segments.0.name="@SUM(1+1)"')
    assert code == 0, err
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    csv = tmp_path / "log.csv"
    code, _, err = storeq("synth-log", str(BASE), "--days", "1", "--out", str(csv), "--set", "segments.0.name=+danger")
    assert code == 0, err
    assert ",'+danger," in csv.read_text()
    code, out, err = storeq("calibrate", str(csv), "--out", str(tmp_path / "c.yaml"))  # the quote is read back off
    assert code == 0, err
    assert "+danger" in out and "'+danger" not in out


def test_the_docs_list_every_limit_with_its_value() -> None:
    """The docs' "Limits" tables are generated from simulation.limits; this keeps them in step."""
    docs = (ROOT / "docs" / "scenario-format.md").read_text() + (ROOT / "docs" / "ticket-log.md").read_text()
    for name, lim in LIMITS.items():
        assert f"| `{name}` | {lim.value:,} |" in docs, f"{name} = {lim.value:,} is not in the docs' Limits tables"


def test_synth_log_that_would_exceed_a_log_is_refused_before_simulating(tmp_path: Path) -> None:
    code, _, err = storeq("synth-log", str(BASE), "--days", "3000", "--out", str(tmp_path / "log.csv"))
    _refused(code, err, f"{limit('log_rows'):,} rows", "--days")
    assert not (tmp_path / "log.csv").exists()


def test_run_out_that_would_keep_too_many_customers_is_refused_before_simulating(tmp_path: Path) -> None:
    code, _, err = storeq("run", str(BASE), "-n", str(limit("replications")), "--out", str(tmp_path / "o"))
    _refused(code, err, "keeps one record per customer", f"{limit('customer_records'):,}")
    code, _, err = storeq("run", str(BASE), "-n", str(limit("replications") + 1))
    assert code == 2 and "--replications" in err


def test_optimize_on_a_day_too_short_for_the_default_shifts_is_refused_before_solving(tmp_path: Path) -> None:
    code, _, err = storeq("optimize", str(BASE), "--set", "store.close=10:00", "--set", "demand.arrivals_per_hour=40",
                          "--set", "counters.staffed=3", "--time-limit", "2")
    _refused(code, err, str(BASE), "no shift fits the day", "default shift rules")


def test_calibrate_and_synth_log_argument_edges_are_exit_2(tmp_path: Path, log_csv: Path) -> None:
    code, _, err = storeq("calibrate", str(log_csv), "--out", str(tmp_path / "s.yaml"), "--days", "2027-01-01:2027-02-01")
    _refused(code, err, "no ticket is issued within the days asked for", "2026-11-01 to 2026-11-14")
    code, _, err = storeq("synth-log", str(BASE), "--days", "2", "--out", str(tmp_path / "l.csv"), "--start-date", "9999-12-31")
    _refused(code, err, "past the last date")
    code, _, err = storeq("synth-log", str(BASE), "--days", "1", "--out", str(tmp_path / "l.pdf"))
    _refused(code, err, ".csv, .parquet or .xlsx")


def test_outputs_never_replace_a_device_or_a_pipe(tmp_path: Path, log_csv: Path) -> None:
    fifo = tmp_path / "out.yaml"
    os.mkfifo(fifo)
    code, _, err = storeq("calibrate", str(log_csv), "--out", str(fifo))
    _refused(code, err, "is not a regular file")
    assert fifo.is_fifo()  # a rename would have replaced it (as root: even /dev/full) with a plain file
