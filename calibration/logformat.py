"""The ticket-log format, the column mapping that reads other exports, and the cleaning of dirty rows.

A ticket log has one row per ticket (see ``docs/ticket-log.md``). Real exports name their columns
differently, write dates their own way and say "served" in their own words, so a *mapping* (a small
YAML file, parsed by :mod:`calibration.io`) tells storeq where each of our columns lives.

Cleaning never crashes and never drops a row silently: every row that is skipped, or whose times are
not used, is counted under one named category with a reason, and the summary travels with the result
(``CleanLog.issues``) into the CLI's stderr/JSON and the fit report.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

LOG_COLUMNS = (
    "ticket_id",
    "issued_at",
    "called_at",
    "service_start",
    "service_end",
    "counter_id",
    "transaction",
    "segment",
    "channel",
    "outcome",
)
REQUIRED_COLUMNS = ("issued_at", "transaction", "outcome")
TIME_COLUMNS = ("issued_at", "called_at", "service_start", "service_end")
CHANNELS = ("counter", "kiosk")
OUTCOMES = ("served", "abandoned", "no_show")
MAX_SERVICE_MIN = 240.0
"""A single service longer than four hours is a forgotten "finish" button, not a transaction."""
MAX_WAIT_MIN = 600.0
"""A wait longer than ten hours means the ticket was closed the next day (or the clock is wrong)."""

# (category, action, description) — the order is the order checks run in and are reported in.
ISSUE_CATEGORIES: dict[str, tuple[str, str]] = {
    "missing_issued_at": ("skipped", "no issue time, so the arrival cannot be placed"),
    "unparseable_issued_at": ("skipped", "issue time present but not a date-time in the expected format"),
    "date_out_of_range": ("skipped", "issue date outside --days, or more than a month outside the log's own period (a 1970 or 2099 clock)"),
    "outside_opening_hours": ("skipped", "issued before opening or after closing (opening hours are taken from the data)"),
    "duplicate_ticket_id": ("skipped", "same ticket id twice on the same day; the first row is kept"),
    "unknown_transaction": ("skipped", "transaction missing, or not one of the names the mapping lists"),
    "unknown_outcome": ("skipped", "outcome not served / abandoned / no_show (after the mapping's value map)"),
    "unknown_channel": ("skipped", "channel not counter / kiosk (after the mapping's value map)"),
    "unparseable_time": ("times not used", "called/start/end time present but not parseable; the ticket still counts as an arrival"),
    "missing_times": ("times not used", "served ticket without service start or end, or abandoned / no-show ticket without the time it was closed (called_at); counts as an arrival only"),
    "service_before_issue": ("times not used", "called or served before the ticket was issued"),
    "negative_duration": ("times not used", "service ends before it starts"),
    "implausible_duration": ("times not used", f"service longer than {MAX_SERVICE_MIN:g} min or wait longer than {MAX_WAIT_MIN:g} min"),
}


class LogError(ValueError):
    """The file cannot be read as a ticket log at all (wrong file, no usable column, no usable row)."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source


@dataclasses.dataclass(frozen=True)
class LogMapping:
    """How to read one export: column names, date format, encoding, value words.

    ``columns`` maps our column name to theirs (only the ones that differ need listing). ``date``
    names an optional separate date column for exports whose time columns hold only "HH:MM:SS".
    ``values`` maps, per column (outcome, channel, transaction, segment), their word to ours; for
    ``transaction`` the map doubles as the list of known names: anything else is unknown.
    """

    columns: Mapping[str, str] = dataclasses.field(default_factory=dict)
    date: str | None = None
    datetime_format: str | None = None
    encoding: str | None = None
    """None: UTF-8, else GB18030 (GBK), and the reader says which it used."""
    separator: str = ","
    """A literal string (never a regular expression)."""
    sheet: str | int = 0
    values: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    transactions: tuple[str, ...] | None = None
    """Known transaction names (ours). None: every non-empty name is accepted."""

    def source_column(self, ours: str) -> str:
        return self.columns.get(ours, ours)


