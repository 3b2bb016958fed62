"""The app in a real browser: ``streamlit run app.py`` on a free local port, driven by Playwright
with the system Chromium.

Loads the What-if page, edits one cell of the staffing row, adds one counter all day, runs, reads the new mean-wait KPI from the page,
uploads an invalid scenario (the error is shown, the edits are kept), saves screenshots to ``tests/artifacts/`` and prints the time from the click to the
100-replication result for the flagship hall (measured, never asserted: timing is a benchmark).

Needs Chromium (``apt-get install chromium``) and the Playwright package (``pip install playwright``;
no browser download needed, the system Chromium is used). Skipped where they are missing, except
when ``CI=true``: there a missing browser fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulation import load_scenario

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # an end-to-end run: ~15-40 s with the server start


def _missing(what: str) -> None:
    message = f"{what}. Install it with: apt-get install chromium; pip install playwright"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    _missing("Chromium is not installed")
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "STOREQ_APP_WORKERS": "2"}
    env.pop("STOREQ_APP_REPLICATIONS", None)  # the flagship's own 100 replications: that is what is timed
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not become healthy; see {log}")
                time.sleep(0.25)
            yield f"http://localhost:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _metric_value(page: object, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first  # type: ignore[attr-defined]
    return str(card.locator('[data-testid="stMetricValue"]').inner_text())


def _minutes(text: str) -> float:
    m = re.match(r"\s*([-\d.]+)", text)
    assert m, f"not a number of minutes: {text!r}"
    return float(m.group(1))


def test_what_if_one_more_counter_in_a_real_browser(app_url: str) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("The playwright Python package is not installed")
    staffed = int(load_scenario(FLAGSHIP).staffed_schedule().max())

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 3200})
            page.goto(app_url, wait_until="domcontentloaded")
            # the page opens on the store as loaded, already simulated
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
            before = _minutes(_metric_value(page, "Mean wait"))
            page.screenshot(path=str(ARTIFACTS / "whatif_loaded.png"), full_page=True)

            # the staffing row is a data editor (a canvas grid): type into the 2nd interval's cell
            interval_min = load_scenario(FLAGSHIP).store.interval_min
            grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
            assert grid is not None
            page.mouse.click(grid["x"] + 72 * 1.5, grid["y"] + 35 + 17)  # columns are 72 px, the header ~35 px
            page.wait_for_timeout(500)
            page.keyboard.press(str(staffed + 4)[0])  # the first key opens the cell editor
            page.wait_for_timeout(400)
            page.keyboard.type(str(staffed + 4)[1:])
            page.keyboard.press("Enter")
            page.get_by_text(f"staffing {4 * interval_min / 60:+g} staff hours").wait_for(timeout=30_000)

            counters = page.get_by_role("spinbutton", name="Staffed counters all day")
            counters.fill(str(staffed + 1))
            counters.press("Enter")
            page.wait_for_selector("text=Changes from the file: staffing", timeout=30_000)

            page.get_by_role("button", name="Run simulation").click()
            clicked = time.perf_counter()
            # the result is on the page when the mean-wait card shows a change against the baseline
            page.locator('[data-testid="stMetric"]', has_text="Mean wait").locator('[data-testid="stMetricDelta"]').wait_for(timeout=90_000)
            elapsed = time.perf_counter() - clicked
            after = _minutes(_metric_value(page, "Mean wait"))
            page.wait_for_timeout(1500)  # let the charts finish drawing for the screenshot
            page.screenshot(path=str(ARTIFACTS / "whatif_one_more_counter.png"), full_page=True)
            print(f"\nclick → 100-replication result for the flagship hall: {elapsed:.2f} s "
                  f"(mean wait {before:.1f} → {after:.1f} min, {staffed} → {staffed + 1} counters)")
            assert after < before, f"one more counter should shorten the mean wait: {before} → {after}"

            # a bad upload is explained next to the uploader, and the plan the user made is kept
            bad = FLAGSHIP.read_text().replace("share: 0.82", "share: 0.70").encode()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                files=[{"name": "bad_hall.yaml", "mimeType": "application/x-yaml", "buffer": bad}]
            )
            page.get_by_text("shares must add up to 1").first.wait_for(timeout=30_000)
            assert page.get_by_role("spinbutton", name="Staffed counters all day").input_value() == str(staffed + 1)
            page.screenshot(path=str(ARTIFACTS / "whatif_bad_upload.png"), full_page=True)

            # every other page draws in the browser too (screenshots for a person to look at)
            page.get_by_role("link", name="Compare").click()
            page.get_by_role("button", name="Compare", exact=True).click()
            page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(timeout=90_000)
            assert "Plan B cuts the" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
            page.get_by_role("link", name="Scenario").click()
            page.get_by_role("button", name="Download scenario (YAML)").wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "scenario.png"), full_page=True)
            page.get_by_role("link", name="Roster").click()
            page.get_by_text("Erlang A formula (fast)").click()
            page.get_by_role("button", name="Build roster").click()
            page.get_by_text("Solver status").wait_for(timeout=120_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "roster.png"), full_page=True)
        finally:
            browser.close()
