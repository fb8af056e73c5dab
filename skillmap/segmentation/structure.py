"""What a job ad is made of: each segment's *kind* and the *section* it sits in.

A job ad is a document with parts, and most of its lines state no skill: the posting's title,
headings ("Requirements:", "What we offer"), ``Key: value`` metadata ("Date posted:
2021-04-22", "Company size: 51-200", or the key on one line and the value on the next),
anonymisation placeholders (``<ORGANIZATION> <LOCATION>``), and whole sections about the
company, the benefits or how to apply. Retrieval always returns its top k, so each of those
lines would otherwise yield skills ("Job description" -> *write job descriptions*).

:func:`annotate` gives every segment of :func:`~skillmap.segmentation.text.segment`

* a ``kind``: ``title``, ``heading``, ``metadata``, ``placeholder``, or the content kinds
  ``sentence`` and ``bullet``;
* a ``section``: ``company``, ``responsibilities``, ``requirements``, ``benefits``, ``apply``,
  ``legal``, ``other`` (a heading naming none of these), or ``""`` before the first heading.

The cue phrases live in ``ad_structure.yaml`` beside this module, in several languages
(English, German and Chinese today); a heading is recognised by its form (a short whole line
ending in a colon, in capitals, or opening with a question word: "What you'll be doing") or by
naming a section with at most a few filler words around the cue ("The application process"),
so ads in a language without cues still get their kinds. The rules only mark what is certain
from the form of the text; whether a content sentence states a skill is the filter's call, with
kind and section as features.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Sequence

import yaml

from skillmap.segmentation.text import Segment

CONTENT_KINDS = ("sentence", "bullet")
STRUCTURE_KINDS = ("title", "heading", "metadata", "placeholder")
KINDS = STRUCTURE_KINDS + CONTENT_KINDS
SECTIONS = ("", "company", "responsibilities", "requirements", "benefits", "apply", "legal",
            "other")

TITLE_MAX_WORDS = 12
HEADING_MAX_WORDS = 6
CAPS_HEADING_MAX_WORDS = 5
KEY_MAX_WORDS = 4
METADATA_VALUE_MAX_WORDS = 8
MIN_SEGMENTS_FOR_TITLE = 3  # a lone sentence (a benchmark item, a pasted line) has no title

_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*>")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_NOT_WORD = re.compile(rf"[^\w{_CJK}'’+#]+", re.UNICODE)
_KEY_VALUE = re.compile(r"^([^:：]{1,60})[:：]\s*(.*)$", re.S)
_TERMINAL = tuple(".!?。！？")
_LETTER = re.compile(r"[^\W\d_]")


def normalise(text: str) -> str:
    """Lower case, placeholders and punctuation removed, spaces collapsed."""
    text = _PLACEHOLDER.sub(" ", text).replace("’", "'").lower()
    return " ".join(_NOT_WORD.sub(" ", text).split())


@lru_cache(maxsize=1)
def cues() -> dict:
    """The cue phrases of ``ad_structure.yaml``, normalised."""
    data = yaml.safe_load(resources.files("skillmap.segmentation")
                          .joinpath("ad_structure.yaml").read_text(encoding="utf-8"))
    return {"sections": {name: sorted({normalise(p) for p in phrases}, key=len, reverse=True)
                         for name, phrases in data["sections"].items()},
            "metadata_keys": frozenset(normalise(k) for k in data["metadata_keys"]),
            "skill_keys": frozenset(normalise(k) for k in data["skill_keys"]),
            "filler_words": frozenset(normalise(w) for w in data["filler_words"]),
            "question_words": frozenset(normalise(w) for w in data["question_words"])}


def _contains(text: str, phrase: str) -> bool:
    if _HAS_CJK.search(phrase):
        return phrase in text
    return f" {phrase} " in f" {text} "


def section_named(text: str) -> tuple[str, str] | None:
    """``(section, cue)`` for the longest section cue ``text`` contains, or None."""
    norm = normalise(text)
    best: tuple[str, str] | None = None
    for section, phrases in cues()["sections"].items():
        for phrase in phrases:  # longest first
            if _contains(norm, phrase):
                if best is None or len(phrase) > len(best[1]):
                    best = (section, phrase)
                break
    return best


def _leftover(norm: str, cue: str) -> str:
    """What a heading says beyond its cue phrase."""
    if _HAS_CJK.search(cue):
        return norm.replace(cue, " ").strip()
    return f" {norm} ".replace(f" {cue} ", " ").strip()


def _only_fillers(leftover: str) -> bool:
    """Whether what a line says beyond its cue is only words like "the", "our", "you"
    ("The application process", "What we need from you")."""
    return all(word in cues()["filler_words"] for word in leftover.split())


def _is_question_heading(text: str) -> bool:
    """A short line opening with a question word and ending without a full stop ("What
    you'll be doing", "Why join"): a heading, whatever it names."""
    words = normalise(text).split()
    return bool(words) and words[0] in cues()["question_words"] \
        and not text.endswith(_TERMINAL)


def _is_caps(text: str) -> bool:
    letters = [c for c in _PLACEHOLDER.sub("", text) if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in _PLACEHOLDER.sub("", text))


def _is_placeholder_only(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text)) and not _LETTER.search(_PLACEHOLDER.sub("", text))


