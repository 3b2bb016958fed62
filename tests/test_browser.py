"""The app in a real browser: ``streamlit run app.py`` on a free local port, driven by Playwright
with the system Chromium.

One walk through every page as a manager would, with one edit on each, checking that no page shows
a traceback: What-if (one more counter; the 16:30 answer; a bad upload explained, edits kept),
Compare (four plans), Scenario (the file keeps its comments, takes the plan's name), Roster (a day
roster with its recommendation, then the week for the named staff), Calibration (the example log),
and the Region and Results pages when this build has them. Screenshots at 1400 and 820 px go to
``tests/artifacts/`` for a person to look at; the times a manager waits are printed (measured,
never asserted: timing is a benchmark).

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
from typing import Any

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
LONG = 180_000  # ms: the slowest step (the week for named staff) on a loaded 2-core machine

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # an end-to-end run: a few minutes with the server start


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
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],  # others may edit the tree meanwhile
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


def _metric_value(page: Any, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return str(card.locator('[data-testid="stMetricValue"]').inner_text())


def _minutes(text: str) -> float:
    m = re.match(r"\s*([-\d.]+)", text)
    assert m, f"not a number of minutes: {text!r}"
    return float(m.group(1))


def _no_traceback(page: Any, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: the page shows a traceback"


def _idle(page: Any, timeout: int = LONG) -> None:
    """Wait until the script run ends (Streamlit's status widget no longer says it is running),
    twice half a second apart: a rerun can start just after the first check."""
    for _ in range(2):
        page.wait_for_timeout(500)
        page.wait_for_function(
            """() => { const w = document.querySelector('[data-testid="stStatusWidget"]');
                       return !w || !/Running|Stop/.test(w.innerText); }""",
            timeout=timeout,
        )


def _number(page: Any, label: str, value: int | float) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    _idle(page)


def _select(page: Any, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]', has_text=label).first.click()
    page.keyboard.type(option)  # the option list is virtualised: filter it, then take the match
    page.get_by_role("option", name=option, exact=True).first.click()
    _idle(page)


def _shot(page: Any, name: str, width: int) -> None:
    # the app scrolls inside its own frame, so a tall viewport is what captures the whole page
    page.set_viewport_size({"width": width, "height": 4200 if width >= 1200 else 7600})  # narrow pages stack: taller
    page.wait_for_timeout(1200)  # charts redraw for the new width
    page.screenshot(path=str(ARTIFACTS / f"{name}_{width}.png"), full_page=True)


def _page_link(page: Any, title: str) -> Any:
    return page.locator('[data-testid="stSidebarNav"] a', has_text=title).first


def test_a_manager_walks_through_every_page(app_url: str) -> None:
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("The playwright Python package is not installed")
    flagship = load_scenario(FLAGSHIP)
    staffed = int(flagship.staffed_schedule().max())
    times: dict[str, float] = {}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # --- What-if: the store as loaded, already simulated (first load) ---
            t0 = time.perf_counter()
            page.goto(app_url, wait_until="domcontentloaded")
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=LONG)
            times["first load (100 replications of the flagship hall)"] = time.perf_counter() - t0
            _idle(page)
            _no_traceback(page, "What-if")
            before = _minutes(_metric_value(page, "Mean wait"))
            assert _metric_value(page, "Cross-sell margin").endswith("CNY")

            # one edit: one more counter all day, then run
            _number(page, "Set every interval to (counters)", staffed + 1)
            page.get_by_text(f"Staffed now: {staffed + 1} all day").wait_for(timeout=30_000)
            page.get_by_role("button", name="Run simulation").click()
            t0 = time.perf_counter()
            page.locator('[data-testid="stMetric"]', has_text="Mean wait").locator('[data-testid="stMetricDelta"]').wait_for(timeout=LONG)
            times["What-if run: click → 100-replication result"] = time.perf_counter() - t0
            _idle(page)
            after = _minutes(_metric_value(page, "Mean wait"))
            assert after < before, f"one more counter should shorten the mean wait: {before} → {after}"
            assert "Your plan cuts" in page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()

            # the direct answer for 16:30: both plans, with CIs
            _select(page, "At what time?", "16:30")
            page.get_by_text("What a customer arriving at 16:30 can expect").wait_for(timeout=30_000)
            _idle(page)
            answer = page.locator('[data-testid="stTable"]').first.inner_text()
            assert "16:30-17:00" in answer and "Baseline" in answer and "Edited plan" in answer
            assert re.search(r"\d+\.\d min \(\d+\.\d–\d+\.\d min\)", answer), answer
            _no_traceback(page, "What-if after the run")
            _shot(page, "whatif", 1400)
            _shot(page, "whatif", 820)
            page.set_viewport_size({"width": 1400, "height": 1000})

            # a bad upload is explained next to the uploader, and the plan the user made is kept
            bad = FLAGSHIP.read_text().replace("share: 0.82", "share: 0.70").encode()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
                files=[{"name": "bad_hall.yaml", "mimeType": "application/x-yaml", "buffer": bad}]
            )
            page.get_by_text("shares must add up to 1").first.wait_for(timeout=30_000)
            assert page.get_by_role("spinbutton", name="Set every interval to (counters)").input_value() == str(staffed + 1)

            # --- Compare: four plans (the store, the edit, two variants) ---
            _page_link(page, "Compare").click()
            page.get_by_text("Make a variant").wait_for(timeout=30_000)
            _idle(page)
            page.get_by_text("Make a variant").click()
            for n, name in ((2, "Two more after 14:30"), (3, "Three more after 14:30")):
                _number(page, "Add counters", n)
                name_box = page.get_by_role("textbox", name="Name")
                name_box.fill(name)
                name_box.press("Enter")
                _idle(page)
                page.get_by_role("button", name="Add plan").click()
                _idle(page)
            page.get_by_role("button", name="Compare", exact=True).click()
            t0 = time.perf_counter()
            page.get_by_text("Paired change against Plan A").wait_for(timeout=LONG)
            times["Compare: 4 plans × 100 replications"] = time.perf_counter() - t0
            _idle(page)
            _no_traceback(page, "Compare")
            verdicts = page.locator('[data-testid="stAlertContentSuccess"]').all_inner_texts()
            assert len(verdicts) == 3 and all("cuts the" in v for v in verdicts), verdicts
            _shot(page, "compare", 1400)
            _shot(page, "compare", 820)
            page.set_viewport_size({"width": 1400, "height": 1000})

            # --- Scenario: the file keeps its comments; one edit: the plan's name ---
            _page_link(page, "Scenario").click()
            page.get_by_role("button", name="Download scenario (YAML)").wait_for(timeout=30_000)
            _idle(page)
            name_box = page.get_by_role("textbox", name="Name in the file")
            name_box.fill("Plan B for the 28th")
            name_box.press("Enter")
            page.locator('[data-testid="stCode"]', has_text="name: Plan B for the 28th").wait_for(timeout=30_000)
            code = page.locator('[data-testid="stCode"]').first.inner_text()
            assert "# Telecom business hall" in code and "name: Plan B for the 28th" in code
            _no_traceback(page, "Scenario")
            _shot(page, "scenario", 1400)

            # --- Roster: a day, then the week for the named staff ---
            page.set_viewport_size({"width": 1400, "height": 1000})
            _page_link(page, "Roster").click()
            page.get_by_text("Erlang A formula (fast)").click()
            page.get_by_role("button", name="Build roster").click()
            t0 = time.perf_counter()
            page.get_by_text("Recommended pitch rule").wait_for(timeout=LONG)
            times["Roster: one day (Erlang A requirement, 100-replication check)"] = time.perf_counter() - t0
            _idle(page)
            _no_traceback(page, "Roster (day)")
            _shot(page, "roster_day", 1400)
            # the week with fewer replications per check (seven days are simulated)
            _number(page, "Replications per run", 20)
            _number(page, "Week solver time limit (s)", 5)
            page.get_by_role("button", name="Plan the week for the named staff").click()
            t0 = time.perf_counter()
            page.get_by_text("Per day: the simulated check").wait_for(timeout=LONG)
            times["Roster: a week for 15 named staff (5 s solver limit, 20-replication checks)"] = time.perf_counter() - t0
            _idle(page)
            _no_traceback(page, "Roster (week)")
            assert _metric_value(page, "People rostered").endswith("of 15")
            week_check = page.locator('[data-testid="stTable"]').first.inner_text()
            assert all(day in week_check for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")), week_check
            page.get_by_text("people on duty").first.wait_for(timeout=30_000)
            _shot(page, "roster_week", 1400)
            _number(page, "Replications per run", 100)

            # --- Calibration: the example log ---
            _page_link(page, "Calibration").click()
            page.get_by_role("button", name="Calibrate").wait_for(timeout=30_000)
            _idle(page)
            page.get_by_role("button", name="Calibrate").click()
            t0 = time.perf_counter()
            page.get_by_text("interval values lie inside").first.wait_for(timeout=LONG)
            times["Calibration: the example log, 10 replications per day"] = time.perf_counter() - t0
            _idle(page)
            _no_traceback(page, "Calibration")
            _shot(page, "calibration", 1400)

            # --- Region and Results, when this build has them: open, one edit, no traceback ---
            if _page_link(page, "Region").count():
                _page_link(page, "Region").click()
                page.get_by_role("heading", name="Region").first.wait_for(timeout=30_000)
                t0 = time.perf_counter()
                _idle(page)
                times["Region: open the example region (its default replications)"] = time.perf_counter() - t0
                _number(page, "Replications per store and variant", 2)  # the edit: a quick look at the region
                _no_traceback(page, "Region")
                _shot(page, "region", 1400)
            else:
                print("\nRegion page: not in this build")
            if _page_link(page, "Results").count():
                _page_link(page, "Results").click()
                page.get_by_role("heading", name="Results").first.wait_for(timeout=30_000)
                _idle(page)
                store = page.get_by_role("textbox", name="Results store")
                store.fill(str(ARTIFACTS / "no_such_results.duckdb"))  # the edit: another store path
                store.press("Enter")
                _idle(page)
                page.get_by_text("no_such_results.duckdb").first.wait_for(timeout=30_000)
                _no_traceback(page, "Results")
                _shot(page, "results", 1400)
            else:
                print("\nResults page: not in this build")
        finally:
            browser.close()
    print("\nWhat a manager waits for (this machine, this run):")
    for what, seconds in times.items():
        print(f"  {what}: {seconds:.1f} s")
