"""Entry script for an installed storeq: ``storeq app`` runs ``streamlit run`` on this file."""

from pathlib import Path

from storeq.app.entry import main

main(Path(__file__).resolve().parent)
