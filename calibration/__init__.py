"""Calibration: a scenario from a store's own ticket log, and a report on how well it fits.

Pure except :mod:`calibration.io` (the only module that reads or writes files).

>>> from calibration import read_log, clean, calibrate  # doctest: +SKIP
>>> cal = calibrate(clean(read_log("scenarios/example_ticket_log.csv"), source="example"))  # doctest: +SKIP
>>> cal.scenario.n_intervals  # doctest: +SKIP
18
"""

from .calibrate import Calibration, PitchModel, calibrate
from .fitting import DistFit, PatienceFit, ServiceFit, fit_patience, fit_service, kaplan_meier
from .io import mapping_from_yaml_text, read_log, read_log_bytes, read_mapping, write_log, write_report
from .logformat import LOG_COLUMNS, CleanLog, LogError, LogMapping, clean, mapping_from_dict
from .report import FitReport, fit_report, report_figures, report_html
from .synth import customer_tickets, customers_to_tickets, synth_log

__all__ = [
    "LOG_COLUMNS",
    "Calibration",
    "CleanLog",
    "DistFit",
    "FitReport",
    "LogError",
    "LogMapping",
    "PatienceFit",
    "PitchModel",
    "ServiceFit",
    "calibrate",
    "clean",
    "customer_tickets",
    "customers_to_tickets",
    "fit_patience",
    "fit_report",
    "fit_service",
    "kaplan_meier",
    "mapping_from_dict",
    "mapping_from_yaml_text",
    "read_log",
    "read_log_bytes",
    "read_mapping",
    "report_figures",
    "report_html",
    "synth_log",
    "write_log",
    "write_report",
]
