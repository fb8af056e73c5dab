"""Generation backends behind one interface (:class:`Backend`), by name: template, openai, local.

:data:`LLM_BACKENDS` is the one list of them: :func:`make_backend` builds through it and
``skillmap generate corpus --llm`` offers its keys.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import Backend, Completion


def _settings_for(cls: type, options: dict) -> dict:
    """The options ``cls`` takes: each backend ignores the others' settings."""
    parameters = inspect.signature(cls).parameters
    return {name: value for name, value in options.items() if name in parameters}


def _template(prompts_dir=None, language: str = "en", **_other) -> Backend:
    """Offline phrasings; ``template.yaml`` from ``prompts_dir`` when that folder has one (an
    older phrasings version, say), else the shipped phrasings."""
    from skillmap.generation.backends.template_backend import TemplateBackend

    phrasings = Path(prompts_dir) / "template.yaml" if prompts_dir else None
    return TemplateBackend(language=language,
                           phrasings=phrasings if phrasings and phrasings.is_file() else None)


def _openai(**options) -> Backend:
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(**_settings_for(OpenAIBackend, options))


def _local(**options) -> Backend:
    from skillmap.generation.backends.local_backend import LocalBackend

    if "max_tokens" in options:  # the CLI's one --max-tokens
        options.setdefault("max_new_tokens", options["max_tokens"])
    return LocalBackend(**_settings_for(LocalBackend, options))


LLM_BACKENDS: dict[str, Callable[..., Backend]] = {
    "template": _template,
    "openai": _openai,
    "local": _local,
}


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called ``name``; options that do not apply to it are ignored, and so are
    options given as None (the backend's default applies)."""
    if name not in LLM_BACKENDS:
        raise SkillmapError(f"unknown LLM backend {name!r} (choose from "
                            f"{', '.join(LLM_BACKENDS)})")
    return LLM_BACKENDS[name](**{k: v for k, v in options.items() if v is not None})


__all__ = ["LLM_BACKENDS", "Backend", "Completion", "make_backend"]
