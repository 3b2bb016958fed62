"""``storeq app``: launch the Streamlit what-if app on localhost for an installed user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from storeq.cli.common import handle_errors


def _app_path() -> Path:
    """The Streamlit entry inside the installed package (the root app.py is for a source checkout)."""
    return Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


@click.command("app")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port on localhost.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window (headless).")
@handle_errors
def app_cmd(port: int, no_browser: bool) -> None:
    """Open the Streamlit what-if app on http://localhost:PORT."""
    path = _app_path()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(path),
        "--server.address",
        "localhost",
        "--server.port",
        str(port),
        "--server.headless",
        "true" if no_browser else "false",
        "--browser.gatherUsageStats",
        "false",
    ]
    click.echo(f"storeq: starting the app on http://localhost:{port} (Ctrl+C to stop)", err=True)
    sys.exit(subprocess.call(cmd))
