"""How a skill is turned into the text that gets embedded.

The template is part of an index's identity (stored in its metadata): the same model with a
different template gives different vectors, and a query must be compared with skills
embedded the same way. It lives with the taxonomy because both the encoder's trainer and
the index turn skills into text, and neither may depend on the other for it.
"""

from __future__ import annotations

from skillmap.taxonomy.model import Skill

DEFAULT_TEMPLATE = "{label}"
TEMPLATE_FIELDS = ("label", "description", "alt_labels", "skill_type")


def skill_text(skill: Skill, template: str = DEFAULT_TEMPLATE) -> str:
    """Fill ``template`` with a skill's fields; empty fields leave no stray punctuation."""
    text = template.format(label=skill.label, description=skill.description,
                           alt_labels=", ".join(skill.alt_labels), skill_type=skill.skill_type)
    return " ".join(text.split()).strip(" .,;:") or skill.label


def check_template(template: str) -> None:
    """Raise ValueError for a template naming unknown fields."""
    import string

    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown field {{{name}}} in skill text template; "
                             f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")
