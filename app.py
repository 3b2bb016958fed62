"""storeq what-if app: ``streamlit run app.py`` (binds to localhost; see ``.streamlit/config.toml``).

Pages live in ``storeq/app/`` (one script per page, shared helpers in ``common``, ``state``,
``editing`` and ``charts``); the frame every page shares is :func:`storeq.app.entry.main`.
"""

from storeq.app.entry import main

main("storeq/app")
