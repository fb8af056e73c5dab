"""``skillmap app``: start the Streamlit server on the app script with safe defaults.

The server listens on 127.0.0.1 unless told otherwise (the app reads uploads and local
indexes; exposing it is a deliberate choice), sends no usage statistics, does not watch
files, and caps uploads at :data:`~skillmap.app.uploads.MAX_FILE_MB` per file. Which indexes
and filters the app offers is passed to the script through the environment (see
:mod:`skillmap.app.catalog`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from skillmap.app.catalog import FILTER_PATHS_ENV, INDEX_PATHS_ENV
from skillmap.app.uploads import MAX_FILE_MB
from skillmap.errors import InputError

APP_SCRIPT = Path(__file__).resolve().parent / "main.py"


def streamlit_command(host: str = "127.0.0.1", port: int = 8501,
                      open_browser: bool = False) -> list[str]:
    """The ``python -m streamlit run ...`` command line for the app."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "false" if open_browser else "true",
            "--server.maxUploadSize", str(MAX_FILE_MB),
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal",
            "--theme.base", "light"]


def app_environment(indexes: Sequence[Path] = (), filters: Sequence[Path] = ()) -> dict[str, str]:
    """The environment for the server: the index and filter paths the app will list."""
    for path in [*indexes, *filters]:
        if not path.exists():
            raise InputError(f"{path}: no such index or filter folder")
    env = dict(os.environ)
    if indexes:
        env[INDEX_PATHS_ENV] = os.pathsep.join(str(p.resolve()) for p in indexes)
    if filters:
        env[FILTER_PATHS_ENV] = os.pathsep.join(str(p.resolve()) for p in filters)
    env.setdefault("HF_HUB_OFFLINE", "1")  # the app never fetches models at run time
    return env


def launch(indexes: Sequence[Path] = (), filters: Sequence[Path] = (), host: str = "127.0.0.1",
           port: int = 8501, open_browser: bool = False) -> int:
    """Run the server until Ctrl-C; return its exit status."""
    env = app_environment(indexes, filters)
    try:
        return subprocess.call(streamlit_command(host, port, open_browser), env=env)
    except KeyboardInterrupt:
        return 130
