"""The ``storeq`` click group and its command registry.

Every command lives in its own module and is named here once, as ``"module:attribute"``. A module is
imported only when its command is run or its help is asked for, so ``storeq run`` never imports
OR-Tools or the calibration stack. A new command is one line in :data:`REGISTRY`.

All parts of storeq are always installed: a command module that fails to import is a bug and fails
loudly, it is not hidden or turned into a placeholder.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

REGISTRY: dict[str, str] = {
    "run": "storeq.cli.run:run_cmd",
    "compare": "storeq.cli.compare:compare_cmd",
    "check": "storeq.cli.check:check_cmd",
    "app": "storeq.cli.app:app_cmd",
    "optimize": "storeq.cli.optimize:optimize",
    "calibrate": "storeq.cli.calibrate:calibrate",
    "synth-log": "storeq.cli.calibrate:synth_log",
    "region": "storeq.cli.region:region",
    "sweep": "storeq.cli.sweep:sweep_cmd",
    "results": "storeq.cli.results:results_group",
}
"""Command name → ``"module:attribute"`` of its :class:`click.Command`, in no particular order (help sorts)."""


def load_command(name: str) -> click.Command:
    """Import the module that defines command ``name`` and return its command object."""
    module, _, attr = REGISTRY[name].partition(":")
    cmd = getattr(importlib.import_module(module), attr)
    if not isinstance(cmd, click.Command):
        raise TypeError(f"REGISTRY[{name!r}] = {REGISTRY[name]!r} is a {type(cmd).__name__}, not a click command")
    return cmd


class StoreqGroup(click.Group):
    """The ``storeq`` group: the commands in :data:`REGISTRY`, each imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(REGISTRY))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Ctrl+C while a command is being imported: exit 130 at once, not click's "Aborted!" (exit 1)
        from storeq.cli.interrupts import command_ended, exit_130_until_a_command_starts

        exit_130_until_a_command_starts()
        try:
            return super().main(*args, **kwargs)
        finally:
            command_ended()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The arguments as given (a shell's, a script's via CliRunner, or a test's): provenance and the
        # results store record this command line, which sys.argv does not hold when storeq is called
        # from Python.
        ctx.meta["storeq.argv"] = list(args)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in REGISTRY:
            cmd = load_command(cmd_name)
            self.add_command(cmd, cmd_name)
        return cmd


def _version() -> str:
    try:
        return version("storeq")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


@click.group(cls=StoreqGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(_version(), "--version", "-V", prog_name="storeq")
def main() -> None:
    """storeq: plan walk-in service stores (telecom halls, bank branches, checkouts).

    Simulate a store day from a scenario file, compare what-ifs with confidence intervals, and
    (with the optimizer) find the staffing that meets a service target.

    \b
    Examples:
      storeq run scenarios/telecom_month_end.yaml
      storeq run scenarios/telecom_month_end.yaml --set counters.staffed=8 --format json
      storeq compare scenarios/telecom_month_end.yaml --set counters.staffed=8
      storeq compare scenarios/telecom_month_end.yaml scenarios/telecom_mid_month.yaml
      storeq check my_store.yaml
    """
