"""Property-based tests (hypothesis) of ad segmentation (issue 9, item 2).

Inputs are both raw ``st.text()`` and generated job ads built from the things real ads
contain: sentences, hard-wrapped paragraphs, bullet lists in every marker style, headings,
HTML tags and entities, CJK sentences, blank lines, CRLF/CR line ends, control characters
and long unpunctuated runs.

What :func:`segment` guarantees (and these tests check) about the segments of a text, with
``cleaned = clean_text(text)``:

* order: ``start < end`` and each segment ends before the next begins (no overlap);
* fidelity: ``text == " ".join(cleaned[start:end].split())`` and ``cleaned[start:end]`` has
  no surrounding whitespace (offsets are exact, only hard-wrap breaks become spaces);
* length: ``end - start <= MAX_SEGMENT_CHARS``;
* coverage: every alphabetic character of ``cleaned`` lies inside a segment, except those of
  a bullet marker at the start of a line ("a) "). What *is* dropped on purpose is whitespace,
  bullet markers and pieces with no letter at all ("----", "12345", a bare "。"); in ads made
  only of words that contain a letter, nothing but whitespace and bullet markers is dropped;
* every segment contains a letter (or another non-digit alphanumeric such as "½");
* kind: ``heading`` exactly for a segment ending in ":" / "：" of at most HEADING_MAX_WORDS
  words, otherwise ``bullet`` for bullet items and ``sentence`` for the rest;
* ``segment(clean_text(x), cleaned=True) == segment(x)``.
"""

from __future__ import annotations

import os
import re
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from skillmap.segmentation import text as segmentation
from skillmap.segmentation.text import (HEADING_MAX_WORDS, MAX_SEGMENT_CHARS, clean_text,
                                            segment)

# CI (any value of $CI) replays the same examples every run and keeps no example database.
CI = "CI" in os.environ
PROPERTY = settings(deadline=None, max_examples=80, derandomize=CI, print_blob=CI)
EXACT = settings(deadline=None, max_examples=60, derandomize=CI, print_blob=CI)

# -- strategies ------------------------------------------------------------------------
# Lower-case ad vocabulary; no word is a spaCy tokenizer exception ("Mr.", "a.", "etc."), so
# a full stop after any of them ends a sentence.
WORDS = ("python", "sql", "data", "pipelines", "team", "experience", "strong", "skills",
         "build", "maintain", "customers", "excel", "reporting", "cloud", "docker", "german",
         "english", "years", "agile", "you", "will", "our", "warehouse", "café", "größe",
         "développeur", "straße", "kubernetes", "analytics", "communication", "über")
MARKERS = tuple("•·▪◦●■►➤✓✔❖-*–—+") + ("1.", "2)", "(3)", "12.", "a)", "(b)")
CJK_SENTENCES = ("我们需要Python。", "熟悉SQL！", "有团队精神？", "日本語が話せる方。",
                 "Excelが使える方；", "负责数据分析", "경험이 있는 분")  # the first 4 end a sentence
HEADINGS = ("Requirements:", "What we offer:", "Your profile：", "About us", "Benefits",
            "What we're looking for:", "Skills & experience:")
NOISE = ("----", "12345", "***", "   ", "\t", "\x00\x07", "&#13;", "&#10;", "\u200b", "\ufeff",
         "\u2028", "\x85", "\xa0", "...", "。", "!!!", "&", "<", ">", "&bogus;", "<br/>", "\r")

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=10)
word_runs = words.map(" ".join)


def _sentence(ws, end):
    return " ".join(ws).capitalize() + end


sentences = st.builds(_sentence, words, st.sampled_from([".", "!", "?", ";", ":", ""]))
paragraphs = st.lists(sentences, min_size=1, max_size=4).map(" ".join)


@st.composite
def wrapped_paragraphs(draw):
    """A paragraph hard-wrapped at random word boundaries (continuations start lower-case)."""
    ws = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=30))
    breaks = draw(st.sets(st.integers(1, len(ws) - 1)))
    out = ws[0].capitalize()
    for i, word in enumerate(ws[1:], 1):
        out += ("\n" if i in breaks else " ") + word
    return out + draw(st.sampled_from([".", ""]))


