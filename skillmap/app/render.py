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
STRUCTURE_STYLE = "color:#6b7280;font-style:italic"

LEGEND = (f'<span style="{EVIDENCE_STYLE}">evidence for an ad skill</span> · '
          f'<span style="{SKILL_STYLE}">other skill sentence</span> · '
          f'<span style="{FILTERED_STYLE}">dropped by the filter (states no skill)</span> · '
          f'<span style="{STRUCTURE_STYLE}">title, metadata (not searched)</span>')

# inline Markdown only: our snippets never place user text at the start of a line, where
# "-", "+" or "1." would start a list
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|<>~$])")


def md(text: str) -> str:
    """``text`` with Markdown (and Streamlit's LaTeX ``$``) made literal."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def sentence_style(result: AdResult, index: int) -> str:
    """The CSS class of a sentence: evidence, skill, filtered, heading, structure (title,
    metadata, placeholder) or plain ("")."""
    sentence = result.sentences[index]
    if sentence.kind == "heading":
        return "heading"
    if not sentence.is_content:
        return "structure"
    if sentence.filtered or sentence.excluded:
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
              "heading": HEADING_STYLE, "structure": STRUCTURE_STYLE}
    parts, cursor = [], 0
    for sentence in result.sentences:
        if sentence.start < cursor or sentence.end > len(text):
            continue  # offsets not in this text (cannot happen for the text that was coded)
        parts.append(html.escape(text[cursor:sentence.start]))
        role = sentence_style(result, sentence.index)
        body = html.escape(text[sentence.start:sentence.end])
        if role:
            if not sentence.is_content:
                tip = f"{sentence.kind}" + (f" · {sentence.section}" if sentence.section else "")
            elif sentence.excluded:
                tip = "excluded by your exclusion list"
            elif sentence.filtered:
                tip = f"dropped by the filter: P(skill) = {sentence.filter_score:.2f}"
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


def ad_page(text: str, result: AdResult, title: str = "Job ad") -> str:
    """A standalone HTML page: the highlighted ad (hover a sentence for its skills) and the
    ad's skills with their evidence, for sharing outside the app."""
    rows = "".join(
        f"<tr><td>{m.rank}</td><td>{html.escape(m.skill_label)}</td><td>{m.score:.2f}</td>"
        f"<td>{html.escape(m.level1)}</td><td>{html.escape(m.evidence_sentence)}</td></tr>"
        for m in result.skills)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
            "padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:"
            "1px solid #e5e7eb;padding:4px 6px;text-align:left;vertical-align:top}</style>"
            f"</head><body><h1>{html.escape(title)}</h1>"
            f'<p style="font-size:0.85rem">{LEGEND}</p>{highlighted_ad(text, result)}'
            f"<h2>Skills ({len(result.skills)})</h2><table><tr><th>#</th><th>skill</th>"
            f"<th>score</th><th>group</th><th>evidence</th></tr>{rows}</table></body></html>\n")
