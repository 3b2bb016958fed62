"""The one scenario YAML writer: a scenario's file form as text, optionally with comments.

Every scenario storeq writes (``run --out``, ``optimize --out``, the app's downloads, ``calibrate``)
goes through :func:`emit`, so there is one layout and no second copy of the schema in a template:
the caller builds the data, the scenario model validates it, and this module only lays it out.

Layout: nested mappings as blocks; a mapping or list of plain values (a distribution, a schedule)
on one line in flow style; a list of mappings (segments, transactions, counter groups) one flow
mapping per line (``- {name: vip, share: 0.1, ...}``), as the bundled examples are written. Values
are written by PyYAML (quoting what needs it: clocks, dates, odd names), never by string formatting,
so the text reads back to the same scenario.

Comments are keyed by path: ``"demand.arrivals_per_hour"``, ``"segments"``, ``"segments[0]"``
(a mapping with a commented key is written as a block so the comment has a line to sit on).
``above`` puts ``# ...`` lines above the key (one per line of the text), ``trailing`` puts one at the
end of the key's line. Text is sanitised: a control character or line break from a log (a file name,
a counter id) cannot end a comment early and inject YAML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml


def _flow(value: Any) -> str:
    """One value in flow style on one line (PyYAML decides quoting)."""
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**9)
    return text.strip()[1:-1]  # drop the wrapping list's brackets


def _is_leaf(value: Any) -> bool:
    """A value written on one line: a scalar, or a collection of scalars."""
    if isinstance(value, Mapping):
        return all(not isinstance(v, Mapping | list | tuple) for v in value.values())
    if isinstance(value, list | tuple):
        return all(not isinstance(v, Mapping | list | tuple) for v in value)
    return True


def _clean(text: str) -> str:
    return "".join(c if c == "\t" or c.isprintable() else "?" for c in text)


def _comment_lines(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}# {_clean(line)}".rstrip() for line in text.splitlines()]


def emit(
    data: Mapping[str, Any],
    above: Mapping[str, str] | None = None,
    trailing: Mapping[str, str] | None = None,
    header: Sequence[str] = (),
) -> str:
    """``data`` (a scenario's ``to_dict()``) as YAML text, with comments by path (see the module docstring)."""
    above = above or {}
    trailing = trailing or {}
    lines = [f"# {_clean(h)}".rstrip() for h in header]

    def tail(path: str) -> str:
        t = trailing.get(path)
        return f"   # {_clean(' '.join(t.splitlines()))}" if t else ""

    commented = {*above, *trailing}

    def has_inner_comments(path: str) -> bool:
        return any(p.startswith((path + ".", path + "[")) for p in commented)

    def mapping(node: Mapping[str, Any], indent: str, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            placed.add(path)
            lines.extend(_comment_lines(above.get(path), indent))
            k = _flow(key)
            if _is_leaf(value) and not (isinstance(value, Mapping) and has_inner_comments(path)):
                lines.append(f"{indent}{k}: {_flow(value)}{tail(path)}")
            elif isinstance(value, Mapping):
                lines.append(f"{indent}{k}:{tail(path)}")
                mapping(value, indent + "  ", path + ".")
            else:
                lines.append(f"{indent}{k}:{tail(path)}")
                for i, item in enumerate(value):
                    ipath = f"{path}[{i}]"
                    placed.add(ipath)
                    lines.extend(_comment_lines(above.get(ipath), indent + "  "))
                    lines.append(f"{indent}  - {_flow(item)}{tail(ipath)}")

    placed: set[str] = set()
    mapping(data, "", "")
    lost = sorted(commented - placed)
    if lost:  # a comment on a key the data does not have is a caller's mistake, not something to drop quietly
        raise ValueError(f"comments on keys not in the scenario: {', '.join(lost)}")
    return "\n".join(lines) + "\n"