_MAPPING_KEYS = ("columns", "date", "datetime_format", "encoding", "separator", "sheet", "values", "transactions")


def _text(value: Any, key: str, source: str, what: str) -> str:
    """A mapping value that must be one piece of text (a column name, a word)."""
    if isinstance(value, bool) or value is None or isinstance(value, Mapping | list | tuple):
        raise LogError(source, f"{key}: must be {what}, got {value!r}")
    return str(value)


def check_datetime_format(fmt: Any, source: str) -> str:
    """A strptime format, or a LogError naming ``datetime_format``, the value and an example."""
    if not isinstance(fmt, str) or "%" not in fmt:
        raise LogError(source, f'datetime_format: must be a date-time format like "%Y/%m/%d %H:%M:%S", got {fmt!r}')
    try:
        _dt.datetime.strptime("", fmt)
    except ValueError as exc:
        text = str(exc)
        if "directive" in text or "stray %" in text or ("unconverted" not in text and "does not match" not in text):
            raise LogError(
                source,
                f'datetime_format: {fmt!r} is not a date-time format ({text}); use strftime codes such as '
                f'"%d/%m/%Y %H:%M" (%Y year, %m month, %d day, %H hour, %M minute, %S second)',
            ) from None
    return fmt


def _value_words(values: Any, source: str) -> dict[str, dict[str, str]]:
    """The mapping's ``values``: per column, their word → ours, checked against our words."""
    if not isinstance(values, Mapping) or not all(isinstance(v, Mapping) for v in values.values()):
        raise LogError(source, "values: must map a column (outcome, channel, transaction, segment) to {their word: our word}")
    bad = [k for k in values if k not in ("outcome", "channel", "transaction", "segment")]
    if bad:
        raise LogError(source, f"values: unknown column(s) {', '.join(map(str, bad))}; allowed: outcome, channel, transaction, segment")
    words = {
        str(k): {_text(a, f"values.{k}", source, "a word"): _text(b, f"values.{k}.{a}", source, "a word") for a, b in v.items()}
        for k, v in values.items()
    }
    for col, allowed in (("outcome", OUTCOMES), ("channel", CHANNELS)):
        wrong = [str(v) for v in (words.get(col) or {}).values() if v not in allowed]
        if wrong:
            raise LogError(source, f"values.{col}: {', '.join(wrong)} not allowed; map to one of {', '.join(allowed)}")
    return words


def _encoding(value: Any, source: str) -> str | None:
    if value is None:
        return None
    encoding = _text(value, "encoding", source, "an encoding name (utf-8, gbk, gb18030)")
    try:
        "x".encode(encoding)  # a text codec: base64 or rot13 raise LookupError here too
    except (LookupError, TypeError, ValueError):
        raise LogError(source, f"encoding: unknown encoding {encoding!r} (e.g. utf-8, gbk, gb18030)") from None
    return encoding


def _separator(value: Any, source: str) -> str:
    """A literal separator (never a regular expression): 1 to 10 characters, ``tab`` or ``\\t`` for a tab."""
    if value is None:
        return ","
    if value in ("\\t", "tab"):
        value = "\t"
    separator = _text(value, "separator", source, 'the text between columns (e.g. ",", ";", "\\t" or "|")')
    if not 1 <= len(separator) <= 10 or separator in ('"', "\n", "\r"):
        raise LogError(source, f'separator: must be 1 to 10 characters other than a quote or a line break (e.g. ",", ";" or "|"), got {separator!r}')
    return separator


