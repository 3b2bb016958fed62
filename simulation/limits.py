"""The limits on what an input may ask for: one table, read by the loaders, the validation and the docs.

storeq reads files written by people and exported by other systems, and it is shared: one bad or
hostile file must not take gigabytes of memory or minutes of CPU from everyone else. Every limit here
is far above what a real store needs (the busiest hall in the examples sees about 2,000 customers a
day; the limit is 100,000) and is checked *before* the work it bounds is allocated, with a message
naming the key, the value and the limit.

``docs/scenario-format.md`` ("Limits") and ``docs/ticket-log.md`` ("Limits") list the same numbers;
``tests/test_hostile_inputs.py`` reads :data:`LIMITS` so the documentation, the checks and the tests
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """One limit: its value, what it counts, and why it is where it is."""

    value: int
    what: str
    why: str


LIMITS: dict[str, Limit] = {
    # ---- any YAML file storeq reads (scenarios, --set values, mappings, staff and rules files) ----
    "yaml_bytes": Limit(2_000_000, "bytes in one YAML file (counted while reading, not from the file size)", "the largest example scenario is 6 KB"),
    "yaml_depth": Limit(40, "levels of nesting in one YAML file", "scenarios nest 5 levels deep; deeper files are generated attacks"),
    "yaml_aliases": Limit(20, "YAML alias references (*name) in one file", "anchors are rare in hand-written files; a few lines of nested aliases expand to billions of values"),
    "yaml_nodes": Limit(200_000, "values (numbers, strings, list items) in one YAML file, aliases expanded", "a 96-interval scenario has about 1,000"),
    "string_chars": Limit(10_000, "characters in one text value", "names and clocks are short; a 5 MB name is a pasted file"),
    "name_chars": Limit(200, "characters in a scenario, segment, transaction or staff name", "names are printed in tables and file names"),
    "list_items": Limit(10_000, "items in one list (distribution values, staff, windows)", "an empirical distribution of 10,000 observed times is plenty"),
    "staff": Limit(1_000, "people in one staff file", "a hall rosters tens of people; a named week of 1,000 takes about 1 GB and most of a minute"),
    "segments": Limit(100, "segments in a scenario", "customer tiers: a handful"),
    "transactions": Limit(500, "transaction types in a scenario", "a telecom hall knows about 40"),
    # ---- what a scenario may ask the simulation to do ----
    "customers_per_day": Limit(100_000, "customers arriving in one simulated day (rate x hours x scale x day factors)", "each customer is a SimPy process; 100,000 a day is a stadium, not a store"),
    "counters": Limit(1_000, "staffed or physical counters, and kiosks", "the engine keeps per-counter state"),
    "replications": Limit(100_000, "replications (simulated days) in one run", "beyond this the confidence intervals stop narrowing usefully"),
    "customer_records": Limit(5_000_000, "customer records kept for run --out (replications x customers a day)", "each record is a row of customers.csv/parquet held in memory until written"),
    "service_minutes": Limit(24 * 60, "mean counter, kiosk or pitch time in minutes", "one transaction longer than a day is a unit mistake (seconds for minutes)"),
    "money": Limit(1_000_000_000, "any money amount per unit (margin per sale, cost per hour or per kiosk-day)", "larger amounts overflow the day's totals over many replications"),
    "seed": Limit(2**63 - 1, "the random seed", "seeds are 64-bit integers everywhere they are stored"),
    # ---- ticket logs (calibration) ----
    "log_bytes": Limit(500_000_000, "bytes in a CSV or Parquet ticket log (Parquet: its uncompressed size)", "a year of a busy hall is about 60 MB of CSV"),
    "log_rows": Limit(2_000_000, "rows in a ticket log (Parquet: checked from its metadata before reading)", "2.7 years of a hall with 2,000 tickets a day; keeps memory under about 1.5 GB"),
    "log_columns": Limit(500, "columns in a ticket log", "a ticket export has 10 to 40 columns"),
    "excel_bytes": Limit(100_000_000, "bytes in an Excel ticket log, and in its unpacked sheets (x5)", "an Excel file expands about 10 times in memory; larger logs are CSV or Parquet"),
    "mapping_bytes": Limit(1_000_000, "bytes in a mapping file", "a mapping is a few dozen lines"),
}


def limit(name: str) -> int:
    """The value of one limit (a KeyError names a typo at once, in tests and code)."""
    return LIMITS[name].value


def markdown_table(names: list[str] | None = None) -> str:
    """The limits as a markdown table (the docs' "Limits" sections are generated from this)."""
    rows = ["| limit | value | counts | why |", "| --- | --- | --- | --- |"]
    for key in names or list(LIMITS):
        lim = LIMITS[key]
        rows.append(f"| `{key}` | {lim.value:,} | {lim.what} | {lim.why} |")
    return "\n".join(rows)
