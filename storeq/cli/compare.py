"""``storeq compare SCENARIO...``: scenarios side by side on common random numbers.

Each scenario is compared with the first (the baseline): paired differences with 95% CIs for the day
KPIs, and per interval. One file with ``--set`` compares the file as it is with the overridden file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from storeq.cli.common import (
    InputError,
    emit_json,
    executor_options,
    handle_errors,
    open_executor,
    plain,
    progress,
    results_option,
    write_frames,
    write_text,
)
from storeq.cli.report import (
    cell,
    check_out_dir,
    command_line,
    compared_kpis,
    delta_cell,
    delta_ci_cell,
    kpi_frame,
    plural,
    provenance,
    rich_console,
    run_options,
    title,
)
from storeq.outputs import check_target, output_set
from storeq.present import header, missing

if TYPE_CHECKING:
    from simulation import CompareResult, RunResult, Scenario


def _slugs(labels: Sequence[str]) -> list[str]:
    """File-name-safe, unique stems for the labels (``hall.yaml`` → ``hall``)."""
    out: list[str] = []
    for label in labels:
        stem = re.sub(r"\.ya?ml$", "", label)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_.") or "scenario"
        out.append(slug if slug not in out else f"{slug}_{len(out) + 1}")
    return out


def _labels(names: Sequence[str], files: Sequence[str]) -> list[str]:
    """Scenario names; file names where names repeat; a position number where even those repeat."""
    labels = list(names)
    if len(set(labels)) < len(labels):
        labels = [n if names.count(n) == 1 else Path(f).name for n, f in zip(names, files, strict=True)]
    if len(set(labels)) < len(labels):
        labels = [lab if labels.count(lab) == 1 else f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels


@click.command("compare")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@run_options
@executor_options
@results_option
@handle_errors
def compare_cmd(
    scenarios: tuple[Path, ...],
    replications: int | None,
    seed: int | None,
    workers: int,
    fmt: str,
    out_dir: Path | None,
    sets: tuple[str, ...],
    executor: str,
    scheduler: str | None,
    results_db: Path | None,
) -> None:
    """Compare scenarios on common random numbers: paired differences with 95% CIs vs the first.

    \b
    With one SCENARIO and --set, compares the file as it is against the file with the overrides:
      storeq compare hall.yaml --set counters.staffed=8
    With several SCENARIOs, --set applies to all of them, and each is compared with the first.
    """
    from simulation import compare

    scens, sources, labels = _load(scenarios, sets)
    check_out_dir(out_dir)
    check_target(out_dir, scenarios)  # never replace a folder holding an input
    reps = replications or scens[0].simulation.replications
    with (
        open_executor(executor, scheduler, workers) as ex,
        progress(reps * len(scens), f"Simulating {len(scens)} scenarios × {reps} days", enabled=fmt != "json") as callback,
    ):
        # the labels name the scenarios in the results; the scenarios keep their own names (and hashes)
        cmp = compare(
            scens, replications=replications, seed=seed, workers=workers, progress=callback, labels=labels, executor=ex
        )
    if results_db is not None:  # the store keeps the JSON this comparison prints (storeq results show)
        from storeq.results_store import record_command

        record_command(
            results_db, "compare", dict(zip(labels, cmp.results, strict=True)), _compare_json(cmp, sources), ex.name,
            command_line(),
        )

    table = _compare_frame(cmp)
    if out_dir is not None:
        with output_set(out_dir, scenarios) as stage:  # one atomic set: the old one or this one, never a mix
            written = _write_compare(stage, cmp, sources, table)
        if fmt != "json":
            click.echo(f"storeq: wrote {len(written)} files to {out_dir}", err=True)
    if fmt == "json":
        emit_json(_compare_json(cmp, sources))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        _print_compare(cmp, sources, table)


def _load(files: Sequence[Path], sets: Sequence[str]) -> tuple[list[Scenario], list[str], list[str]]:
    """The scenarios to compare, where each came from, and a unique label for each."""
    from simulation import load_scenario

    if len(files) == 1:
        if not sets:
            raise InputError(
                "compare needs two or more scenario files, or one file and --set KEY=VALUE "
                "(e.g. storeq compare hall.yaml --set counters.staffed=8)"
            )
        base = load_scenario(files[0])
        alt = load_scenario(files[0], list(sets))
        sources = [str(files[0]), f"{files[0]} --set {' --set '.join(sets)}"]
        return [base, alt], sources, [base.name, f"{base.name} + {', '.join(sets)}"]
    scens = [load_scenario(p, list(sets)) for p in files]
    sources = [str(p) for p in files]
    return scens, sources, _labels([s.name for s in scens], sources)


def _compare_frame(cmp: CompareResult) -> pd.DataFrame:
    """Tidy: scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high."""
    rows = []
    for label, res in zip(cmp.labels, cmp.results, strict=True):
        k = kpi_frame(res)
        k.insert(0, "scenario", label)
        rows.append(k)
    out = pd.concat(rows, ignore_index=True)
    if cmp.differences.empty:
        return out.assign(diff_mean=float("nan"), diff_ci_low=float("nan"), diff_ci_high=float("nan"))
    d = cmp.differences[["scenario", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high"]]
    return out.merge(d, on=["scenario", "kpi"], how="left")


def _compare_json(cmp: CompareResult, sources: Sequence[str]) -> dict[str, Any]:
    labels, diffs = cmp.labels, cmp.differences
    out: dict[str, Any] = {
        "baseline": labels[0],
        "replications": cmp.results[0].replications,
        "seed": cmp.results[0].seed,
        "scenarios": [
            {"label": lab, "source": src, "scenario_hash": res.scenario.digest(), "kpis": res.to_json()["kpis"]}
            for lab, src, res in zip(labels, sources, cmp.results, strict=True)
        ],
        "differences": {},
        "interval_differences": {},
    }
    for lab in labels[1:]:
        part = diffs[diffs["scenario"] == lab]
        out["differences"][lab] = {
            r.kpi: {"diff_mean": r.diff_mean, "ci_low": r.diff_ci_low, "ci_high": r.diff_ci_high}
            for r in part.itertuples(index=False)
        }
    if not cmp.interval_differences.empty:
        idf = cmp.interval_differences
        for lab in labels[1:]:
            part = idf[idf["scenario"] == lab]
            by_interval: dict[int, dict[str, Any]] = {}
            for r in part.sort_values("interval").to_dict("records"):
                row = by_interval.setdefault(int(r["interval"]), {"interval": int(r["interval"]), "start": r["start"]})
                row[str(r["kpi"])] = {
                    "diff_mean": r["diff_mean"],
                    "ci_low": r["diff_ci_low"],
                    "ci_high": r["diff_ci_high"],
                }
            out["interval_differences"][lab] = list(by_interval.values())
    return out


def _stacked(cmp: CompareResult, frame: Callable[[RunResult], pd.DataFrame]) -> pd.DataFrame:
    """One frame of every scenario's result, with a ``scenario`` column (its label) first."""
    parts = [frame(res).assign(scenario=lab) for lab, res in zip(cmp.labels, cmp.results, strict=True)]
    return pd.concat([p[["scenario", *p.columns.drop("scenario")]] for p in parts], ignore_index=True)


