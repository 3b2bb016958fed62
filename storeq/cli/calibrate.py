"""``storeq calibrate`` and ``storeq synth-log``: a scenario from a ticket log, and a ticket log from a scenario.

    storeq calibrate LOG [--map mapping.yaml] [--interval 30] --out scenario.yaml [--report DIR]
                         [--days FROM:TO] [--format text|json] [--replications N] [--seed S] [--workers N]
                         [--executor processes|dask] [--scheduler ADDRESS]
    storeq synth-log SCENARIO --days N --out log.csv [--start-date 2026-11-01] [--seed S] [--set key=value ...]

Rows the calibration cannot use are counted per category and reported on stderr (text mode) or in
the JSON object (``issues``); a file that is not a ticket log at all is one message and exit code 2.
The log format and the mapping file are documented in ``docs/ticket-log.md``.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import click
import pandas as pd

from calibration import LogError, clean, fit_report, read_log, read_mapping, report_figures, report_html
from calibration import calibrate as fit_calibration
from calibration import io as cal_io
from calibration.synth import synth_log as make_synth_log
from simulation import ScenarioError, format_clock, load_scenario, scenario_from_yaml
from simulation.limits import limit
from simulation.scenario import expected_customers_per_day
from storeq.cli.common import (
    InputError,
    emit_json,
    executor_options,
    handle_errors,
    open_executor,
    progress,
    terminal_safe,
    write_text,
)
from storeq.outputs import _same_or_inside, check_not_input, check_target, output_set, write_json


def _parse_days(value: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if not value:
        return None, None
    a, sep, b = value.partition(":")
    if not sep:
        a = b = value
    try:
        first = pd.Timestamp(a).normalize() if a.strip() else None
        last = pd.Timestamp(b).normalize() if b.strip() else None
    except ValueError:
        raise InputError(f"--days {value!r}: expected FROM:TO dates like 2026-11-01:2026-11-30 (either side may be empty)") from None
    if first is not None and last is not None and last < first:
        raise InputError(f"--days {value!r}: the last day is before the first")
    return first, last


def _text_summary(cal: Any) -> list[str]:
    s = cal.summary()
    out = [
        f"Calibrated {s['source']}: {s['tickets_used']:,} tickets of {s['rows_read']:,} rows, {s['days']} days "
        f"({s['first_day']} to {s['last_day']}), hours {s['hours']}.",
        "Typical-day arrivals per hour: " + ", ".join(f"{lab} {x:g}" for lab, x in zip(cal.interval_labels(), s["arrivals_per_hour"], strict=True)),
        "Weekday factors (Mon..Sun): " + ", ".join("-" if x is None else f"{x:.2f}" for x in s["weekday_factors"]),
        "Day-of-month factors: " + (", ".join(f"{k}: {v:.2f}" for k, v in s["day_of_month_factors"].items()) or "none stand out"),
        f"Busiest day {cal.profiles()['busiest_day'].iloc[0]}, tickets per hour: "
        + ", ".join(f"{lab} {x:g}" for lab, x in zip(cal.interval_labels(), cal.profiles()["busiest_day_per_hour"], strict=True)),
        "Segments: " + ", ".join(f"{k} {v:.1%}" for k, v in s["segments"].items()),
        "Transactions: " + ", ".join(f"{k} {v:.1%}" for k, v in s["transactions"].items()),
    ]
    if s["kiosk_adoption"] is not None:
        out.append(f"Kiosk share of kiosk-able tickets: {s['kiosk_adoption']:.1%} ({cal.kiosk_count} kiosks)")
    out.append("Service times (AIC winner, KS distance):")
    for r in s["service"]:
        cv = "" if r["dist"] == "exponential" else f", cv {r['cv']:.2f}"
        out.append(f"  {r['channel']:12s} {r['transaction']:16s} n={r['n']:<7} {r['dist']:11s} mean {r['mean']:.2f}{cv}  KS {r['ks']:.3f}")
    out.append("Patience (censored fit vs naive abandoners-only mean):")
    for r in s["patience"]:
        out.append(
            f"  {r['segment']:16s} abandoned {r['abandoned']:<6} censored {r['served_censored']:<7} "
            f"{r['chosen']} mean {(r['lognormal_mean'] if r['chosen'] == 'lognormal' else r['exponential_mean']):.1f} min; "
            f"naive {r['naive_abandoners_mean']:.1f} min" + ("" if r["own_fit"] else "  (too few abandonments: the all-segments fit is used)")
        )
    if s["cross_sell"] is not None:
        cs = s["cross_sell"]
        rule = (
            f"suspended from a queue of {cs['queue_threshold']}" if cs["queue_threshold"] is not None
            else f"suspended {', '.join(cs['suspend_windows'])}" if cs["suspend_windows"] else "at all times"
        )
        out.append(
            f"Cross-selling read from the log: pitch {cs['pitch_mean']:.1f} min (cv {cs['pitch_cv']:.2f}), {rule}"
            + (f"; never pitched: {', '.join(cs['never_pitched'])}" if cs["never_pitched"] else "")
            + " (counter times above include pitches; the scenario's are the main transaction alone)"
        )
    out.append("Staffed counters per interval: " + " ".join(str(x) for x in s["staffed"]) + f" (VIP counters: {s['vip_counters']})")
    out.extend(f"Note: {n}" for n in s["notes"])
    return out


@click.command("calibrate")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_path", type=click.Path(dir_okay=False), help="Column mapping YAML for an export with other column names (docs/ticket-log.md).")
@click.option("--interval", type=click.Choice(["15", "30", "60"]), default="30", show_default=True, help="Interval length in minutes.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Where to write the calibrated scenario YAML.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help="Write a fit report (HTML, PNG, CSV) to this folder.")
@click.option("--days", "days", help="Only these issue dates: FROM:TO (e.g. 2026-11-01:2026-11-30; either side may be empty).")
@click.option("--name", help="Scenario name (default: 'Calibrated from LOG').")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--replications", type=click.IntRange(2, 1000), default=20, show_default=True, help="Fit report: replications per simulated day.")
@click.option("--seed", type=click.IntRange(0), default=1, show_default=True, help="Fit report: random seed.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Fit report: worker processes.")
@click.option(
    "--against", "against", type=click.Path(dir_okay=False),
    help="Fit report: simulate this scenario (e.g. the calibrated one after your edits) instead of the fresh fit.",
)
@executor_options
@handle_errors
def calibrate(
    log: str, map_path: str | None, interval: str, out_path: str, report_dir: str | None, days: str | None,
    name: str | None, fmt: str, replications: int, seed: int, workers: int, against: str | None,
    executor: str, scheduler: str | None,
) -> None:
    """Fit a scenario to a ticket log (arrivals, shares, service times, patience, staffing).

    With --report, the scenario is simulated on the log's days and compared with it; --against
    compares an edited scenario instead (same hours and interval), to see whether an edit fits better.
    """
    if against is not None and report_dir is None:
        raise InputError("--against needs --report DIR: it chooses the scenario the report simulates")
    if report_dir is None and (executor != "processes" or scheduler is not None):
        raise InputError("--executor/--scheduler need --report DIR: they choose where the fit report simulates")
    inputs = [p for p in (log, map_path, against) if p is not None]
    check_not_input(out_path, inputs)
    check_target(report_dir, inputs, option="--report")
    if report_dir is not None and _same_or_inside(Path(out_path), Path(report_dir)):
        raise InputError(f"--out {out_path}: is inside --report {report_dir}, which is replaced as a whole; write it elsewhere")
    window = _parse_days(days)
    other = load_scenario(against) if against is not None else None  # a bad --against fails before any work
    try:
        # a million-row export takes some seconds per stage: say which (terminal, text mode only)
        with progress(3, "reading, cleaning, fitting", enabled=fmt == "text") as cb:
            mapping = read_mapping(map_path)
            raw = read_log(log, mapping)
            for note in raw.attrs.get("notes", []):
                click.echo(f"storeq: note: {note}", err=True)
            cb(1, 3)
            cleaned = clean(raw, mapping, source=Path(log).name, days=window, interval_min=int(interval))
            del raw
            cb(2, 3)
            cal = fit_calibration(cleaned, int(interval), name=name)
            cb(3, 3)
    except LogError as exc:
        raise InputError(str(exc)) from None
    _check_calibrated(cal.yaml_text, out_path, cleaned)
    result: dict[str, Any] = {"scenario_file": out_path, **cal.summary()}
    if fmt == "text":
        for line in cleaned.summary_lines():
            click.echo(f"storeq: skipped/partial: {line}", err=True)
    if report_dir is not None:
        n_days = min(len(cal.days), 31)
        if other is not None and (other.store.open_min, other.store.interval_min, other.n_intervals) != (cal.open_min, cal.interval_min, cal.scenario.n_intervals):
            raise InputError(
                f"--against {against}: hours {other.store.open}-{other.store.close} in {other.store.interval_min}-minute intervals; "
                f"the log gives {format_clock(cal.open_min)}-{format_clock(cal.close_min)} in {cal.interval_min}-minute intervals (use --interval)"
            )
        # one executor for every simulated day (a Dask cluster is started once, not per day)
        with (
            open_executor(executor, scheduler, workers) as ex,
            progress(n_days, "simulating the log's days", enabled=fmt == "text") as cb,
        ):
            rep = fit_report(
                cal, replications=replications, seed=seed, workers=workers, scenario=other, progress=cb, executor=ex
            )
        figs = report_figures(cal, rep)
        images = [f"{k}.png" for k in figs]
        frames = {"fit_intervals": rep.intervals, "fit_day": rep.day, "fit_by_day": rep.by_day, "fit_by_segment": rep.by_segment, **({"fit_by_group": rep.by_group} if not rep.by_group.empty else {}), "profiles": cal.profiles(), "service_fits": cal.service_table(),
                  "patience": cal.patience_table(), "data_issues": cleaned.issues, "day_of_month": cal.arrivals.dom_table,
                  "service_by_interval": cal.service_by_interval}
        # the report is one set (swapped in whole), written before the scenario so a failure leaves neither new
        with output_set(report_dir, inputs, option="--report") as stage:
            staged = cal_io.write_report(stage, frames, figs, report_html(cal, rep, images))
            write_json(stage / "provenance.json", _provenance(log, map_path, against, cal, replications, seed))
        written = [Path(report_dir) / p.relative_to(stage) for p in staged] + [Path(report_dir) / "provenance.json"]
        result["report"] = {"folder": report_dir, "files": [str(p) for p in written], "verdict": list(rep.verdict), "day": rep.day.to_dict("records")}
    # Everything is written before anything is printed: a reader that stops early (| head) cannot
    # leave the report without its scenario.
    write_text(Path(out_path), cal.yaml_text)
    if fmt == "text":
        click.echo(terminal_safe("\n".join(_text_summary(cal))))  # names from the log are shown, never obeyed
        click.echo(f"Wrote {out_path} (hours {format_clock(cal.open_min)}-{format_clock(cal.close_min)}, {cal.scenario.n_intervals} intervals).")
        if report_dir is not None:
            click.echo("Fit report verdict:")
            for v in result["report"]["verdict"]:
                click.echo(f"  - {v}")
            click.echo(f"Wrote the fit report to {report_dir}/report.html")
    if fmt == "json":
        emit_json(result)


def _check_calibrated(yaml_text: str, out_path: str, cleaned: Any) -> None:
    """Refuse, before writing, a calibrated scenario that ``storeq check`` would refuse.

    The scenario is re-read from its own YAML text exactly as ``storeq check`` reads the file, so
    what is written always loads; a log too thin to fit (one kiosk ticket, a single segment with a
    5 MB name) gets a message instead of an unloadable file.
    """
    try:
        scenario_from_yaml(yaml_text, out_path)
    except ScenarioError as exc:
        raise InputError(
            f"the scenario calibrated from {cleaned.source} ({cleaned.rows_read:,} rows, {len(cleaned.tickets):,} usable) "
            f"would not load, so it was not written (too little or unusable data?):\n{exc}"
        ) from None


def _provenance(log: str, map_path: str | None, against: str | None, cal: Any, replications: int, seed: int) -> dict[str, Any]:
    from storeq.cli.report import command_line

    return {
        "command": command_line(),
        "log": log,
        "mapping": map_path,
        "against": against,
        "scenario_hash": cal.scenario.digest(),
        "replications": replications,
        "seed": seed,
    }


@click.command("synth-log")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--days", "n_days", type=click.IntRange(1, 3660), required=True, help="Number of consecutive days to simulate.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Log file to write (.csv, .parquet or .xlsx).")
@click.option("--start-date", default="2026-11-01", show_default=True, help="First day (YYYY-MM-DD).")
@click.option("--seed", type=click.IntRange(0), default=None, help="Random seed (default: the scenario's).")
@click.option("--set", "overrides", multiple=True, help="Override a scenario key, e.g. --set counters.staffed=7.")
@handle_errors
def synth_log(scenario: str, n_days: int, out_path: str, start_date: str, seed: int | None, overrides: tuple[str, ...]) -> None:
    """Write a realistic ticket log simulated from a scenario (same schema calibrate reads)."""
    try:
        first = _dt.date.fromisoformat(start_date)
        _ = first + _dt.timedelta(days=n_days)  # the last day must be a date too (not past 9999-12-31)
    except ValueError:
        raise InputError(f"--start-date {start_date!r}: expected a date like 2026-11-01") from None
    except OverflowError:
        raise InputError(f"--start-date {start_date}: {n_days} days from it run past the last date a calendar holds (9999-12-31)") from None
    if Path(out_path).suffix.lower() not in cal_io.LOG_SUFFIXES:
        raise InputError(f"--out {out_path}: a ticket log is written as .csv, .parquet or .xlsx (by the file's suffix)")
    check_not_input(out_path, [scenario])
    s = load_scenario(scenario, list(overrides) or None)
    expected = expected_customers_per_day(s) * n_days  # every ticket is held until the log is written
    if expected > limit("log_rows"):
        raise InputError(
            f"--days {n_days}: about {expected:,.0f} tickets, more than a ticket log may hold ({limit('log_rows'):,} rows, "
            f"which calibrate would refuse too); use --days {max(1, int(limit('log_rows') // max(expected / n_days, 1))):,} or fewer"
        )
    with progress(n_days, "simulating days") as cb:
        log = make_synth_log(s, n_days, first, seed=seed, progress=cb)
    cal_io.write_log(log, out_path)
    counts = log["outcome"].value_counts().to_dict()
    click.echo(
        f"Wrote {len(log):,} tickets over {n_days} days from {first} to {out_path} "
        f"(served {counts.get('served', 0):,}, abandoned {counts.get('abandoned', 0):,}; balked customers took no ticket)."
    )
