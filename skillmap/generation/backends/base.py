"""The interface every generation backend implements.

A backend turns ``(request, prompt template)`` jobs into :class:`Completion` objects and
yields them *as they finish* (``(job position, completion)``), so the runner can cache each
answer the moment it arrives: a run killed midway has paid for nothing it will pay for again.
Backends that call a model also define :meth:`Backend.cache_key`, the hash of everything that
determines the answer (backend, model, sampling parameters, rendered prompt, seed).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from skillmap.generation.prompts import PromptTemplate, language_name
from skillmap.generation.sampling import GenerationRequest
from skillmap.taxonomy import Taxonomy

Job = tuple[GenerationRequest, PromptTemplate]
AnswerHook = Callable[[int, "Completion"], None]  # see Backend.generate


@dataclass
class Completion:
    """What a backend returned for one request: sentences, or the reason there are none."""

    sentences: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {"sentences": self.sentences, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "attempts": self.attempts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Completion":
        return cls(sentences=list(data["sentences"]), prompt_tokens=data.get("prompt_tokens", 0),
                   completion_tokens=data.get("completion_tokens", 0),
                   attempts=data.get("attempts", 1))


def prompt_context(request: GenerationRequest, template: PromptTemplate,
                   language: str) -> dict[str, Any]:
    """The variables a prompt template is rendered with for one request."""
    skills = [{"label": s.label, "alt_labels": list(s.alt_labels[:5]),
               "description": s.description} for s in request.skills]
    style, implicit = template.variation(request.seed)
    return {
        "skills": skills,
        "skill": skills[0] if skills else None,
        "n": request.n,
        "language": language_name(language),
        "group_label": request.group.label if request.group else "",
        "category": request.category,
        "category_text": template.categories.get(request.category, request.category),
        "occupation_hint": "",
        "style": style,
        "style_text": template.styles.get(style, ""),
        "implicit": implicit,
    }


class Backend(ABC):
    """Writes sentences for generation requests."""

    #: backend name recorded on every corpus line (``openai``, ``local``, ``template``)
    name: str = ""
    #: whether answers are worth caching (a model call); the template backend is not
    cacheable: bool = True
    #: whether sentences are skill names filled into phrasings (the template backend): the
    #: quality check for a model handing the label back does not apply to them
    names_by_design: bool = False

    def __init__(self, language: str = "en"):
        self.language = language

    @property
    @abstractmethod
    def model(self) -> str:
        """The model recorded on every corpus line."""

    def provenance(self, template: PromptTemplate) -> tuple[str, int]:
        """The ``(template_id, template_version)`` recorded on the lines this backend writes."""
        return template.id, template.version

    def variation(self, request: GenerationRequest, template: PromptTemplate) -> tuple[str, bool]:
        """The ``(style, implicit)`` the prompt for ``request`` asked for, recorded on its
        corpus lines; ``("", False)`` where the backend does not render the template."""
        return template.variation(request.seed)

    def prepare(self, taxonomy: Taxonomy) -> None:
        """Learn what the backend needs from the taxonomy before a run (default: nothing)."""

    def cache_params(self) -> dict[str, Any]:
        """Sampling parameters that change the answer (part of the cache key)."""
        return {}

    def rendered_prompt(self, request: GenerationRequest, template: PromptTemplate) -> Any:
        """What is sent to the model for ``request`` (messages or a completion prompt)."""
        return template.messages(prompt_context(request, template, self.language))

    def cache_key(self, request: GenerationRequest, template: PromptTemplate) -> str:
        payload = {"backend": self.name, "model": self.model, "params": self.cache_params(),
                   "template": template.tag, "prompt": self.rendered_prompt(request, template),
                   "n": request.n, "seed": request.seed}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()

    @abstractmethod
    def generate(self, jobs: Sequence[Job], on_answer: AnswerHook | None = None
                 ) -> Iterator[tuple[int, Completion]]:
        """Yield ``(position in jobs, completion)`` for every job, in any order.

        ``on_answer(position, completion)``, if given, runs the moment each answer exists and
        before the backend starts another request: a backend that works ahead of its consumer
        (the threaded ``openai`` one) would otherwise have answers in hand that a kill loses
        and a rerun pays for again. The runner caches answers there."""

    def close(self) -> None:
        """Release clients, threads or model memory."""
