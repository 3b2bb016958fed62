"""What an installed user gets: one storeq package, no generic top-level names, the examples inside.

Issue 9: only ``simulation``, ``optimizer``, ``calibration`` and ``storeq`` may be installed as
top-level names (``cli`` or ``app`` in site-packages collide with other projects, and importing
``app`` ran Streamlit's page setup). The example scenarios ship inside the package (``setup.py``
copies ``scenarios/``), so ``storeq app`` finds them without the repository.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = {"simulation", "optimizer", "calibration", "storeq"}
SOURCES = ("pyproject.toml", "setup.py", "README.md", "simulation", "optimizer", "calibration", "storeq", "scenarios")


def _installed_top_level() -> set[str]:
    # read from a neutral folder: the checkout's own storeq.egg-info must not stand in for the install
    code = "import importlib.metadata as m; print(m.distribution('storeq').read_text('top_level.txt'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(sys.executable).parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_the_installed_distribution_has_only_the_four_packages() -> None:
    assert _installed_top_level() == TOP_LEVEL
    scripts = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts["storeq"] == "storeq.cli.interrupts:console_main"


def test_import_storeq_is_cheap_and_resolves_the_api() -> None:
    code = (
        "import sys, storeq\n"
        "heavy = [m for m in ('ortools', 'streamlit', 'calibration', 'optimizer') if m in sys.modules]\n"
        "print(heavy, callable(storeq.run), callable(storeq.load_scenario))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True", "True"]


@pytest.mark.slow  # builds a wheel (setuptools from the package index, ~20 s)
def test_a_wheel_installs_four_packages_and_ships_the_examples(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("storeq-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == TOP_LEVEL | {next(n.split("/")[0] for n in names if ".dist-info/" in n)}
    assert "storeq/scenarios/telecom_month_end.yaml" in names
    assert "storeq/scenarios/region_example/region.yaml" in names

    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert {p.name for p in site.iterdir() if not p.name.endswith(".dist-info") and p.name != "bin"} == TOP_LEVEL

    # a user without the repository: the installed copy is imported and finds its examples
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import storeq, storeq.examples\n"
        "print(storeq.__file__)\n"
        "print(storeq.examples.scenarios_dir())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    package_file, examples = out.stdout.split("\n")[:2]
    assert Path(package_file).is_relative_to(site) and Path(examples) == site / "storeq" / "scenarios"
    check = subprocess.run(
        [sys.executable, "-m", "storeq", "check", str(Path(examples) / "telecom_month_end.yaml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0 and ": OK: " in check.stdout, check.stderr

    # what `storeq app` runs, from the installed copy: the store picker lists the shipped examples
    app = (
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(site / 'storeq' / 'app' / 'streamlit_app.py')!r}, default_timeout=300)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print(*at.selectbox(key='k_source').options, sep='\\n')\n"
    )
    env |= {"STOREQ_APP_REPLICATIONS": "2", "STOREQ_APP_WORKERS": "1"}
    shown = subprocess.run([sys.executable, "-c", app], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "telecom_month_end.yaml" in shown.stdout.split()


def test_the_checkout_reads_the_examples_from_scenarios() -> None:
    from storeq.examples import scenarios_dir

    assert scenarios_dir() == ROOT / "scenarios"  # no stray storeq/scenarios copy in the source tree
