"""Ad structure: each segment's kind (title, heading, metadata, placeholder, content) and the
section it sits in, on hand-written English, German and Chinese ads."""

from __future__ import annotations

import pytest

from skillmap.segmentation import segment_ad
from skillmap.segmentation.text import clean_text

ENGLISH = """Senior Data Engineer (m/f/d)
<ORGANIZATION> <LOCATION>
Date posted: 2024-03-01
Job type:
Full-time
Company size: 51-200 people
Industry: Financial Services
About us
<ORGANIZATION> builds the payment platform used by 4,000 online shops.
Responsibilities
Build and run our data pipelines in Python and Airflow.
Requirements:
- 3+ years of experience with SQL and dbt
- SQL
What we offer
Free yoga and a gym discount.
How to apply
Send your CV to jobs@example.com.
"""

GERMAN = """Backend-Entwickler (m/w/d) in Berlin
Standort: Berlin
Gehalt: 60.000 EUR
Über uns
Wir sind ein Familienunternehmen mit 40 Filialen.
Ihre Aufgaben
Sie entwickeln unsere REST-Schnittstellen in Java.
Ihr Profil
Sehr gute Kenntnisse in Spring Boot und PostgreSQL.
Wir bieten
30 Tage Urlaub und ein Jobticket.
Bewerbung
Bitte senden Sie Ihre Unterlagen an karriere@example.de.
"""

CHINESE = """高级Java开发工程师
工作地点：上海
薪资：20k-30k
公司介绍
我们是一家领先的金融科技公司。
岗位职责：
负责核心交易系统的设计与开发。
任职要求：
熟悉Spring Boot和MySQL。
福利待遇
五险一金，带薪年假。
"""


def kinds_and_sections(text):
    return [(s.text, s.kind, s.section) for s in segment_ad(text)]


def test_english_ad_structure():
    got = {text: (kind, section) for text, kind, section in kinds_and_sections(ENGLISH)}
    assert got["Senior Data Engineer (m/f/d)"] == ("title", "")
    assert got["<ORGANIZATION> <LOCATION>"][0] == "placeholder"
    assert got["Date posted: 2024-03-01"][0] == "metadata"
    assert got["Job type:"][0] == "metadata" and got["Full-time"][0] == "metadata"
    assert got["Company size: 51-200 people"][0] == "metadata"
    # an industry names domain knowledge: content, for the filter to judge
    assert got["Industry: Financial Services"][0] == "sentence"
    assert got["About us"] == ("heading", "company")
    assert got["<ORGANIZATION> builds the payment platform used by 4,000 online shops."] == (
        "sentence", "company")
    assert got["Build and run our data pipelines in Python and Airflow."] == (
        "sentence", "responsibilities")
    assert got["Requirements:"] == ("heading", "requirements")
    assert got["3+ years of experience with SQL and dbt"] == ("bullet", "requirements")
    assert got["SQL"] == ("bullet", "requirements")  # a capitalised skill is no heading
    assert got["Free yoga and a gym discount."] == ("sentence", "benefits")
    assert got["Send your CV to jobs@example.com."] == ("sentence", "apply")


def test_german_ad_structure():
    got = {text: (kind, section) for text, kind, section in kinds_and_sections(GERMAN)}
    assert got["Backend-Entwickler (m/w/d) in Berlin"][0] == "title"
    assert got["Standort: Berlin"][0] == "metadata"
    assert got["Gehalt: 60.000 EUR"][0] == "metadata"
    assert got["Über uns"] == ("heading", "company")
    assert got["Sie entwickeln unsere REST-Schnittstellen in Java."] == (
        "sentence", "responsibilities")
    assert got["Sehr gute Kenntnisse in Spring Boot und PostgreSQL."] == (
        "sentence", "requirements")
    assert got["30 Tage Urlaub und ein Jobticket."] == ("sentence", "benefits")
    assert got["Bitte senden Sie Ihre Unterlagen an karriere@example.de."][1] == "apply"


def test_chinese_ad_structure():
    got = {text: (kind, section) for text, kind, section in kinds_and_sections(CHINESE)}
    assert got["高级Java开发工程师"][0] == "title"
    assert got["工作地点：上海"][0] == "metadata"
    assert got["薪资：20k-30k"][0] == "metadata"
    assert got["公司介绍"] == ("heading", "company")
    assert got["岗位职责："] == ("heading", "responsibilities")
    assert got["负责核心交易系统的设计与开发。"] == ("sentence", "responsibilities")
    assert got["任职要求："] == ("heading", "requirements")
    assert got["熟悉Spring Boot和MySQL。"] == ("sentence", "requirements")
    assert got["五险一金，带薪年假。"] == ("sentence", "benefits")


def test_a_capitalised_section_name_glued_to_a_sentence_opens_the_section():
    ad = "Intro line one.\nAnother intro line.\nRESPONSIBILITIES Develop a growth strategy.\n"
    *_, last = kinds_and_sections(ad)
    assert last[1:] == ("sentence", "responsibilities")


@pytest.mark.parametrize("sentence", ["Industry: Financial Services",
                                      "Experience with SQL and Python",
                                      "Requirements", "Python"])
def test_a_lone_sentence_is_never_a_title_or_heading(sentence):
    (segment,) = segment_ad(sentence)
    assert segment.kind in ("sentence", "bullet")


def test_placeholders_survive_cleaning_but_html_does_not():
    assert clean_text("<b>Hi</b> <ORGANIZATION> at <ADDRESS>") == " Hi  <ORGANIZATION> at <ADDRESS>"


COLON_LESS = """Research Assistant in Climate Data
<ORGANIZATION> <LOCATION>
What you'll be doing
You will build forecasting models in Python.
Skills & requirements
Good communication skills
Strong SQL and statistics.
What we can offer you
A pension scheme and flexible hours.
The application process
The application must include a CV and two references.
Was dich erwartet
Du entwickelst Dashboards mit Power BI.
"""


def test_headings_without_a_colon_open_their_sections():
    """A heading may wrap its cue in filler words or ask a question; a skill line that
    contains a cue word ("Good communication skills") stays content."""
    got = {text: (kind, section) for text, kind, section in kinds_and_sections(COLON_LESS)}
    assert got["What you'll be doing"][0] == "heading"
    assert got["Skills & requirements"] == ("heading", "requirements")
    assert got["Good communication skills"] == ("sentence", "requirements")
    assert got["What we can offer you"] == ("heading", "benefits")
    assert got["A pension scheme and flexible hours."] == ("sentence", "benefits")
    assert got["The application process"] == ("heading", "apply")
    assert got["The application must include a CV and two references."] == (
        "sentence", "apply")
    assert got["Was dich erwartet"] == ("heading", "responsibilities")
    assert got["Du entwickelst Dashboards mit Power BI."] == ("sentence", "responsibilities")
