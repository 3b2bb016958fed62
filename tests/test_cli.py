"""The ``storeq`` command line against its contract (DESIGN.md, "The CLI contract").

Most tests drive the click group in-process with ``CliRunner`` (stdout and stderr captured apart);
two run the real thing in a subprocess, so the console script, ``python -m cli`` and the exit codes
are checked as a user's shell sees them. Runs are kept to a few replications of a small store so
the file stays well under its time budget.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from small_store import SMALL

from simulation import KPI_NAMES, load_scenario, scenario_from_yaml
from storeq.cli import app as cli_app
from storeq.cli import common as cli_common
from storeq.cli import compare as cli_compare
from storeq.cli import group as cli_group
from storeq.cli import main
from storeq.cli import run as cli_run

REPO = Path(__file__).resolve().parent.parent
FLAGSHIP = REPO / "scenarios" / "telecom_month_end.yaml"

# A small store (3 hours, hourly grid) so a few replications take a fraction of a second.

CONTRACT_KEYS = {"scenario", "replications", "seed", "kpis", "by_segment", "intervals"}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# ----- json: the machine contract -----


def test_run_json_is_exactly_one_object_with_the_contract_keys(small: Path) -> None:
    result = invoke("run", small, "--format", "json", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # the whole of stdout parses: nothing else was printed
    assert isinstance(data, dict)
    assert set(data) >= CONTRACT_KEYS
    assert data["replications"] == 4 and data["seed"] == 3
    assert set(KPI_NAMES) <= set(data["kpis"])
    for name in KPI_NAMES:
        assert set(data["kpis"][name]) >= {"mean", "ci_low", "ci_high"}
    assert [iv["start"] for iv in data["intervals"]] == ["09:00", "10:00", "11:00"]
    for iv in data["intervals"]:
        for name in ("arrivals", "mean_wait_min", "service_level", "mean_queue_len", "utilization", "staffed"):
            assert set(iv[name]) >= {"mean", "ci_low", "ci_high"}, name
    assert set(data["by_segment"]) == {"regular", "vip"}
    assert set(data["by_segment"]["vip"]["mean_wait_min"]) >= {"mean", "ci_low", "ci_high"}
    # conservation, as the contract's day KPIs report it
    k = {name: v["mean"] for name, v in data["kpis"].items()}
    assert k["arrivals"] == pytest.approx(k["served"] + k["abandoned"] + k["balked"])
    assert result.stderr == ""  # no progress bar, no notes in json mode


def test_run_json_options_override_the_scenario(small: Path) -> None:
    result = invoke("run", small, "--format", "json", "-n", "3", "--seed", "11", "--set", "counters.staffed=5")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["replications"], data["seed"]) == (3, 11)
    assert [iv["staffed"]["mean"] for iv in data["intervals"]] == [5, 5, 5]


def test_run_json_is_the_same_whatever_the_number_of_workers(small: Path) -> None:
    one = json.loads(invoke("run", small, "--format", "json", "--workers", "1").stdout)
    two = json.loads(invoke("run", small, "--format", "json", "--workers", "2").stdout)
    assert one["kpis"] == two["kpis"]
    assert one["intervals"] == two["intervals"]


def test_subprocess_json_mode_stdout_is_one_object(small: Path) -> None:
    # the real process: python -m cli, as a script would call it
    proc = subprocess.run(
        [sys.executable, "-m", "storeq", "run", str(small), "--format", "json", "-n", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) >= CONTRACT_KEYS
    assert "Traceback" not in proc.stderr


def _console_script() -> str | None:
    # the script installed with this interpreter (a venv's bin/ may not be on PATH), else PATH's
    beside = Path(sys.executable).parent / "storeq"
    return str(beside) if beside.is_file() else shutil.which("storeq")


def test_console_script_exit_code_2_for_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("counters:", "conters:"), encoding="utf-8")
    script = _console_script()
    assert script is not None, "the storeq console script is not installed beside this Python or on PATH"
    proc = subprocess.run([script, "run", str(bad), "--format", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "did you mean `counters`?" in proc.stderr
    assert "Traceback" not in proc.stderr


# ----- errors: exit 2, readable, nothing on stdout -----


def test_bad_scenario_exits_2_with_a_message_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("acceptance: 0.3", "acceptance: 3"), encoding="utf-8")
    result = invoke("run", bad, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = _stderr_lines(result)
    assert lines == [f"storeq: error: {bad}: cross_sell.acceptance: must be at most 1.0, got 3"]


def test_bad_set_value_exits_2(small: Path) -> None:
    result = invoke("run", small, "--set", "counters.staffed=many")
    assert result.exit_code == 2
    lines = _stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith(f"storeq: error: {small} with --set: counters.staffed: must be a whole number")


def test_set_without_equals_exits_2(small: Path) -> None:
    result = invoke("run", small, "--set", "counters.staffed")
    assert result.exit_code == 2
    assert _stderr_lines(result) == [
        "storeq: error: --set: expected KEY=VALUE (e.g. counters.staffed=7), got 'counters.staffed'"
    ]


def test_set_unknown_list_element_exits_2(small: Path) -> None:
    result = invoke("run", small, "--set", "segments.gold.share=0.5")
    assert result.exit_code == 2
    assert "no element 'gold'; use an index or one of: regular, vip" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert _stderr_lines(result) == [f"storeq: error: {tmp_path / 'nope.yaml'}: file not found"]


def test_bad_option_value_exits_2(small: Path) -> None:
    result = invoke("run", small, "--replications", "0")
    assert result.exit_code == 2
    assert "--replications" in result.stderr


def test_out_that_is_a_file_exits_2(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = invoke("run", small, "-n", "2", "--out", target)
    assert result.exit_code == 2
    assert "taken" in result.stderr


def test_unwritable_out_is_refused_before_simulating(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulation

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the simulation must not start when --out cannot be written")

    monkeypatch.setattr(simulation, "run", never)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = invoke("run", small, "--out", blocker / "results")
    assert result.exit_code == 2
    assert _stderr_lines(result) == [
        f"storeq: error: --out {blocker / 'results'}: {blocker} exists and is not a folder"
    ]


def test_failure_exits_1_without_traceback(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulation

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("worker died")

    monkeypatch.setattr(simulation, "run", boom)
    monkeypatch.delenv("STOREQ_DEBUG", raising=False)
    result = invoke("run", small)
    assert result.exit_code == 1
    assert "storeq: failed: RuntimeError: worker died" in result.stderr
    assert "Traceback" not in result.stderr


# ----- table and csv -----


def test_table_mode_is_readable(small: Path) -> None:
    result = invoke("run", small, "-n", "3")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("Small hall", "Day KPIs", "Mean wait (min)", "Service level", "95% CI", "By segment", "Per interval"):
        assert text in out, text
    for start in ("09:00", "10:00", "11:00"):
        assert start in out
    assert "regular" in out and "vip" in out
    assert "nan" not in out.lower()


def test_csv_mode_is_tidy_day_kpis(small: Path) -> None:
    result = invoke("run", small, "-n", "3", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    df = pd.read_csv(io.StringIO(result.stdout))
    assert list(df.columns) == ["kpi", "unit", "mean", "ci_low", "ci_high"]
    assert set(KPI_NAMES) <= set(df["kpi"])
    row = df.set_index("kpi").loc["mean_wait_min"]
    assert row["unit"] == "min" and row["ci_low"] <= row["mean"] <= row["ci_high"]


# ----- --out -----


def test_out_writes_frames_scenario_and_provenance(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = invoke("run", small, "-n", "3", "--set", "counters.staffed=4", "--out", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # still exactly one object
    for name in ("kpis", "days", "intervals", "interval_reps", "by_segment", "customers"):
        assert (out / f"{name}.csv").is_file(), name
        assert (out / f"{name}.parquet").is_file(), name
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]

    days = pd.read_parquet(out / "days.parquet")
    assert len(days) == 3
    customers = pd.read_csv(out / "customers.csv")
    assert len(customers) == int(days["arrivals"].sum())  # per-customer records kept with --out
    assert (days["arrivals"] == days["served"] + days["abandoned"] + days["balked"]).all()

    written = scenario_from_yaml((out / "scenario.yaml").read_text(), "scenario.yaml")
    assert written == load_scenario(small, ["counters.staffed=4"])  # the scenario actually run
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["replications"] == 3
    assert prov["scenario_hash"] == written.digest()
    assert prov["overrides"] == ["counters.staffed=4"]


def test_interrupted_write_leaves_no_partial_file(small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "results"
    assert invoke("run", small, "-n", "2", "--out", out).exit_code == 0
    before = (out / "days.parquet").read_bytes()

    real = pd.DataFrame.to_parquet

    def half_then_fail(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        # write a few bytes to the temporary file, then die the way a full disk or Ctrl+C would
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_fail)
    result = invoke("run", small, "-n", "3", "--out", out)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert (out / "days.parquet").read_bytes() == before  # the old file is untouched, not half-replaced
    assert pd.read_parquet(out / "days.parquet").shape[0] == 2
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_atomic_text_write_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "provenance.json"
    cli_common.write_text(path, "old\n")

    def fail(self: Path, *args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(KeyboardInterrupt):
        cli_common.write_text(path, "new\n")
    monkeypatch.undo()
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["provenance.json"]


# ----- compare -----


def test_compare_one_more_counter_lowers_the_wait() -> None:
    # The flagship hall's month-end afternoon is its bottleneck; one more counter in every interval
    # must shorten waits. 20 paired replications on common random numbers: the month-end hall is busy,
    # so one counter moves the mean wait by minutes while the paired CI half-width stays well under
    # that, and the whole CI lies below zero.
    flagship = load_scenario(FLAGSHIP)
    plus_one = [int(c) + 1 for c in flagship.staffed_schedule()]
    override = f"counters.staffed=[{','.join(map(str, plus_one))}]"
    result = invoke("compare", FLAGSHIP, "--set", override, "-n", "20", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    label = f"{flagship.name} + {override}"
    assert data["baseline"] == flagship.name
    assert [s["label"] for s in data["scenarios"]] == [flagship.name, label]
    wait = data["differences"][label]["mean_wait_min"]
    assert wait["diff_mean"] < 0
    assert wait["ci_low"] <= wait["diff_mean"] <= wait["ci_high"] < 0
    hours = flagship.store.duration_min / 60
    cost = data["differences"][label]["staff_cost"]
    assert cost["diff_mean"] == pytest.approx(hours * flagship.costs.staff_hour)  # one more agent all day
    assert len(data["interval_differences"][label]) == flagship.n_intervals


def test_compare_table_and_csv(small: Path) -> None:
    result = invoke("compare", small, "--set", "counters.staffed=5", "-n", "3")
    assert result.exit_code == 0, result.stderr
    assert "95% CI of Δ" in result.stdout and "#2: Small hall + counters.staffed=5" in result.stdout
    result = invoke("compare", small, "--set", "counters.staffed=5", "-n", "3", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    df = pd.read_csv(io.StringIO(result.stdout))
    assert list(df.columns) == [
        "scenario", "kpi", "unit", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high",
    ]  # fmt: skip
    base = df[df["scenario"] == "Small hall"]
    alt = df[df["scenario"] == "Small hall + counters.staffed=5"].set_index("kpi")
    assert base["diff_mean"].isna().all()
    assert alt.loc["staff_hours", "diff_mean"] == pytest.approx(5 * 3 - (3 + 4 + 3))


def test_compare_labels_by_file_name_when_names_repeat(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "more_staff.yaml"
    other.write_text(SMALL.replace("staffed: [3, 4, 3]", "staffed: [4, 5, 4]"), encoding="utf-8")
    out = tmp_path / "cmp"
    result = invoke("compare", small, other, "-n", "3", "--format", "json", "--out", out)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["label"] for s in data["scenarios"]] == ["small.yaml", "more_staff.yaml"]
    assert data["differences"]["more_staff.yaml"]["staff_hours"]["diff_mean"] == pytest.approx(3)
    for name in ("kpis", "differences", "interval_differences", "days", "intervals"):
        assert (out / f"{name}.csv").is_file(), name
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == ["more_staff.yaml", "small.yaml"]
    assert load_scenario(out / "scenarios" / "more_staff.yaml").counters.staffed == (4, 5, 4)
    days = pd.read_csv(out / "days.csv")
    assert set(days["scenario"]) == {"small.yaml", "more_staff.yaml"}


def test_compare_several_files_applies_set_to_each(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.replace("name: Small hall", "name: Other hall"), encoding="utf-8")
    result = invoke("compare", small, other, "--set", "counters.staffed=6", "-n", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["baseline"] == "Small hall"
    # both files got 6 counters, and they are otherwise the same store on the same customers
    assert data["differences"]["Other hall"]["staff_hours"]["diff_mean"] == 0
    assert data["differences"]["Other hall"]["mean_wait_min"]["diff_mean"] == 0


def test_compare_one_file_without_set_exits_2(small: Path) -> None:
    result = invoke("compare", small)
    assert result.exit_code == 2
    assert "compare needs two or more scenario files, or one file and --set" in result.stderr


# ----- check -----


def test_check_summarises_valid_files(small: Path) -> None:
    result = invoke("check", small, "--set", "counters.staffed=5")
    assert result.exit_code == 0, result.stderr
    # demand 30 + 50 + 40 an hour for three hourly intervals = 120 a day; 5 counters × 3 h
    assert result.stdout == (
        f"{small}: OK: Small hall: 09:00-12:00 in 3 × 60 min; about 120 walk-ins a day; "
        "5 counters staffed (15 staff-hours); 2 segments, 2 transactions, 1 kiosk\n"
    )


def test_check_notes_day_factors_without_a_date(small: Path) -> None:
    result = invoke("check", small, "--set", "demand.weekday_factors=[1, 1, 1, 1, 1.3, 0.8, 0]")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith(
        "note: weekday/day-of-month factors are set but store.date is not, so they do not apply"
    )
    dated = invoke(
        "check", small, "--set", "demand.weekday_factors=[1, 1, 1, 1, 1.3, 0.8, 0]", "--set", "store.date=2026-11-27"
    )
    assert "on 2026-11-27 (demand × 1.3)" in dated.stdout and "note:" not in dated.stdout


def test_check_reports_every_bad_file_and_exits_2(small: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("interval_min: 60", "interval_min: 45"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    result = invoke("check", bad, small, missing)
    assert result.exit_code == 2
    assert result.stdout.startswith(f"{small}: OK: Small hall")
    assert _stderr_lines(result) == [
        f"storeq: error: {bad}: store.interval_min: must be one of 15, 30, 60 minutes, got 45",
        f"{missing}: file not found",
    ]


def test_check_with_staff_reads_the_file_as_the_week_plan_would(tmp_path: Path) -> None:
    bank = REPO / "scenarios" / "bank_branch.yaml"
    staff = tmp_path / "staff.yaml"
    staff.write_text(
        "staff:\n"
        "  - {name: Ana, group: tellers, min_hours: 20, max_hours: 40}\n"
        "  - {name: Ben, group: [advisers, tellers], max_hours: 30}\n"
        "  - {name: Cy, group: [private_banking, loans], min_hours: 8, max_hours: 24}\n"
        "  - {name: Dee, group: loans, max_hours: 10}\n"
        "  - {name: Eve, group: tellers, availability: {mon: ['18:00-21:00']}}\n",
        encoding="utf-8",
    )
    result = invoke("check", bank, "--staff", staff)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == (
        f"{staff}: OK for High-street bank branch, Monday after payday: 5 people; by counter group: "
        "private_banking 1, advisers 1, tellers 2 (+1 who can also work it); contract hours 28-144 a week"
    )
    notes = [line for line in lines if line.startswith("  note: ")]
    assert any("Dee: no `group:` naming one of this store's counter groups" in n for n in notes)
    assert any("Cy: loans is not a counter group of this store; works private_banking only" in n for n in notes)
    assert any("Eve: never available while the store is open (09:00-17:00)" in n for n in notes)
    # A one-pool staff list for the bank: refused as storeq optimize refuses it, before any plan.
    one_pool = invoke("check", bank, "--staff", REPO / "scenarios" / "staff_week.yaml")
    assert one_pool.exit_code == 2 and "nobody has a group: naming one of this store's counter groups" in one_pool.stderr
    # A bad staff file: every problem named, the scenario still summarised.
    bad = tmp_path / "bad.yaml"
    bad.write_text("staff:\n  - {name: Ana, max_hours: lots}\n", encoding="utf-8")
    broken = invoke("check", bank, "--staff", bad)
    assert broken.exit_code == 2 and broken.stdout.startswith(f"{bank}: OK:")
    assert "staff[0](Ana).max_hours" in broken.stderr


# ----- the rest of the group -----


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("storeq, version ")


def test_app_launches_streamlit_on_localhost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "app.py"
    app.write_text("")
    calls: list[list[str]] = []
    monkeypatch.setattr(cli_app, "_app_path", lambda: app)
    monkeypatch.setattr(cli_app.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    result = invoke("app", "--port", "8600", "--no-browser")
    assert result.exit_code == 0
    (cmd,) = calls
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(app)]
    assert cmd[cmd.index("--server.address") + 1] == "localhost"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_app_path_is_the_packaged_streamlit_entry() -> None:
    path = cli_app._app_path()
    assert path.is_file() and path.name == "streamlit_app.py" and path.parent.name == "app"


def test_every_registered_command_loads_and_is_listed() -> None:
    # a command module that fails to import is a bug: it must fail here, not hide from --help
    for name in cli_group.REGISTRY:
        assert cli_group.load_command(name).name == name
    listed = invoke("--help").stdout
    for name in cli_group.REGISTRY:
        assert f"  {name} " in listed, name


def test_a_command_is_imported_only_when_used(small: Path) -> None:
    # `storeq run` must not pay for OR-Tools or the calibration stack
    code = (
        "import sys\n"
        "from storeq.cli import main\n"
        f"sys.argv = ['storeq', 'run', {str(small)!r}, '-n', '1', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('ortools', 'optimizer', 'calibration')"
        " or m in ('storeq.cli.optimize', 'storeq.cli.calibrate', 'storeq.cli.compare', 'streamlit'))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["replications"] == 1
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_unknown_command_exits_2() -> None:
    assert invoke("no-such-command").exit_code == 2


# ----- progress, interruption, degenerate runs -----


def test_progress_bar_is_off_in_json_mode_and_on_otherwise(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, bool]] = []
    real = cli_common.progress

    def spy(total: int, label: str, enabled: bool = True, **kwargs: Any) -> Any:
        seen.append((total, enabled))
        return real(total, label, enabled=enabled, **kwargs)

    monkeypatch.setattr(cli_run, "progress", spy)
    monkeypatch.setattr(cli_compare, "progress", spy)
    assert invoke("run", small, "-n", "3", "--format", "json").exit_code == 0
    assert invoke("run", small, "-n", "3").exit_code == 0
    assert invoke("compare", small, "--set", "counters.staffed=5", "-n", "3", "--format", "csv").exit_code == 0
    assert seen == [(3, False), (3, True), (6, True)]


def test_progress_callback_reaches_the_engine(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    calls: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def recording(total: int, label: str, enabled: bool = True, **kwargs: Any) -> Any:
        yield lambda done, total_: calls.append((done, total_))

    monkeypatch.setattr(cli_run, "progress", recording)
    assert invoke("run", small, "-n", "4", "--workers", "1").exit_code == 0
    assert calls and calls[-1] == (4, 4)


def test_ctrl_c_exits_130_with_a_note(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulation

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(simulation, "run", interrupted)
    result = invoke("run", small, "--out", small.parent / "never")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert not (small.parent / "never").exists()


def test_one_replication_has_no_ci_and_says_so(small: Path) -> None:
    data = json.loads(invoke("run", small, "-n", "1", "--format", "json").stdout)
    assert data["kpis"]["mean_wait_min"]["ci_low"] is None  # JSON null, not NaN
    table = invoke("run", small, "-n", "1").stdout
    assert "1 replication," in table and "no confidence interval" in table
    assert "nan" not in table.lower()


def test_store_with_no_customers_runs(small: Path) -> None:
    result = invoke("run", small, "-n", "2", "--set", "demand.scale=0", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kpis"]["arrivals"]["mean"] == 0
    assert invoke("run", small, "-n", "2", "--set", "demand.scale=0").exit_code == 0


def test_progress_bar_draws_on_stderr_never_stdout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # stderr is a terminal and stdout is redirected (storeq run ... --format csv > kpis.csv): the bar
    # must show on stderr and leave stdout to the results
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("FORCE_TERMINAL", "1")
    with cli_common.progress(10, "Simulating 10 days", delay_s=0) as update:
        for done in range(1, 11):
            update(done, 10)
    out, err = capsys.readouterr()
    assert out == ""
    assert "Simulating 10 days" in err


def test_progress_bar_waits_for_a_slow_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("FORCE_TERMINAL", "1")
    with cli_common.progress(10, "Simulating 10 days", delay_s=60) as update:
        for done in range(1, 11):
            update(done, 10)
    assert capsys.readouterr() == ("", "")  # a run shorter than the delay stays quiet
