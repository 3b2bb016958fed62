"""Print-ready plans: one HTML page per day (and a week overview), to pin up or send on.

Pure functions (no Streamlit): the Roster page passes what the optimizer and the simulation
returned, and offers the HTML as a download. The browser prints it (Ctrl+P, or "Save as PDF"): the
CSS puts each day on its own A4 page, so no PDF library is needed on the server.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: "Helvetica Neue", Arial, "Noto Sans CJK SC", sans-serif; font-size: 11pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; }
h2 { font-size: 13pt; margin: 5mm 0 2mm 0; }
p.meta { color: #444; margin: 0 0 3mm 0; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3mm; }
th, td { border: 1px solid #999; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
tr.miss td { background: #fde2e1; }
section.page { page-break-after: always; break-after: page; }
section.page:last-child { page-break-after: auto; break-after: auto; }
.rule { font-weight: bold; }
@media screen { section.page { border-bottom: 2px dashed #bbb; padding-bottom: 8mm; margin-bottom: 8mm; } }
"""


@dataclass(frozen=True)
class DaySheet:
    """What one printed day shows.

    ``people``: rows (name, from, to, break) in start order; ``intervals``: rows with columns
    start, counters, mean_wait (minutes), service_level (share), meets (bool).
    """

    title: str
    store: str
    hours: str
    pitch_rule: str
    greeter: str
    people: pd.DataFrame
    intervals: pd.DataFrame
    target: str
    notes: tuple[str, ...] = ()


def _e(x: object) -> str:
    return html.escape(str(x))


def _table(df: pd.DataFrame, numeric: Sequence[str] = (), row_class: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for k, row in enumerate(df.itertuples(index=False)):
        cls = f' class="{row_class[k]}"' if row_class is not None and row_class[k] else ""
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if c in numeric else f"<td>{_e(v)}</td>" for c, v in zip(df.columns, row, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _day_section(sheet: DaySheet) -> str:
    iv = sheet.intervals
    waits = pd.DataFrame(
        {
            "Time": iv["start"],
            "Counters": iv["counters"].map(lambda v: f"{int(v)}"),
            "Expected wait": iv["mean_wait"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f} min"),
            "Served within the target wait": iv["service_level"].map(lambda v: "–" if pd.isna(v) else f"{100 * v:.0f}%"),
        }
    )
    miss = ["miss" if not m else "" for m in iv["meets"]]
    notes = "".join(f"<li>{_e(n)}</li>" for n in sheet.notes)
    return (
        f'<section class="page"><h1>{_e(sheet.title)}</h1>'
        f'<p class="meta">{_e(sheet.store)} · open {_e(sheet.hours)} · target: {_e(sheet.target)}</p>'
        f'<p>Pitch rule: <span class="rule">{_e(sheet.pitch_rule)}</span><br>Greeter at the door: '
        f'<span class="rule">{_e(sheet.greeter)}</span></p>'
        f"<h2>Who works when</h2>{_table(sheet.people)}"
        f"<h2>Expected waits (simulated; shaded: below the target)</h2>{_table(waits, ('Counters', 'Expected wait'), miss)}"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</section>"
    )


def plan_html(title: str, sheets: Sequence[DaySheet], overview: pd.DataFrame | None = None, footer: str = "") -> str:
    """A complete HTML document: an optional week overview page, then one page per day."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style></head><body>"]
    if overview is not None and len(overview):
        parts.append(f'<section class="page"><h1>{_e(title)}</h1><h2>The week per person</h2>{_table(overview)}'
                     f'<p class="meta">{_e(footer)}</p></section>')
    parts += [_day_section(s) for s in sheets]
    if overview is None and footer:
        parts.append(f'<p class="meta">{_e(footer)}</p>')
    parts.append("</body></html>")
    return "".join(parts)


def greeter_text(greeter: object, hours: str) -> str:
    """The greeter's hours in words: all day, in windows, or none."""
    if greeter is True:
        return f"all day ({hours})"
    if isinstance(greeter, list | tuple) and greeter:
        return ", ".join(str(w) for w in greeter)
    return "none"
