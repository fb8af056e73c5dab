"""Is a generated sentence in the language that was asked for?

Small instruction models drift: asked for English, a model trained mostly on Chinese and code
sometimes answers in Chinese, or switches to German halfway through a German-sounding skill.
Two cheap signals catch that without a language-ID model:

* the *script*: a sentence for a Latin-script language should be written in Latin letters
  (and Greek, Cyrillic or CJK ones for languages written in those);
* the *function words*: among the languages spaCy ships stop-word lists for, the one whose
  stop words a sentence uses most (distinct words: "different different" is one). Content
  words (skill names, tools) are often English in any language, so only a clear majority of
  another language's function words counts.

Terse lines without function words ("Python, SQL, Docker") pass: there is nothing to judge.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# languages whose stop words are compared (spaCy module names)
_COMPARED = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "fi", "cs", "ro")
_SCRIPT_OF = {"el": "GREEK", "ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC",
              "sr": "CYRILLIC", "zh": "CJK", "ja": "CJK", "ko": "HANGUL", "ar": "ARABIC",
              "he": "HEBREW"}
MIN_SCRIPT_SHARE = 0.8
MIN_FUNCTION_WORDS = 3


def script_of(char: str) -> str:
    """The script of a letter as the first word of its Unicode name (LATIN, CJK, ...)."""
    name = unicodedata.name(char, "")
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "CJK"
    return name.split(" ", 1)[0] if name else ""


@lru_cache(maxsize=None)
def stop_words(code: str) -> frozenset[str]:
    """spaCy's stop-word list for a language code; empty when spaCy has none."""
    try:
        module = importlib.import_module(f"spacy.lang.{code}.stop_words")
    except ImportError:
        return frozenset()
    return frozenset(word.lower() for word in getattr(module, "STOP_WORDS", ()))


def wrong_language(text: str, expected: str) -> str | None:
    """Why ``text`` is not in language ``expected`` (an ISO code), or None when it may be."""
    code = expected.lower().split("-")[0].split("_")[0]
    letters = [c for c in text if c.isalpha()]
    if letters:
        want = _SCRIPT_OF.get(code, "LATIN")
        share = sum(script_of(c) == want for c in letters) / len(letters)
        if share < MIN_SCRIPT_SHARE:
            return f"not in {want.title()} script"
    if code not in _COMPARED or _SCRIPT_OF.get(code):
        return None
    tokens = {t.lower() for t in _WORD.findall(text) if len(t) > 1}  # distinct words
    hits = {lang: len(tokens & stop_words(lang)) for lang in _COMPARED}
    best = max(hits, key=lambda lang: hits[lang])
    if (best != code and hits[best] >= MIN_FUNCTION_WORDS
            and hits[best] >= 2 * max(hits[code], 1)):
        return f"reads as {best}"
    return None
