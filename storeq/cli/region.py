"""``storeq region rank|plan|moves REGION``: the regional planner on the command line.

REGION is a region file (``region.yaml``) or a store table (CSV/Excel, UTF-8 or GBK). Arguments →
:func:`storeq.region.io.load_region` → the pure planners in :mod:`storeq.region` → a table for a
person, one JSON object (``--format json``: nothing else on stdout), CSV, and with ``--out DIR`` the
frames as CSV + Parquet plus the JSON. Bad input exits 2 naming the file, key, value and what is
allowed; skipped table rows and doubtful fits are listed on stderr. Progress goes to stderr.

See docs/region.md for the file formats and how classes, values and plans are computed.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from storeq.cli.common import (
    InputError,
    emit_json,
    executor_options,
    handle_errors,
    open_executor,
    progress,
    results_option,
    write_frames,
    write_text,
)
from storeq.cli.report import check_out_dir, command_line, rich_console, title
from storeq.outputs import check_target

FORMATS = ("table", "json", "csv")
CLASS_STYLE = {"very_busy": "bold red", "busy": "yellow", "normal": "green"}


def _default_workers() -> int:
    import os

    return max(1, min(2, os.cpu_count() or 1))


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("region", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--replications", "-n", type=click.IntRange(min=2), default=None,
                     help="Simulated days per store and variant (default: the region file's simulation.replications, 100)."),
        click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: the region file's)."),
        click.option("--workers", "-w", type=click.IntRange(min=1), default=_default_workers, show_default="min(2, CPUs)",
                     help="Worker processes; results do not depend on it."),
        click.option("--fit-replications", type=click.IntRange(min=2), default=20, show_default=True,
                     help="Replications per step when fitting a store table's demand."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="table for people, json (one object, nothing else on stdout) or csv for scripts."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Folder for the result frames (CSV + Parquet) and the JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return results_option(executor_options(func))


@click.group("region")
def region() -> None:
    """The regional planner: rank halls, value fixes, plan a budget, move staff (docs/region.md).

    \b
    REGION is a region file (region.yaml) or a store table (CSV/Excel, UTF-8 or GBK).
      storeq region rank scenarios/region_example/region.yaml
      storeq region plan scenarios/region_example/region.yaml --budget-money 800
      storeq region moves scenarios/region_example/region.yaml --date 2026-11-30
    """


def _load(path: Path, fmt: str, workers: int, fit_replications: int, replications: int | None, seed: int | None) -> Any:
    from storeq.region.io import load_region

    with progress(1, "Fitting the store table", enabled=fmt != "json") as cb:
        reg = load_region(path, workers=workers, fit_replications=fit_replications, replications=replications, seed=seed,
                          progress=cb)
    for s in reg.skipped:
        click.echo(f"storeq: warning: {reg.source}: row {s.row} ({s.name}) skipped: {s.reason}", err=True)
    for st in reg.stores:
        if st.reported is not None and st.reported.note:
            click.echo(f"storeq: note: {st.name}: {st.reported.note}", err=True)
    return reg


def _on_date(reg: Any, date: _dt.datetime | None) -> Any:
    if date is None:
        return reg
    from storeq.region.moves import region_on

    return region_on(reg, date.date())


def _fits_frame(reg: Any) -> pd.DataFrame:
    rows = []
    for st in reg.stores:
        r = st.reported
        if r is None:
            continue
        rows.append({"store": st.name, "profile": r.profile, "reported_served": r.customers_served,
                     "simulated_served": r.simulated_served, "served_gap": r.served_gap, "fitted_scale": r.fitted_scale,
                     "reported_wait_min": r.avg_wait_min, "simulated_wait_min": r.simulated_wait_min,
                     "wait_gap_min": r.wait_gap_min, "note": r.note})
    return pd.DataFrame(rows)


def _skipped_frame(reg: Any) -> pd.DataFrame:
    return pd.DataFrame([{"row": s.row, "name": s.name, "reason": s.reason} for s in reg.skipped],
                        columns=["row", "name", "reason"])


def _write(out_dir: Path, inputs: list[Path], frames: dict[str, pd.DataFrame], payload: dict[str, Any], fmt: str) -> None:
    """The result set, swapped in whole (never half a set, never over a folder holding an input)."""
    from storeq.outputs import output_set
    from storeq.present import jsonable

    text = json.dumps(jsonable(payload), indent=2, ensure_ascii=False, allow_nan=False, default=str)
    with output_set(out_dir, inputs) as stage:
        written = write_frames(stage, frames)
        write_text(stage / "result.json", text + "\n")
    if fmt != "json":
        click.echo(f"storeq: wrote {len(written) + 1} files to {out_dir}", err=True)


def _numeric(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of numbers and None as floats, so a results-store table keeps one type across runs."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            vals = [v for v in out[c] if v is not None]
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
                out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def _record(results_db: Path | None, kind: str, reg: Any, payload: dict[str, Any], tables: dict[str, pd.DataFrame],
            replications: int, seed: int, executor: str, workers: int) -> None:
    """Append the run to the results store (``--results``): the runs row, the region tables, the printed JSON."""
    if results_db is None:
        return

    from storeq.results_store import finish_run, record_table, start_run

    rid = start_run(results_db, kind=kind, command=command_line(), seed=seed, replications=replications,
                    executor=executor, workers=workers)
    for name, frame in tables.items():
        if not frame.empty:
            record_table(results_db, rid, name, _numeric(frame).assign(region=reg.name))
    finish_run(results_db, rid, output=payload)
    click.echo(f"storeq: recorded as run {rid} in {results_db}", err=True)


def _inputs(region: Path) -> list[Path]:
    """The files a region reads (its folder holds the scenarios and the table): never an --out target."""
    return [region.parent] if region.suffix.lower() in (".yaml", ".yml") else [region]


def _n(x: Any, fmt: str = "{:,.1f}") -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if not math.isfinite(v) else fmt.format(v)


def _pct(x: Any) -> str:
    return _n(None if x is None else 100 * float(x), "{:.0f}%")


def _ci(t: dict[str, Any] | None, fmt: str = "{:+,.1f}") -> str:
    if not t or t.get("mean") is None:
        return "—"
    lo, hi = t.get("ci_low"), t.get("ci_high")
    mean = _n(t["mean"], fmt)
    if lo is None or hi is None:
        return mean
    return f"{mean} ({_n(lo, fmt)} … {_n(hi, fmt)})"


# ---------------------------------------------------------------------------------------------
# rank
# ---------------------------------------------------------------------------------------------


@region.command("rank")
@_common
@click.option("--date", "date_", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Simulate this day (YYYY-MM-DD): weekday and day-of-month demand factors apply. Default: an ordinary day.")
@handle_errors
def rank_cmd(region: Path, replications: int | None, seed: int | None, workers: int, fit_replications: int, fmt: str,
             out_dir: Path | None, executor: str, scheduler: str | None, results_db: Path | None,
             date_: _dt.datetime | None) -> None:
    """Simulate every store, class it very_busy / busy / normal, busiest first, and value every fix."""
    from storeq.region.rank import rank_region

    check_out_dir(out_dir)
    check_target(out_dir, _inputs(region))
    reg = _on_date(_load(region, fmt, workers, fit_replications, replications, seed), date_)
    with open_executor(executor, scheduler, workers) as ex, \
            progress(1, f"Simulating {len(reg.stores)} stores × variants", enabled=fmt != "json") as cb:
        res = rank_region(reg, replications=replications, seed=seed, workers=workers, executor=ex, progress=cb)
    payload = res.to_json()
    _record(results_db, "region rank", reg, payload, {"region_ranking": res.frame(), "region_interventions": res.interventions_frame()},
            res.replications, res.seed, executor, workers)
    if out_dir is not None:
        _write(out_dir, _inputs(region), {"ranking": res.frame(), "interventions": res.interventions_frame(), "fits": _fits_frame(reg),
                         "skipped": _skipped_frame(reg)}, payload, fmt)
    if fmt == "json":
        emit_json(payload)
    elif fmt == "csv":
        click.echo(res.frame().to_csv(index=False), nl=False)
    else:
        _print_rank(res)


def _print_rank(res: Any) -> None:
    from rich.table import Table

    console = rich_console()
    console.print(f"[bold]{res.region.name}[/bold]: {len(res.stores)} stores, {res.replications} replications each, "
                  f"seed {res.seed}; busiest first")
    t = Table()
    for col, just in (("#", "right"), ("store", "left"), ("district", "left"), ("class", "left"), ("counters", "right"),
                      ("served/day", "right"), ("kiosks", "right"), ("avg wait", "right"), ("avg txn", "right"),
                      ("within target", "right"), ("peak", "left"), ("peak SL", "right"), ("gave up", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for row in res.frame().to_dict("records"):
        style = CLASS_STYLE.get(row["class"], "")
        t.add_row(str(row["rank"]), row["store"], row["district"], f"[{style}]{row['class']}[/{style}]",
                  str(row["counters"]), _n(row["customers_served"], "{:,.0f}"), str(row["kiosks"]),
                  _n(row["avg_wait_min"], "{:.1f}"), _n(row["avg_transaction_min"], "{:.1f}"),
                  _pct(row["service_level"]), row["peak"], _pct(row["peak_service_level"]), _pct(row["abandonment_rate"]))
    console.print(t)
    console.print("within target: share served within the store's target wait; peak: its worst interval; "
                  "class reasons are in --format json (measures.class_reasons).")
    title(console, "What each fix is worth: Δ customers served within target per day (95% CI), per 100 of cost")
    for sr in res.stores:
        t = Table(title=f"{sr.store.name} ({sr.klass})", title_justify="left")
        for col in ("fix", "what", "cost/day", "Δ served within target", "Δ mean wait (min)", "Δ gave up (pp)", "per 100"):
            t.add_column(col, justify="left" if col in ("fix", "what") else "right")
        for iv in sr.interventions:
            if iv.delta is None:
                t.add_row(iv.name, f"[dim]not applicable: {iv.not_applicable}[/dim]", "", "", "", "", "")
                continue
            v = iv.value()
            per = _n(100 * v / iv.cost_per_day, "{:+,.1f}") if iv.cost_per_day > 0 else "free"
            ab = iv.delta["abandonment_rate"]
            ab_pp = {k: (None if x is None else 100 * x) for k, x in ab.items()}
            t.add_row(iv.name, iv.description, _n(iv.cost_per_day, "{:,.0f}"), _ci(iv.delta["served_within_target"]),
                      _ci(iv.delta["mean_wait_min"], "{:+.2f}"), _ci(ab_pp, "{:+.1f}"), per)
        console.print(t)


# ---------------------------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------------------------


@region.command("plan")
@_common
@click.option("--budget-money", type=click.FloatRange(min=0), default=None, help="Money per day (default: the region file's budgets.money).")
@click.option("--budget-staff-hours", type=click.FloatRange(min=0), default=None, help="Extra counter + greeter hours per day.")
@click.option("--budget-kiosks", type=click.IntRange(min=0), default=None, help="New kiosks available.")
@click.option("--budget-greeters", type=click.IntRange(min=0), default=None, help="Greeters available.")
@click.option("--objective", type=click.Choice(["served", "wait"]), default="served", show_default=True,
              help="served: most customers served within target region-wide; wait: fewest customer wait-hours.")
@click.option("--max-per-store", type=click.IntRange(1, 4), default=None, help="Most fixes per store (default: the region file's, 2).")
@click.option("--verify-replications", type=click.IntRange(min=2), default=None, help="Replications of the verification run (default: --replications).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="CP-SAT time limit, seconds.")
@click.option("--date", "date_", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Simulate this day (YYYY-MM-DD): weekday and day-of-month demand factors apply. Default: an ordinary day.")
@handle_errors
def plan_cmd(region: Path, replications: int | None, seed: int | None, workers: int, fit_replications: int, fmt: str,
             out_dir: Path | None, executor: str, scheduler: str | None, results_db: Path | None, budget_money: float | None,
             budget_staff_hours: float | None, budget_kiosks: int | None, budget_greeters: int | None, objective: str,
             max_per_store: int | None, verify_replications: int | None, time_limit: float,
             date_: _dt.datetime | None) -> None:
    """Choose fixes per store within a budget (CP-SAT), each combination valued by simulation, then verify."""
    from storeq.region.plan import budgets_from, describe_budgets, plan_region

    check_out_dir(out_dir)
    check_target(out_dir, _inputs(region))
    reg = _on_date(_load(region, fmt, workers, fit_replications, replications, seed), date_)
    budgets = budgets_from(reg, budget_money, budget_staff_hours, budget_kiosks, budget_greeters)
    if budgets.money is None and budgets.staff_hours is None and budgets.kiosks is None and budgets.greeters is None:
        raise InputError(f"{region}: no budget given: use --budget-money (and optionally --budget-staff-hours, "
                         "--budget-kiosks, --budget-greeters) or set budgets in the region file")
    with open_executor(executor, scheduler, workers) as ex, \
            progress(1, f"Valuing fixes in {len(reg.stores)} stores", enabled=fmt != "json") as cb:
        res = plan_region(reg, budgets, objective=objective, replications=replications,  # type: ignore[arg-type]
                          verify_replications=verify_replications, seed=seed, workers=workers, executor=ex,
                          max_per_store=max_per_store, time_limit_s=time_limit, progress=cb)
    payload = res.to_json()
    chosen = pd.DataFrame(res.chosen(), columns=["store", "intervention", "cost_per_day"])
    _record(results_db, "region plan", reg, payload, {"region_plan": chosen, "region_plan_verification": _verification_frame(payload)},
            res.replications, res.seed, executor, workers)
    if out_dir is not None:
        _write(out_dir, _inputs(region), {"chosen": chosen, "verification": _verification_frame(payload), "fits": _fits_frame(reg),
                         "skipped": _skipped_frame(reg)}, payload, fmt)
    if fmt == "json":
        emit_json(payload)
    elif fmt == "csv":
        click.echo(chosen.to_csv(index=False), nl=False)
    else:
        _print_plan(payload, describe_budgets(budgets))


def _verification_frame(payload: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for v in payload["verification"]["stores"]:
        for k, d in v["delta"].items():
            b, a = v["before"].get(k, {}), v["after"].get(k, {})
            rows.append({"store": v["store"], "interventions": " + ".join(v["interventions"]), "kpi": k,
                         "before": b.get("mean"), "after": a.get("mean"), "delta": d["mean"], "ci_low": d["ci_low"],
                         "ci_high": d["ci_high"]})
    return pd.DataFrame(rows)


def _print_plan(p: dict[str, Any], budgets: str) -> None:
    from rich.table import Table

    console = rich_console()
    kind = "customers served within target per day" if p["objective_kind"] == "served" else "customer wait-hours saved per day"
    console.print(f"[bold]{p['region']}[/bold]: regional plan within {budgets}")
    console.print(f"Solver: {p['status']}  objective {_n(p['objective'], '{:+,.1f}')}  bound {_n(p['bound'], '{:+,.1f}')} "
                  f"({kind}); {p['options_evaluated']} options simulated")
    used = p["used"]
    console.print(f"Uses: money {_n(used.get('money'), '{:,.2f}')}, staff hours {_n(used.get('staff_hours'), '{:.1f}')}, "
                  f"kiosks {_n(used.get('kiosks'), '{:.0f}')}, greeters {_n(used.get('greeters'), '{:.0f}')}")
    t = Table()
    for col in ("store", "intervention", "cost/day"):
        t.add_column(col, justify="right" if col == "cost/day" else "left")
    for c in p["chosen"]:
        t.add_row(c["store"], c["intervention"], _n(c["cost_per_day"], "{:,.2f}"))
    console.print(t if p["chosen"] else "Nothing bought.")
    v = p["verification"]
    title(console, f"Verified on a fresh seed ({v['replications']} replications, seed {v['seed']}): before → after, Δ (95% CI)")
    t = Table()
    for col in ("store", "fixes", "served within target", "Δ", "mean wait (min)", "Δ"):
        t.add_column(col, justify="left" if col in ("store", "fixes") else "right")
    for s in v["stores"]:
        b, a, d = s["before"], s["after"], s["delta"]
        t.add_row(s["store"], " + ".join(s["interventions"]),
                  f"{_n(b['served_within_target']['mean'], '{:,.0f}')} → {_n(a['served_within_target']['mean'], '{:,.0f}')}",
                  _ci(d["served_within_target"]),
                  f"{_n(b['mean_wait_min']['mean'], '{:.1f}')} → {_n(a['mean_wait_min']['mean'], '{:.1f}')}",
                  _ci(d["mean_wait_min"], "{:+.2f}"))
    console.print(t)
    tot = v["total"]
    console.print(f"Region: Δ served within target {_ci(tot['served_within_target'])}; "
                  f"Δ wait-hours {_ci(tot['wait_hours'])}")
    for line in p["explanation"]:
        console.print(f"- {line}")


# ---------------------------------------------------------------------------------------------
# moves
# ---------------------------------------------------------------------------------------------


@region.command("moves")
@_common
@click.option("--date", "date_", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The day (YYYY-MM-DD): weekday and day-of-month demand factors apply.")
@click.option("--donors-keep-target/--count-donor-loss", default=None,
              help="A donor gives a person only if it keeps its target (default: the region file's moves.donors_keep_target).")
@click.option("--max-moves", type=click.IntRange(min=0), default=None, help="At most this many moves (default: no limit).")
@click.option("--verify-replications", type=click.IntRange(min=2), default=None, help="Replications of the verification run.")
@handle_errors
def moves_cmd(region: Path, replications: int | None, seed: int | None, workers: int, fit_replications: int, fmt: str,
              out_dir: Path | None, executor: str, scheduler: str | None, results_db: Path | None, date_: _dt.datetime,
              donors_keep_target: bool | None, max_moves: int | None, verify_replications: int | None) -> None:
    """Staff moves between halls of the same district on one day, chosen by CP-SAT and verified by simulation."""
    from storeq.region.moves import moves_region

    check_out_dir(out_dir)
    check_target(out_dir, _inputs(region))
    reg = _load(region, fmt, workers, fit_replications, replications, seed)
    with open_executor(executor, scheduler, workers) as ex, \
            progress(1, f"Valuing moves on {date_.date().isoformat()}", enabled=fmt != "json") as cb:
        res = moves_region(reg, date_.date(), replications=replications, verify_replications=verify_replications,
                           seed=seed, workers=workers, executor=ex, donors_keep_target=donors_keep_target,
                           max_moves=max_moves, progress=cb)
    payload = res.to_json()
    moves = pd.DataFrame([{k: (v["mean"] if isinstance(v, dict) else v) for k, v in m.items()} for m in payload["moves"]],
                         columns=["district", "from", "to", "block", "travel_min", "arrives", "gain", "loss", "value"])
    _record(results_db, "region moves", reg, payload, {"region_moves": moves.assign(date=payload["date"])},
            res.replications, res.seed, executor, workers)
    if out_dir is not None:
        _write(out_dir, _inputs(region), {"moves": moves, "fits": _fits_frame(reg), "skipped": _skipped_frame(reg)}, payload, fmt)
    if fmt == "json":
        emit_json(payload)
    elif fmt == "csv":
        click.echo(moves.to_csv(index=False), nl=False)
    else:
        _print_moves(payload)


def _print_moves(p: dict[str, Any]) -> None:
    from rich.table import Table

    console = rich_console()
    console.print(f"[bold]{p['region']}[/bold]: staff moves on {p['date']}  ({p['status']}, "
                  f"value {_n(p['objective'], '{:+,.1f}')} customers served within target, {p['candidates']} candidate moves)")
    t = Table()
    # Halls with counter groups: the desk the person leaves and the one they join.
    desks = any("from_group" in m or "to_group" in m for m in p["moves"])
    cols = ("district", "from", "to", *(("desks",) if desks else ()), "block", "travel", "arrives", "gain (95% CI)",
            "donor's loss (95% CI)")
    for col in cols:
        t.add_column(col, justify="left" if col in ("district", "from", "to", "desks", "block", "arrives") else "right")
    for m in p["moves"]:
        desk = [f"{m.get('from_group', 'counter')} → {m.get('to_group', 'counter')}"] if desks else []
        t.add_row(m["district"], m["from"], m["to"], *desk, m["block"], f"{m['travel_min']:.0f} min", m["arrives"],
                  _ci(m["gain"]), _ci(m["loss"]))
    console.print(t if p["moves"] else "No move.")
    v = p["verification"]
    title(console, f"Verified together on a fresh seed ({v['replications']} replications): Δ served within target per day")
    t = Table()
    for col in ("store", "district", "Δ served within target", "Δ mean wait (min)"):
        t.add_column(col, justify="left" if col in ("store", "district") else "right")
    for s in v["stores"]:
        t.add_row(s["store"], s["district"], _ci(s["delta"]["served_within_target"]), _ci(s["delta"]["mean_wait_min"], "{:+.2f}"))
    console.print(t)
    for d, tot in v["districts"].items():
        console.print(f"  {d}: {_ci(tot)}")
    console.print(f"Region: {_ci(v['total'])}")
    for line in p["explanation"]:
        console.print(f"- {line}")
