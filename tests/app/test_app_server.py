"""`skillmap app` as a process: it owns the Streamlit server it starts.

Stopping `skillmap app` (SIGTERM from a service manager, Ctrl-C in a terminal) must stop the
server too: a re-parented server keeps the port and serves an app nobody can stop. A port
already in use is one line, before Streamlit starts.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from helpers.cli import one_line_error, run

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _skillmap() -> str:
    return shutil.which("skillmap", path=str(Path(sys.executable).parent)) or "skillmap"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_skillmap_app_stops_its_server(tmp_path, signum):
    port = _free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([_skillmap(), "app", "--port", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        children = psutil.Process(process.pid).children(recursive=True)
        assert children, "the server runs as a child of skillmap app"
        process.send_signal(signum)   # to skillmap app only, not to its process group
        assert process.wait(timeout=30) == 128 + signum
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"server processes left running: {alive}"
        assert not _listening(port), f"something still listens on port {port}"
    finally:
        if process.poll() is None:
            process.kill()
        for child in psutil.Process().children(recursive=True):
            if child.pid != process.pid and port and "streamlit" in " ".join(child.cmdline()):
                child.kill()


def test_an_occupied_port_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "app", "--port", port)
    one_line_error(code, err, f"port {port}", "in use", "--port")


def test_a_missing_index_folder_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "app", "--index", tmp_path / "nowhere", "--port", _free_port())
    one_line_error(code, err, "nowhere", "no such index")


def test_a_second_opinion_that_is_no_model_folder_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "app", "--second-opinion", tmp_path, "--port", _free_port())
    one_line_error(code, err, str(tmp_path), "no modules.json")


def test_second_opinion_folders_reach_the_app_through_its_environment(tmp_path):
    from skillmap.app.catalog import SECOND_OPINION_PATHS_ENV
    from skillmap.app.launcher import app_environment

    (tmp_path / "modules.json").write_text("[]")
    env = app_environment(second_opinions=[tmp_path])
    assert env[SECOND_OPINION_PATHS_ENV] == str(tmp_path.resolve())
