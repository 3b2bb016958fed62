"""Reading and writing scenario files: the only file I/O inside ``simulation/``.

YAML 1.1 (PyYAML's dialect) reads an unquoted ``18:00`` as the base-60 integer 1080. Store files are
full of clocks, so our loader turns that rule off: ``close: 18:00`` stays the string "18:00" and means
six in the evening, quoted or not.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .scenario import Scenario, ScenarioError, parse_overrides, scenario_from_dict, with_updates


class _ClockSafeLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's sexagesimal numbers (so 18:00 is a clock, not 1080).

    It also refuses a key given twice in one mapping: plain YAML keeps the last one silently, so a
    second ``counters:`` block pasted lower in a file would quietly replace the first.
    """

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
        return super().construct_mapping(node, deep=deep)


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

MAX_FILE_BYTES = 2_000_000
"""Scenario files are small; refusing anything larger protects the app from a bad upload."""


MAX_YAML_ALIASES = 20
"""A scenario never needs more anchors than this; 20 references nest to at most 4**5 values: harmless."""


def _refuse_alias_bombs(text: str, source: str) -> None:
    """Refuse YAML that references anchors more than a scenario ever needs.

    A few lines of nested aliases ("billion laughs") expand to billions of values once validated; a
    safe loader does not stop that, so alias references are counted before anything is built.
    """
    try:
        aliases = sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return  # the load below reports the syntax error with its line number
    if aliases > MAX_YAML_ALIASES:
        raise ScenarioError(
            source, [("", f"uses {aliases:,} YAML alias references (*name); scenario files need at most {MAX_YAML_ALIASES}")]
        )


def parse_yaml_text(text: str, source: str) -> Any:
    """Parse YAML safely, turning syntax errors into a ScenarioError with the line number."""
    _refuse_alias_bombs(text, source)
    try:
        return yaml.load(text, Loader=_ClockSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, [("", f"not valid YAML: {where}{problem}")]) from None
    except ValueError as exc:  # a YAML constructor refusing a value, e.g. the date 2026-02-30
        raise ScenarioError(source, [("", f"not valid YAML: {exc}")]) from None


def scenario_from_yaml(text: str | bytes, source: str = "uploaded file") -> Scenario:
    """A Scenario from YAML text (an upload, a text box), validated."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ScenarioError(source, [("", f"file is {len(text):,} bytes; scenario files are at most {MAX_FILE_BYTES:,}")])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ScenarioError(source, [("", "is not a UTF-8 text file (is it a YAML scenario?)")]) from None
    data = parse_yaml_text(text, source)
    return scenario_from_dict(data, source)


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load and validate a scenario file, optionally applying ``--set key=value`` overrides.

    >>> s = load_scenario("scenarios/telecom_month_end.yaml", ["counters.staffed=7"])  # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise ScenarioError(str(p), [("", "file not found")])
    if p.is_dir():
        raise ScenarioError(str(p), [("", "is a folder, not a scenario file")])
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(str(p), [("", f"file is larger than {MAX_FILE_BYTES:,} bytes; is it a scenario?")])
    scenario = scenario_from_yaml(p.read_bytes(), str(p))
    if overrides:
        scenario = with_updates(scenario, parse_overrides(overrides), source=f"{p} with --set")
    return scenario


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as a v1 YAML file that ``storeq run`` accepts (clocks quoted)."""
    return yaml.safe_dump(scenario.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write a file so that it is either the old one or the whole new one, never half of either.

    ``write`` fills a temporary file beside ``path``, which then replaces ``path`` in one rename; an
    interrupted run leaves the old file (or none) and no temporary file. Every writer in storeq
    (CLI results, calibration logs and reports) goes through here.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; results are ordinary user files, so give them the umask's permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
