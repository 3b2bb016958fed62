"""Ticket-log reading and cleaning: dirty data per category with exact counts, mappings, GBK, Excel, Parquet.

These tests do not need the simulation engine: logs are made by :func:`make_log`, a queue-free
generator with known parameters (waits drawn independently of patience), which is also what the
fitting tests use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from calibration import LogError, calibrate, clean, mapping_from_dict, read_log, read_mapping
from calibration.logformat import ISSUE_CATEGORIES, LogMapping

PROFILE = np.array([40, 55, 70, 85, 80, 70, 65, 75, 95, 115, 125, 120, 105, 85, 65, 50, 40, 30], float)
TX = {"top_up": (0.5, 2.5, 0.5), "plan_change": (0.3, 6.0, 0.6), "new_line": (0.2, 12.0, 0.5)}  # share, mean, cv


def _lognormal(rng: np.random.Generator, mean: np.ndarray, cv: np.ndarray) -> np.ndarray:
    s2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2))


def make_log(
    days: int = 6,
    seed: int = 0,
    start: str = "2026-11-02",
    profile: np.ndarray = PROFILE,
    weekday: tuple[float, ...] = (1.0,) * 7,
    dom: dict[int, float] | None = None,
    wait_mean: float = 8.0,
    patience_mean: float = 20.0,
    kiosk_adoption: float = 0.5,
    counters: int = 6,
) -> pd.DataFrame:
    """A ticket log with known truth: Poisson arrivals per 30-min interval from 09:00, lognormal services.

    Waits are Exp(wait_mean) independent of patience Exp(patience_mean): a customer abandons when
    patience < wait. So the censored patience MLE is exactly the textbook setting.
    """
    rng = np.random.default_rng(seed)
    frames = []
    names = list(TX)
    p = np.array([TX[k][0] for k in names])
    for d in range(days):
        day = pd.Timestamp(start) + pd.Timedelta(days=d)
        f = weekday[day.weekday()] * (dom or {}).get(day.day, 1.0)
        counts = rng.poisson(profile * f / 2)
        arr = np.concatenate([540 + 30 * i + np.sort(rng.uniform(0, 30, c)) for i, c in enumerate(counts)])
        n = len(arr)
        tx = rng.choice(len(names), n, p=p)
        seg = np.where(rng.random(n) < 0.1, "vip", "regular")
        kiosk = (tx == 0) & (rng.random(n) < kiosk_adoption)
        mean = np.array([TX[k][1] for k in names])[tx]
        cv = np.array([TX[k][2] for k in names])[tx]
        svc = np.where(kiosk, _lognormal(rng, np.full(n, 1.5), np.full(n, 0.4)), _lognormal(rng, mean, cv))
        wait = np.where(kiosk, 0.0, rng.exponential(wait_mean, n))
        pat = rng.exponential(patience_mean, n)
        ab = (pat < wait) & ~kiosk
        called = arr + np.where(ab, pat, wait)
        st = np.where(ab, np.nan, called)
        en = st + svc

        def stamp(m: np.ndarray, day: pd.Timestamp = day) -> pd.Series:
            ts = day + pd.to_timedelta(np.round(np.nan_to_num(m) * 60), unit="s")
            return pd.Series(ts).dt.strftime("%Y-%m-%d %H:%M:%S").where(np.isfinite(m), "")

        frames.append(
            pd.DataFrame(
                {
                    "ticket_id": [f"A{i + 1:04d}" for i in range(n)],
                    "issued_at": stamp(arr),
                    "called_at": stamp(called),
                    "service_start": stamp(st),
                    "service_end": stamp(en),
                    "counter_id": np.where(kiosk | ab, "", np.char.add("C", (np.cumsum(~(kiosk | ab)) % counters + 1).astype(str))),
                    "transaction": np.array(names)[tx],
                    "segment": seg,
                    "channel": np.where(kiosk, "kiosk", "counter"),
                    "outcome": np.where(ab, "abandoned", "served"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _count(c, category: str) -> int:
    return int(c.issues.set_index("category").loc[category, "rows"])


def test_clean_log_has_no_issues_and_keeps_every_row():
    log = make_log(days=2)
    c = clean(log, source="t")
    assert c.issues["rows"].sum() == 0
    assert len(c.tickets) == len(log)
    assert c.tickets.attrs["open_min"] == 540 and c.tickets.attrs["close_min"] == 1080
    assert c.tickets["times_ok"].all()


def test_each_dirty_category_is_counted_exactly():
    log = make_log(days=3, seed=3)
    log = log.astype(object)
    served = log.index[(log["outcome"] == "served") & (log["channel"] == "counter")].to_numpy()
    rows = iter(served[::7])  # distinct rows, one category each

    def take(k: int) -> list[int]:
        return [next(rows) for _ in range(k)]

    for i in take(3):
        log.loc[i, "issued_at"] = ""
    for i, v in zip(take(2), ["2026-13-45 25:00:00", "yesterday"], strict=True):
        log.loc[i, "issued_at"] = v
    for i in take(2):
        log.loc[i, "issued_at"] = "1970-01-01 10:00:00"
    for i in take(1):
        log.loc[i, "issued_at"] = log.loc[i, "issued_at"][:10] + " 03:00:00"
    for i, v in zip(take(3), ["", "bogus", "teleport"], strict=True):
        log.loc[i, "transaction"] = v
    for i in take(2):
        log.loc[i, "outcome"] = "maybe"
    for i in take(1):
        log.loc[i, "channel"] = "app"
    for i in take(2):
        log.loc[i, "service_end"] = "xx:yy"
    for i in take(2):
        log.loc[i, "service_start"] = ""
    for i in take(3):
        log.loc[i, "service_start"] = log.loc[i, "issued_at"][:10] + " 08:00:00"
        log.loc[i, "called_at"] = log.loc[i, "issued_at"][:10] + " 08:00:00"
    for i in take(2):
        log.loc[i, "service_end"] = log.loc[i, "issued_at"][:10] + " 08:30:00"
    for i in take(1):
        log.loc[i, "service_end"] = log.loc[i, "issued_at"][:10] + " 23:59:00"
    dups = log.loc[take(4)]  # exact copies, same day and id: the later copy is the duplicate
    log = pd.concat([log, dups], ignore_index=True)
    mapping = LogMapping(transactions=tuple(TX))

    c = clean(log.astype("string"), mapping, source="dirty.csv")
    expected = {
        "missing_issued_at": 3, "unparseable_issued_at": 2, "date_out_of_range": 2, "outside_opening_hours": 1,
        "duplicate_ticket_id": 4, "unknown_transaction": 3, "unknown_outcome": 2, "unknown_channel": 1,
        "unparseable_time": 2, "missing_times": 2, "service_before_issue": 3, "negative_duration": 2,
        "implausible_duration": 1,
    }
    assert set(expected) == set(ISSUE_CATEGORIES)
    got = {k: _count(c, k) for k in expected}
    assert got == expected
    assert c.rows_read == len(log)
    assert c.rows_skipped == sum(v for k, v in expected.items() if ISSUE_CATEGORIES[k][0] == "skipped")
    assert len(c.tickets) == len(log) - c.rows_skipped  # nothing dropped silently
    assert (~c.tickets["times_ok"]).sum() == sum(v for k, v in expected.items() if ISSUE_CATEGORIES[k][0] != "skipped")
    lines = c.summary_lines()
    assert len(lines) == len(expected) and any("duplicate ticket id" in s for s in lines)
    cal = calibrate(c)  # a dirty log still calibrates, and says so in the scenario file
    assert "skipped/partial: 4 rows duplicate ticket id" in cal.yaml_text


def test_days_window_marks_other_dates_out_of_range():
    log = make_log(days=5)
    c = clean(log, days=(pd.Timestamp("2026-11-03"), pd.Timestamp("2026-11-04")))
    assert set(c.tickets["day"].dt.day) == {3, 4}
    assert _count(c, "date_out_of_range") == len(log) - len(c.tickets)


def test_not_a_ticket_log_is_one_clear_error(tmp_path):
    p = tmp_path / "sales.csv"
    p.write_text("store,revenue\nA,100\n")
    with pytest.raises(LogError, match="not a ticket log: no column issued_at, transaction, outcome"):
        clean(read_log(p), source=str(p))
    b = tmp_path / "photo.csv"
    b.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(LogError):
        clean(read_log(b), source=str(b))
    q = tmp_path / "dates.csv"
    q.write_text("issued_at,transaction,outcome\nnot a date,x,served\nnor this,y,served\n")
    with pytest.raises(LogError, match="no row has a readable issued_at"):
        clean(read_log(q), source=str(q))


def test_cli_not_a_log_exits_2_with_one_message(tmp_path):
    from storeq.cli.calibrate import calibrate as cmd

    p = tmp_path / "sales.csv"
    p.write_text("store,revenue\nA,100\n")
    r = CliRunner().invoke(cmd, [str(p), "--out", str(tmp_path / "s.yaml")])
    assert r.exit_code == 2
    assert "not a ticket log" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s.yaml").exists()


def test_cli_calibrate_reports_dirty_rows_on_stderr_and_in_json(tmp_path):
    import json

    from storeq.cli.calibrate import calibrate as cmd

    log = make_log(days=3).astype(object)
    log.loc[5, "issued_at"] = "garbage"
    p = tmp_path / "log.csv"
    log.to_csv(p, index=False)
    r = CliRunner().invoke(cmd, [str(p), "--out", str(tmp_path / "s.yaml"), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["rows_skipped"] == 1 and out["issues"][0]["category"] == "unparseable_issued_at"
    r = CliRunner().invoke(cmd, [str(p), "--out", str(tmp_path / "s2.yaml")])
    assert r.exit_code == 0
    assert "1 rows unparseable issued at: skipped" in r.stderr


GBK_MAPPING = """
encoding: gbk
datetime_format: "%Y/%m/%d %H:%M:%S"
columns:
  ticket_id: 票号
  issued_at: 取号时间
  called_at: 叫号时间
  service_start: 开始办理
  service_end: 办结时间
  counter_id: 窗口
  transaction: 业务类型
  segment: 客户星级
  channel: 渠道
  outcome: 状态
