"""Every example store in ``scenarios/`` loads, runs and tells a plausible story.

The examples are the format's documentation and the first thing a new user runs, so each must keep
working as the model grows: it loads, a few replications run, customers are conserved in every
replication, and the KPIs are those of a store that works — busy, not collapsing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import load_scenario, run
from simulation.loader import parse_yaml_text

REPO = Path(__file__).resolve().parent.parent


# Keys only a store scenario has: a file in scenarios/ with none of them is another kind of input
# kept next to the examples (the optimizer's staff file, calibration's column mapping).
SCENARIO_KEYS = {"store", "demand", "segments", "transactions", "counters", "kiosks", "cross_sell"}


def scenario_files() -> list[Path]:
    """Every store scenario in ``scenarios/``: any YAML file there with a scenario key must load."""
    out = []
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        data = parse_yaml_text(path.read_text(encoding="utf-8"), str(path))
        if isinstance(data, dict) and not SCENARIO_KEYS & set(data):
            continue
        out.append(path)
    return out


EXAMPLES = scenario_files()


def test_the_expected_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"telecom_month_end.yaml", "telecom_mid_month.yaml", "bank_branch.yaml", "supermarket.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_conserves_customers(path: Path) -> None:
    scenario = load_scenario(path)
    result = run(scenario, replications=4, seed=2, workers=1, keep_customers=True)
    days = result.days
    assert len(days) == 4
    # conservation in every replication: everyone who walks in is served, abandons or balks
    assert (days["arrivals"] == days["served"] + days["abandoned"] + days["balked"]).all()
    assert (days["arrivals"] > 0).all()
    customers = result.customers
    assert customers is not None
    assert len(customers) == int(days["arrivals"].sum())
    assert set(customers["outcome"]) <= {"served", "abandoned", "balked"}
    # the day's arrivals match the demand profile: expected walk-ins (after online diversion of
    # kiosk-able demand) within 5 Poisson standard deviations of the 4-day total
    rates = scenario.arrival_rates_per_hour()
    expected_demand = float(rates.sum()) * scenario.store.interval_min / 60 * 4
    walk_in = expected_demand - float(days["diverted"].sum())
    assert abs(float(days["arrivals"].sum()) - walk_in) < 5 * walk_in**0.5


# The three examples written as "a store that works": busy, but nobody should read them as broken.
# Bounds are wide on purpose (4 replications): they catch a store that collapses (abandonment in the
# tens of percent, counters pinned at 100%, people still inside an hour after closing), not noise.
PLAUSIBLE = ["telecom_mid_month.yaml", "bank_branch.yaml", "supermarket.yaml"]


@pytest.mark.parametrize("name", PLAUSIBLE)
def test_example_is_a_store_that_works(name: str) -> None:
    scenario = load_scenario(REPO / "scenarios" / name)
    k = run(scenario, replications=4, seed=2, workers=1).kpis["mean"]
    assert k["abandonment_rate"] < 0.10
    assert k["balked"] < 0.02 * k["arrivals"]
    assert 0.4 < k["utilization"] < 0.95
    assert k["service_level"] > 0.6
    assert k["last_departure_min"] < scenario.store.duration_min + 60


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_renders_in_every_cli_format(path: Path) -> None:
    import json

    from click.testing import CliRunner

    from storeq import cli

    runner = CliRunner()
    name = load_scenario(path).name
    table = runner.invoke(cli.main, ["run", str(path), "-n", "2", "--workers", "1"], catch_exceptions=False)
    assert table.exit_code == 0, table.stderr
    assert name in table.stdout and "Per interval" in table.stdout
    js = runner.invoke(cli.main, ["run", str(path), "-n", "2", "--format", "json"], catch_exceptions=False)
    assert js.exit_code == 0, js.stderr
    assert json.loads(js.stdout)["scenario"] == name
    check = runner.invoke(cli.main, ["check", str(path)], catch_exceptions=False)
    assert check.exit_code == 0 and check.stdout.startswith(f"{path}: OK: {name}")
