"""Named bundles of extractor settings: ``fast`` (the default) and ``accurate``.

Some settings only work together: the second opinion's share of the candidates' order and
the reranker's share were tuned as a pair, and neither is a number an analyst should have
to know. A preset names such a bundle, so that ``--preset accurate`` (or the app's choice)
gives the measured combination. Settings given explicitly still win over the preset's: a
preset fills in only what the user left unset.

Presets live in :data:`PRESETS`, a registry like the encoder, filter and reranker ones;
each is a plain mapping of :class:`~skillmap.pipeline.config.ExtractorConfig` fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

from skillmap.errors import SkillmapError

DEFAULT_PRESET = "fast"


@dataclass(frozen=True)
class Preset:
    """A named set of :class:`~skillmap.pipeline.config.ExtractorConfig` field values."""

    name: str
    summary: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        from skillmap.pipeline.config import ExtractorConfig

        known = {f.name for f in fields(ExtractorConfig)}
        unknown = sorted(set(self.settings) - known)
        if unknown:
            raise SkillmapError(f"preset {self.name!r} sets unknown extractor settings: "
                                f"{', '.join(unknown)}")
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def fill(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` (extractor settings by field name) with this preset's value for each
        setting that is absent, or None where any preset sets it (an option the user left
        unset)."""
        merged = {name: value for name, value in options.items()
                  if not (value is None and name in PRESET_FIELDS)}
        for name, value in self.settings.items():
            merged.setdefault(name, value)
        return merged


PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    PRESETS[preset.name] = preset
    PRESET_FIELDS.update(preset.settings)
    return preset


#: every field some preset sets: for these, None from a caller means "unset"
PRESET_FIELDS: set[str] = set()

FAST = register_preset(Preset(
    "fast", "the default pipeline: the index's encoder alone, its candidates reordered by "
            "token-level matching and by the words they share with the skills' names"))

# The second opinion's share and the reranker's share were chosen together on the ESCO
# HOUSE validation sentences and checked on TECH, which was not used to choose them
# (docs/benchmarks.md §13.7-§13.8).
ACCURATE = register_preset(Preset(
    "accurate", "EmbeddingGemma-300M also scores each sentence's candidates (get it once "
                "with `skillmap encoder fetch embeddinggemma`); several times slower",
    {"second_opinion": "embeddinggemma", "second_opinion_weight": 0.55, "rerank_weight": 0.4}))


def get_preset(name: str) -> Preset:
    """The registered preset called ``name``, or a one-line error listing them."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SkillmapError(f"unknown preset {name!r}: choose one of "
                            f"{', '.join(PRESETS)}") from None
