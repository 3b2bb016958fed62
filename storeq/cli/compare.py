"""``storeq compare SCENARIO...``: scenarios side by side on common random numbers.

Each scenario is compared with the first (the baseline): paired differences with 95% CIs for the day
KPIs, and per interval. One file with ``--set`` compares the file as it is with the overridden file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from storeq.cli.common import InputError, emit_json, handle_errors, progress, write_frames, write_text
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
from storeq.present import header, missing

if TYPE_CHECKING:
    from simulation import CompareResult


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
@handle_errors
def compare_cmd(
    scenarios: tuple[Path, ...],
    replications: int | None,
    seed: int | None,
    workers: int,
    fmt: str,
    out_dir: Path | None,
    sets: tuple[str, ...],
) -> None:
    """Compare scenarios on common random numbers: paired differences with 95% CIs vs the first.

    \b
    With one SCENARIO and --set, compares the file as it is against the file with the overrides:
      storeq compare hall.yaml --set counters.staffed=8
    With several SCENARIOs, --set applies to all of them, and each is compared with the first.
    """
    from simulation import compare, load_scenario, with_updates

    if len(scenarios) == 1:
        if not sets:
            raise InputError(
                "compare needs two or more scenario files, or one file and --set KEY=VALUE "
                "(e.g. storeq compare hall.yaml --set counters.staffed=8)"
            )
        base = load_scenario(scenarios[0])
        alt = load_scenario(scenarios[0], list(sets))
        scens = [base, alt]
        sources = [str(scenarios[0]), f"{scenarios[0]} --set {' --set '.join(sets)}"]
        labels = [base.name, f"{base.name} + {', '.join(sets)}"]
    else:
        scens = [load_scenario(p, list(sets)) for p in scenarios]
        sources = [str(p) for p in scenarios]
        labels = _labels([s.name for s in scens], sources)
    # the engine labels results by scenario name: make the names the labels so they are unique
    scens = [
        s if s.name == lab else with_updates(s, {"name": lab}, source=src)
        for s, lab, src in zip(scens, labels, sources, strict=True)
    ]

    check_out_dir(out_dir)
    reps = replications or scens[0].simulation.replications
    with progress(
        reps * len(scens), f"Simulating {len(scens)} scenarios × {reps} days", enabled=fmt != "json"
    ) as callback:
        cmp = compare(scens, replications=replications, seed=seed, workers=workers, progress=callback)

    table = _compare_frame(cmp, labels)
    if out_dir is not None:
        written = _write_compare(out_dir, cmp, labels, sources, table)
        if fmt != "json":
            click.echo(f"storeq: wrote {len(written)} files to {out_dir}", err=True)
    if fmt == "json":
        emit_json(_compare_json(cmp, labels, sources))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        _print_compare(cmp, labels, sources, table)


def _relabel(df: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """A differences frame with its ``scenario`` column in our labels.

    Scenarios are renamed to their labels before the run, so the engine's names are the labels; an
    integer column is read as a position in the scenario list.
    """
    if df.empty or set(df["scenario"]) <= set(labels):
        return df
    values = list(dict.fromkeys(df["scenario"]))
    if all(isinstance(v, int) and 0 <= v < len(labels) for v in values):
        return df.assign(scenario=[labels[int(v)] for v in df["scenario"]])
    raise RuntimeError(f"compare returned differences for unknown scenarios {values}; expected {list(labels[1:])}")


def _diffs_by_label(cmp: CompareResult, labels: Sequence[str]) -> pd.DataFrame:
    return _relabel(cmp.differences, labels)


def _compare_frame(cmp: CompareResult, labels: Sequence[str]) -> pd.DataFrame:
    """Tidy: scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low, diff_ci_high."""
    rows = []
    diffs = _diffs_by_label(cmp, labels)
    for label, res in zip(labels, cmp.results, strict=True):
        k = kpi_frame(res)
        k.insert(0, "scenario", label)
        rows.append(k)
    out = pd.concat(rows, ignore_index=True)
    d = diffs[["scenario", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high"]] if not diffs.empty else None
    if d is not None:
        out = out.merge(d, on=["scenario", "kpi"], how="left")
    else:
        out = out.assign(diff_mean=float("nan"), diff_ci_low=float("nan"), diff_ci_high=float("nan"))
    return out


def _compare_json(cmp: CompareResult, labels: Sequence[str], sources: Sequence[str]) -> dict[str, Any]:
    diffs = _diffs_by_label(cmp, labels)
    idiffs = getattr(cmp, "interval_differences", None)
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
    if isinstance(idiffs, pd.DataFrame) and not idiffs.empty:
        idf = _relabel(idiffs, labels)
        for lab in labels[1:]:
            part = idf[idf["scenario"] == lab]
            rows = []
            by_interval: dict[int, dict[str, Any]] = {}
            for r in part.sort_values("interval").to_dict("records"):
                row = by_interval.setdefault(int(r["interval"]), {"interval": int(r["interval"]), "start": r["start"]})
                row[str(r["kpi"])] = {
                    "diff_mean": r["diff_mean"],
                    "ci_low": r["diff_ci_low"],
                    "ci_high": r["diff_ci_high"],
                }
            rows = list(by_interval.values())
            out["interval_differences"][lab] = rows
    return out


def _write_compare(
    out_dir: Path, cmp: CompareResult, labels: Sequence[str], sources: Sequence[str], table: pd.DataFrame
) -> list[Path]:
    from simulation import scenario_to_yaml

    def stacked(attr: str) -> pd.DataFrame | None:
        parts = []
        for lab, res in zip(labels, cmp.results, strict=True):
            df = getattr(res, attr, None)
            if isinstance(df, pd.DataFrame):
                parts.append(df.assign(scenario=lab)[["scenario", *df.columns]])
        return pd.concat(parts, ignore_index=True) if parts else None

    frames: dict[str, pd.DataFrame] = {"kpis": table, "differences": _diffs_by_label(cmp, labels)}
    idiffs = getattr(cmp, "interval_differences", None)
    if isinstance(idiffs, pd.DataFrame):
        frames["interval_differences"] = _relabel(idiffs, labels)
    for attr in ("by_segment", "intervals", "days", "interval_reps"):
        df = stacked(attr)
        if df is not None:
            frames[attr] = df
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


def _print_compare(cmp: CompareResult, labels: Sequence[str], sources: Sequence[str], table: pd.DataFrame) -> None:
    from rich.table import Table

    console = rich_console()
    base = cmp.results[0]
    open_min = base.scenario.store.open_min
    console.print(
        f"[bold]Compare[/bold] on common random numbers: {plural(base.replications, 'replication')}, seed {base.seed}; "
        "paired differences (Δ = scenario - baseline)"
    )
    heads = ["baseline", *(f"#{i + 1}" for i in range(1, len(labels)))]
    for head, lab, src in zip(heads, labels, sources, strict=True):
        console.print(f"  {head:>8}: {lab}")
        if src != lab:
            console.print(f"  {'':>8}  from {src}")

    kpis = compared_kpis(list(table["kpi"]))
    title(console, "Day KPIs: means, and differences vs the baseline")
    t = Table()
    t.add_column("KPI")
    t.add_column("baseline", justify="right")
    for head in heads[1:]:
        t.add_column(head, justify="right")
        t.add_column("Δ", justify="right")
        t.add_column("95% CI of Δ", justify="right")
    by = {(r["scenario"], r["kpi"]): r for r in table.to_dict("records")}
    for k in kpis:
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
    console.print(t)
    console.print("Δ in bold: its 95% CI excludes zero. pp = percentage points.")

    idiffs = getattr(cmp, "interval_differences", None)
    if isinstance(idiffs, pd.DataFrame) and not idiffs.empty and len(labels) == 2:
        part = idiffs[idiffs["kpi"] == "mean_wait_min"].sort_values("interval")
        if not part.empty:
            waits = [
                {int(k): v for k, v in zip(iv["interval"], iv["mean"], strict=True)}
                for iv in (res.intervals[res.intervals["kpi"] == "mean_wait_min"] for res in cmp.results[:2])
            ]
            title(console, "Mean wait per interval (min): baseline, #2 and the difference")
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
            console.print(t)
