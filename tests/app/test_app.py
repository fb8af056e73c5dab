"""The Streamlit app's main flows, run headless with Streamlit's AppTest.

AppTest executes the real page script in-process (no browser), so these tests see the
same widgets a user does: they paste an ad, move the top-k slider, upload files and click
the corpus button. The browser test (tests/app/test_app_browser.py) covers what AppTest cannot:
a real server, real uploads and a real download.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from skillmap.app.catalog import DEFAULT_INDEX_ENV, INDEX_PATHS_ENV, SECOND_OPINION_PATHS_ENV
from skillmap.app.launcher import APP_SCRIPT
from skillmap.pipeline.presets import ACCURATE
from tests.conftest import DATA, REPO
from tests.helpers.documents import docx_bytes

pytestmark = pytest.mark.slow
SAMPLE_AD = (DATA / "sample_ad.txt").read_text(encoding="utf-8")


@pytest.fixture
def app(encoder, demo_index) -> AppTest:
    """A fresh session of the app (models are already loaded by the session fixtures)."""
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_opens_on_the_demo_index_with_model_and_taxonomy_shown(app):
    assert app.selectbox(key="index").value == "demo"
    sidebar = "\n".join(c.value for c in app.sidebar.caption)
    assert "skillmap-demo" in sidebar and "189 skills" in sidebar
    assert "Model:" in sidebar and "minilm" in sidebar.lower()
    assert [t.label for t in app.tabs] == ["Single ad", "Corpus", "Taxonomy"]
    assert "Skills" in metrics(app)   # the taxonomy tab's counts are rendered too


def test_pasted_ad_shows_its_skills_grouped_with_evidence(app, demo_extractor):
    app.text_area(key="ad_text").input(SAMPLE_AD).run()
    assert not app.exception and not app.error
    expected = demo_extractor.extract(SAMPLE_AD, doc_id="ad")
    assert metrics(app)["Skills found"] == str(len(expected.skills))
    text = page_text(app)
    for match in expected.skills:
        assert match.skill_label in text
    assert "Python (computer programming)" in text and "*evidence:*" in text
    assert {e.label.split(" · ")[0] for e in app.expander} == \
        {m.level1 for m in expected.skills}
    assert 'class="sm-evidence"' in app.get("html")[0].proto.body
    sentences = app.table[0].value   # a static table: full height, nothing clipped
    assert len(sentences) == len(expected.sentences)
    assert {d.key for d in app.get("download_button")} >= {
        "download_ad_csv", "download_ad_json", "download_ad_html"}


def test_top_k_and_min_score_change_what_is_shown(app):
    app.text_area(key="ad_text").input(SAMPLE_AD).run()
    app.slider(key="top_k").set_value(3).run()
    assert metrics(app)["Skills found"] == "3"
    app.slider(key="top_k").set_value(50).run()
    every = int(metrics(app)["Skills found"])
    app.slider(key="min_score").set_value(1.0).run()
    named = int(metrics(app)["Skills found"])  # only skills the ad names verbatim stay
    assert 0 < named < every


def test_ad_context_slider_codes_with_the_rest_of_the_ad(app, demo_index, encoder):
    from skillmap.pipeline import Extractor

    ad = ("Data Engineer\n\nYou write Python and SQL.\nYou design data models for our "
          "warehouse.\nYou will look after our pipelines every day.")
    assert app.slider(key="context_weight").value == 0.0  # off by default, as on the CLI
    assert "Ad context" not in "\n".join(c.value for c in app.sidebar.caption)
    app.text_area(key="ad_text").input(ad).run()
    assert "build data pipelines" not in page_text(app)  # the line alone: other readings
    app.slider(key="context_weight").set_value(1.0).run()
    assert not app.exception and not app.error
    expected = Extractor(index=demo_index, encoder=encoder, context_weight=1.0).extract(
        ad, doc_id="ad")
    assert "build data pipelines" in {m.skill_label for m in expected.skills}
    assert metrics(app)["Skills found"] == str(len(expected.skills))
    assert "build data pipelines" in page_text(app)
    assert "Ad context:** 1" in "\n".join(c.value for c in app.sidebar.caption)


def test_label_overlap_slider_reorders_with_the_skills_names(app, demo_index, encoder):
    from skillmap.pipeline import Extractor
    from skillmap.pipeline.config import DEFAULT_LABEL_OVERLAP

    ad = "Industry: Artificial Intelligence\nWe need people who analyse data and write reports."
    assert app.slider(key="label_overlap").value == DEFAULT_LABEL_OVERLAP  # the CLI's default
    app.text_area(key="ad_text").input(ad).run()
    on, off = (Extractor(index=demo_index, encoder=encoder, label_overlap=weight).extract(
        ad, doc_id="ad") for weight in (DEFAULT_LABEL_OVERLAP, 0.0))
    listed = [m.skill_label for m in on.skills]
    assert set(listed) - {m.skill_label for m in off.skills}  # the term changes the list
    assert "Label overlap" not in "\n".join(c.value for c in app.sidebar.caption)
    app.slider(key="label_overlap").set_value(0.0).run()
    assert not app.exception and not app.error
    assert metrics(app)["Skills found"] == str(len(off.skills))
    grouped = "\n".join(m.value for e in app.expander for m in e.markdown)  # skills by group
    assert all(m.skill_label in grouped for m in off.skills)
    assert not all(label in grouped for label in listed)  # a skill only the overlap listed left
    assert "Label overlap:** 0" in "\n".join(c.value for c in app.sidebar.caption)


def test_filter_choice_greys_out_sentences(app):
    app.text_area(key="ad_text").input(SAMPLE_AD).run()
    shown = metrics(app)
    assert int(shown["Dropped by the filter"]) > 0 and int(shown["Title, headings, metadata"]) > 0
    assert 'class="sm-filtered"' in app.get("html")[0].proto.body
    assert 'class="sm-structure"' in app.get("html")[0].proto.body
    app.selectbox(key="filter").set_value("none").run()  # off: every sentence searched alone
    shown = metrics(app)
    assert shown["Dropped by the filter"] == "0" and shown["Searched"] == shown["Segments"]


def test_single_ad_upload_codes_the_file(app):
    data = docx_bytes(["Warehouse operative.", "You will drive forklift trucks safely."])
    app.file_uploader(key="ad_file").set_value(("ad.docx", data, "application/octet-stream")).run()
    assert not app.exception and not app.error
    assert int(metrics(app)["Segments"]) == 2
    app.file_uploader(key="ad_file").set_value(("ad.docx", b"", "application/octet-stream")).run()
    assert [e.value for e in app.error] == ["ad.docx: the file is empty"]


def test_corpus_upload_codes_every_ad_and_offers_both_downloads(app):
    data = (DATA / "sample_ads.csv").read_bytes()
    app.file_uploader(key="corpus_files").set_value(("ads.csv", data, "text/csv")).run()
    assert app.selectbox(key="text:ads.csv").value == "description"
    assert app.selectbox(key="id:ads.csv").value == "ad_id"
    n_ads = len(pd.read_csv(DATA / "sample_ads.csv"))
    app.button(key="code_corpus").click().run()
    assert not app.exception and not app.error
    assert metrics(app)["Ads coded"] == str(n_ads)
    downloads = {d.key for d in app.get("download_button")}
    assert {"download_long", "download_summary", "export_skills_csv",
            "export_skills-all_csv"} <= downloads
    assert {"export_skills_png", "export_skills_svg"} <= downloads or \
        "export_skills_html" in downloads   # images need a Chrome/Chromium for kaleido
    coded = next(d.value for d in app.dataframe
                 if list(d.value.columns)[:3] == ["doc_id", "rank", "skill_id"])
    assert coded["doc_id"].nunique() == n_ads
    assert len(app.get("plotly_chart")) == 1
    app.radio(key="corpus_view").set_value("Groups").run()
    app.radio(key="group_chart").set_value("treemap").run()   # no recoding, still there
    assert metrics(app)["Ads coded"] == str(n_ads) and len(app.get("plotly_chart")) == 1


def test_corpus_variables_are_picked_kept_and_compared(app, tmp_path):
    from tests.helpers.corpus import dated_ads

    ads = dated_ads(tmp_path / "dated.csv")
    data = (tmp_path / "dated.csv").read_bytes()
    app.file_uploader(key="corpus_files").set_value(("dated.csv", data, "text/csv")).run()
    assert set(app.multiselect(key="keep:dated.csv").value) == {"posted", "region", "title"}
    app.multiselect(key="keep:dated.csv").set_value(["posted", "region"]).run()
    app.button(key="code_corpus").click().run()
    assert not app.exception and not app.error
    coded = next(d.value for d in app.dataframe
                 if list(d.value.columns)[:3] == ["doc_id", "rank", "skill_id"])
    assert list(coded.columns)[-2:] == ["posted", "region"]
    by_ad = ads.set_index("ad_id")["region"]
    assert (coded["region"] == coded["doc_id"].map(by_ad)).all()
    app.radio(key="corpus_view").set_value("Compare").run()
    assert app.selectbox(key="compare_by").value == "region"   # not the date, not unique
    assert "(10 ads)" in " ".join(c.value for c in app.caption)
    app.radio(key="compare_mode").set_value("difference").run()
    app.radio(key="compare_unit").set_value("level1").run()
    assert not app.exception and len(app.get("plotly_chart")) == 1
    app.radio(key="corpus_view").set_value("Trend over time").run()
    assert app.selectbox(key="trend_date").value == "posted"
    trend = next(d.value for d in app.dataframe if "ads_in_month" in d.value.columns)
    assert set(trend["ads_in_month"]) == {5} and trend["month"].nunique() == 4


def test_corpus_reports_a_bad_file_and_codes_the_good_ones(app):
    files = [("good.txt", b"You will cook meals in a busy kitchen.", "text/plain"),
             ("bad.csv", b'text\n"unclosed\n', "text/csv"),
             ("empty.txt", b"", "text/plain")]
    app.file_uploader(key="corpus_files").set_value(files).run()
    errors = [e.value for e in app.error]
    assert any(e.startswith("bad.csv: malformed CSV") for e in errors)
    assert "empty.txt: the file is empty" in errors
    assert app.button(key="code_corpus").label == "Code 1 ad"


def test_exclusions_in_the_sidebar_change_the_skills(app, demo_extractor):
    app.text_area(key="ad_text").input(SAMPLE_AD).run()
    first = demo_extractor.extract(SAMPLE_AD, doc_id="ad").skills[0].skill_label
    listed = f"- **{first}** `"   # a listed skill, not the word in an evidence sentence
    assert listed in page_text(app)
    app.text_area(key="exclusions").input(first).run()
    assert not app.exception and listed not in page_text(app)
    app.text_area(key="exclusions").input("no such skill at all").run()
    assert any("not in this taxonomy" in e.value for e in app.sidebar.error)


def test_a_second_opinion_is_offered_only_when_one_is_installed_and_then_used(
        encoder, demo_index, tmp_path, monkeypatch, tiny_model_factory):
    from skillmap.app.tables import group_skills
    from skillmap.pipeline import Extractor

    monkeypatch.setenv("SKILLMAP_CACHE", str(tmp_path / "cache"))  # no EmbeddingGemma there
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=180)
    at.run()
    assert "second_opinion" not in {box.key for box in at.selectbox}
    assert "skillmap encoder fetch embeddinggemma" in "\n".join(c.value for c in at.sidebar.caption)
    second = tiny_model_factory(hidden=32, seed=11)
    monkeypatch.setenv(SECOND_OPINION_PATHS_ENV, str(second))
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=180)
    at.run()
    assert at.selectbox(key="second_opinion").value == "off"
    at.text_area(key="ad_text").input(SAMPLE_AD).run()
    at.selectbox(key="second_opinion").select_index(1).run()
    # the slider starts at the accurate preset's weight, tuned with the reranker's
    assert at.slider(key="second_opinion_weight").value == \
        ACCURATE.settings["second_opinion_weight"]
    at.slider(key="second_opinion_weight").set_value(1.0).run()
    assert not at.exception and not at.error
    assert "Second opinion:" in "\n".join(c.value for c in at.sidebar.caption)
    plain = Extractor(index=demo_index, encoder=encoder).extract(SAMPLE_AD, doc_id="ad")
    mixed = Extractor(index=demo_index, encoder=encoder, second_opinion=str(second),
                      second_opinion_weight=1.0,
                      rerank_weight=ACCURATE.settings["rerank_weight"]).extract(SAMPLE_AD,
                                                                                doc_id="ad")
    def shown(result):  # the labels in the page's order (grouped by the hierarchy)
        return [m.skill_label for group in group_skills(result)
                for _, skills in group.level2 for m in skills]

    listed = shown(mixed)
    assert listed != shown(plain)  # the setting matters here
    text = page_text(at)
    assert metrics(at)["Skills found"] == str(len(mixed.skills))
    places = [text.find(f"- **{label}** `") for label in listed]
    assert -1 not in places and places == sorted(places)  # listed in the mixed order


def test_taxonomy_tab_searches_the_hierarchy(app):
    app.text_input(key="browse_query").input("python").run()
    table = next(d.value for d in app.dataframe if "alternative labels" in d.value.columns)
    assert "Python (computer programming)" in table["skill_label"].tolist()
    assert all("python" in " ".join(row).lower() for row in
               table[["skill_label", "alternative labels", "description"]].values)


def test_indexes_given_to_the_app_are_offered_and_used(encoder, demo_index, tmp_path,
                                                       monkeypatch):
    demo_index.save(tmp_path / "my-index")
    monkeypatch.setenv(INDEX_PATHS_ENV, str(tmp_path))
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=180)
    at.run()
    options = at.selectbox(key="index").options
    assert len(options) == 2 and "my-index" in options[1]
    at.selectbox(key="index").select_index(1).run()
    at.text_area(key="ad_text").input(SAMPLE_AD).run()
    assert not at.exception and int(metrics(at)["Skills found"]) > 0


@pytest.mark.parametrize("given", ["index", "parent"])
def test_the_app_opens_on_the_index_it_was_given(encoder, demo_index, tmp_path, monkeypatch,
                                                 given):
    """`skillmap app --index X` sets both variables (launcher.app_environment); X may be an
    index folder or a folder of them."""
    demo_index.save(tmp_path / "b-index")
    demo_index.save(tmp_path / "a-index")
    chosen = tmp_path / "b-index" if given == "index" else tmp_path
    monkeypatch.setenv(INDEX_PATHS_ENV, str(chosen))
    monkeypatch.setenv(DEFAULT_INDEX_ENV, str(chosen))
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=180)
    at.run()
    assert not at.exception
    expected = tmp_path / ("b-index" if given == "index" else "a-index")
    assert at.selectbox(key="index").value == str(expected.resolve())
    box = at.selectbox(key="index")
    assert expected.name in box.options[box.index]


def test_the_thin_entry_point_runs_the_same_app(encoder, demo_index):
    at = AppTest.from_file(str(REPO / "app" / "streamlit_app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Single ad", "Corpus", "Taxonomy"]
