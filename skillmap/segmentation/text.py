"""Split a job ad into the units skills are coded on: sentences and bullet items.

Job ads are not prose. They arrive with HTML remnants, bullet lists, headings without full
stops, lines hard-wrapped mid-sentence, and (for Chinese/Japanese ads) full-width
punctuation. The steps:

1. :func:`clean_text` turns HTML block tags into line breaks, drops other tags, unescapes
   entities and removes terminal colour codes and control characters.
2. Lines are grouped into blocks: a blank line or a bullet marker starts a new block, and a
   line that starts in lower case continues an unfinished previous line (hard wrap).
3. Each block is split into sentences by spaCy's rule-based ``sentencizer`` (no downloaded
   model), with ``。！？；`` made token boundaries so CJK sentences split too.

Short lines ending in a colon ("What we're looking for:") are kept as ``heading`` segments:
shown in per-sentence detail, but not coded, since they introduce skills without stating any.

Offsets (``start``/``end``) index into the cleaned text, so ``cleaned[start:end]`` is the
segment modulo the spaces that replaced hard-wrap line breaks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

MAX_SEGMENT_CHARS = 1000  # longer "sentences" (no punctuation) are cut at whitespace
_SPACY_CHUNK = 100_000  # stay far below spaCy's max_length on pathological inputs

_BLOCK_TAG = re.compile(r"<\s*/?\s*(br|p|div|li|ul|ol|tr|h[1-6]|section|article|header|footer"
                        r"|table|td|th|dd|dt)\b[^>]*>", re.I)
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.I | re.S)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,500}>|<!--.*?-->", re.S)
# anonymised corpora replace names with upper-case placeholders (<ORGANIZATION>, <LOCATION>);
# they are part of the text, not markup: an all-caps name with no attributes that is not an
# HTML element (ADDRESS is both; in upper case it is the placeholder)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]{1,30}>")
_HTML_ELEMENTS = frozenset(
    "a abbr b big blockquote body br button caption center cite code col colgroup dd del div "
    "dl dt em embed font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input "
    "ins kbd label li link main map mark meta nav noscript ol option p pre q s samp script "
    "section select small span strike strong style sub sup table tbody td textarea tfoot th "
    "thead title tr tt u ul var article aside figure".split())
_SENTENCE_END = re.compile(r"[.!?。！？]\s")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour codes in copied text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2028\u2029\ufeff]")
_BULLET = re.compile(r"^[ \t]*(?:[•·▪▫◦●○■□►▶➢➤✓✔☐❖\-\*–—+]|\(?\d{1,2}[.)]|\(?[a-zA-Z][)])[ \t]+")
_TERMINAL = tuple(".!?:;。！？；")
_CJK_PUNCT = r"[。！？；]"
_HAS_LETTER = re.compile(r"[^\W\d_]")
HEADING_MAX_WORDS = 6


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence or bullet item of an ad."""

    text: str
    start: int
    end: int
    kind: str  # "sentence", "bullet" or "heading"; :mod:`~skillmap.segmentation.structure`
    #            refines it into title, heading, metadata, placeholder, sentence, bullet
    section: str = ""  # the part of the ad it sits in (set by the structure step)

    @property
    def codable(self) -> bool:
        """Headings ("Requirements:") introduce skills but state none; they are not coded."""
        return self.kind != "heading"


def _drop_markup(match: re.Match) -> str:
    tag = match.group(0)
    if _PLACEHOLDER.fullmatch(tag) and tag[1:-1].lower() not in _HTML_ELEMENTS:
        return tag
    return " "


def clean_text(text: str) -> str:
    """Normalise raw ad text: HTML remnants, entities, line endings, control characters."""
    if "<" in text:
        text = _SCRIPT.sub(" ", text)
        text = _BLOCK_TAG.sub("\n", text)
        text = _ANY_TAG.sub(_drop_markup, text)
    if "&" in text:
        text = html.unescape(text)
    # line endings after unescaping: "&#13;" decodes to a bare CR, which no step below removed
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", " ")
    if "\x1b" in text:
        text = _ANSI.sub(" ", text)
    return _CONTROL.sub(" ", text)


@lru_cache(maxsize=1)
def _nlp():
    import spacy
    from spacy.util import compile_infix_regex, compile_suffix_regex

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.tokenizer.infix_finditer = compile_infix_regex(
        [*nlp.Defaults.infixes, _CJK_PUNCT]).finditer
    nlp.tokenizer.suffix_search = compile_suffix_regex(
        [*nlp.Defaults.suffixes, _CJK_PUNCT]).search
    nlp.max_length = 2 * _SPACY_CHUNK
    return nlp


def _blocks(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, is_bullet)`` spans of logical blocks (paragraph lines, bullet items)."""
    blocks: list[list] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            blocks.append(None)  # paragraph break
            continue
        bullet = _BULLET.match(line)
        if bullet:
            blocks.append([start + bullet.end(), end, True])
            continue
        previous = blocks[-1] if blocks else None
        if (previous is not None and stripped[0].islower()
                and not text[previous[0]:previous[1]].rstrip().endswith(_TERMINAL)):
            previous[1] = end  # hard-wrapped continuation of the previous line
        else:
            blocks.append([start + (len(line) - len(line.lstrip())), end, False])
    return [(b[0], b[1], b[2]) for b in blocks if b is not None]


def _cut_long(text: str, start: int, limit: int,
              at_sentence_end: bool = False) -> list[tuple[str, int]]:
    """Cut an overlong run of text at whitespace into pieces of at most ``limit`` chars.

    ``at_sentence_end``: prefer the last sentence end (terminal punctuation and a space) in
    the second half of the window, so that feeding spaCy a huge block in pieces does not
    cut a sentence in two.
    """
    pieces = []
    while len(text) > limit:
        ends = ([m.end() for m in _SENTENCE_END.finditer(text, limit // 2, limit)]
                if at_sentence_end else [])
        cut = ends[-1] if ends else text.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append((text[:cut], start))
        text, start = text[cut:], start + cut
    pieces.append((text, start))
    return pieces


def segment(text: str, cleaned: bool = False) -> list[Segment]:
    """Split an ad into sentences and bullet items (see module docstring)."""
    if not cleaned:
        text = clean_text(text)
    flat = text.replace("\n", " ")  # same length: offsets stay valid
    nlp = _nlp()
    segments: list[Segment] = []
    for block_start, block_end, is_bullet in _blocks(text):
        kind = "bullet" if is_bullet else "sentence"
        for chunk, chunk_start in _cut_long(flat[block_start:block_end], block_start,
                                            _SPACY_CHUNK, at_sentence_end=True):
            for sent in nlp(chunk).sents:
                raw = sent.text
                for piece, piece_start in _cut_long(raw, chunk_start + sent.start_char,
                                                    MAX_SEGMENT_CHARS):
                    stripped = piece.strip()
                    if not _HAS_LETTER.search(stripped):
                        continue
                    lead = len(piece) - len(piece.lstrip())
                    seg_start = piece_start + lead
                    words = stripped.split()
                    is_heading = (stripped.endswith((":", "：")) and
                                  len(words) <= HEADING_MAX_WORDS)
                    segments.append(Segment(" ".join(words), seg_start,
                                            seg_start + len(stripped),
                                            "heading" if is_heading else kind))
    return segments
