"""``storeq check SCENARIO...``: validate scenario files without simulating.

A one-line summary per valid file (hours, grid, demand, staffing), or every problem of every bad file
at once; exit code 2 when any file is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from storeq.cli.common import InputError, handle_errors
from storeq.cli.report import plural


@click.command("check")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a scenario key (as in run).")
@handle_errors
def check_cmd(scenarios: tuple[Path, ...], sets: tuple[str, ...]) -> None:
    """Validate scenario files without simulating: a one-line summary each, or every problem.

    Exit code 0 when every file is valid, 2 otherwise. Handy after editing a file by hand.
    """
    from simulation import ScenarioError, load_scenario

    failed: list[ScenarioError] = []
    for path in scenarios:
        try:
            scen = load_scenario(path, list(sets))
        except ScenarioError as exc:
            failed.append(exc)
            continue
        click.echo(f"{path}: OK: {_summary(scen)}")
    if failed:
        raise ScenarioErrors(failed)


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
