"""Generation backends behind one interface (:class:`Backend`): openai, local, template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import Backend, Completion

BACKENDS = ("template", "openai", "local")


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called ``name``; options that do not apply to it are ignored if None.

    The template backend reads ``template.yaml`` from ``prompts_dir`` when that folder has
    one (an older phrasings version, say), else the shipped phrasings."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "template":
        from skillmap.generation.backends.template_backend import TemplateBackend

        prompts_dir = options.get("prompts_dir")
        phrasings = Path(prompts_dir) / "template.yaml" if prompts_dir else None
        return TemplateBackend(language=options.get("language", "en"),
                               phrasings=phrasings if phrasings and phrasings.is_file() else None)
    if name == "openai":
        from skillmap.generation.backends.openai_backend import OpenAIBackend

        keep = ("model", "base_url", "api_key", "language", "concurrency", "timeout",
                "max_retries", "parse_retries", "temperature", "max_tokens", "json_mode")
        return OpenAIBackend(**{k: v for k, v in options.items() if k in keep})
    if name == "local":
        from skillmap.generation.backends.local_backend import LocalBackend

        keep = ("model", "language", "batch_size", "temperature", "max_new_tokens", "device",
                "allow_pickle")
        if "max_tokens" in options and "max_new_tokens" not in options:
            options["max_new_tokens"] = options["max_tokens"]
        return LocalBackend(**{k: v for k, v in options.items() if k in keep})
    raise SkillmapError(f"unknown LLM backend {name!r} (choose from {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "Backend", "Completion", "make_backend"]