def mapping_from_dict(data: Any, source: str = "mapping") -> LogMapping:
    """Validate a parsed mapping file, naming the key, the value and the allowed values on any problem.

    Every value is checked for its kind before use, so a list where a name belongs or ``sheet: null``
    is a message, not an AttributeError or a pandas failure later.
    """
    if data is None:
        return LogMapping()
    if not isinstance(data, Mapping):
        raise LogError(source, f"a mapping file must be a YAML mapping with keys {', '.join(_MAPPING_KEYS)}")
    unknown = [k for k in data if k not in _MAPPING_KEYS]
    if unknown:
        raise LogError(source, f"unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(_MAPPING_KEYS)}")
    cols = data.get("columns") or {}
    if not isinstance(cols, Mapping):
        raise LogError(source, "columns: must map our column name to the export's column name")
    bad = [k for k in cols if k not in (*LOG_COLUMNS,)]
    if bad:
        raise LogError(source, f"columns: unknown column(s) {', '.join(map(str, bad))}; ours are {', '.join(LOG_COLUMNS)}")
    columns = {str(k): _text(v, f"columns.{k}", source, "the export's column name") for k, v in cols.items()}
    words = _value_words(data.get("values") or {}, source)
    encoding = _encoding(data.get("encoding"), source)
    separator = _separator(data.get("separator"), source)
    sheet = data.get("sheet", 0)
    if isinstance(sheet, bool) or not ((isinstance(sheet, str) and sheet.strip()) or (isinstance(sheet, int) and sheet >= 0)):
        raise LogError(source, f"sheet: must be one sheet of the workbook: its name, or its position (0 = the first), got {sheet!r}")
    fmt = data.get("datetime_format")
    if fmt is not None:
        fmt = check_datetime_format(fmt, source)
    date = data.get("date")
    if date is not None:
        date = _text(date, "date", source, "the name of the export's date column")
    tx = data.get("transactions")
    if tx is not None and not (isinstance(tx, list) and all(isinstance(t, str) for t in tx)):
        raise LogError(source, "transactions: must be a list of known transaction names")
    known = tuple(tx) if tx else None
    tx_values = words.get("transaction")
    if known is None and tx_values:
        known = tuple(dict.fromkeys(tx_values.values()))
    return LogMapping(
        columns=columns,
        date=date,
        datetime_format=fmt,
        encoding=encoding,
        separator=separator,
        sheet=sheet,
        values=words,
        transactions=known,
    )


@dataclasses.dataclass(frozen=True)
class CleanLog:
    """A cleaned log and the account of what was skipped.

    ``tickets`` has our columns with proper types plus ``day`` (date), ``times_ok`` (bool: durations
    usable), ``issued_min``/``called_min``/``start_min``/``end_min`` (minutes after midnight of the
    issue day). ``issues`` has one row per category: category, rows, action, reason, examples.
    """

    tickets: pd.DataFrame
    issues: pd.DataFrame
    rows_read: int
    source: str

    @property
    def rows_skipped(self) -> int:
        return int(self.issues.loc[self.issues["action"] == "skipped", "rows"].sum())

    def summary_lines(self) -> list[str]:
        """One plain line per problem category found (empty when the log was clean)."""
        out = []
        for r in self.issues.to_dict("records"):
            if r["rows"]:
                ex = f" (e.g. {r['examples']})" if r["examples"] else ""
                out.append(f"{r['rows']:,} rows {str(r['category']).replace('_', ' ')}: {r['action']} — {r['reason']}{ex}")
        return out


def _blank(s: pd.Series) -> np.ndarray:
    return np.array(s.isna() | (s.astype("string").str.strip() == ""), dtype=bool)


_OFFSET = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\D|$)"


def _date_text(raw: pd.Series, date: pd.Series | None) -> pd.Series:
    """The date-time text to parse: a separate date column joined on, UTC offsets dropped.

    Offsets are dropped, not converted: the store's wall clock is what opening hours are in, and
    an export that writes ``+08:00`` on some rows and ``Z`` on others (mixed offsets) still reads
    each row as the clock time it shows (docs/ticket-log.md).
    """
    text = raw.astype("string").str.strip()
    if date is not None:
        text = date.astype("string").str.strip() + " " + text
    return text.str.replace(_OFFSET, r"\1", regex=True)


