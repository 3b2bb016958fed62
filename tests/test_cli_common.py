"""cli_common: atomic writes leave ordinary files; user text is safe in terminals and spreadsheets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd

from storeq.cli import common as cli_common


def test_written_files_get_the_umask_permissions_not_mkstemp_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        paths = cli_common.write_frames(tmp_path / "out", {"days": pd.DataFrame({"a": [1, 2]})})
        cli_common.write_text(tmp_path / "out" / "note.txt", "hello\n")
    finally:
        os.umask(old)
    for p in [*paths, tmp_path / "out" / "note.txt"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def test_terminal_safe_shows_control_characters_instead_of_obeying_them() -> None:
    assert cli_common.terminal_safe("a\x1b[2Jb\x07c\nd\te") == "a\\x1b[2Jb\\x07c\nd\te"  # newlines and tabs kept
    assert cli_common.terminal_safe("\x1b]0;title\x07x") == "\\x1b]0;title\\x07x"


def test_plain_escapes_rich_markup() -> None:
    from rich.console import Console

    console = Console(width=80, record=True, color_system=None)
    console.print(f"[bold]{cli_common.plain('[/x] [draft] [red]')}[/bold]")  # would raise MarkupError unescaped
    assert console.export_text().strip() == "[/x] [draft] [red]"


def test_spreadsheet_safe_quotes_formula_text_but_not_numbers() -> None:
    df = pd.DataFrame({"name": ["=cmd|' /C calc'!A0", "+1+1", "-2.5", "@SUM(A1)", "\tx", "plain", None], "n": range(7)})
    out = cli_common.spreadsheet_safe(df)
    assert list(out["name"][:6]) == ["'=cmd|' /C calc'!A0", "'+1+1", "-2.5", "'@SUM(A1)", "'\tx", "plain"]
    assert out["name"].isna().iloc[6] and list(out["n"]) == list(range(7))
    assert list(df["name"][:1]) == ["=cmd|' /C calc'!A0"]  # the caller's frame is untouched
