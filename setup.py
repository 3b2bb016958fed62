"""Build hook only (the project is described in pyproject.toml).

Copies the top-level ``scenarios/`` folder (the example stores the docs name) into the built package
as ``storeq/scenarios/``, so an installed user's ``storeq app`` finds them (see storeq/examples.py).
The folder stays where it is in the repository: one source, no second copy in git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithScenarios(build_py):
    """``build_py`` plus the example scenarios as package data of ``storeq``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "storeq" / "scenarios"
        if not self.dry_run:
            shutil.copytree(HERE / "scenarios", target, dirs_exist_ok=True)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        # listed so the installer records the copied files
        copied = [
            str(Path(self.build_lib) / "storeq" / "scenarios" / p.relative_to(HERE / "scenarios"))
            for p in sorted((HERE / "scenarios").rglob("*"))
            if p.is_file()
        ]
        return [*super().get_outputs(include_bytecode), *copied]


setup(cmdclass={"build_py": BuildWithScenarios})
