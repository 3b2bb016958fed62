"""cli_common: atomic writes leave ordinary files (mkstemp alone would make them 0600)."""

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