def day_first(raw: pd.Series, date: pd.Series | None, source: str, column: str = "issued_at") -> bool | None:
    """Whether dates written ``dd/mm/yyyy`` or ``mm/dd/yyyy`` put the day first; None: not that form.

    A day above 12 settles it. A log whose days and months are all 12 or less cannot be told
    apart, and a log with both orders is not one format: both are refused naming ``datetime_format``
    rather than read with day and month silently swapped.
    """
    text = _date_text(raw, date).dropna()
    if len(text) == 0:
        return None
    parts = text.str.extract(_NUMERIC_DATE).dropna()
    if len(parts) < 0.5 * len(text):
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    first_big, second_big = bool((first > 12).any()), bool((second > 12).any())
    formats = '"%d/%m/%Y %H:%M:%S" (day first) or "%m/%d/%Y %H:%M:%S" (month first)'
    if first_big and second_big:
        a = text[parts.index[int(np.argmax(np.asarray(first > 12)))]]
        b = text[parts.index[int(np.argmax(np.asarray(second > 12)))]]
        raise LogError(source, f"{column} mixes day-first and month-first dates ({a!r} and {b!r}); set datetime_format in the mapping file, e.g. {formats}")
    if first_big:
        return True
    if second_big:
        return False
    raise LogError(
        source,
        f"{column} dates like {str(text.iloc[0])!r} could be day-first or month-first (no day in the log is above 12); "
        f"set datetime_format in the mapping file: {formats}",
    )


def _parse_times(raw: pd.Series, fmt: str | None, date: pd.Series | None, dayfirst: bool | None = None) -> pd.Series:
    """Parse date-times; NaT where missing or unparseable (the caller tells the two apart)."""
    text = _date_text(raw, date)
    if fmt:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    if dayfirst is not None:
        with warnings.catch_warnings():  # the format is inferred from the first value, with the order known
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(text, dayfirst=dayfirst, errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    present = ~_blank(text)
    if dayfirst is None and present.any() and parsed[present].isna().mean() > 0.5:
        # Not ISO: let pandas infer the export's one format (e.g. "2026/11/02 09:03") from the data.
        try:
            with warnings.catch_warnings():  # pandas warns that it falls back to per-value parsing: intended here
                warnings.simplefilter("ignore", UserWarning)
                guess = pd.to_datetime(text, errors="coerce")
        except (ValueError, TypeError):
            guess = parsed
        if guess.notna().sum() > parsed.notna().sum():
            parsed = guess
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)  # the store's wall clock is what opening hours are in
    elif parsed.dtype == object:  # mixed UTC offsets left over: read each as its own wall-clock time
        parsed = pd.to_datetime(parsed.map(lambda v: v.replace(tzinfo=None) if isinstance(v, pd.Timestamp) else v), errors="coerce")
    return parsed


_TIME_ONLY = r"^\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$"


def _time_only_minutes(raw: pd.Series) -> np.ndarray:
    """Minutes after midnight for values that are a bare clock ("9:03", "09:03:27"); NaN otherwise."""
    text = raw.astype("string").str.strip()
    mask = np.asarray(text.str.match(_TIME_ONLY).fillna(False), dtype=bool)
    out = np.full(len(text), np.nan)
    if mask.any():
        parts = text[mask].str.split(":", expand=True).astype(float)
        secs = parts[2].fillna(0.0).to_numpy() if 2 in parts else 0.0
        out[mask] = parts[0].to_numpy() * 60 + parts[1].to_numpy() + secs / 60.0
    return out


def _norm_words(s: pd.Series, values: Mapping[str, str] | None) -> pd.Series:
    """Strip and map their words to ours; matching is case-insensitive on the export's side."""
    out = s.astype("string").str.strip()
    if values:
        lower = {str(k).strip().lower(): v for k, v in values.items()}
        mapped = out.str.lower().map(lower)
        out = mapped.fillna(out)
    return out.astype("string")


_NAME_COLUMNS = ("ticket_id", "counter_id", "transaction", "segment")


