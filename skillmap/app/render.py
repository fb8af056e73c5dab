"""HTML and Markdown snippets for the single-ad view, with every user string escaped.

Ads come from anywhere (pasted web pages, uploaded files); nothing in them may become markup
on the page. :func:`highlighted_ad` escapes the ad's own text and only adds our spans;
:func:`md` escapes Markdown's special characters for text placed in ``st.markdown``.
"""

from __future__ import annotations

import html
import re

from skillmap.pipeline.results import AdResult
from skillmap.segmentation.text import clean_text

EVIDENCE_STYLE = "background:#fde68a;border-radius:3px;padding:0 2px"
SKILL_STYLE = "background:#fef3c7;border-radius:3px;padding:0 2px"
FILTERED_STYLE = "color:#9ca3af"
HEADING_STYLE = "font-weight:600"

LEGEND = (f'<span style="{EVIDENCE_STYLE}">evidence for an ad skill</span> · '
          f'<span style="{SKILL_STYLE}">other skill sentence</span> · '
          f'<span style="{FILTERED_STYLE}">filtered out (states no skill)</span>')

# inline Markdown only: our snippets never place user text at the start of a line, where
# "-", "+" or "1." would start a list
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|<>~$])")


def md(text: str) -> str:
    """``text`` with Markdown (and Streamlit's LaTeX ``$``) made literal."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def sentence_style(result: AdResult, index: int) -> str:
    """The CSS class of a sentence: evidence, skill, filtered, heading or plain ("")."""
    sentence = result.sentences[index]
    if sentence.kind == "heading":
        return "heading"
    if sentence.filtered:
        return "filtered"
    if any(m.evidence_index == index for m in result.skills):
        return "evidence"
    return "skill" if sentence.matches else ""


def highlighted_ad(text: str, result: AdResult) -> str:
    """The ad as HTML: original text and line breaks, sentences marked by their role.

    Sentence offsets index the *cleaned* ad (HTML tags and control characters removed, see
    :mod:`skillmap.segmentation.text`), so that is what is shown. Each marked sentence
    carries its best skills as a tooltip.
    """
    text = clean_text(text)
    styles = {"evidence": EVIDENCE_STYLE, "skill": SKILL_STYLE, "filtered": FILTERED_STYLE,
              "heading": HEADING_STYLE}
    parts, cursor = [], 0
    for sentence in result.sentences:
        if sentence.start < cursor or sentence.end > len(text):
            continue  # offsets not in this text (cannot happen for the text that was coded)
        parts.append(html.escape(text[cursor:sentence.start]))
        role = sentence_style(result, sentence.index)
        body = html.escape(text[sentence.start:sentence.end])
        if role:
            if sentence.filtered:
                tip = f"filtered: P(skill) = {sentence.filter_score:.2f}"
            else:
                tip = "; ".join(f"{m.skill_label} ({m.score:.2f})" for m in sentence.matches[:3])
            parts.append(f'<span class="sm-{role}" style="{styles[role]}" '
                         f'title="{html.escape(tip, quote=True)}">{body}</span>')
        else:
            parts.append(body)
        cursor = sentence.end
    parts.append(html.escape(text[cursor:]))
    return ('<div class="sm-ad" style="white-space:pre-wrap;line-height:1.6;font-size:0.95rem">'
            + "".join(parts) + "</div>")
