"""Names from users' files are shown literally in the app: never as a link, image, formula, HTML or formatting.

Issue 8 item 5. Streamlit renders Markdown in st.markdown/caption/alerts/toasts/subheaders, in
metric labels and values and in radio options; a store called ``[click](http://evil.example)``
would be a live link there. ``storeq.app.common.literal`` backslash-escapes every character
Markdown could act on; these tests load a hostile scenario through the What-if page's paste path
and check every Markdown body on the pages it reaches (AppTest, no browser, a few replications).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storeq.app.common import literal, problems_text

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"
HOSTILE = "[click](http://evil.example) ![x](http://evil.example/x.png) $x^2$ **bold**"
SEGMENT = "<b>hi</b>"


def _unescaped(text: str, char: str) -> bool:
    """True when ``char`` occurs in ``text`` without a backslash escaping it (an even run of backslashes before it)."""
    return re.search(r"(?<!\\)(?:\\\\)*" + re.escape(char), text) is not None


def _active(body: str) -> list[str]:
    """What in a Markdown body would render as something other than its characters."""
    found = []
    if re.search(r"(?<!\\)(?:\\\\)*\]\(", body):
        found.append("link or image: ](")
    for token in ("<b>", "</b>", "<http", "$x", "**bold", "http:", "![x"):
        if _unescaped(body, token):
            found.append(token)
    return found


@pytest.mark.parametrize("text", [HOSTILE, SEGMENT, "a\nb", "back\\slash", "`code`", ":red[x] :material/home: &amp; a@b.c"])
def test_literal_escapes_every_markdown_character(text: str) -> None:
    out = literal(text)
    assert "\n" not in out
    # each ASCII punctuation character Markdown could act on carries a backslash; nothing is dropped
    assert re.sub(r"\\(.)", r"\1", out) == " ".join(text.splitlines())
    for ch in "[]()!$*<>`_:&@":
        assert not _unescaped(out, ch), (ch, out)
    assert not _active(out)


def test_literal_of_the_hostile_name_reads_as_typed() -> None:
    assert literal(HOSTILE) == (r"\[click\]\(http\://evil\.example\) \!\[x\]\(http\://evil\.example/x\.png\) "
                                r"\$x\^2\$ \*\*bold\*\*")
    assert literal(SEGMENT) == r"\<b\>hi\</b\>"
    assert literal(42) == "42" and literal("plain words") == "plain words"


def test_problem_messages_quote_names_literally_and_keep_key_paths_as_code() -> None:
    text = problems_text([("segments", f"names must be unique, repeated: {SEGMENT}"), ("a`b", HOSTILE), ("", "x [y](z)")])
    assert text.splitlines()[0] == r"- `segments`: names must be unique, repeated\: \<b\>hi\</b\>"
    assert not _active(text)


# ---------------------------------------------------------------------------------------------
# the app, through the paste-a-scenario path
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _few_replications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOREQ_APP_REPLICATIONS", "4")
    monkeypatch.setenv("STOREQ_APP_WORKERS", "1")


def _hostile_yaml(segment_twice: bool = False) -> str:
    text = FLAGSHIP.read_text(encoding="utf-8")
    text = text.replace("name: Downtown hall, month-end weekday", f"name: '{HOSTILE}'").replace("name: sensitive", f"name: '{SEGMENT}'")
    if segment_twice:  # an invalid file whose message quotes the segment's name
        text = text.replace("name: vip, share: 0.10", f"name: '{SEGMENT}', share: 0.10")
    assert HOSTILE in text and SEGMENT in text
    return text


def _paste(at: AppTest, text: str) -> None:
    at.text_area(key="paste_text").input(text).run()
    next(b for b in at.button if b.label == "Use the pasted scenario").click().run()


def _markdown_bodies(at: AppTest) -> Iterator[str]:
    """Every string the page hands Streamlit to render as Markdown."""
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader", "title", "header", "toast"):
        for el in getattr(at, kind):
            yield str(el.value)
    for m in at.metric:
        yield str(m.label)
        yield str(m.value)
        if m.delta is not None:
            yield str(m.delta)
    for r in at.radio:
        yield str(r.label)
        yield from (str(o) for o in r.options)
    for t in at.tabs:
        yield str(t.label)
    for e in at.expander:
        yield str(e.label)


def _check(at: AppTest, page: str) -> list[str]:
    assert not at.exception, (page, at.exception)
    bodies = list(_markdown_bodies(at))
    bad = [(b, _active(b)) for b in bodies if _active(b)]
    assert not bad, (page, bad)
    return bodies


def test_a_hostile_store_name_shows_literally_on_every_page() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    _paste(at, _hostile_yaml())
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="k_source").value == "pasted scenario (uploaded)"
    bodies = _check(at, "what-if")
    # the name is there, every character of it, escaped (the page caption and the sidebar)
    assert sum(literal(HOSTILE) in b for b in bodies) >= 2

    at.switch_page("storeq/app/scenario.py").run()
    bodies = _check(at, "scenario")
    # the plan's YAML is shown in st.code (plain text): the name as typed
    assert any(HOSTILE in str(c.value) for c in at.code)

    at.switch_page("storeq/app/roster.py").run()
    bodies = _check(at, "roster")
    assert any(literal(HOSTILE) in b for b in bodies)

    at.switch_page("storeq/app/compare.py").run()
    _check(at, "compare")
    # against another store: the caption lists the plans and a box names both stores
    picks = at.multiselect(key="k_cmp_pick")
    picks.set_value([picks.options[0], "File: telecom_mid_month.yaml"]).run()
    at.button(key="cmp_btn").click().run()
    bodies = _check(at, "compare, run")
    assert any("different stores" in b and literal(HOSTILE) in b for b in bodies), [str(i.value) for i in at.info]

    # an invalid file: the message quoting the segment's name is shown literally, next to the input
    at.switch_page("storeq/app/whatif.py").run()
    _paste(at, _hostile_yaml(segment_twice=True))
    errors = [str(e.value) for e in at.error]
    assert any(literal(SEGMENT) in e for e in errors), errors
    _check(at, "what-if, invalid paste")


def test_calibration_says_how_the_log_was_read_and_shows_its_file_name_literally() -> None:
    """A GBK export (no mapping) is read as GB18030 and the page says so next to the upload.

    The upload widget cannot be driven by AppTest, so the request the Calibrate button stores is set
    directly (the same keys the page writes); a week of the example log keeps the fit check short.
    """
    lines = (ROOT / "scenarios" / "example_ticket_log.csv").read_text(encoding="utf-8").splitlines()
    week = [lines[0], *[ln for ln in lines[1:] if ln.split(",")[1] < "2026-11-10"]]
    data = "\n".join(week).replace(",regular,", ",普通客户,").encode("gb18030")
    name = "[gbk](http://evil.example) 日志.csv"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("storeq/app/calibration.py").run()
    at.session_state["cal_data"] = data
    at.session_state["cal_request"] = {"digest": "gbk-week", "name": name, "mapping": None, "interval": 30, "reps": 2, "seed": 1}
    at.run()
    bodies = _check(at, "calibration")
    notes = [str(i.value) for i in at.info if "GB18030" in str(i.value)]
    assert notes and literal(name) in notes[0], [str(i.value) for i in at.info]
    assert any(b.startswith(f"**{literal(name)}**: ") for b in bodies)  # the tickets-used line names the file literally
