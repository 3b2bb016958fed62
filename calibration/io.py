"""File reading and writing for calibration: the only module in ``calibration/`` that touches files.

Logs are read as text (every column a string) so that cleaning, not the reader, decides what a bad
value is and counts it; a reader that guessed types would turn "2026-13-45" into a silent NaN.
"""

from __future__ import annotations

import html
import io
import os
import re
import stat
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.limits import limit
from simulation.loader import atomic_write, decode_text, parse_yaml_text, read_yaml_file, spreadsheet_safe
from simulation.scenario import ScenarioError

from .logformat import LogError, LogMapping, mapping_from_dict

LOG_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}
_CSV_CHUNK_ROWS = 200_000
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order when the mapping names no encoding: UTF-8 first, then GB18030 (a superset of GBK
and GB2312, what Chinese Windows exports use). Any bytes decode as GB18030, so a non-UTF-8 file
that is really Latin-1 would be misread: the reader says which encoding it used."""


def _log_error(exc: ScenarioError) -> LogError:
    """The safe YAML reader's error in calibration's words (same file, same message)."""
    return LogError(exc.source, "; ".join(f"{k}: {m}" if k else m for k, m in exc.problems))


def read_mapping(path: str | Path | None) -> LogMapping:
    """Read a column-mapping YAML file (see ``docs/ticket-log.md``); ``None`` → our own names.

    Read by the one safe YAML reader (bytes counted, depth and alias limits), so a hostile mapping
    file is refused like a hostile scenario.
    """
    if path is None:
        return LogMapping()
    p = Path(path)
    try:
        data = read_yaml_file(p, "mapping file", AUTO_ENCODINGS, limit("mapping_bytes"))
    except ScenarioError as exc:
        raise _log_error(exc) from None
    return mapping_from_dict(data, str(p))


def read_log(path: str | Path, mapping: LogMapping | None = None) -> pd.DataFrame:
    """Read a ticket log (CSV, Parquet or Excel) with every column as text, within the limits.

    A file that is not a table at all (binary, wrong encoding) gets one :class:`LogError` saying what
    was expected; column checks happen in :func:`calibration.logformat.standardise`. Size, rows
    and columns are capped (``simulation.limits``) before the data is held in memory: a Parquet
    file's row count comes from its metadata, an Excel file's unpacked size from its zip directory,
    and a CSV is read in chunks that stop at the row cap. ``df.attrs["notes"]`` says how the file was
    read when storeq had to guess (the encoding).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise LogError(str(p), "file not found") from None
    except OSError as exc:
        raise LogError(str(p), f"cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise LogError(str(p), "is a folder, not a ticket log")
    if not stat.S_ISREG(st.st_mode):
        raise LogError(str(p), "is not a regular file (a device or a pipe); save the log to a file first")
    _check_size(str(p), p.name, st.st_size)
    return _read_table(p, p.name, mapping or LogMapping())


def read_log_bytes(data: bytes, name: str, mapping: LogMapping | None = None) -> pd.DataFrame:
    """Read an uploaded ticket log (the app's file uploader gives bytes and a file name)."""
    _check_size(name, name, len(data))
    return _read_table(io.BytesIO(data), name, mapping or LogMapping())


def _check_size(label: str, name: str, size: int) -> None:
    kind = LOG_SUFFIXES.get(Path(name).suffix.lower())
    cap = limit("excel_bytes") if kind == "excel" else limit("log_bytes")
    if size > cap:
        advice = "; save it as CSV or Parquet" if kind == "excel" else "; use a shorter period (split the export by month)"
        raise LogError(label, f"is {size:,} bytes; a ticket log of this type is at most {cap:,} bytes{advice}")


def _too_many_rows(label: str, rows: int | str) -> LogError:
    shown = f"{rows:,}" if isinstance(rows, int) else rows
    return LogError(
        label,
        f"has {shown} rows; a ticket log is at most {limit('log_rows'):,} rows: export a shorter period (e.g. one quarter)",
    )


def _check_columns(label: str, n: int) -> None:
    if n > limit("log_columns"):
        raise LogError(label, f"has {n:,} columns; a ticket log has at most {limit('log_columns'):,} (is it a ticket log?)")


def _read_table(src: Path | io.BytesIO, name: str, mapping: LogMapping) -> pd.DataFrame:
    suffix = Path(name).suffix.lower()
    kind = LOG_SUFFIXES.get(suffix)
    label = str(src) if isinstance(src, Path) else name
    if kind is None:
        raise LogError(label, f"unknown file type {suffix!r}; a ticket log is .csv, .parquet or .xlsx")
    try:
        if kind == "parquet":
            return _read_parquet(src, label)
        if kind == "excel":
            return _read_excel(src, label, mapping)
        return _read_csv(src, label, suffix, mapping)
    except LogError:
        raise
    except MemoryError:
        raise LogError(label, "does not fit in memory; export a shorter period") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, ImportError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        what = {"csv": "a CSV", "parquet": "a Parquet", "excel": "an Excel"}[kind]
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LogError(label, f"cannot be read as {what} ticket log: {first[:300]}") from None


def _read_parquet(src: Path | io.BytesIO, label: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    meta = pf.metadata
    if meta.num_rows > limit("log_rows"):
        raise _too_many_rows(label, meta.num_rows)
    _check_columns(label, meta.num_columns)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > limit("log_bytes"):
        raise LogError(label, f"unpacks to {unpacked:,} bytes; a ticket log is at most {limit('log_bytes'):,}: export a shorter period")
    parts = [batch.to_pandas().astype("string") for batch in pf.iter_batches(batch_size=_CSV_CHUNK_ROWS)]
    if not parts:
        return pf.schema_arrow.empty_table().to_pandas().astype("string")
    return pd.concat(parts, ignore_index=True)


def _read_excel(src: Path | io.BytesIO, label: str, mapping: LogMapping) -> pd.DataFrame:
    if zipfile.is_zipfile(src):  # .xlsx is a zip: its directory gives the unpacked size before anything is unpacked
        with zipfile.ZipFile(src) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
        if unpacked > 5 * limit("excel_bytes"):
            raise LogError(label, f"unpacks to {unpacked:,} bytes; an Excel ticket log unpacks to at most {5 * limit('excel_bytes'):,}: save it as CSV")
    if isinstance(src, io.BytesIO):
        src.seek(0)
    try:
        df = pd.read_excel(src, sheet_name=mapping.sheet, dtype=str, nrows=limit("log_rows") + 1)
    except ValueError as exc:
        if "not found" in str(exc) or "out of range" in str(exc).lower() or "index" in str(exc).lower():
            raise LogError(label, f"mapping sheet: {mapping.sheet!r} is not a sheet of this workbook ({exc})") from None
        raise
    if len(df) > limit("log_rows"):
        raise _too_many_rows(label, f"more than {limit('log_rows'):,}")
    _check_columns(label, len(df.columns))
    return df.astype("string")


def _read_csv(src: Path | io.BytesIO, label: str, suffix: str, mapping: LogMapping) -> pd.DataFrame:
    if isinstance(src, Path):
        with src.open("rb") as fh:
            head = fh.read(8192)
    else:
        head = src.getvalue()[:8192]
    explicit = mapping.encoding is not None
    wide = explicit and any(w in str(mapping.encoding) for w in ("16", "32"))  # UTF-16 text holds NUL bytes
    if b"\x00" in head and not wide:
        raise LogError(label, "is not a text file (it holds binary data); a ticket log is .csv, .parquet or .xlsx")
    sep = mapping.separator
    if suffix == ".tsv" and sep == ",":
        sep = "\t"
    options: dict[str, Any] = {"sep": sep}
    if len(sep) > 1:
        # A separator is a literal string: pandas would read a longer one as a regular expression
        # (and a hostile one like "(a+)+b" backtracks for ever), so it is escaped.
        options = {"sep": re.escape(sep), "engine": "python"}
    encodings = (str(mapping.encoding),) if explicit else AUTO_ENCODINGS
    last: UnicodeDecodeError | None = None
    for enc in encodings:
        if isinstance(src, io.BytesIO):
            src.seek(0)
        try:
            df = _csv_chunks(src, label, enc, options)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        if enc == "gb18030":
            df.attrs["notes"] = [f"{label} is not UTF-8 text: read as GB18030 (GBK); set `encoding:` in a mapping file if that is wrong"]
        return df
    assert last is not None
    hint = " (exports from Chinese systems are often GBK: set `encoding: gbk` in the mapping file)" if explicit and str(mapping.encoding).lower().startswith("utf") else ""
    raise LogError(label, f"cannot be read as {' or '.join(e.replace('-sig', '') for e in encodings)} text at byte {last.start}{hint}") from None


def _csv_chunks(src: Path | io.BytesIO, label: str, encoding: str, options: Mapping[str, Any]) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    rows = 0
    with pd.read_csv(
        src,
        dtype="string",
        encoding=encoding,
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
        chunksize=_CSV_CHUNK_ROWS,
        **options,
    ) as reader:
        for chunk in reader:
            if not parts:
                _check_columns(label, len(chunk.columns))
            rows += len(chunk)
            if rows > limit("log_rows"):
                raise _too_many_rows(label, f"more than {limit('log_rows'):,}")
            parts.append(chunk)
    if not parts:
        raise pd.errors.EmptyDataError("the file has no rows")
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def mapping_from_yaml_text(text: str | bytes, source: str = "mapping") -> LogMapping:
    """A mapping from YAML text (an upload or a text box in the app), read by the one safe YAML reader."""
    try:
        if isinstance(text, bytes):
            if len(text) > limit("mapping_bytes"):
                raise LogError(source, f"is {len(text):,} bytes; a mapping file is at most {limit('mapping_bytes'):,}")
            text = decode_text(text, source, AUTO_ENCODINGS, "mapping file")
        data = parse_yaml_text(text, source)
    except ScenarioError as exc:
        raise _log_error(exc) from None
    return mapping_from_dict(data, source)


def write_log(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a ticket log as CSV (UTF-8), Parquet or Excel by the file's suffix, atomically."""
    p = Path(path)
    kind = LOG_SUFFIXES.get(p.suffix.lower(), "csv")
    if kind == "parquet":
        atomic_write(p, lambda t: df.to_parquet(t, index=False))
    elif kind == "excel":
        atomic_write(p, lambda t: _to_excel_as_text(df, t))
    else:
        atomic_write(p, lambda t: spreadsheet_safe(df).to_csv(t, index=False))
    return p


def _to_excel_as_text(df: pd.DataFrame, path: Path) -> None:
    """An .xlsx whose text cells are text: a name like ``=cmd|...`` is stored as a string, never a formula.

    openpyxl (and so ``DataFrame.to_excel``) stores any string starting with ``=`` as a live formula;
    here every string cell is typed as a string explicitly.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("log")
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        cells: list[Any] = []
        for v in row:
            if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
                cells.append(None)
                continue
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    wb.save(path)


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
        return lambda t: spreadsheet_safe(df).to_csv(t, index=False)

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