def _write_compare(out_dir: Path, cmp: CompareResult, sources: Sequence[str], table: pd.DataFrame) -> list[Path]:
    from simulation import scenario_to_yaml

    labels = cmp.labels
    frames: dict[str, pd.DataFrame] = {
        "kpis": table,
        "differences": cmp.differences,
        "interval_differences": cmp.interval_differences,
        "by_segment": _stacked(cmp, lambda r: r.by_segment),
        "intervals": _stacked(cmp, lambda r: r.intervals),
        "days": _stacked(cmp, lambda r: r.days),
        "interval_reps": _stacked(cmp, lambda r: r.interval_reps),
    }
    written = write_frames(out_dir, frames)
    for slug, res in zip(_slugs(labels), cmp.results, strict=True):
        path = out_dir / "scenarios" / f"{slug}.yaml"
        write_text(path, scenario_to_yaml(res.scenario))
        written.append(path)
    prov = {
        "baseline": labels[0],
        "scenarios": [
            provenance(res, src, []) | {"label": lab}
            for lab, src, res in zip(labels, sources, cmp.results, strict=True)
        ],
        "command": command_line(),
    }
    write_text(out_dir / "provenance.json", json.dumps(prov, indent=2, default=str) + "\n")
    return [*written, out_dir / "provenance.json"]


