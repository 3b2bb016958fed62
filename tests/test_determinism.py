"""Same scenario and seed → byte-identical results, whatever the number of worker processes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulation import compare, load_scenario, run, with_updates

FLAGSHIP = Path(__file__).resolve().parents[1] / "scenarios" / "telecom_month_end.yaml"


def _frames(res: object) -> dict[str, str]:
    names = ("kpis", "by_segment", "intervals", "days", "interval_reps", "segment_reps", "customers")
    return {n: getattr(res, n).to_csv() for n in names if getattr(res, n) is not None}


def _json(res: object) -> dict[str, object]:
    j = dict(res.to_json())  # type: ignore[attr-defined]
    prov = dict(j.pop("provenance"))
    prov.pop("runtime_s")
    prov.pop("workers")
    j["provenance"] = prov
    return j


def test_same_seed_identical_frames_with_one_or_two_workers() -> None:
    sc = with_updates(load_scenario(FLAGSHIP), {"counters.staffed": [6] * 6 + [8] * 6 + [7] * 6})
    one = run(sc, replications=7, seed=5, workers=1, keep_customers=True)
    two = run(sc, replications=7, seed=5, workers=2, keep_customers=True)
    a, b = _frames(one), _frames(two)
    assert set(a) == set(b) and "customers" in a
    for name in a:
        assert a[name] == b[name], name
    assert _json(one) == _json(two)
    assert one.provenance["workers"] == 1 and two.provenance["workers"] == 2


def test_rerun_identical_and_seed_matters() -> None:
    sc = load_scenario(FLAGSHIP)
    a = run(sc, replications=3, seed=9)
    b = run(sc, replications=3, seed=9)
    c = run(sc, replications=3, seed=10)
    pd.testing.assert_frame_equal(a.days, b.days, check_exact=True)
    assert not a.days["arrivals"].equals(c.days["arrivals"])


def test_replication_r_does_not_depend_on_how_many_run() -> None:
    # Replication r uses child r of SeedSequence(seed): a longer run starts with the shorter one.
    sc = load_scenario(FLAGSHIP)
    short = run(sc, replications=3, seed=4)
    long = run(sc, replications=8, seed=4, workers=2)
    pd.testing.assert_frame_equal(short.days, long.days.iloc[:3], check_exact=True)


def test_compare_identical_with_workers() -> None:
    sc = load_scenario(FLAGSHIP)
    more = with_updates(sc, {"counters.staffed": 8})
    one = compare([sc, more], replications=5, seed=2, workers=1)
    two = compare([sc, more], replications=5, seed=2, workers=2)
    assert one.differences.to_csv() == two.differences.to_csv()
    assert one.interval_differences.to_csv() == two.interval_differences.to_csv()