def _whole_line(segment: Segment, text: str) -> bool:
    """The segment is a line of its own (not a sentence inside a paragraph)."""
    before = text[:segment.start].rstrip(" \t")
    after = text[segment.end:].lstrip(" \t")
    before_ok = not before or before.endswith("\n") or _ends_in_bullet_marker(before)
    return before_ok and (not after or after.startswith("\n"))


def _ends_in_bullet_marker(before: str) -> bool:
    line = before.rsplit("\n", 1)[-1]
    return bool(line) and not _LETTER.search(line)


def _key_value(text: str) -> tuple[str, str] | None:
    match = _KEY_VALUE.match(text)
    if not match:
        return None
    key, value = match.group(1).strip(), match.group(2).strip()
    if not key or len(key.split()) > KEY_MAX_WORDS or "http" in key.lower():
        return None
    return key, value


def _kind_and_section(segment: Segment, text: str, lone: bool
                      ) -> tuple[str, str | None, bool]:
    """``(kind, section it opens or None, expects a metadata value next)``."""
    words = segment.text.split()
    whole_line = _whole_line(segment, text)
    if _is_placeholder_only(segment.text):
        return "placeholder", None, False
    pair = _key_value(segment.text) if whole_line else None
    if pair is not None:
        key = normalise(pair[0])
        if key in cues()["skill_keys"]:
            return segment.kind if pair[1] else "heading", "requirements", False
        if key in cues()["metadata_keys"]:
            return "metadata", None, not pair[1]
    named = section_named(segment.text) if len(words) <= HEADING_MAX_WORDS else None
    ends_colon = segment.text.endswith((":", "："))
    if whole_line and len(words) <= HEADING_MAX_WORDS and not lone \
            and segment.kind != "bullet":
        if ends_colon:
            return "heading", named[0] if named else "other", False
        if named and _only_fillers(_leftover(normalise(segment.text), named[1])) \
                and not segment.text.endswith(_TERMINAL):
            return "heading", named[0], False
        if _is_question_heading(segment.text):
            return "heading", named[0] if named else "other", False
        if _is_caps(segment.text) and len(words) <= CAPS_HEADING_MAX_WORDS \
                and not segment.text.endswith(_TERMINAL) \
                and (named or (len(words) >= 2 and _letters(segment.text) >= 10)):
            # a capitalised line names a section or is a phrase: "SQL" is a skill
            return "heading", named[0] if named else "other", False
    elif ends_colon and len(words) <= HEADING_MAX_WORDS:
        return "heading", named[0] if named else "other", False
    glued = _glued_heading(segment.text)
    return segment.kind, glued, False


def _glued_heading(text: str) -> str | None:
    """A capitalised section name glued to the first sentence ("RESPONSIBILITIES Develop
    ..."): the section it opens, or None."""
    words = text.split()
    caps = []
    for word in words[:CAPS_HEADING_MAX_WORDS]:
        if not _is_caps(word):
            break
        caps.append(word)
    if not caps or len(caps) == len(words):
        return None
    named = section_named(" ".join(caps))
    return named[0] if named else None


def annotate(segments: Sequence[Segment], text: str) -> list[Segment]:
    """Each segment with its ``kind`` and ``section`` (module docstring).

    ``text`` is the cleaned text the segments' offsets index into (lines matter: a heading
    is a line of its own).
    """
    lone = len(segments) < MIN_SEGMENTS_FOR_TITLE
    section = ""
    expects_value = False
    annotated = []
    for position, segment in enumerate(segments):
        kind, opens, wants_value = _kind_and_section(segment, text, lone)
        if (expects_value and kind in CONTENT_KINDS
                and len(segment.text.split()) <= METADATA_VALUE_MAX_WORDS
                and not segment.text.endswith(_TERMINAL)):
            kind = "metadata"  # the value of a "Key:" line above it
        elif (position == 0 and not lone and kind in CONTENT_KINDS
              and len(segment.text.split()) <= TITLE_MAX_WORDS
              and not segment.text.endswith(_TERMINAL)):
            kind = "title"
        expects_value = wants_value
        if opens is not None:
            section = opens
        annotated.append(replace(segment, kind=kind, section=section))
    return annotated