def _print_compare(cmp: CompareResult, sources: Sequence[str], table: pd.DataFrame) -> None:
    """The table for a person: who is compared, the day KPIs side by side, and (for two) the wait per interval."""
    console = rich_console()
    labels = cmp.labels
    base = cmp.results[0]
    console.print(
        f"[bold]Compare[/bold] on common random numbers: {plural(base.replications, 'replication')}, seed {base.seed}; "
        "paired differences (Δ = scenario - baseline)"
    )
    heads = ["baseline", *(f"#{i + 1}" for i in range(1, len(labels)))]
    for head, lab, src in zip(heads, labels, sources, strict=True):
        console.print(f"  {head:>8}: {plain(lab)}")
        if src != lab:
            console.print(f"  {'':>8}  from {plain(src)}")

    title(console, "Day KPIs: means, and differences vs the baseline")
    console.print(_day_table(labels, heads, table, base.scenario.store.open_min))
    console.print("Δ in bold: its 95% CI excludes zero. pp = percentage points.")

    idiffs = cmp.interval_differences
    part = idiffs[idiffs["kpi"] == "mean_wait_min"].sort_values("interval") if not idiffs.empty else idiffs
    if len(labels) == 2 and not part.empty:
        title(console, "Mean wait per interval (min): baseline, #2 and the difference")
        console.print(_wait_table(cmp, part))


def _day_table(labels: Sequence[str], heads: Sequence[str], table: pd.DataFrame, open_min: int) -> Any:
    """Day KPIs: the baseline's mean, then per scenario its mean, Δ (bold when significant) and Δ's CI."""
    from rich.table import Table

    t = Table()
    t.add_column("KPI")
    t.add_column("baseline", justify="right")
    for head in heads[1:]:
        t.add_column(head, justify="right")
        t.add_column("Δ", justify="right")
        t.add_column("95% CI of Δ", justify="right")
    by = {(r["scenario"], r["kpi"]): r for r in table.to_dict("records")}
    for k in compared_kpis(list(table["kpi"])):
        cells = [cell(k, by[(labels[0], k)]["mean"], open_min)]
        for lab in labels[1:]:
            row = by[(lab, k)]
            sig = not missing(row["diff_ci_low"]) and (row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0)
            delta = delta_cell(k, row["diff_mean"])
            cells += [
                cell(k, row["mean"], open_min),
                f"[bold]{delta}[/bold]" if sig else delta,
                delta_ci_cell(k, row["diff_ci_low"], row["diff_ci_high"]),
            ]
        t.add_row(header(k), *cells)
    return t


def _wait_table(cmp: CompareResult, part: pd.DataFrame) -> Any:
    """Mean wait per interval of the two scenarios and their paired difference."""
    from rich.table import Table

    waits = [
        {int(k): v for k, v in zip(iv["interval"], iv["mean"], strict=True)}
        for iv in (res.intervals[res.intervals["kpi"] == "mean_wait_min"] for res in cmp.results[:2])
    ]
    t = Table()
    for name in ("start", "baseline", "#2", "Δ", "95% CI of Δ"):
        t.add_column(name, justify="left" if name == "start" else "right")
    for r in part.to_dict("records"):
        t.add_row(
            str(r["start"]),
            cell("mean_wait_min", waits[0].get(int(r["interval"]))),
            cell("mean_wait_min", waits[1].get(int(r["interval"]))),
            delta_cell("mean_wait_min", r["diff_mean"]),
            delta_ci_cell("mean_wait_min", r["diff_ci_low"], r["diff_ci_high"]),
        )
    return t
