"""The code stays ruff- and mypy-clean (configured in pyproject.toml), checked where CI runs, and no
function outside the tests grows past 200 lines (ruff's C901 bounds branching, not length)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 200


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def _source_files() -> list[Path]:
    """Every Python file of the project except the tests (and environments, builds, hidden folders)."""
    skip = {"tests", "build", "dist", "node_modules"}
    return [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if not any(part in skip or part.startswith(".") or part.endswith(".egg-info") for part in p.relative_to(ROOT).parts[:-1])
    ]


def long_functions(paths: list[Path], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``file:line name (N lines)`` for each function or method longer than ``limit`` lines.

    Counted from the ``def`` line to the last line: decorators (a click command's option list) are
    declarations, not code to read through.
    """
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_the_length_check_counts_from_def_to_the_last_line(tmp_path: Path) -> None:
    def module(body_lines: int) -> Path:
        body = "\n".join(f"    x{i} = {i}" for i in range(body_lines))
        path = tmp_path / f"m{body_lines}.py"
        path.write_text(f"@staticmethod\ndef f():\n{body}\n\n\ndef short():\n    return 1\n", encoding="utf-8")
        return path

    assert long_functions([module(MAX_FUNCTION_LINES - 1)]) == []  # def + 199 = 200 lines
    (hit,) = long_functions([module(MAX_FUNCTION_LINES)])
    assert hit.endswith(" f (201 lines)")


def test_no_function_outside_tests_is_over_200_lines() -> None:
    files = _source_files()
    assert any(p.name == "engine.py" for p in files) and not any("tests" in p.parts for p in files)
    assert long_functions(files) == []
