"""Entry point for `streamlit run app/streamlit_app.py` (e.g. on a Streamlit server).

`skillmap app` is the usual way to start the app; both run :func:`skillmap.app.main.main`,
which lives in the package so an installed skillmap carries it.
"""

from skillmap.app.main import main

main()
