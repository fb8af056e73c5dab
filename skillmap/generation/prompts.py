"""Versioned prompt templates for synthetic data, one YAML file per generation mode.

A template renders one :class:`~skillmap.generation.sampling.GenerationRequest` in two forms:
*chat messages* (system, few-shot turns, user) for instruction-tuned models behind the
``openai`` backend or a local model with a chat template, and a *few-shot completion* prompt
for base models that only continue text. The template's ``id`` and ``version`` go on every
corpus line and into the LLM cache key, so a reworded prompt never reuses stale answers.
Rendering uses Jinja2, sandboxed and bounded in time and size (template files are data,
not code: :mod:`skillmap.generation.sandbox`).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skillmap.defaults import shipped_path
from skillmap.errors import SkillmapError
from skillmap.generation.sandbox import render

MODES = ("single", "constrained", "unconstrained", "negatives")
# ISO 639 code with optional region/script subtags: also keeps the file name inside the folder
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")



class CompletionForm(BaseModel):
    """How a base (non-chat) model is prompted: a header, rendered examples, an open query."""

    model_config = ConfigDict(extra="forbid")
    header: str
    example: str
    query: str


class PromptTemplate(BaseModel):
    """One prompt file (see ``prompts/README.md`` for the fields)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    version: int = Field(ge=1)
    mode: str
    system: str
    user: str
    examples: list[dict[str, Any]] = Field(min_length=1)
    completion: CompletionForm
    categories: dict[str, str] = Field(default_factory=dict)
    # the forms a sentence may take (requirement bullet, duty, terse list...): each request
    # gets one, drawn from its seed, so a corpus mixes registers the way real ads do
    styles: dict[str, str] = Field(default_factory=dict)
    # share of requests asked to describe the skill without the words of its names
    implicit_share: float = Field(default=0.0, ge=0.0, le=1.0)

    def variation(self, seed: int) -> tuple[str, bool]:
        """The ``(style, implicit)`` of the request with this seed; ``("", False)`` for a
        template without styles. A pure function of the seed, so a resumed run asks again
        exactly what it asked before."""
        style = list(self.styles)[seed % len(self.styles)] if self.styles else ""
        draw = int.from_bytes(hashlib.sha256(f"implicit|{seed}".encode()).digest()[:4], "big")
        implicit = draw % 1000 < round(self.implicit_share * 1000)
        return style, implicit

    @property
    def example_sentences(self) -> list[str]:
        """Every few-shot sentence, for the quality check that drops verbatim repeats."""
        return [s for example in self.examples for s in example["sentences"]]

    @property
    def tag(self) -> str:
        return f"{self.id}@v{self.version}"

    def messages(self, context: dict[str, Any]) -> list[dict[str, str]]:
        """Chat messages: system, one user/assistant turn per few-shot example, the request."""
        messages = [{"role": "system", "content": self.system.strip()}]
        for example in self.examples:
            shot = self._example_context(example, context)
            messages.append({"role": "user",
                             "content": render_template(self.user, shot, self.tag).strip()})
            messages.append({"role": "assistant",
                             "content": json.dumps({"sentences": example["sentences"]},
                                                   ensure_ascii=False)})
        messages.append({"role": "user",
                         "content": render_template(self.user, context, self.tag).strip()})
        return messages

    def completion_prompt(self, context: dict[str, Any]) -> str:
        """A few-shot continuation prompt; the model's next line is one sentence."""
        parts = [self.completion.header]
        for example in self.examples:
            shot = self._example_context(example, context)
            for sentence in example["sentences"]:
                parts.append(render_template(self.completion.example,
                                             {**shot, "sentence": sentence}, self.tag))
        parts.append(render_template(self.completion.query, context, self.tag))
        return "".join(parts)

    def _example_context(self, example: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        skills = [{"alt_labels": [], "description": "", **s} for s in example.get("skills", [])]
        category = example.get("category", "")
        style = example.get("style", "")
        return {**context, "skills": skills, "skill": skills[0] if skills else None,
                "n": len(example["sentences"]),
                "group_label": example.get("group_label", ""), "category": category,
                "category_text": self.categories.get(category, category),
                "style": style, "style_text": self.styles.get(style, style),
                "implicit": bool(example.get("implicit", False))}


def render_template(source: str, context: dict[str, Any], tag: str) -> str:
    """``source`` rendered with ``context`` in the bounded sandbox; one-line errors."""
    return render(source, context, tag)


def default_prompts_dir() -> Path:
    return shipped_path("prompts")


@lru_cache(maxsize=32)
def _load(path: Path, mtime: float) -> PromptTemplate:
    """A prompt file read as untrusted: regular, size-capped, YAML without aliases."""
    from skillmap.bounded import read_yaml

    data = read_yaml(path.parent, path.name, what="prompt template")
    try:
        return PromptTemplate.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SkillmapError(f"{path}: field {where}: {first['msg']}") from None


def load_prompt(mode: str, prompts_dir: str | Path | None = None,
                language: str = "en") -> PromptTemplate:
    """The template for ``mode``: ``<mode>.<language>.yaml`` if present, else ``<mode>.yaml``.

    The language-specific file lets a team write few-shot examples in the target language;
    without one, the English template is used and the language is passed to the model.
    """
    from skillmap.security import resolve_inside

    if mode not in MODES:
        raise SkillmapError(f"unknown generation mode {mode!r} (choose from {', '.join(MODES)})")
    if not _LANGUAGE_CODE.fullmatch(language or ""):
        raise SkillmapError(f"--language {language!r} is not a language code such as en, de "
                            "or pt-BR")
    folder = Path(prompts_dir) if prompts_dir else default_prompts_dir()
    for name in (f"{mode}.{language}.yaml", f"{mode}.yaml"):
        path = resolve_inside(folder, name, "prompt template")
        if path.is_file():
            template = _load(path.resolve(), path.stat().st_mtime)
            if template.mode != mode:
                raise SkillmapError(f"{path}: declares mode {template.mode!r}, expected {mode!r}")
            return template
    raise SkillmapError(f"no prompt template for mode {mode!r} in {folder} "
                        f"(expected {mode}.yaml)")


_LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish",
                   "it": "Italian", "nl": "Dutch", "pt": "Portuguese", "pl": "Polish",
                   "sv": "Swedish", "da": "Danish", "fi": "Finnish", "cs": "Czech",
                   "el": "Greek", "hu": "Hungarian", "ro": "Romanian"}


def language_name(code: str) -> str:
    """Spell out a language code for the prompt (models follow 'German' better than 'de')."""
    return _LANGUAGE_NAMES.get(code.lower(), code)
