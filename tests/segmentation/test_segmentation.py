"""Segmentation of messy job-ad text into sentences and bullet items."""

from __future__ import annotations

from skillmap.segmentation.text import MAX_SEGMENT_CHARS, clean_text, segment


def texts(text):
    return [s.text for s in segment(text)]


def test_bullets_of_every_style_become_items_without_markers():
    ad = "• Python\n- SQL and dbt\n* Docker\n– Git\n1. Linux\n2) Bash\na) Excel\n▪ Jira"
    segs = segment(ad)
    assert [s.text for s in segs] == ["Python", "SQL and dbt", "Docker", "Git", "Linux", "Bash",
                                      "Excel", "Jira"]
    assert {s.kind for s in segs} == {"bullet"}


def test_hard_wrapped_line_continues_but_new_line_in_capitals_starts_new_segment():
    ad = "You will build data pipelines\nand maintain our warehouse.\nWe offer a bonus"
    assert texts(ad) == ["You will build data pipelines and maintain our warehouse.",
                         "We offer a bonus"]
    # a bullet item wrapped onto the next line stays one item
    assert texts("• Build pipelines in Python and\n  maintain SQL models\n• Next item") == [
        "Build pipelines in Python and maintain SQL models", "Next item"]


def test_sentences_inside_a_paragraph_split_but_abbreviations_do_not_break_words():
    assert texts("You know SQL. You like teams! Ready?") == ["You know SQL.", "You like teams!",
                                                               "Ready?"]


def test_html_remnants_are_cleaned():
    ad = ("<div><h2>Profile</h2><ul><li>Strong Python&nbsp;skills</li><li>SQL &amp; Excel</li>"
          "</ul><p>Apply now!<br>Thanks</p><script>var x=1;</script></div>")
    assert texts(ad) == ["Profile", "Strong Python skills", "SQL & Excel", "Apply now!", "Thanks"]


def test_chinese_and_japanese_sentence_punctuation():
    assert texts("我们需要Python。熟悉SQL！有团队精神？") == ["我们需要Python。", "熟悉SQL！", "有团队精神？"]
    assert texts("日本語が話せる方。Excelが使える方；") == ["日本語が話せる方。", "Excelが使える方；"]


def test_headings_are_marked_not_coded_and_noise_is_dropped():
    segs = segment("What we're looking for:\n- Python\n----\n12345\n   \n")
    assert [(s.text, s.kind) for s in segs] == [("What we're looking for:", "heading"),
                                                 ("Python", "bullet")]
    assert [s.codable for s in segs] == [False, True]


def test_offsets_point_into_the_cleaned_text():
    ad = "About us\n\nWe build things.  We hire people.\n• Python and\nSQL"
    cleaned = clean_text(ad)
    for seg in segment(ad):
        assert " ".join(cleaned[seg.start:seg.end].split()) == seg.text


def test_control_characters_and_crlf():
    assert texts("Python\r\nSQL\x00\x07 skills\r\n") == ["Python", "SQL skills"]


def test_empty_and_whitespace_only_give_no_segments():
    assert segment("") == [] and segment(" \n\t \n") == []


def test_one_megabyte_line_is_cut_into_bounded_segments():
    line = ("python sql docker " * 60000)[:1_000_000]
    segs = segment(line)
    assert segs and all(len(s.text) <= MAX_SEGMENT_CHARS for s in segs)
    covered = sum(len(s.text) for s in segs)
    assert covered > 0.95 * len(line.strip())