def standardise(raw: pd.DataFrame, mapping: LogMapping, source: str) -> pd.DataFrame:
    """Rename an export's columns to ours, or say clearly that this is not a ticket log."""
    found = {str(c).strip(): c for c in raw.columns}
    missing = [c for c in REQUIRED_COLUMNS if mapping.source_column(c) not in found]
    if missing:
        wanted = ", ".join(f"{c}" + (f" (mapped to {mapping.source_column(c)!r})" if c in mapping.columns else "") for c in missing)
        cols = ", ".join(map(str, list(raw.columns)[:12])) + (" ..." if len(raw.columns) > 12 else "")
        raise LogError(
            source,
            f"not a ticket log: no column {wanted}. Found columns: {cols or 'none'}. "
            "A ticket log needs at least issued_at, transaction and outcome; "
            "use --map mapping.yaml to name the export's columns (see docs/ticket-log.md).",
        )
    out = pd.DataFrame(index=raw.index)
    for col in LOG_COLUMNS:
        src = mapping.source_column(col)
        out[col] = raw[found[src]] if src in found else pd.Series(pd.NA, index=raw.index, dtype="string")
        if col in _NAME_COLUMNS and src in found:
            # storeq's own CSVs write a name like "=x" as "'=x" so no spreadsheet runs it: read it back as "=x"
            out[col] = out[col].astype("string").str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
    if mapping.date is not None:
        if mapping.date not in found:
            raise LogError(source, f"mapping date: column {mapping.date!r} not in the file (found {', '.join(map(str, raw.columns))})")
        out["_date"] = raw[found[mapping.date]]
    return out


