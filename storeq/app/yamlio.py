"""A plan as the manager's own scenario file: the original text, comments and layout kept, with only
what the plan changed written in (ruamel.yaml round-trip), and the plan's name.

Why not just ``scenario_to_yaml``: that writes the canonical form, which drops every comment the
store's file had ("# Saturday staff from the district pool") — the notes a manager keeps in it.
The edit is found by comparing the canonical forms of the file and the plan, so an untouched
section is never rewritten, and the result is checked to load back as exactly the plan.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from simulation import Scenario, ScenarioError, scenario_from_yaml, scenario_to_yaml

_MISSING = object()


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line the user wrote
    y.indent(mapping=2, sequence=4, offset=2)  # "  - item", as the bundled files and most hand-written YAML
    return y


def _mark_changed(tree: CommentedMap, key: Any) -> None:
    """A replaced value's end-of-line note described the file's value: say so, keep the note."""
    try:
        token = tree.ca.items.get(key, [None, None, None, None])[2]
        if token is None or not token.value.lstrip().startswith("#"):
            return
        first, sep, rest = token.value.partition("\n")
        note = first.strip().lstrip("#").strip()
        if note and not note.startswith("changed in this plan"):
            token.value = f"# changed in this plan; the file's note: {note}{sep}{rest}"
    except (AttributeError, IndexError, TypeError):
        return


def _plain(value: Any) -> Any:
    """Canonical values as ruamel-friendly containers (flow style for short lists, as files write them)."""
    if isinstance(value, Mapping):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _plain(v)
        return m
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_plain(v) for v in value)
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _merge(tree: Any, old: Any, new: Any) -> Any:
    """Write into ``tree`` (the file's parsed text) what differs between ``old`` and ``new`` (canonical dicts)."""
    if isinstance(new, Mapping) and isinstance(old, Mapping) and isinstance(tree, CommentedMap):
        for key, value in new.items():
            before = old.get(key, _MISSING)
            if before == value:
                continue
            if key in tree and isinstance(value, Mapping) and isinstance(before, Mapping):
                tree[key] = _merge(tree[key], before, value)
                if isinstance(tree[key], CommentedMap) and tree[key].fa.flow_style():
                    _mark_changed(tree, key)  # a one-line mapping's note is on its parent's line
            elif (key in tree and isinstance(value, list) and isinstance(before, list) and len(value) == len(before)
                  and isinstance(tree[key], CommentedSeq) and len(tree[key]) == len(value)
                  and all(isinstance(v, Mapping) for v in value)):
                for i, (b, v) in enumerate(zip(before, value, strict=True)):
                    if b != v:
                        tree[key][i] = _merge(tree[key][i], b, v)
            else:
                tree[key] = _plain(value)
                _mark_changed(tree, key)
        for key in [k for k in old if k not in new and k in tree]:
            del tree[key]  # the plan dropped it (e.g. a policy's suspend windows)
        return tree
    return _plain(new)


def plan_yaml(original_text: str | None, original: Scenario, plan: Scenario, name: str) -> tuple[str, bool]:
    """The plan as YAML text based on ``original_text``: (text, True) when the file's comments were kept.

    Falls back to the canonical form (False) when there is no original text or the merged text
    would not load back as exactly the plan (so a download always runs as what the page showed).
    """
    named = plan.model_copy(update={"name": name})
    canonical = scenario_to_yaml(named)
    if not original_text:
        return canonical, False
    y = _yaml()
    try:
        tree = y.load(original_text)
        if not isinstance(tree, CommentedMap):
            return canonical, False
        _merge(tree, original.to_dict(), named.to_dict())
        out = io.StringIO()
        y.dump(tree, out)
        text = out.getvalue()
        if scenario_from_yaml(text, "plan") != named:
            return canonical, False
    except (ScenarioError, ValueError, TypeError, KeyError):
        return canonical, False
    return text, True
