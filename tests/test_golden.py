"""Golden outputs: `storeq run` / `compare` / `optimize` JSON (and run/compare tables and CSV) on the
bundled stores, byte for byte.

A structural change (a refactor, a faster engine) must not move a single figure. When an output is
meant to change (a bug fixed on purpose, a new KPI), regenerate with ``python tests/golden/regenerate.py``
and say why in the commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_regenerate", HERE / "regenerate.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.mark.parametrize("name", sorted(golden.CASES))
def test_output_matches_golden_file(name: str) -> None:
    expected = golden.path(name).read_text()
    assert golden.produce(golden.CASES[name]) == expected, (
        f"{name}: output changed; if intended, run `python tests/golden/regenerate.py` and say why in the commit"
    )
