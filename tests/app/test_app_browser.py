"""End to end: `skillmap app` on 127.0.0.1, driven in headless Chromium by Playwright.

Uses the system's Chromium (Debian package ``chromium``) through ``executable_path``;
Playwright never downloads a browser. Skipped when Chromium is absent, unless
``SKILLMAP_REQUIRE_BROWSER=1`` (set by CI), which turns the skip into a failure.
Screenshots are taken at 1280x800, a laptop screen; they go to the test's tmp folder, and also
to ``SKILLMAP_SCREENSHOTS`` when set (that is how the docs/app-*.png pictures are made:
``SKILLMAP_SCREENSHOTS=docs pytest tests/test_app_browser.py``).
"""

from __future__ import annotations

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

from skillmap.app import analysis
from skillmap.batch import code_csv
from tests.conftest import DATA
from tests.helpers.corpus import dated_ads

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("SKILLMAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1280, "height": 800}
INDEX_NAME = "my-esco-like-index"


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
def server(tmp_path_factory, demo_index):
    """`skillmap app --index FOLDER` in its own process group; yields its URL, stops it
    afterwards. The index is the demo one saved to a folder: the app must open on it."""
    _require_browser()
    port = _free_port()
    command = shutil.which("skillmap", path=str(Path(sys.executable).parent)) or "skillmap"
    folder = tmp_path_factory.mktemp("app")
    demo_index.save(folder / INDEX_NAME)
    log = folder / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([command, "app", "--port", str(port),
                                    "--index", str(folder / INDEX_NAME)], stdout=out,
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
        page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server)
        yield page
        browser.close()


def _screenshot(page, tmp_path: Path, name: str, hover=None) -> None:
    """The viewport as a 1280x800 PNG; with ``hover`` (a locator), its tooltip is in it."""
    page.mouse.move(0, 0)        # no stray tooltip in the picture
    page.wait_for_timeout(1500)  # let charts finish their animation
    if hover is not None:   # the first of these marks inside the window, without scrolling
        #                     (and wide enough to point at: a 0 % bar has no width)
        for box in (hover.nth(i).bounding_box() for i in range(hover.count())):
            if box and box["width"] >= 4 and \
                    200 < box["y"] + box["height"] / 2 < VIEWPORT["height"] - 100:
                page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
                break
        page.wait_for_timeout(800)
    page.screenshot(path=str(tmp_path / name))
    target = os.environ.get("SKILLMAP_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(target) / name)
    assert (tmp_path / name).stat().st_size > 10_000


def _top(locator) -> None:
    """Scroll the page so that ``locator`` is at the top of the window."""
    locator.first.evaluate("e => e.scrollIntoView({block: 'start'})")


def _download(page, button, path: Path) -> Path:
    with page.expect_download() as download:
        button.click()
    download.value.save_as(path)
    return path


def test_the_app_opens_on_the_index_it_was_given(page):
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(f"Index: {INDEX_NAME}").wait_for()
    assert "embedded demo" not in sidebar.inner_text()   # the caption names the index in use


def test_paste_an_ad_see_its_skills_and_download_them(page, tmp_path, demo_extractor):
    ad = (DATA / "sample_ad.txt").read_text(encoding="utf-8")
    page.get_by_label("Paste a job ad").fill(ad)
    page.get_by_role("button", name="Find skills").click()
    page.get_by_text("Skills by group").wait_for()
    expected = demo_extractor.extract(ad, doc_id="ad").skills
    for label in ("Python (computer programming)", "SQL", expected[0].skill_label):
        page.get_by_text(label, exact=True).first.wait_for()
    assert page.locator("span.sm-evidence").count() >= 1
    page.get_by_text("Skills by group").scroll_into_view_if_needed()
    _screenshot(page, tmp_path, "app-single-ad.png")

    csv_file = _download(page, page.get_by_role("button", name="Download skills (CSV)"),
                         tmp_path / "ad.csv")
    skills = pd.read_csv(csv_file)
    assert skills["skill_label"].tolist() == [m.skill_label for m in expected]
    assert {"skill_type", "score", "evidence_sentence"} <= set(skills.columns)
    page_file = _download(page, page.get_by_role("button", name="Download highlighted ad (HTML)"),
                          tmp_path / "ad.html")
    html = page_file.read_text(encoding="utf-8")
    assert 'class="sm-evidence"' in html and expected[0].skill_label in html
    json_file = _download(page, page.get_by_role(
        "button", name="Download skills and sentences (JSON)"), tmp_path / "ad.json")
    assert '"sentences"' in json_file.read_text(encoding="utf-8")
    # the sentence table is a static table: every sentence is on the page, none clipped
    table = page.locator('[data-testid="stTable"]')
    assert table.locator("tbody tr").count() == len(demo_extractor.extract(ad).sentences)


def test_upload_a_dated_corpus_compare_regions_and_follow_months(page, tmp_path,
                                                                 demo_extractor):
    source = tmp_path / "ads.csv"
    ads = dated_ads(source)
    page.get_by_role("tab", name="Corpus").click()
    panel = page.get_by_role("tabpanel", name="Corpus")
    panel.locator('input[type="file"]').set_input_files(str(source))
    panel.get_by_text("Columns to keep with each ad").wait_for()
    for column in ("posted", "region"):   # preselected: short columns that are not the text
        panel.locator('[data-testid="stMultiSelect"]').get_by_text(column, exact=True).wait_for()
    panel.get_by_role("button", name=f"Code {len(ads)} ads").click()
    panel.get_by_text("Ads coded").wait_for()
    panel.locator(".js-plotly-plot .main-svg").first.wait_for()

    # the coded CSV is batch's, with the kept columns after the fixed ones
    downloaded = _download(page, panel.get_by_role("button",
                                                   name="Download coded CSV (long format)"),
                           tmp_path / "downloaded.csv")
    batch = tmp_path / "batch.csv"
    code_csv(demo_extractor, source, batch, "description", "ad_id", show_progress=False,
             keep_columns=["posted", "region", "title"])
    got = pd.read_csv(downloaded, dtype=str)
    want = pd.read_csv(batch, dtype=str)
    assert list(got.columns) == list(want.columns) and list(got.columns)[-3:] == [
        "posted", "region", "title"]
    pd.testing.assert_frame_equal(got.drop(columns="score"), want.drop(columns="score"))
    chart = panel.locator(".js-plotly-plot").first
    _top(panel.get_by_text("Ads coded"))
    _screenshot(page, tmp_path, "app-corpus.png", hover=chart.locator("g.point path"))
    tooltip = chart.locator(".hovertext").first.text_content() or ""
    assert "% of ads" in tooltip and "labels=" not in tooltip

    # by region, side by side: both groups of ten ads
    panel.get_by_text("Compare", exact=True).click()
    panel.get_by_text("Compare by").wait_for()
    chart = panel.locator(".st-key-chart_compare .js-plotly-plot")
    chart.wait_for()
    # by key: while the page re-runs, the previous view's buttons may still be on it
    compare_csv = _download(page, panel.locator(".st-key-export_compare_csv button"),
                            tmp_path / "compare.csv")
    table = pd.read_csv(compare_csv)
    assert list(table.columns) == ["skill_label", "level1", "ads_a", "n_a", "share_a",
                                   "ads_b", "n_b", "share_b", "difference"]
    assert set(table["n_a"]) == {10} and set(table["n_b"]) == {10}
    long = want.assign(score=want["score"].astype(float), mentions=want["mentions"].astype(int))
    frame = ads.rename(columns={"ad_id": "doc_id"})[["doc_id", "posted", "region", "title"]]
    expected = analysis.compare(long, frame, "region", "North", "South", top=len(table))
    pd.testing.assert_frame_equal(table[["skill_label", "ads_a", "ads_b"]],
                                  expected[["skill_label", "ads_a", "ads_b"]],
                                  check_dtype=False)
    assert "NaN" not in compare_csv.read_text()
    _top(panel.get_by_text("Compare by"))
    _screenshot(page, tmp_path, "app-compare.png", hover=chart.locator("g.point path"))
    tooltip = chart.locator(".hovertext").first.text_content() or ""
    assert "region = " in tooltip and "% of ads" in tooltip and "NaN" not in tooltip

    # monthly trend: four months of five ads each
    panel.get_by_text("Trend over time", exact=True).click()
    panel.get_by_text("Date column").wait_for()
    chart = panel.locator(".st-key-chart_trend .js-plotly-plot")
    chart.wait_for()
    trend_csv = _download(page, panel.locator(".st-key-export_trend_csv button"),
                          tmp_path / "trend.csv")
    trend = pd.read_csv(trend_csv)
    assert list(trend.columns) == ["month", "skill_label", "ads", "ads_in_month", "share"]
    assert sorted(set(trend["month"])) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert set(trend["ads_in_month"]) == {5}
    assert trend["skill_label"].nunique() == 5
    totals = trend.groupby("skill_label")["ads"].sum()
    per_skill = long.groupby("skill_label")["doc_id"].nunique()
    assert all(totals[label] == per_skill[label] for label in totals.index)
    _top(panel.get_by_text("Date column"))
    _screenshot(page, tmp_path, "app-trend.png", hover=chart.locator("g.points path"))
    tooltip = chart.locator(".hovertext").first.text_content() or ""
    assert "2024:" in tooltip and "% of ads" in tooltip