bullet_lists = st.lists(
    st.builds(lambda m, item, space: f"{space}{m} {item}", st.sampled_from(MARKERS), word_runs,
              st.sampled_from(["", " ", "  ", "\t"])), min_size=1, max_size=6).map(
    lambda lines: "\n" + "\n".join(lines))   # a list starts on a line of its own
long_runs = st.builds(lambda w, n, sep: sep.join([w] * n), st.sampled_from(WORDS),
                      st.integers(100, 450), st.sampled_from([" ", "", "-", "\n"]))
HTML = ("<p>{}</p>", "<li>{}</li>", "<div class='x'>{}</div>", "{}<br>", "<b>{}</b>",
        "<h2>{}</h2>", "{} &amp; more", "{}&nbsp;skills", "<!-- note -->{}",
        "<script>var x = 1;</script>{}", "&lt;b&gt;{}", "<ul><li>{}</li></ul>", "<td>{}</td>",
        "<a href=\"#\">{}</a>", "<style>p {{color: red}}</style>{}", "&#8226; {}", "<P>{}<BR/>")

cjk_paragraphs = st.lists(st.sampled_from(CJK_SENTENCES), min_size=1, max_size=4).map("".join)
plain_blocks = st.one_of(paragraphs, wrapped_paragraphs(), bullet_lists, cjk_paragraphs,
                         st.sampled_from(HEADINGS), long_runs)
html_blocks = st.builds(lambda template, inner: template.format(inner), st.sampled_from(HTML),
                        plain_blocks)
LINE_BREAKS = ("\n", "\n\n", "\r\n", "\r\n\r\n", "\r", " ", "\n \n", "\n\t\n")


def _ads(blocks):
    return st.tuples(st.lists(blocks, max_size=10),
                     st.lists(st.sampled_from(LINE_BREAKS), min_size=10, max_size=10)).map(
        lambda t: "".join(b + sep for b, sep in zip(t[0], t[1])))


# Ads whose every word contains a letter (no noise): coverage is exact for these.
worded_ads = _ads(st.one_of(plain_blocks, html_blocks))
# Everything: worded ads plus noise, raw unicode and raw characters that matter to the cleaner.
SPECIAL = st.sampled_from(list("<>/&;#.!?:;。！？；：•-*–()\n\r\t \xa0\x00\x0b\x0c\x1f\x7f"
                               "\x85\u2028\u200b\ufeffaZé中½1"))
raw_texts = st.one_of(st.text(max_size=300), st.text(alphabet=SPECIAL, max_size=300))
ads = _ads(st.one_of(plain_blocks, html_blocks, st.sampled_from(NOISE), raw_texts))
any_text = st.one_of(ads, raw_texts)


# -- checks ----------------------------------------------------------------------------
def _marker_spans(cleaned):
    """Character ranges of bullet markers at the start of each line of the cleaned text."""
    spans, pos = [], 0
    for line in cleaned.split("\n"):
        if line.strip():
            match = segmentation._BULLET.match(line)
            if match:
                spans.append((pos, pos + match.end()))
        pos += len(line) + 1
    return spans


def _uncovered(cleaned, segs):
    """Positions of non-whitespace characters outside every segment and bullet marker."""
    covered = bytearray(len(cleaned))
    for a, b in [(s.start, s.end) for s in segs] + _marker_spans(cleaned):
        covered[a:b] = b"\x01" * (b - a)
    return [i for i, c in enumerate(cleaned) if not covered[i] and not c.isspace()]


def check_invariants(text):
    cleaned = clean_text(text)
    segs = segment(text)
    previous_end = 0
    for seg in segs:
        assert previous_end <= seg.start < seg.end <= len(cleaned), (seg, previous_end)
        previous_end = seg.end
        raw = cleaned[seg.start:seg.end]
        assert raw == raw.strip(), seg
        assert seg.text == " ".join(raw.split()), (seg, raw)
        assert seg.end - seg.start <= MAX_SEGMENT_CHARS and len(seg.text) <= MAX_SEGMENT_CHARS
        assert any(c.isalnum() and not c.isdecimal() for c in seg.text), seg
        is_heading = (seg.text.endswith((":", "："))
                      and len(seg.text.split()) <= HEADING_MAX_WORDS)
        assert (seg.kind == "heading") == is_heading, seg
        assert seg.kind in ("sentence", "bullet", "heading")
    lost = [i for i in _uncovered(cleaned, segs) if cleaned[i].isalpha()]
    assert not lost, f"letters outside every segment: {[cleaned[i] for i in lost][:20]}"
    return cleaned, segs


