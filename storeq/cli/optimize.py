"""``storeq optimize``: the cheapest verified roster for a service target, and when to stop pitching.

Arguments → Scenario (+ optional shift-rules and staff files) → :func:`optimizer.optimize_day` or
:func:`optimizer.optimize_week` → output. Registered in ``storeq.cli.group.REGISTRY`` (``"storeq.cli.optimize:optimize"``); imports only ``storeq.cli.common``, ``simulation`` and ``optimizer``.

Output: ``table`` (for a person: shifts, plan per interval, verification, pitch rule), ``json`` (one
object: status, objective, bound, gap, staff_hours, staff_cost, pitch_windows, shifts, intervals,
verification, ...), ``csv`` (the per-interval plan). ``--out DIR`` writes ``roster`` (one row per
shift, or per person-day with ``--staff``), ``plan`` (per interval), ``verification`` and
``policies`` as CSV + Parquet, ``plan.json``, and the optimized scenario(s) as YAML.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from storeq.cli.common import (
    InputError,
    emit_json,
    executor_options,
    handle_errors,
    open_executor,
    plain,
    progress,
    write_frames,
    write_text,
)

FORMATS = ("table", "json", "csv")


def _group_lows(group: dict[str, Any]) -> str:
    """Where a group's own customers fare worst: its lowest service level and share of days meeting
    the target, each with its interval (the line names misses; this shows how close the rest come)."""
    out = []
    for what, get in (
        ("lowest served within target", lambda r: r["service_level"]["mean"]),
        ("lowest share of days meeting it", lambda r: r.get("share_of_days_meeting")),
    ):
        known = [(float(get(r)), r["start"]) for r in group.get("intervals", []) if _finite(get(r))]
        if known:
            value, start = min(known, key=lambda vs: vs[0])
            out.append(f"{what} {_pct(value)} at {start}")
    return "; " + "; ".join(out) if out else ""


def _finite(x: Any) -> bool:
    return x is not None and math.isfinite(float(x))


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(v) else f"{v:.1%}"


def _money(x: Any) -> str:
    return "-" if x is None else f"{float(x):,.2f}"


def _console(width: int = 110) -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else width, highlight=False, soft_wrap=False)


def _header(console: Any, data: dict[str, Any], title: str) -> None:
    gap = data.get("gap")
    console.print(f"[bold]{title}[/bold]")
    console.print(
        f"Solver: {data['status']}  objective {_money(data.get('objective'))}  bound {_money(data.get('bound'))}  "
        f"gap {'-' if gap is None else f'{gap:.2%}'}"
        + (f" ({data['gap_vs_labour_cost']:.2%} of labour cost)" if data.get("gap_vs_labour_cost") is not None else "")
        + f"  ({data.get('solve_time_s', 0):.1f} s)"
    )
    console.print(
        f"Staff hours {data['staff_hours']:g}  staff cost {_money(data['staff_cost'])}  "
        f"expected pitch margin {_money(data.get('expected_pitch_margin'))}"
    )


def _check_rules_fit(days: list[Any], files: list[Path], rules: Any, rules_file: Path | None) -> None:
    """Refuse, before any solve, shift rules (given, the file's, or the defaults) that fit no shift in a day."""
    from simulation import ScenarioError
    from simulation.scenario import ShiftRules, shift_rule_problems

    for day, file in zip(days, files, strict=True):
        used = rules or day.shifts
        problems = shift_rule_problems(day, used or ShiftRules())
        if problems and used is None:  # the optimizer's defaults: say so, and what to add
            problems = [(k, m + " (these are the optimizer's default shift rules: add a shifts: block or --rules)") for k, m in problems]
        if problems:
            raise ScenarioError(str(rules_file) if rules is not None else str(file), problems)


def check_staff_groups(staff: Any, scenario: Any, staff_file: Path, notes: list[str]) -> None:
    """A staff file that cannot staff this store's counter groups is refused before any simulation.

    A store with counter groups rosters each person in their own ``group:``. When nobody names one
    of its groups (a one-pool staff file given for a bank branch), the week would roster nobody
    after minutes of simulation; say so at once, naming the groups. A few people without a group are
    left out and named in the plan's explanation instead. A store without groups ignores ``group:``,
    and the plan says so.
    """
    from simulation import ScenarioError
    from storeq.present import some

    groups = [g.name for g in scenario.counters.groups or ()]
    given = sorted({name for p in staff.staff for name in p.groups})
    if groups and not any(name in groups for p in staff.staff for name in p.groups):
        said = f" (the file names {some(given)})" if given else ""
        raise ScenarioError(str(staff_file), [(
            "staff",
            f"nobody has a group: naming one of this store's counter groups ({', '.join(groups)}){said}; "
            "give each person the group they work, as in scenarios/staff_bank_week.yaml",
        )])  # fmt: skip
    if not groups and given:
        notes.append(
            f"{staff_file.name} gives counter groups ({some(given)}) but this store has none: everyone works the "
            "one pool of counters"
        )


def _print_day(plan: Any) -> None:
    from rich.table import Table

    data = plan.to_json()
    console = _console()
    t = data["target"]
    target = f"{t['service_level']:.0%} within {t['target_wait_min']:g} min" + (
        f", abandonment ≤ {t['max_abandon']:.0%}" if t["max_abandon"] is not None else ""
    )
    if t.get("days_meeting") is not None:
        target += f", on {t['days_meeting']:.0%} of days"
    _header(console, data, f"{plain(data['scenario'])} — target {target}")
    console.print(f"Pitch rule: [bold]{data['pitch_rule']}[/bold]")
    shifts = Table(title="Shifts", title_justify="left")
    grouped = any("group" in s for s in data["shifts"])
    for col in ("group",) * grouped + ("start", "end", "hours", "break", "people"):
        shifts.add_column(col, justify="right")
    for s in data["shifts"]:
        cells = (s["start"], s["end"], f"{s['hours']:g}", s["break_start"] or "-", str(s["count"]))
        shifts.add_row(*((s.get("group", ""),) * grouped + cells))
    console.print(shifts)
    iv = Table(
        title=f"Plan per interval (simulated, {plan.verification.replications} replications, 95% CI)",
        title_justify="left",
    )
    for col in ("start", "required", "staffed", "pitch", "service level", "95% CI", "days meeting", "meets"):
        iv.add_column(col, justify="right")
    for row in data["intervals"]:
        sl = row["service_level"]
        iv.add_row(
            row["start"],
            str(row["required"]),
            str(row["staffed"]),
            "yes" if row["pitch"] else "no",
            _pct(sl["mean"]),
            f"{_pct(sl['ci_low'])}-{_pct(sl['ci_high'])}",
            _pct(row.get("share_of_days_meeting")),
            "yes" if row["meets_target"] else "[bold]MISS[/bold]",
        )
    console.print(iv)
    _print_verification(console, data["verification"])
    for g in data.get("groups", []):
        missed = ", ".join(g["missed_intervals"]) or "none"
        gap = "-" if g["gap"] is None else f"{g['gap']:.2%}"
        console.print(
            f"Group {g['name']}: {g['staff_hours']:g} staff hours, solver {g['status']} (gap {gap}); "
            f"its customers miss the target at: {missed}{_group_lows(g)}",
            soft_wrap=True,  # one line per group, whole, for grep; the terminal wraps it
        )
    if plan.policies is not None:
        pol = Table(title="Pitch policies on this roster (same seed)", title_justify="left")
        for col in ("policy", "replications", "service level", "missed intervals", "pitch margin"):
            pol.add_column(col, justify="right")
        for row in plan.policies.to_dict(orient="records"):
            pol.add_row(
                str(row["policy"]),
                str(row["replications"]),
                _pct(row["service_level"]),
                str(row["missed_intervals"]),
                _money(row["pitch_margin"]),
            )
        console.print(pol)
    for line in data["explanation"]:
        console.print(f"• {plain(line)}")


def _print_verification(console: Any, v: dict[str, Any], label: str = "") -> None:
    k = v["kpis"]
    sl = k.get("service_level", {})
    console.print(
        f"Verification{label}: day service level {_pct(sl.get('mean'))} ({_pct(sl.get('ci_low'))}-{_pct(sl.get('ci_high'))}), "
        f"{v['share_of_intervals_meeting']:.0%} of intervals meet the target; "
        f"pitch margin {_money(k.get('cross_sell_revenue', {}).get('mean'))}; "
        + ("missed: " + ", ".join(v["missed_intervals"]) if v["missed_intervals"] else "no interval misses")
    )


def _print_week(plan: Any, staff: Any = None) -> None:
    from rich.table import Table

    data = plan.to_json()
    console = _console(150)  # seven day columns of "HH:MM-HH:MM" plus name, hours and closings
    _header(console, data, "Named-staff week")
    ros = Table(title="Roster (person × day)", title_justify="left")
    ros.add_column("name")
    # A hall with counter groups: the groups each person can work (the staff file's, own first), and a
    # day's cell says where a shift went when it is not the person's own group (skills).
    grouped = any("group" in a for a in data["shifts"])
    own = {p.name: p.groups for p in staff.staff} if staff is not None else {}
    group_of = {a["name"]: ", ".join(own.get(a["name"]) or (a["group"],)) for a in data["shifts"] if "group" in a}
    if grouped:
        ros.add_column("group")
    days = [d.label for d in plan.days]
    for d in days:
        ros.add_column(d.split(" ")[0], justify="center")
    ros.add_column("hours", justify="right")
    ros.add_column("closings", justify="right")
    cell: dict[tuple[str, str], str] = {}
    for a in data["shifts"]:
        cell[(a["name"], a["day"])] = f"{a['start']}-{a['end']}"
        home = (own.get(a["name"]) or (None,))[0]
        if "group" in a and home is not None and a["group"] != home:
            cell[(a["name"], a["day"])] += f"\nat {plain(a['group'])}"
    for person in data["people"]:
        ros.add_row(
            plain(person["name"]),  # a name from a staff file is shown literally, never as markup
            *([plain(group_of.get(person["name"], ""))] if grouped else []),
            *[cell.get((person["name"], d), "") for d in days],
            f"{person['hours']:g}",
            str(person["closings"]),
        )
    console.print(ros)
    for d in plan.days:
        console.print(f"{d.label}: pitch rule — {d.pitch_rule}")
        _print_verification(console, d.verification.to_json(), f" {d.label}")
    for line in data["explanation"]:
        console.print(f"• {plain(line)}")


@click.command("optimize")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--target-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Target wait in minutes (default: the scenario's store.target_wait_min).",
)
@click.option(
    "--service-level",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="Share of customers to serve within the target wait.",
)
@click.option(
    "--max-abandon",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Cap on the abandonment rate (e.g. 0.05).",
)
@click.option(
    "--days-meeting",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="Require each interval to meet the target on this share of simulated days (e.g. 0.9), not only on average.",
)
@click.option(
    "--staff",
    "staff_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Named-staff file (YAML or CSV): plan a week for these people.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Shift-rules file (YAML, the keys of a scenario's `shifts:` block).",
)
@click.option(
    "--method",
    type=click.Choice(["simulation", "erlang_a", "erlang_a_lagged", "erlang_c", "erlang_c_lagged"]),
    default="simulation",
    show_default=True,
    help="How the requirement per interval is found.",
)
@click.option(
    "--pitch",
    type=click.Choice(["decide", "always", "never"]),
    default="decide",
    show_default=True,
    help="Decide pitch windows, or force pitching on/off.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write roster, plan, verification and the optimized scenario here.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="CP-SAT time limit in seconds (default 20 for a day, 60 for a week).",
)
@click.option(
    "--replications",
    type=click.IntRange(min=2),
    default=100,
    show_default=True,
    help="Replications for the final verification.",
)
@click.option(
    "--search-replications",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="Replications per simulation during the requirement search.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="Seed for simulation and solver (default: the scenario's)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Simulation worker processes."
)
@click.option(
    "--solver-workers", type=click.IntRange(min=1), default=2, show_default=True, help="CP-SAT search workers."
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario key, e.g. --set counters.physical=12.",
)
@executor_options
@handle_errors
def optimize(
    scenarios: tuple[Path, ...],
    target_wait: float | None,
    service_level: float,
    max_abandon: float | None,
    days_meeting: float | None,
    staff_file: Path | None,
    rules_file: Path | None,
    method: str,
    pitch: str,
    fmt: str,
    out_dir: Path | None,
    time_limit: float | None,
    replications: int,
    search_replications: int,
    seed: int | None,
    workers: int,
    solver_workers: int,
    sets: tuple[str, ...],
    executor: str,
    scheduler: str | None,
) -> None:
    """Find the cheapest roster that meets a service target, with pitch windows, verified by simulation.

    SCENARIOS is one scenario (a day; with --staff, the week around its store.date), or seven day
    scenarios, Monday first, with --staff.
    """
    from optimizer import ServiceTarget, load_shift_rules, load_staff, optimize_day, optimize_week
    from optimizer.plan import staffing_to_replace
    from simulation import load_scenario, scenario_to_yaml, with_updates
    from simulation.scenario import parse_overrides

    if len(scenarios) not in (1, 7):
        raise InputError(f"give one scenario, or seven day scenarios (Monday first) with --staff; got {len(scenarios)}")
    if len(scenarios) == 7 and staff_file is None:
        raise InputError("seven day scenarios make a week: add --staff FILE with the people to roster")
    updates = parse_overrides(sets)
    days = []
    notes: list[str] = []
    for path in scenarios:
        # Today's staffing is the plan being replaced: a smaller hall set with --set is accepted.
        base = load_scenario(path)
        upd, day_notes = staffing_to_replace(base, updates)
        days.append(with_updates(base, upd, source=f"{path} with --set") if upd else base)
        notes += [n for n in day_notes if n not in notes]
    scen = days[0]
    from storeq.outputs import check_target

    inputs = [p for p in (*scenarios, staff_file, rules_file) if p is not None]
    check_target(out_dir, inputs)  # before the solve, not after it
    try:
        target = ServiceTarget(
            service_level=service_level, target_wait_min=target_wait, max_abandon=max_abandon, days_meeting=days_meeting
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    rules = load_shift_rules(rules_file, scen) if rules_file is not None else None
    _check_rules_fit(days, list(scenarios), rules, rules_file)
    staff = load_staff(staff_file) if staff_file is not None else None
    if staff is not None and staff_file is not None:
        check_staff_groups(staff, scen, staff_file, notes)
    common: dict[str, Any] = {
        "rules": rules,
        "method": method,
        "pitch": pitch,
        "search_replications": search_replications,
        "replications": replications,
        "seed": seed,
        "workers": workers,
        "solver_workers": solver_workers,
        "notes": notes,
    }
    # One executor for the whole command: the search, verification, repair and policy tuning all
    # simulate on it (a Dask cluster is started once, not per simulation).
    with (
        open_executor(executor, scheduler, workers) as ex,
        progress(16 if staff else 5, "optimizing", enabled=fmt == "table") as tick,
    ):
        common["executor"] = ex
        if staff is not None:
            week_in: Any = days if len(days) == 7 else scen
            plan: Any = optimize_week(week_in, staff, target, time_limit_s=time_limit or 60.0, progress=tick, **common)
        else:
            plan = optimize_day(scen, target, time_limit_s=time_limit or 20.0, progress=tick, **common)
    if out_dir is not None:
        import json

        from storeq.cli.report import command_line
        from storeq.outputs import output_set, write_json
        from storeq.present import jsonable

        with output_set(out_dir, inputs) as stage:  # one atomic set, with provenance like run and compare
            write_frames(stage, plan.frames())
            write_text(stage / "plan.json", json.dumps(jsonable(plan.to_json()), indent=2, ensure_ascii=False))
            if staff is not None:
                for i, d in enumerate(plan.days):
                    name = f"scenario_day{i + 1}_{d.label.replace(' ', '_')}.yaml"
                    write_text(stage / name, scenario_to_yaml(d.scenario))
            else:
                write_text(stage / "scenario.yaml", scenario_to_yaml(plan.scenario))
            write_json(
                stage / "provenance.json",
                {
                    "command": command_line(),
                    "scenarios": [str(p) for p in scenarios],
                    "scenario_hashes": [d.digest() for d in days],
                    "staff": None if staff_file is None else str(staff_file),
                    "rules": None if rules_file is None else str(rules_file),
                    "seed": seed,
                    "replications": replications,
                },
            )
    if fmt == "json":
        emit_json(plan.to_json())
    elif fmt == "csv":
        frame = plan.intervals_frame()
        click.echo(frame.to_csv(index=False), nl=False)
    elif staff is not None:
        _print_week(plan, staff)
    else:
        _print_day(plan)
    if out_dir is not None and fmt == "table":
        click.echo(f"storeq: wrote roster, plan, verification and the optimized scenario to {out_dir}", err=True)