def clean(
    raw: pd.DataFrame,
    mapping: LogMapping | None = None,
    source: str = "log",
    days: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None),
    hours: tuple[int, int] | None = None,
    interval_min: int = 30,
) -> CleanLog:
    """Turn an export into a typed ticket table, counting every row it cannot use and why.

    Parameters
    ----------
    raw : the file as read (strings are fine; every column is parsed here).
    mapping : how the export names things; default: our own column names.
    days : (first, last) issue dates to keep; outside → ``date_out_of_range``. ``None`` on both
        sides keeps the log's own period (its 0.1%–99.9% dates widened by 31 days), so a stray
        1970 or 2099 clock is out of range anyway.
    hours : (open, close) in minutes after midnight; default: inferred from the issue times
        (:func:`infer_hours`), on the ``interval_min`` grid.
    """
    mapping = mapping or LogMapping()
    df = standardise(raw, mapping, source)
    n = len(df)
    if n == 0:
        raise LogError(source, "the file has a header but no rows")
    row_no = np.arange(n) + 2  # header is line 1 in a CSV; the same numbering helps in Excel
    skip = np.zeros(n, dtype=object)  # first skip reason per row, 0 = kept
    times_bad = np.zeros(n, dtype=object)
    counts: dict[str, tuple[int, np.ndarray]] = {k: (0, np.zeros(0, dtype=int)) for k in ISSUE_CATEGORIES}

    def mark(category: str, mask: np.ndarray, target: np.ndarray) -> None:
        free = mask & (skip == 0) & (target == 0) if target is times_bad else mask & (skip == 0)
        target[free] = category
        counts[category] = (int(free.sum()), np.flatnonzero(free)[:3])

    date_col = df.get("_date")
    issued_raw = df["issued_at"]
    issued, dayfirst = _issue_times(issued_raw, date_col, mapping, source)
    if date_col is None:  # a stray bare clock would parse as today: it is unparseable here
        issued = issued.mask(~np.isnan(_time_only_minutes(issued_raw)))
    blank_issued = _blank(issued_raw)
    mark("missing_issued_at", blank_issued, skip)
    mark("unparseable_issued_at", ~blank_issued & np.asarray(issued.isna()), skip)
    if (skip == 0).sum() == 0:
        raise LogError(
            source,
            "not a ticket log: no row has a readable issued_at date-time"
            + (f" (first value {str(issued_raw.iloc[0])!r})" if n else "")
            + "; set datetime_format in the mapping file (e.g. \"%Y/%m/%d %H:%M:%S\")",
        )
    day = issued.dt.normalize()
    mark("date_out_of_range", _out_of_range(day, day[skip == 0], days) & ~np.asarray(day.isna()), skip)
    if (skip == 0).sum() == 0:
        ok_days = day[~np.asarray(day.isna())]
        asked = " " + " to ".join(str(d.date()) if d is not None else "..." for d in days) if days != (None, None) else ""
        raise LogError(source, f"no ticket is issued within the days asked for{asked}; the log's readable dates run {ok_days.min().date()} to {ok_days.max().date()}")

    issued_min = np.asarray((issued - day).dt.total_seconds() / 60.0, dtype=float)
    if hours is None:
        hours = infer_hours(issued_min[skip == 0], np.asarray(day)[skip == 0], interval_min)
    open_min, close_min = hours
    mark("outside_opening_hours", (issued_min < open_min) | (issued_min >= close_min), skip)

    tid = df["ticket_id"].astype("string").str.strip()
    if tid.isna().all():
        tid = pd.Series(np.arange(n).astype(str), index=df.index, dtype="string")  # no ids: no duplicates to find
    live = skip == 0
    key = pd.DataFrame({"d": day, "t": tid})
    dup = np.zeros(n, dtype=bool)
    dup[live] = np.asarray(key[live].duplicated(keep="first"), dtype=bool) & np.asarray(tid[live].notna(), dtype=bool)
    mark("duplicate_ticket_id", dup, skip)

    tx = _norm_words(df["transaction"], mapping.values.get("transaction"))
    bad_tx = _blank(tx)
    if mapping.transactions is not None:
        bad_tx |= ~np.asarray(tx.isin(list(mapping.transactions)).fillna(False), dtype=bool)
    mark("unknown_transaction", bad_tx, skip)
    outcome = _norm_words(df["outcome"], mapping.values.get("outcome")).str.lower()
    mark("unknown_outcome", ~np.asarray(outcome.isin(OUTCOMES).fillna(False), dtype=bool), skip)
    channel_raw = df["channel"]
    channel = _norm_words(channel_raw, mapping.values.get("channel")).str.lower()
    channel = channel.where(~pd.Series(_blank(channel_raw), index=df.index), "counter")  # no channel column: all at counters
    mark("unknown_channel", ~np.asarray(channel.isin(CHANNELS).fillna(False), dtype=bool), skip)

    parsed: dict[str, np.ndarray] = {}
    unparseable = np.zeros(n, dtype=bool)
    for col in ("called_at", "service_start", "service_end"):
        ts = _parse_times(df[col], mapping.datetime_format, date_col, dayfirst)
        minutes = np.asarray((ts - day).dt.total_seconds() / 60.0, dtype=float)
        if date_col is None:
            # Many exports give the full date only on the issue time and bare clocks elsewhere:
            # those clocks are on the issue day.
            clock = _time_only_minutes(df[col])
            minutes = np.where(~np.isnan(clock), clock, minutes)  # a bare clock parsed alone would be *today*
        unparseable |= ~_blank(df[col]) & np.isnan(minutes)
        parsed[col] = minutes
    mark("unparseable_time", unparseable, times_bad)
    called, start, end = parsed["called_at"], parsed["service_start"], parsed["service_end"]
    served = np.asarray((outcome == "served").fillna(False), dtype=bool)
    mark("missing_times", (served & (np.isnan(start) | np.isnan(end))) | (~served & np.isnan(called)), times_bad)
    before = (start < issued_min - 1e-9) | (called < issued_min - 1e-9)
    mark("service_before_issue", before, times_bad)
    mark("negative_duration", end < start - 1e-9, times_bad)
    wait_end = np.where(np.isnan(called), start, called)
    mark("implausible_duration", (end - start > MAX_SERVICE_MIN) | (wait_end - issued_min > MAX_WAIT_MIN), times_bad)

    keep = skip == 0
    seg = _norm_words(df["segment"], mapping.values.get("segment"))
    seg = seg.where(~pd.Series(_blank(seg), index=df.index), "all")
    tickets = pd.DataFrame(
        {
            "ticket_id": tid.to_numpy()[keep],
            "day": np.asarray(day)[keep],
            "issued_min": issued_min[keep],
            "called_min": called[keep],
            "start_min": start[keep],
            "end_min": end[keep],
            "counter_id": df["counter_id"].astype("string").str.strip().to_numpy()[keep],
            "transaction": pd.Categorical(tx.to_numpy()[keep]),
            "segment": pd.Categorical(seg.to_numpy()[keep]),
            "channel": pd.Categorical(channel.to_numpy()[keep], categories=list(CHANNELS)),
            "outcome": pd.Categorical(outcome.to_numpy()[keep], categories=list(OUTCOMES)),
            "times_ok": (times_bad == 0)[keep],
        }
    )
    tickets.attrs["open_min"], tickets.attrs["close_min"] = open_min, close_min
    rows = []
    for cat, (action, reason) in ISSUE_CATEGORIES.items():
        count, idx = counts[cat]
        ex = ", ".join(f"line {row_no[i]}" + (f" ({tid.iloc[i]})" if pd.notna(tid.iloc[i]) else "") for i in idx)
        rows.append({"category": cat, "rows": count, "action": action, "reason": reason, "examples": ex})
    issues = pd.DataFrame(rows)
    if len(tickets) == 0:
        raise LogError(source, "no usable ticket left after cleaning: " + "; ".join(CleanLog(tickets, issues, n, source).summary_lines()))
    return CleanLog(tickets=tickets, issues=issues, rows_read=n, source=source)


