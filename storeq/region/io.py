"""Reading regions: region files, store tables and profile templates. The only file I/O of the region planner.

* :func:`load_region` reads ``region.yaml`` (its store scenario files, paths relative to it, and an
  optional store table) or a store table alone (CSV or Excel; CSV in UTF-8 or GBK).
* :func:`read_table` reads a table from bytes (the app's uploads use it too).
* :func:`load_profiles` reads the demand-profile templates (bundled ``scenarios/profiles/`` and an
  optional folder named by the region file).

Every problem is a :class:`~simulation.ScenarioError` naming the file, the key, the value and what is
allowed (YAML is read by the project's safe reader: clocks stay clocks, no alias bombs, no duplicate
keys). A bad table row does not stop the region: it is listed in ``Region.skipped`` with its reason.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from simulation import ScenarioError, load_scenario, with_updates
from simulation.loader import MAX_FILE_BYTES, parse_yaml_text
from storeq.examples import scenarios_dir

from .model import Region, RegionSpec, SkippedRow, Store, region_spec_from_dict
from .profiles import Profile, check_profile, column_map, stores_from_table

Progress = Callable[[int, int], None]

BUNDLED_PROFILES = scenarios_dir() / "profiles"
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
MAX_TABLE_BYTES = 5_000_000
MAX_TABLE_ROWS = 2_000


def _read_bytes(path: Path, limit: int) -> bytes:
    if not path.exists():
        raise ScenarioError(str(path), [("", "file not found")])
    if path.is_dir():
        raise ScenarioError(str(path), [("", "is a folder, not a file")])
    if path.stat().st_size > limit:
        raise ScenarioError(str(path), [("", f"file is larger than {limit:,} bytes")])
    return path.read_bytes()


def _yaml(data: bytes, source: str) -> Any:
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", f"file is {len(data):,} bytes; region and profile files are at most {MAX_FILE_BYTES:,}")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(source, [("", "is not a UTF-8 text file")]) from None
    return parse_yaml_text(text, source)


def read_table(data: bytes, name: str) -> pd.DataFrame:
    """A store table from bytes: Excel by its suffix, else CSV in UTF-8 (with or without BOM) or GBK.

    Lines starting with ``#`` are comments. Cells are kept as text (numbers are validated per row).
    """
    if len(data) > MAX_TABLE_BYTES:
        raise ScenarioError(name, [("", f"table is {len(data):,} bytes; at most {MAX_TABLE_BYTES:,}")])
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(io.BytesIO(data), dtype=object)
        else:
            text = None
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    text = data.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            if text is None:
                raise ScenarioError(name, [("", "is neither UTF-8 nor GBK text; save the table as CSV (UTF-8) or Excel")])
            df = pd.read_csv(io.StringIO(text), dtype=str, comment="#", skip_blank_lines=True, keep_default_na=False)
    except ScenarioError:
        raise
    except Exception as exc:  # a table that pandas cannot parse: say so in words
        raise ScenarioError(name, [("", f"could not be read as a {'spreadsheet' if suffix.startswith('.xls') else 'CSV table'}: {exc}")]) from None
    df = df.dropna(how="all")
    if len(df) > MAX_TABLE_ROWS:
        raise ScenarioError(name, [("", f"has {len(df):,} rows; a region table has at most {MAX_TABLE_ROWS:,}")])
    return df


def table_rows(df: pd.DataFrame, name: str) -> list[dict[str, object]]:
    """Rows with canonical column names; a table missing a required column is refused whole."""
    mapping, _unknown = column_map(list(df.columns))
    have = set(mapping.values())
    required = ["name", "counters", "served_per_day", "avg_wait_min", "avg_transaction_min", "profile"]
    missing = [c for c in required if c not in have]
    if not ({"open", "close"} <= have or "hours" in have):
        missing.append("open + close (or hours)")
    if missing:
        raise ScenarioError(name, [("", f"missing column(s): {', '.join(missing)}; found: {', '.join(map(str, df.columns))} "
                                        "(docs/region.md lists the columns and their accepted names)")])
    df = df[list(mapping)].rename(columns=mapping)
    return [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def load_profiles(extra: Path | None = None) -> dict[str, Profile]:
    """Profile templates by name: the bundled ones, then ``extra``'s (which may replace a bundled one)."""
    out: dict[str, Profile] = {}
    for folder in (BUNDLED_PROFILES, extra):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            out[path.stem] = profile_from_bytes(_read_bytes(path, MAX_FILE_BYTES), str(path))
    return out


def profile_from_bytes(data: bytes, source: str) -> Profile:
    from pydantic import ValidationError

    from .model import validation_problems

    raw = _yaml(data, source)
    if not isinstance(raw, dict):
        raise ScenarioError(source, [("", "a profile must be a mapping (name, demand_shape, transactions, ...)")])
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(Profile, exc, raw)) from None
    check_profile(profile, source)
    return profile


def _table_stores(
    data: bytes, name: str, spec: RegionSpec, profiles_dir: Path | None, workers: int, fit_replications: int,
    progress: Progress | None,
    exclude: frozenset[str] = frozenset(),
) -> tuple[list[Store], list[SkippedRow]]:
    df = read_table(data, name)
    # rows of halls the region file describes in full are replaced by those files: not fitted at all
    rows = [r for r in table_rows(df, name) if str(r.get("name") or "").strip() not in exclude]
    profiles = load_profiles(profiles_dir)
    if not profiles:
        raise ScenarioError(name, [("profile", f"no profile templates found in {BUNDLED_PROFILES}")])
    good, bad = stores_from_table(rows, profiles, name, replications=spec.simulation.replications, seed=spec.simulation.seed,
                                  workers=workers, fit_replications=fit_replications, progress=progress)
    stores = [Store(name=r.name, district=r.district, scenario=s, lat=r.lat, lon=r.lon, source=f"{name} ({r.profile})",
                    reported=rep) for r, s, rep in good]
    return stores, [SkippedRow(row=line, name=n, reason=why) for line, n, why in bad]


