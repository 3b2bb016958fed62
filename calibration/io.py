"""File reading and writing for calibration: the only module in ``calibration/`` that touches files.

Logs are read as text (every column a string) so that cleaning, not the reader, decides what a bad
value is and counts it; a reader that guessed types would turn "2026-13-45" into a silent NaN.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulation.loader import atomic_write

from .logformat import LogError, LogMapping, mapping_from_dict

LOG_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}


def read_mapping(path: str | Path | None) -> LogMapping:
    """Read a column-mapping YAML file (see ``docs/ticket-log.md``); ``None`` → our own names."""
    if path is None:
        return LogMapping()
    p = Path(path)
    if not p.is_file():
        raise LogError(str(p), "mapping file not found")
    return mapping_from_yaml_text(p.read_bytes(), str(p))


def read_log(path: str | Path, mapping: LogMapping | None = None) -> pd.DataFrame:
    """Read a ticket log (CSV, Parquet or Excel) with every column as text.

    A file that is not a table at all (binary, wrong encoding) gets one :class:`LogError` saying what
    was expected; column checks happen in :func:`calibration.logformat.standardise`.
    """
    p = Path(path)
    if not p.exists():
        raise LogError(str(p), "file not found")
    if p.is_dir():
        raise LogError(str(p), "is a folder, not a ticket log")
    return _read_table(p, p.name, mapping or LogMapping())


def read_log_bytes(data: bytes, name: str, mapping: LogMapping | None = None) -> pd.DataFrame:
    """Read an uploaded ticket log (the app's file uploader gives bytes and a file name)."""
    return _read_table(io.BytesIO(data), name, mapping or LogMapping())


def _read_table(src: Path | io.BytesIO, name: str, mapping: LogMapping) -> pd.DataFrame:
    suffix = Path(name).suffix.lower()
    kind = LOG_SUFFIXES.get(suffix)
    label = str(src) if isinstance(src, Path) else name
    if kind is None:
        raise LogError(label, f"unknown file type {suffix!r}; a ticket log is .csv, .parquet or .xlsx")
    try:
        if kind == "parquet":
            return pd.read_parquet(src).astype("string")
        if kind == "excel":
            return pd.read_excel(src, sheet_name=mapping.sheet, dtype=str).astype("string")
        sep = "\t" if suffix == ".tsv" and mapping.separator == "," else mapping.separator
        return pd.read_csv(
            src,
            dtype="string",
            encoding=mapping.encoding,
            sep=sep,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except UnicodeDecodeError as exc:
        hint = " (exports from Chinese systems are often GBK: set `encoding: gbk` in the mapping file)" if mapping.encoding.lower().startswith("utf") else ""
        raise LogError(label, f"cannot be read as {mapping.encoding} text at byte {exc.start}{hint}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, ImportError) as exc:
        what = {"csv": "a CSV", "parquet": "a Parquet", "excel": "an Excel"}[kind]
        raise LogError(label, f"cannot be read as {what} ticket log: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def mapping_from_yaml_text(text: str | bytes, source: str = "mapping") -> LogMapping:
    """A mapping from YAML text (an upload or a text box in the app)."""
    if isinstance(text, bytes):
        text = _decode_mapping(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LogError(source, f"not valid YAML: {exc}") from None
    return mapping_from_dict(data, source)


def _decode_mapping(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):  # mapping files written on a Chinese Windows desktop are often GBK
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise LogError("mapping", "mapping file is not UTF-8 or GBK text")  # pragma: no cover - gb18030 decodes any bytes


def write_log(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a ticket log as CSV (UTF-8), Parquet or Excel by the file's suffix, atomically."""
    p = Path(path)
    kind = LOG_SUFFIXES.get(p.suffix.lower(), "csv")
    if kind == "parquet":
        atomic_write(p, lambda t: df.to_parquet(t, index=False))
    elif kind == "excel":
        atomic_write(p, lambda t: df.to_excel(t, index=False, engine="openpyxl"))
    else:
        atomic_write(p, lambda t: df.to_csv(t, index=False))
    return p


def write_report(
    out_dir: str | Path,
    frames: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Any],
    html_text: str,
) -> list[Path]:
    """Write a fit report: CSV per frame, PNG per matplotlib figure, and ``report.html``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise LogError(str(out), "--report must be a folder")
    written: list[Path] = []
    def csv_writer(df: pd.DataFrame) -> Callable[[Path], Any]:
        return lambda t: df.to_csv(t, index=False)

    def png_writer(fig: Any) -> Callable[[Path], Any]:
        return lambda t: fig.savefig(t, format="png", dpi=110, bbox_inches="tight")

    for name, df in frames.items():
        p = out / f"{name}.csv"
        atomic_write(p, csv_writer(df))
        written.append(p)
    for name, fig in figures.items():
        p = out / f"{name}.png"
        atomic_write(p, png_writer(fig))
        written.append(p)
    p = out / "report.html"
    atomic_write(p, lambda t: t.write_text(html_text, encoding="utf-8"))
    written.append(p)
    return written


def escape(text: str) -> str:
    """HTML-escape (kept here so report builders need not import html themselves)."""
    return html.escape(text)
