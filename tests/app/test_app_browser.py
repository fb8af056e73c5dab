"""End to end: `skillmap app` on 127.0.0.1, driven in headless Chromium by Playwright.

Uses the system's Chromium (Debian package ``chromium``) through ``executable_path``;
Playwright never downloads a browser. Skipped when Chromium is absent, unless
``SKILLMAP_REQUIRE_BROWSER=1`` (set by CI), which turns the skip into a failure.
Screenshots go to the test's tmp folder, and also to ``SKILLMAP_SCREENSHOTS`` when set
(that is how docs/app-single-ad.png and docs/app-corpus.png are made).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from skillmap.batch import code_csv
from tests.conftest import DATA

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("SKILLMAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TIMEOUT_MS = 180_000


def _require_browser():
    problem = None
    if not CHROMIUM.is_file():
        problem = f"{CHROMIUM} is absent (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("SKILLMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`skillmap app` in its own process group; yields its URL, stops it afterwards."""
    _require_browser()
    port = _free_port()
    command = shutil.which("skillmap", path=str(Path(sys.executable).parent)) or "skillmap"
    log = tmp_path_factory.mktemp("app") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([command, "app", "--port", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the app did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1700}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server)
        yield page
        browser.close()


def _screenshot(page, tmp_path: Path, name: str) -> None:
    page.mouse.move(0, 0)        # no tooltip in the picture
    page.wait_for_timeout(1500)  # let charts finish their animation
    page.screenshot(path=str(tmp_path / name))
    target = os.environ.get("SKILLMAP_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(target) / name)
    assert (tmp_path / name).stat().st_size > 10_000


def test_paste_an_ad_and_see_its_skills(page, tmp_path, demo_extractor):
    ad = (DATA / "sample_ad.txt").read_text(encoding="utf-8")
    page.get_by_label("Paste a job ad").fill(ad)
    page.get_by_role("button", name="Find skills").click()
    page.get_by_text("Skills by group").wait_for()
    expected = demo_extractor.extract(ad).skills
    for label in ("Python (computer programming)", "SQL", expected[0].skill_label):
        page.get_by_text(label, exact=True).first.wait_for()
    assert page.locator("span.sm-evidence").count() >= 1
    _screenshot(page, tmp_path, "app-single-ad.png")


def test_upload_a_csv_code_it_and_download_the_coded_csv(page, tmp_path, demo_extractor):
    source = DATA / "sample_ads.csv"
    page.get_by_role("tab", name="Corpus").click()
    panel = page.get_by_role("tabpanel", name="Corpus")
    panel.locator('input[type="file"]').set_input_files(str(source))
    n_ads = len(pd.read_csv(source))
    panel.get_by_role("button", name=f"Code {n_ads} ads").click()
    panel.get_by_text("Most frequent skills").wait_for()
    panel.locator(".js-plotly-plot .main-svg").first.wait_for()
    with page.expect_download() as download:
        panel.get_by_role("button", name="Download coded CSV (long format)").click()
    downloaded = tmp_path / "downloaded.csv"
    download.value.save_as(downloaded)
    _screenshot(page, tmp_path, "app-corpus.png")

    batch = tmp_path / "batch.csv"
    code_csv(demo_extractor, source, batch, "description", "ad_id", show_progress=False)
    got = pd.read_csv(downloaded, dtype={"doc_id": str})
    want = pd.read_csv(batch, dtype={"doc_id": str})
    assert list(got.columns) == list(want.columns)
    assert got["doc_id"].nunique() == n_ads
    pd.testing.assert_frame_equal(got.drop(columns="score"), want.drop(columns="score"))
    assert (got["score"] - want["score"]).abs().max() < 1e-3
