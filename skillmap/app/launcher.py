"""``skillmap app``: start the Streamlit server on the app script with safe defaults, and stop
it when ``skillmap app`` is stopped.

The server listens on 127.0.0.1 unless told otherwise (the app reads uploads and local
indexes; exposing it is a deliberate choice), sends no usage statistics, does not watch
files, and caps uploads at :data:`~skillmap.app.uploads.MAX_FILE_MB` per file. Which indexes
and filters the app offers, and which index it opens on, is passed to the script through the
environment (see :mod:`skillmap.app.catalog`).

The server is a child process. A service manager, a container runtime or a user with
``kill`` stops *this* process with SIGTERM; a child left running would keep the port and be
re-parented to init, serving an app nobody can see or stop. So SIGTERM, SIGINT and SIGHUP
are forwarded to the child, which gets a grace period to exit before it is killed, and on
Linux the child also asks the kernel to end it if this process dies without a signal
handler running (``kill -9``). A port already in use is found before the child starts, so
it is one line instead of Streamlit's own message after the import time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from skillmap.app.catalog import (DEFAULT_INDEX_ENV, FILTER_PATHS_ENV, INDEX_PATHS_ENV,
                                  SECOND_OPINION_PATHS_ENV)
from skillmap.app.uploads import MAX_FILE_MB
from skillmap.errors import InputError

APP_SCRIPT = Path(__file__).resolve().parent / "main.py"
STOP_GRACE_SECONDS = 10
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP")
                   if hasattr(signal, name))


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


def app_environment(indexes: Sequence[Path] = (), filters: Sequence[Path] = (),
                    second_opinions: Sequence[Path] = ()) -> dict[str, str]:
    """The environment for the server: the index, filter and second-opinion model paths the
    app will list, and the first index given, which the app opens on."""
    for path in [*indexes, *filters]:
        if not path.exists():
            raise InputError(f"{path}: no such index or filter folder")
    for path in second_opinions:
        if not (path / "modules.json").is_file():
            raise InputError(f"{path}: not a sentence-transformers model folder (no "
                             "modules.json)")
    env = dict(os.environ)
    if indexes:
        env[INDEX_PATHS_ENV] = os.pathsep.join(str(p.resolve()) for p in indexes)
        env[DEFAULT_INDEX_ENV] = str(indexes[0].resolve())
    if filters:
        env[FILTER_PATHS_ENV] = os.pathsep.join(str(p.resolve()) for p in filters)
    if second_opinions:
        env[SECOND_OPINION_PATHS_ENV] = os.pathsep.join(str(p.resolve())
                                                        for p in second_opinions)
    env.setdefault("HF_HUB_OFFLINE", "1")  # the app never fetches models at run time
    return env


def check_port_free(host: str, port: int) -> None:
    """One-line error when ``host:port`` cannot be listened on (in use, or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":   # as the server will: a port in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno in (98, 48, 10048) else \
                f"cannot be used ({exc.strerror or exc})"
            raise InputError(f"port {port} on {host} {reason}; choose another with "
                             "--port") from None


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the parent dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort: the signal handlers do the usual case
        pass


def stop(child: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> int:
    """Ask the server to exit (SIGTERM), kill it after ``grace`` seconds; its exit status."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
    return child.wait()


def launch(indexes: Sequence[Path] = (), filters: Sequence[Path] = (), host: str = "127.0.0.1",
           port: int = 8501, open_browser: bool = False,
           second_opinions: Sequence[Path] = ()) -> int:
    """Run the server until it exits or this process is told to stop; return the exit
    status (128 + the signal's number when stopped by one)."""
    env = app_environment(indexes, filters, second_opinions)
    check_port_free(host, port)
    received: list[int] = []

    def forward(signum, _frame):
        received.append(signum)
        raise _Stop()

    previous = {s: signal.signal(s, forward) for s in _FORWARDED}
    child = None
    try:
        child = subprocess.Popen(streamlit_command(host, port, open_browser), env=env,
                                 preexec_fn=_die_with_parent if sys.platform == "linux"
                                 else None)
        return child.wait()
    except (_Stop, KeyboardInterrupt):
        if child is not None:
            for s in _FORWARDED:   # a second Ctrl-C must not interrupt the clean-up
                signal.signal(s, signal.SIG_IGN)
            stop(child)
        return 128 + (received[0] if received else signal.SIGINT)
    finally:
        if child is not None and child.poll() is None:
            stop(child)
        for s, handler in previous.items():
            signal.signal(s, handler)


class _Stop(Exception):
    """Raised by the signal handler to leave ``child.wait()``."""
