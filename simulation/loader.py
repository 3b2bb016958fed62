"""Reading and writing scenario files: the only file I/O inside ``simulation/``.

YAML 1.1 (PyYAML's dialect) reads an unquoted ``18:00`` as the base-60 integer 1080. Store files are
full of clocks, so our loader turns that rule off: ``close: 18:00`` stays the string "18:00" and means
six in the evening, quoted or not.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .limits import limit
from .scenario import Scenario, ScenarioError, parse_overrides, scenario_from_dict, with_updates

if TYPE_CHECKING:
    import pandas as pd


class _ClockSafe:
    """SafeLoader behaviour without YAML 1.1's sexagesimal numbers (so 18:00 is a clock, not 1080).

    It also refuses a key given twice in one mapping: plain YAML keeps the last one silently, so a
    second ``counters:`` block pasted lower in a file would quietly replace the first. And an
    impossible date (2026-02-30) stays text, so validation reports it with its key ("store.date:
    ...") instead of the YAML reader failing without saying where.
    """

    construct_object: Any

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(self, node)  # type: ignore[arg-type]
        except (ValueError, OverflowError):
            return yaml.constructor.SafeConstructor.construct_scalar(self, node)  # type: ignore[arg-type]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return yaml.constructor.SafeConstructor.construct_mapping(self, node, deep=deep)  # type: ignore[arg-type]


class _ClockSafeLoader(_ClockSafe, yaml.SafeLoader):  # type: ignore[misc]
    """The pure-Python reader (used where PyYAML was built without libyaml)."""


_C_LOADER = getattr(yaml, "CSafeLoader", None)


class _ClockSafeCLoader(_ClockSafe, yaml.CSafeLoader if _C_LOADER else yaml.SafeLoader):  # type: ignore[misc]
    """The same reader on libyaml: parsing and composing in C, 20-50 times faster than pure Python.

    libyaml composes nested nodes recursively in C, so it only ever sees a document whose depth,
    size and aliases :func:`_prescan` has already checked.
    """


for _cls in (_ClockSafeLoader, _ClockSafeCLoader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _ClockSafe.construct_yaml_timestamp)  # type: ignore[type-var]

_ClockSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ClockSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_ClockSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_ClockSafeCLoader.yaml_implicit_resolvers = _ClockSafeLoader.yaml_implicit_resolvers

MAX_FILE_BYTES = limit("yaml_bytes")
"""Scenario files are small; refusing anything larger protects the app from a bad upload."""

MAX_YAML_ALIASES = limit("yaml_aliases")
"""A scenario never needs more anchors than this; 20 references nest to at most 4**5 values: harmless."""

_CHUNK = 1 << 16


def read_bytes_limited(path: str | Path, max_bytes: int = MAX_FILE_BYTES, what: str = "file") -> bytes:
    """A file's bytes, refusing it once more than ``max_bytes`` have been *read*.

    The size on disk is not trusted: ``/dev/zero``, a named pipe or ``/proc`` files report 0 bytes
    and never end, so the count is of bytes actually read, and reading stops one chunk past the
    limit. A named pipe is opened without blocking, so a pipe nobody writes to reads as empty
    instead of hanging. Every failure is a :class:`ScenarioError` naming the file.
    """
    p = Path(path)
    source = str(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ScenarioError(source, [("", "file not found")]) from None
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot be read: {exc.strerror or exc}")]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(source, [("", f"is a folder, not a {what}")])
    flags = os.O_RDONLY | (getattr(os, "O_NONBLOCK", 0) if stat.S_ISFIFO(st.st_mode) else 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot be read: {exc.strerror or exc}")]) from None
    chunks: list[bytes] = []
    total = 0
    try:
        if stat.S_ISFIFO(st.st_mode):
            os.set_blocking(fd, True)  # wait for a writer's data, but an absent writer still reads as EOF
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise ScenarioError(
                    source, [("", f"is larger than {max_bytes:,} bytes (the limit for a {what}); is it the right file?")]
                )
            chunks.append(chunk)
    except OSError as exc:
        raise ScenarioError(source, [("", f"cannot be read: {exc.strerror or exc}")]) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_text(raw: bytes, source: str, encodings: tuple[str, ...] = ("utf-8-sig",), what: str = "YAML file") -> str:
    """Bytes as text in the first encoding that reads them, or a ScenarioError saying which were tried."""
    if b"\x00" in raw[:8192]:
        raise ScenarioError(source, [("", f"is not a UTF-8 text file (it holds binary data; is it a {what}?)")])
    for enc in encodings:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    tried = " or ".join(e.replace("-sig", "") for e in encodings)
    raise ScenarioError(source, [("", f"is not {tried} text (is it a {what}?)")])


class _YamlLimit(Exception):
    """A file over a limit, found before the document is composed; turned into a ScenarioError."""


def _prescan(text: str) -> None:
    """Count nesting, values, aliases and text lengths from the parser's events, before composing.

    PyYAML's composer and constructor recurse once per nesting level, so a file nested 1,000 deep
    would end in a RecursionError (or, in libyaml's C composer, a crashed process), and a few lines
    of nested aliases ("billion laughs") build a structure that expands to billions of values once
    validated. The event stream is flat: libyaml's parser produces it without recursion, and the
    walk stops at the first limit passed, so a 2 MB hostile file costs a fraction of a second.
    """
    max_depth, max_nodes, max_aliases, max_chars = limit("yaml_depth"), limit("yaml_nodes"), limit("yaml_aliases"), limit("string_chars")
    depth = nodes = aliases = 0
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=_C_LOADER or yaml.SafeLoader):
        if isinstance(event, opening):
            depth += 1
            nodes += 1
            if depth > max_depth:
                raise _YamlLimit(f"{_line(event)}nested more than {max_depth} levels deep; the limit is {max_depth}")
        elif isinstance(event, closing):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if len(event.value) > max_chars:
                raise _YamlLimit(f"{_line(event)}a text value of {len(event.value):,} characters; values are at most {max_chars:,}")
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise _YamlLimit(
                    f"uses more than {max_aliases} YAML alias references (*name); files storeq reads need at most {max_aliases} alias references"
                )
        if nodes > max_nodes:
            raise _YamlLimit(f"{_line(event)}has more than {max_nodes:,} values; the limit is {max_nodes:,}")


def _line(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}: " if mark is not None else ""


def _expanded_size(root: yaml.Node) -> int:
    """Values in the document once every alias is expanded (memoised walk, no recursion)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            size[id(node)] = 1 + sum(size.get(id(c), 0) for c in children)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def parse_yaml_text(text: str, source: str) -> Any:
    """Parse YAML safely, within every limit in :mod:`simulation.limits`; any problem is a ScenarioError.

    The one YAML reader for every file storeq reads: scenarios, ``--set`` values, calibration
    mappings, staff and shift-rules files. Clocks stay text (``18:00`` is not 1080), a key given
    twice is refused, nothing but plain data is built (safe loader), and deep nesting, alias bombs,
    huge values or impossible dates end in a message with the file and line, never a RecursionError,
    a MemoryError or a constructor traceback.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(source, [("", f"is {len(text):,} characters; YAML files are at most {MAX_FILE_BYTES:,}")])
    loader: yaml.SafeLoader | None = None
    try:
        _prescan(text)
        loader = _ClockSafeCLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        expanded = _expanded_size(node)
        if expanded > limit("yaml_nodes"):
            raise _YamlLimit(
                f"uses YAML alias references (*name) that expand to {expanded:,} values; "
                f"the limit is {limit('yaml_nodes'):,}"
            )
        return loader.construct_document(node)
    except _YamlLimit as exc:
        raise ScenarioError(source, [("", str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if "maximum nesting depth" in problem:  # libyaml's own guard, met while scanning ahead
            raise ScenarioError(source, [("", f"{where}nested more than {limit('yaml_depth')} levels deep; the limit is {limit('yaml_depth')}")]) from None
        raise ScenarioError(source, [("", f"not valid YAML: {where}{problem}")]) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a constructor refusing a value (e.g. a huge integer)
        raise ScenarioError(source, [("", f"not valid YAML: {exc}")]) from None
    except RecursionError:  # belt and braces: the depth limit is far below Python's recursion limit
        raise ScenarioError(source, [("", f"nested too deeply; the limit is {limit('yaml_depth')} levels")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_file(
    path: str | Path, what: str = "YAML file", encodings: tuple[str, ...] = ("utf-8-sig",), max_bytes: int = MAX_FILE_BYTES
) -> Any:
    """Read and parse one YAML file within the limits (bytes read, depth, aliases, values)."""
    raw = read_bytes_limited(path, max_bytes, what)
    return parse_yaml_text(decode_text(raw, str(path), encodings, what), str(path))


def scenario_from_yaml(text: str | bytes, source: str = "uploaded file") -> Scenario:
    """A Scenario from YAML text (an upload, a text box), validated."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ScenarioError(source, [("", f"file is {len(text):,} bytes; scenario files are at most {MAX_FILE_BYTES:,}")])
        text = decode_text(text, source, what="YAML scenario")
    data = parse_yaml_text(text, source)
    return scenario_from_dict(data, source)


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load and validate a scenario file, optionally applying ``--set key=value`` overrides.

    >>> s = load_scenario("scenarios/telecom_month_end.yaml", ["counters.staffed=7"])  # doctest: +SKIP
    """
    p = Path(path)
    scenario = scenario_from_yaml(read_bytes_limited(p, MAX_FILE_BYTES, "scenario file"), str(p))
    if overrides:
        scenario = with_updates(scenario, parse_overrides(overrides), source=f"{p} with --set")
    return scenario


def scenario_to_yaml(
    scenario: Scenario,
    above: Mapping[str, str] | None = None,
    trailing: Mapping[str, str] | None = None,
    header: Sequence[str] = (),
) -> str:
    """The scenario as a v1 YAML file that ``storeq run`` accepts, optionally with comments.

    The one writer of scenario files (:mod:`simulation.yamlwriter`): comments by key path, ``above``
    a key or ``trailing`` on its line, and ``header`` lines at the top.
    """
    from .yamlwriter import emit

    return emit(scenario.to_dict(), above, trailing, header)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write a file so that it is either the old one or the whole new one, never half of either.

    ``write`` fills a temporary file beside ``path``, which then replaces ``path`` in one rename; an
    interrupted run leaves the old file (or none) and no temporary file. Every writer in storeq
    (CLI results, calibration logs and reports) goes through here.
    """
    if path.is_symlink():
        path = path.resolve()  # write where the link points; the link stays
    if path.exists() and not path.is_file():
        # A rename would replace a device (/dev/full), a pipe or a socket with a plain file.
        raise ScenarioError(str(path), [("", "is not a regular file (a device, a pipe or a folder); give a file name to write to")])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; results are ordinary user files, so give them the umask's permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        _fsync_path(Path(tmp))  # the bytes reach the disk before the name points at them
        os.replace(tmp, path)
        _fsync_path(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk; a no-op where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders: the rename is still atomic
    finally:
        os.close(fd)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as formulas when the CSV is opened in a spreadsheet.

    A name like ``=HYPERLINK(...)`` or ``@SUM(...)`` is written as ``'=HYPERLINK(...)`` (OWASP's
    advice for CSV injection); numbers, including negative ones, are left alone. Calibration reads
    the quote back off (``calibration.logformat``), so names survive a round trip. Every CSV storeq
    writes (run/compare/optimize sets, synth-log logs, calibration reports) goes through here.
    """
    import pandas as pd  # only the writers need pandas; loading a scenario does not

    out = None
    for col in df.columns:
        series = df[col]
        if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
            continue
        text = series.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False) & pd.to_numeric(text, errors="coerce").isna()
        if bool(risky.any()):
            out = df.copy() if out is None else out
            out[col] = series.where(~risky, "'" + text)
    return df if out is None else out
