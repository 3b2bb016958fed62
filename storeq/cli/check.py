"""``storeq check SCENARIO...``: validate scenario files without simulating.

A one-line summary per valid file (hours, grid, demand, staffing), or every problem of every bad file
at once; exit code 2 when any file is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from storeq.cli.common import InputError, handle_errors, terminal_safe
from storeq.cli.report import plural


@click.command("check")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario key (as in run).")
@click.option("--staff", "staff_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also check a staff file (YAML or CSV) against each store: groups, contracts, availability.")
@handle_errors
def check_cmd(scenarios: tuple[Path, ...], sets: tuple[str, ...], staff_file: Path | None) -> None:
    """Validate scenario files without simulating: a one-line summary each, or every problem.

    Exit code 0 when every file is valid, 2 otherwise. Handy after editing a file by hand. With
    ``--staff``, the staff file is checked against each valid store before a week is planned for it.
    """
    from simulation import ScenarioError, load_scenario

    failed: list[Exception] = []
    staff = None
    if staff_file is not None:
        from optimizer import load_staff

        try:
            staff = load_staff(staff_file)
        except ScenarioError as exc:
            failed.append(exc)
    for path in scenarios:
        try:
            scen = load_scenario(path, list(sets))
        except ScenarioError as exc:
            failed.append(exc)
            continue
        click.echo(f"{path}: OK: {_summary(scen)}")
        if staff is not None and staff_file is not None:
            try:
                line, notes = _staff_summary(staff, scen, staff_file)
            except ScenarioError as exc:
                failed.append(exc)
                continue
            click.echo(f"{staff_file}: OK for {terminal_safe(scen.name)}: {terminal_safe(line)}")
            for note in notes:
                click.echo(f"  note: {terminal_safe(note)}")
    if failed:
        raise ScenarioErrors(failed)


def _staff_summary(staff: Any, scen: Any, staff_file: Path) -> tuple[str, list[str]]:
    """A staff file against one store, as the week plan will read it: who works which counter group
    (own and skilled), the contract hours, and who is never available while the store is open.

    A file that cannot staff a store with counter groups raises (as ``storeq optimize`` refuses it);
    people the plan would leave out, names that are not groups of the store and groups nobody
    works are notes.
    """
    from optimizer.plan import week_group_pool
    from storeq.cli.optimize import check_staff_groups
    from storeq.present import some

    notes: list[str] = []
    check_staff_groups(staff, scen, staff_file, notes)
    people = staff.staff
    groups = [g.name for g in scen.counters.groups or ()]
    if groups:
        pool, said = week_group_pool(staff, groups, [])
        notes += said
        parts = []
        for name in groups:
            own = sum(p.group == name for p in pool.staff)
            also = sum(name in p.also for p in pool.staff)
            parts.append(f"{name} {own}" + (f" (+{also} who can also work it)" if also else ""))
        who = f"{len(people)} {'person' if len(people) == 1 else 'people'}; by counter group: " + ", ".join(parts)
    else:
        who = f"{len(people)} {'person' if len(people) == 1 else 'people'}"
    lo, hi = sum(p.min_hours for p in people), sum(p.max_hours for p in people)
    never = [p.name for p in people if not any(
        a < scen.store.close_min and b > scen.store.open_min for day in p.availability for a, b in day
    )]
    if never:
        notes.append(f"{some(never)}: never available while the store is open ({scen.store.open}-{scen.store.close})")
    return f"{who}; contract hours {lo:g}-{hi:g} a week", notes


class ScenarioErrors(InputError):
    """Several files' problems, reported together."""

    def __init__(self, errors: Sequence[Exception]):
        super().__init__("\n".join(str(e) for e in errors))


def _summary(scen: Any) -> str:
    """What a store manager checks first: hours, grid, demand, staffing."""
    interval = scen.store.interval_min
    demand = float(scen.arrival_rates_per_hour().sum()) * interval / 60
    kiosk_able = sum(t.share for t in scen.transactions if t.kiosk_time is not None)
    walk_ins = demand * (1 - scen.demand.online_diversion * kiosk_able)
    staffed = scen.staffed_schedule()
    staff_hours = float(staffed.sum()) * interval / 60
    counters = f"{staffed.min()}" if staffed.min() == staffed.max() else f"{staffed.min()}-{staffed.max()}"
    return (
        f"{scen.name}: {scen.store.open}-{scen.store.close} in {scen.n_intervals} × {interval} min"
        + (f" on {scen.store.date.isoformat()} (demand × {scen.day_factor():.3g})" if scen.store.date else "")
        + f"; about {walk_ins:,.0f} walk-ins a day; {counters} counters staffed ({staff_hours:g} staff-hours)"
        + f"; {plural(len(scen.segments), 'segment')}, {plural(len(scen.transactions), 'transaction')}"
        + f", {plural(scen.kiosks.count, 'kiosk')}"
        + (
            "; note: weekday/day-of-month factors are set but store.date is not, so they do not apply"
            if scen.store.date is None and (scen.demand.weekday_factors or scen.demand.day_of_month_factors)
            else ""
        )
    )