def _out_of_range(day: pd.Series, ok_days: pd.Series, days: tuple[pd.Timestamp | None, pd.Timestamp | None]) -> np.ndarray:
    """Rows whose issue day is outside ``days`` (--days), or, without it, far outside the log's own period."""
    first, last = days
    out_range = np.zeros(len(day), dtype=bool)
    if first is None and last is None and len(ok_days) >= 20:
        # The log's own period: its 0.1%-99.9% dates widened by a month, so a 1970 or 2099 clock on
        # a few rows stands out while a three-year export is kept whole.
        lo_q, hi_q = ok_days.quantile(0.001), ok_days.quantile(0.999)
        month = pd.Timedelta(days=31)
        out_range |= np.asarray((day < lo_q - month) | (day > hi_q + month), dtype=np.bool_)  # type: ignore[operator]
    if first is not None:
        out_range |= np.asarray(day < first, dtype=bool)
    if last is not None:
        out_range |= np.asarray(day > last, dtype=bool)
    return out_range


def _issue_times(issued_raw: pd.Series, date_col: pd.Series | None, mapping: LogMapping, source: str) -> tuple[pd.Series, bool | None]:
    """Issue date-times, and whether dates are day-first (the other time columns use the same order)."""
    present = ~_blank(issued_raw)
    sample = _time_only_minutes(issued_raw[present].head(1000))
    if date_col is None and len(sample) and float((~np.isnan(sample)).mean()) > 0.5:
        raise LogError(
            source,
            f"issued_at holds times without dates ({str(issued_raw.dropna().iloc[0])!r}); name the export's date column "
            "in the mapping file (date: <column>), see docs/ticket-log.md",
        )
    dayfirst = None
    if not mapping.datetime_format:
        dates = None if date_col is None else date_col[present].head(200_000)
        dayfirst = day_first(issued_raw[present].head(200_000), dates, source)
    return _parse_times(issued_raw, mapping.datetime_format, date_col, dayfirst), dayfirst


def infer_hours(issued_min: np.ndarray, day: np.ndarray, interval_min: int) -> tuple[int, int]:
    """Opening hours from each day's first and last ticket (medians over days), a whole number of intervals long.

    Medians, so one early test ticket or one late straggler does not stretch the day; a day's first
    ticket a few minutes after opening still floors to the opening time on the grid.
    """
    ok = ~np.isnan(issued_min)
    s = pd.Series(issued_min[ok]).groupby(pd.Series(day[ok]).to_numpy())
    first = float(np.median(s.min().to_numpy()))
    last = float(np.median(s.max().to_numpy()))
    # Opening on the quarter hour (a hall opening at 08:30 keeps 08:30 even on a 60-minute grid);
    # closing then lies a whole number of intervals later, covering the median last ticket.
    open_min = int(np.floor(first / 15.0) * 15)
    span = max(int(np.ceil((last + 1e-9 - open_min) / interval_min)), 1) * interval_min
    close_min = open_min + span
    while close_min > 24 * 60:
        close_min -= interval_min
    return open_min, close_min