def _confined(base_dir: Path, rel: str, key: str, source: str, confine: bool) -> Path:
    """``rel`` resolved against ``base_dir``; with ``confine`` (uploads) it must stay inside ``base_dir``."""
    path = (base_dir / rel).resolve()
    if confine and not path.is_relative_to(base_dir.resolve()):
        raise ScenarioError(source, [(key, f"{rel!r} is outside {base_dir}; an uploaded region may only name files there")])
    return path


def region_from_spec(
    spec: RegionSpec, base_dir: Path, source: str, *, workers: int = 1, fit_replications: int = 20,
    progress: Progress | None = None, confine: bool = False,
) -> Region:
    """Read the files a validated region spec names (relative to ``base_dir``) into a Region.

    ``confine`` (the app's uploads): every named file must be inside ``base_dir``, so an uploaded
    region cannot make the server read files elsewhere.
    """
    stores: list[Store] = []
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(spec.stores):
        path = _confined(base_dir, entry.scenario, f"stores[{i}]({entry.name}).scenario", source, confine)
        try:
            scen = load_scenario(path)
            if entry.set:
                scen = with_updates(scen, entry.set, source=f"{source}: stores[{i}]({entry.name}).set")
            if scen.name != entry.name:
                scen = with_updates(scen, {"name": entry.name}, source=str(path))
        except ScenarioError as exc:
            problems += [(f"stores[{i}]({entry.name})", f"{exc.source}: {p + ': ' if p else ''}{m}") for p, m in exc.problems]
            continue
        stores.append(Store(name=entry.name, district=entry.district, scenario=scen, lat=entry.lat, lon=entry.lon,
                            source=entry.scenario))
    if problems:
        raise ScenarioError(source, problems)
    skipped: list[SkippedRow] = []
    if spec.table is not None:
        tpath = _confined(base_dir, spec.table, "table", source, confine)
        profiles_dir = _confined(base_dir, spec.profiles, "profiles", source, confine) if spec.profiles else None
        if profiles_dir is not None and not profiles_dir.is_dir():
            raise ScenarioError(source, [("profiles", f"{spec.profiles!r} is not a folder next to the region file")])
        tstores, skipped = _table_stores(_read_bytes(tpath, MAX_TABLE_BYTES), str(tpath), spec, profiles_dir, workers,
                                         fit_replications, progress, exclude=frozenset(e.name for e in spec.stores))
        stores += tstores
    if not stores:
        why = "; ".join(f"row {s.row} ({s.name}): {s.reason}" for s in skipped) or "no stores"
        raise ScenarioError(source, [("stores", f"no usable store: {why}")])
    return Region(name=spec.name, stores=tuple(stores), spec=spec, skipped=tuple(skipped), source=source)


def load_region(
    path: str | Path,
    *,
    workers: int = 1,
    fit_replications: int = 20,
    replications: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Region:
    """A Region from ``region.yaml`` or from a store table (CSV/Excel) with default settings.

    ``replications`` / ``seed`` override the region file's ``simulation`` block (they also drive the
    table fit's seed).
    """
    p = Path(path)
    data = _read_bytes(p, MAX_TABLE_BYTES)
    return region_from_bytes(data, p.name if p.suffix.lower() in TABLE_SUFFIXES else str(p), base_dir=p.parent,
                             workers=workers, fit_replications=fit_replications, replications=replications, seed=seed,
                             progress=progress, source=str(p))


def region_from_bytes(
    data: bytes,
    name: str,
    *,
    base_dir: Path | None = None,
    workers: int = 1,
    fit_replications: int = 20,
    replications: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    source: str | None = None,
    confine: bool = False,
) -> Region:
    """A Region from a region file's or a table's bytes (an upload); ``base_dir`` resolves relative paths.

    ``confine``: files the region names must be inside ``base_dir`` (set it for uploads).
    """
    src = source or name
    base = base_dir if base_dir is not None else scenarios_dir()
    sim: dict[str, int] = {}
    if replications is not None:
        sim["replications"] = replications
    if seed is not None:
        sim["seed"] = seed
    if Path(name).suffix.lower() in TABLE_SUFFIXES:
        spec = region_spec_from_dict({"name": Path(name).stem, "table": name, "simulation": sim}, src)
        stores, skipped = _table_stores(data, src, spec, None, workers, fit_replications, progress)
        if not stores:
            why = "; ".join(f"row {s.row} ({s.name}): {s.reason}" for s in skipped) or "the table has no rows"
            raise ScenarioError(src, [("", f"no usable store: {why}")])
        return Region(name=spec.name, stores=tuple(stores), spec=spec, skipped=tuple(skipped), source=src)
    raw = _yaml(data, src)
    if isinstance(raw, dict) and sim:
        raw = {**raw, "simulation": {**(raw.get("simulation") or {}), **sim}}
    spec = region_spec_from_dict(raw, src)
    return region_from_spec(spec, base, src, workers=workers, fit_replications=fit_replications, progress=progress,
                            confine=confine)