# -- properties ------------------------------------------------------------------------
@PROPERTY
@given(any_text)
@example("a) Excel\n(b) SQL")                      # letters inside bullet markers
@example("x" * 2500 + " ½ ----")                   # hard cuts of a run without whitespace
@example("python " * 400)                          # cut at whitespace near the limit
@example("&lt;b&gt;Python&#13;SQL&#10;Docker")    # entity-encoded tags and line ends
def test_any_text_segments_in_order_exactly_and_within_bounds(text):
    check_invariants(text)


@PROPERTY
@given(worded_ads)
def test_in_worded_ads_only_whitespace_and_bullet_markers_are_dropped(text):
    cleaned, segs = check_invariants(text)
    lost = _uncovered(cleaned, segs)
    assert not lost, f"dropped: {[cleaned[i] for i in lost][:20]} of {cleaned!r}"


@PROPERTY
@given(any_text)
def test_segmenting_cleaned_text_with_cleaned_true_is_the_same(text):
    assert segment(clean_text(text), cleaned=True) == segment(text)


@PROPERTY
@given(any_text)
@example("Python&#13;SQL\r\n")
def test_clean_text_leaves_no_cr_tab_nbsp_or_control_characters(text):
    cleaned = clean_text(text)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\xa0\u200b\u2028\u2029\ufeff]", cleaned), \
        repr(cleaned)


@PROPERTY
@given(ads)
def test_spacy_chunking_of_huge_blocks_keeps_the_invariants(text):
    """Blocks longer than _SPACY_CHUNK (100,000 chars in production) go to spaCy in chunks;
    with the chunk size lowered to 200 the same invariants hold on ordinary ads."""
    with mock.patch.object(segmentation, "_SPACY_CHUNK", 200):
        check_invariants(text)


@EXACT
@given(st.lists(st.tuples(st.sampled_from(MARKERS), word_runs), min_size=1, max_size=8),
       st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_each_bullet_line_is_one_bullet_segment_without_its_marker(items, newline):
    text = newline.join(f"{marker} {item}" for marker, item in items)
    segs = segment(text)
    assert [(s.text, s.kind) for s in segs] == [(item, "bullet") for _, item in items]


@EXACT
@given(wrapped_paragraphs(), st.sampled_from(["\n", "\r\n"]))
def test_hard_wrapped_paragraph_is_one_segment(paragraph, newline):
    segs = segment(paragraph.replace("\n", newline))
    assert [s.text for s in segs] == [" ".join(paragraph.split())]


@EXACT
@given(st.lists(word_runs, min_size=1, max_size=5))
def test_a_blank_line_ends_a_segment_even_before_a_lower_case_line(lines):
    segs = segment("\n\n".join(lines))
    assert [s.text for s in segs] == lines


@EXACT
@given(st.lists(st.one_of(st.builds(_sentence, words, st.sampled_from([".", "!", "?"])),
                          st.sampled_from(CJK_SENTENCES[:4])), min_size=1, max_size=6))
def test_sentences_of_a_paragraph_become_one_segment_each(parts):
    """Sentences ending in . ! ? 。！？ split, CJK ones with no space after them. (A semicolon,
    ';' or '；', does not end a sentence: spaCy's sentencizer does not split there.)"""
    text = "".join(p if p[-1] in "。！？" else p + " " for p in parts)
    assert [s.text for s in segment(text)] == parts


@EXACT
@given(st.lists(st.sampled_from(WORDS), min_size=150, max_size=800), st.sampled_from(WORDS))
def test_long_runs_are_cut_at_whitespace_without_losing_a_word(run, glued):
    segs = segment(" ".join(run))
    assert all(len(s.text) <= MAX_SEGMENT_CHARS for s in segs)
    assert " ".join(s.text for s in segs).split() == run
    # with no whitespace at all the run is cut every MAX_SEGMENT_CHARS characters
    blob = glued * (3 * MAX_SEGMENT_CHARS // len(glued))
    pieces = [s.text for s in segment(blob)]
    assert "".join(pieces) == blob and all(len(p) <= MAX_SEGMENT_CHARS for p in pieces)