values:
  outcome: {已办结: served, 弃号: abandoned, 过号: no_show}
  channel: {人工窗口: counter, 自助终端: kiosk}
  transaction: {充值缴费: top_up, 套餐变更: plan_change, 新开户: new_line}
  segment: {普通: regular, 六星: vip}
"""


def _to_export(log: pd.DataFrame) -> pd.DataFrame:
    """Our log as a Chinese export: other column names, other words, slashes in dates."""
    words = {
        "outcome": {"served": "已办结", "abandoned": "弃号", "no_show": "过号"},
        "channel": {"counter": "人工窗口", "kiosk": "自助终端"},
        "transaction": {"top_up": "充值缴费", "plan_change": "套餐变更", "new_line": "新开户"},
        "segment": {"regular": "普通", "vip": "六星"},
    }
    out = log.copy()
    for col, m in words.items():
        out[col] = out[col].map(m)
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        out[col] = out[col].str.replace("-", "/")
    names = {"ticket_id": "票号", "issued_at": "取号时间", "called_at": "叫号时间", "service_start": "开始办理", "service_end": "办结时间",
             "counter_id": "窗口", "transaction": "业务类型", "segment": "客户星级", "channel": "渠道", "outcome": "状态"}
    return out.rename(columns=names)


def test_gbk_export_with_mapping_reads_like_our_format(tmp_path):
    log = make_log(days=2, seed=5)
    export = tmp_path / "导出.csv"
    _to_export(log).to_csv(export, index=False, encoding="gbk")
    mp = tmp_path / "map.yaml"
    mp.write_bytes(GBK_MAPPING.encode("gbk"))  # a mapping saved on a Chinese desktop: GBK too
    mapping = read_mapping(mp)
    assert mapping.encoding == "gbk" and mapping.transactions == ("top_up", "plan_change", "new_line")
    ours = clean(log, source="ours")
    theirs = clean(read_log(export, mapping), mapping, source=export.name)
    assert theirs.issues["rows"].sum() == 0
    cols = ["issued_min", "called_min", "start_min", "end_min", "transaction", "segment", "channel", "outcome"]
    pd.testing.assert_frame_equal(
        ours.tickets[cols].astype({c: str for c in cols[4:]}), theirs.tickets[cols].astype({c: str for c in cols[4:]})
    )
    # Without a mapping the reader tries UTF-8, then GB18030 (GBK), reads the export and says so.
    raw = read_log(export)
    assert "read as GB18030 (GBK)" in raw.attrs["notes"][0]
    assert raw.shape == read_log(export, mapping).shape
    with pytest.raises(LogError, match="encoding: gbk"):
        read_log(export, mapping_from_dict({"encoding": "utf-8"}))  # told UTF-8: refused, with the advice


def test_mapping_errors_name_the_key():
    with pytest.raises(LogError, match="unknown key"):
        mapping_from_dict({"colums": {}})
    with pytest.raises(LogError, match="columns: unknown column"):
        mapping_from_dict({"columns": {"arrival": "x"}})
    with pytest.raises(LogError, match=r"values.outcome: done not allowed"):
        mapping_from_dict({"values": {"outcome": {"ok": "done"}}})
    with pytest.raises(LogError, match="unknown encoding"):
        mapping_from_dict({"encoding": "klingon"})


def test_separate_date_column_and_time_only_values():
    log = make_log(days=2)
    export = log.copy()
    export["biz_date"] = export["issued_at"].str[:10]
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        export[col] = export[col].str[11:]
    mapping = mapping_from_dict({"date": "biz_date"})
    a, b = clean(log), clean(export, mapping)
    np.testing.assert_allclose(a.tickets["end_min"].to_numpy(), b.tickets["end_min"].to_numpy(), equal_nan=True)


def test_excel_and_parquet_read(tmp_path):
    log = make_log(days=1, seed=2)
    xl, pq = tmp_path / "log.xlsx", tmp_path / "log.parquet"
    log.to_excel(xl, index=False)
    log.to_parquet(pq, index=False)
    base = clean(log).tickets
    for p in (xl, pq):
        t = clean(read_log(p), source=p.name).tickets
        assert len(t) == len(base)
        np.testing.assert_allclose(t["issued_min"].to_numpy(), base["issued_min"].to_numpy())
        assert (t["outcome"].astype(str).to_numpy() == base["outcome"].astype(str).to_numpy()).all()


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_shipped_example_log_and_mapping(tmp_path):
    """The example export format in scenarios/example_log_mapping.yaml reads the example log unchanged."""
    import yaml

    log = read_log(ROOT / "scenarios" / "example_ticket_log.csv")
    assert 2000 <= len(log) <= 6000
    ours = clean(log, source="example")
    assert ours.issues["rows"].sum() == 0
    spec = yaml.safe_load((ROOT / "scenarios" / "example_log_mapping.yaml").read_text(encoding="utf-8"))
    export = log.copy()
    for col, words in spec["values"].items():
        inverse = {}
        for theirs, mine in words.items():
            inverse.setdefault(mine, theirs)  # first word for each of ours (several star tiers map to regular)
        export[col] = export[col].map(inverse)
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        export[col] = pd.to_datetime(export[col]).dt.strftime("%Y/%m/%d %H:%M:%S").fillna("")
    export = export.rename(columns=spec["columns"])
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="gbk")
    mapping = read_mapping(ROOT / "scenarios" / "example_log_mapping.yaml")
    theirs = clean(read_log(path, mapping), mapping, source="export.csv")
    assert theirs.issues["rows"].sum() == 0
    a = calibrate(ours).scenario.to_dict()
    b = calibrate(theirs).scenario.to_dict()
    a.pop("name"), b.pop("name")
    assert a == b


def test_cli_days_window(tmp_path):
    from storeq.cli.calibrate import calibrate as cmd

    r = CliRunner().invoke(cmd, [str(ROOT / "scenarios" / "example_ticket_log.csv"), "--out", str(tmp_path / "s.yaml"), "--days", "2026-11-20:2026-11-23", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    out = json.loads(r.stdout)
    assert (out["first_day"], out["last_day"], out["days"]) == ("2026-11-20", "2026-11-23", 4)
    assert out["issues"][0]["category"] == "date_out_of_range"
    r = CliRunner().invoke(cmd, [str(ROOT / "scenarios" / "example_ticket_log.csv"), "--out", str(tmp_path / "s.yaml"), "--days", "soon"])
    assert r.exit_code == 2 and "--days" in r.output


def test_opening_hours_from_the_data():
    from calibration.logformat import infer_hours

    day = np.repeat(np.array(["2026-11-02", "2026-11-03", "2026-11-04"], dtype="datetime64[D]"), 2)
    # first tickets 08:31, 08:33, 09:40 (a late day); last 17:58, 17:40, 17:59
    t = np.array([511, 1078, 513, 1060, 580, 1079], float)
    assert infer_hours(t, day, 30) == (510, 1080)  # 08:30-18:00
    assert infer_hours(t, day, 60) == (510, 1110)  # 08:30-18:30: ten whole hours cover 17:59
    assert infer_hours(t, day, 15) == (510, 1080)


def test_bare_clocks_offsets_and_excel_datetime_cells(tmp_path):
    log = make_log(days=2, seed=40)
    base = clean(log).tickets
    # full date on the issue time only, bare clocks elsewhere (common in exports)
    bare = log.copy()
    for col in ("called_at", "service_start", "service_end"):
        bare[col] = bare[col].str[11:]
    t = clean(bare).tickets
    np.testing.assert_allclose(t["end_min"].to_numpy(), base["end_min"].to_numpy(), equal_nan=True)
    # bare clocks everywhere and no date column: one clear error, not today's date
    only = bare.assign(issued_at=bare["issued_at"].str[11:])
    with pytest.raises(LogError, match="times without dates"):
        clean(only)
    # ISO with a UTC offset: read as the store's wall clock
    tz = log.copy()
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        tz[col] = tz[col].where(tz[col] == "", tz[col].str.replace(" ", "T") + "+08:00")
    t = clean(tz).tickets
    np.testing.assert_allclose(t["issued_min"].to_numpy(), base["issued_min"].to_numpy())
    # Excel with real date-time cells (not text)
    xl = log.copy()
    for col in ("issued_at", "called_at", "service_start", "service_end"):
        xl[col] = pd.to_datetime(xl[col].replace("", None))
    p = tmp_path / "typed.xlsx"
    xl.to_excel(p, index=False)
    t = clean(read_log(p), source=p.name).tickets
    np.testing.assert_allclose(t["end_min"].to_numpy(), base["end_min"].to_numpy(), equal_nan=True, atol=1e-6)


def test_cli_reads_a_gbk_export_with_the_mapping(tmp_path):
    from storeq.cli.calibrate import calibrate as cmd

    export = tmp_path / "导出.csv"
    _to_export(make_log(days=3, seed=6)).to_csv(export, index=False, encoding="gbk")
    mp = tmp_path / "map.yaml"
    mp.write_text(GBK_MAPPING, encoding="utf-8")
    r = CliRunner().invoke(cmd, [str(export), "--map", str(mp), "--out", str(tmp_path / "s.yaml")])
    assert r.exit_code == 0, r.output
    assert "Transactions: top_up" in r.stdout and "skipped" not in r.stderr
    r = CliRunner().invoke(cmd, [str(export), "--out", str(tmp_path / "s2.yaml")])  # forgot --map
    assert r.exit_code == 2 and "GBK" in r.stderr


def test_fuzzed_logs_never_crash():
    """Any mix of good rows and garbage either calibrates or is refused with a LogError.

    (Found: a control character in a transaction name broke the scenario YAML.)"""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = make_log(days=1, seed=50).astype(object)
    garbage = st.one_of(st.just(""), st.text(max_size=12), st.sampled_from(["2026-11-02 25:61:00", "1970-01-01 00:00:00", "nan", "NULL", "-5", "09:00"]))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.integers(0, len(base) - 1), st.sampled_from(list(base.columns)), garbage), max_size=300), st.booleans())
    def check(edits, drop_most):
        log = base.copy()
        for row, col, value in edits:
            log.iat[row, log.columns.get_loc(col)] = value
        log.iat[0, log.columns.get_loc("transaction")] = "ctrl\x1bname\nx"  # the case that once broke the YAML
        if drop_most:
            log = log.iloc[:20]
        try:
            c = clean(log.astype("string"), source="fuzz")
        except LogError:
            return
        assert c.rows_read == len(log) and len(c.tickets) == len(log) - c.rows_skipped
        try:
            cal = calibrate(c)
        except LogError:
            return
        assert cal.scenario.n_intervals >= 1 and sum(t.share for t in cal.scenario.transactions) == pytest.approx(1.0)

    check()


def test_uploads_read_from_bytes(tmp_path):
    """The app gets an upload as bytes and a name: same result as reading the file."""
    from calibration import mapping_from_yaml_text, read_log_bytes

    log = make_log(days=1, seed=7)
    p = tmp_path / "log.xlsx"
    log.to_excel(p, index=False)
    a = clean(read_log(p)).tickets
    b = clean(read_log_bytes(p.read_bytes(), "log.xlsx")).tickets
    pd.testing.assert_frame_equal(a, b)
    export = _to_export(log).to_csv(index=False).encode("gbk")
    m = mapping_from_yaml_text(GBK_MAPPING.encode("gbk"), "upload")
    c = clean(read_log_bytes(export, "export.csv", m), m).tickets
    np.testing.assert_allclose(c["issued_min"].to_numpy(), a["issued_min"].to_numpy())
    with pytest.raises(LogError, match="unknown file type"):
        read_log_bytes(b"x", "log.pdf")
