"""The analyst's numbers (skillmap.app.analysis) and the words in the charts' tooltips
(skillmap.app.charts), on hand-made results: no model, milliseconds."""

from __future__ import annotations

import pandas as pd
import pytest

from skillmap.app import analysis, charts
from skillmap.app.tables import group_shares, long_frame, summary_frame
from skillmap.pipeline.results import AdResult, SkillMatch


def _ad(doc_id: str, labels: list[str], **variables) -> AdResult:
    skills = [SkillMatch(skill_id=label.lower(), skill_label=label, score=0.5, rank=i + 1,
                         level1="digital" if label in ("Python", "SQL") else "social",
                         level2="software" if label == "Python" else "other")
              for i, label in enumerate(labels)]
    return AdResult(doc_id, skills, [], variables=variables)


@pytest.fixture
def results():
    return [_ad("1", ["Python", "SQL"], region="North", posted="2024-01-05"),
            _ad("2", ["Python"], region="North", posted="2024-01-20"),
            _ad("3", [], region="North", posted="2024-02-02"),          # no skills: counts
            _ad("4", ["SQL", "teamwork"], region="South", posted="2024-02-10"),
            _ad("5", ["teamwork"], region="South", posted="not a date")]


def test_shares_are_of_all_ads_including_those_without_skills(results):
    long, ads = long_frame(results), analysis.ads_frame(results)
    table = analysis.skill_table(long, ads).set_index("skill_label")
    assert table.loc["Python", "ads"] == 2 and table.loc["Python", "share"] == 2 / 5
    assert list(summary_frame(results).columns[:3]) == ["doc_id", "region", "posted"]


def test_compare_two_values_of_a_column(results):
    long, ads = long_frame(results), analysis.ads_frame(results)
    table = analysis.compare(long, ads, "region", "North", "South").set_index("skill_label")
    assert table.loc["Python", ["ads_a", "n_a", "ads_b", "n_b"]].tolist() == [2, 3, 0, 2]
    assert table.loc["Python", "share_a"] == pytest.approx(2 / 3)
    assert table.loc["SQL", "difference"] == pytest.approx(1 / 3 - 1 / 2)
    groups = analysis.compare(long, ads, "region", "North", "South", by="level1")
    assert groups.set_index("level1").loc["social", "ads_b"] == 2
    assert not table.isna().any().any()


def test_two_files_are_two_corpora(results):
    sources = {"1": "a.csv", "2": "a.csv", "3": "b.csv", "4": "b.csv", "5": "b.csv"}
    ads = analysis.ads_frame(results, sources)
    assert analysis.SOURCE in analysis.variables(ads)
    table = analysis.compare(long_frame(results), ads, analysis.SOURCE, "a.csv", "b.csv")
    assert table.set_index("skill_label").loc["Python", "share_a"] == 1.0


def test_monthly_trend_counts_every_dated_ad_of_each_month(results):
    long, ads = long_frame(results), analysis.ads_frame(results)
    trend = analysis.monthly_trend(long, ads, "posted", ["Python", "SQL"])
    assert trend["month"].unique().tolist() == ["2024-01", "2024-02"]
    row = trend.set_index(["month", "skill_label"])
    assert row.loc[("2024-01", "Python"), ["ads", "ads_in_month", "share"]].tolist() == [2, 2, 1.0]
    assert row.loc[("2024-02", "Python"), "share"] == 0.0      # absent, not missing
    assert row.loc[("2024-02", "SQL"), "ads_in_month"] == 2    # the ad without skills counts
    assert analysis.undated(ads, "posted") == 1


def test_search_and_group_values(results):
    table = analysis.skill_table(long_frame(results), analysis.ads_frame(results))
    assert analysis.search_skills(table, "DIGITAL")["skill_label"].tolist() == ["Python", "SQL"]
    ads = analysis.ads_frame(results)
    assert analysis.group_values(ads, "region") == ["North", "South"]


def _hovers(figure) -> list[str]:
    return [trace.hovertemplate for trace in figure.data]


def test_tooltips_are_sentences_not_field_names(results):
    long, ads = long_frame(results), analysis.ads_frame(results)
    comparison = analysis.compare(long, ads, "region", "North", "South")
    figures = [
        charts.skill_frequency_bar(analysis.skill_table(long, ads)
                                   .rename(columns={"skill_label": "skill_label"})),
        charts.group_share_chart(group_shares(long), "treemap"),
        charts.group_share_chart(group_shares(long), "sunburst"),
        charts.comparison_chart(comparison, "region", "North", "South"),
        charts.comparison_chart(comparison, "region", "North", "South", "difference"),
        charts.trend_chart(analysis.monthly_trend(long, ads, "posted", ["Python"])),
    ]
    for figure in figures:
        for template in _hovers(figure):
            assert template and "<extra></extra>" in template
            assert "labels=" not in template and "parent=" not in template
            assert "share=" not in template
    assert "percentRoot" in _hovers(figures[1])[0]   # defined on parent tiles too (no NaN%)
    assert "region = North" in _hovers(figures[3])[-1] + _hovers(figures[3])[0]
    assert "percentage points" in _hovers(figures[4])[0]


@pytest.mark.slow  # kaleido starts a browser
def test_chart_export_gives_png_and_svg_or_says_it_cannot():
    figure = charts.skill_frequency_bar(pd.DataFrame(
        {"skill_label": ["Python"], "level1": ["digital"], "ads": [1], "share": [0.5]}))
    assert b"<html>" in charts.html(figure)[:100]
    if not charts.image_export_works():
        pytest.skip("no Chrome/Chromium for kaleido here: the app offers HTML instead")
    assert charts.image(figure, "png").startswith(b"\x89PNG")
    assert b"<svg" in charts.image(figure, "svg")[:400]
