"""What the app can code against: the installed indexes, sentence filters and second opinions.

The app offers the embedded demo index plus every skillmap index it finds in the folders it
was started with (``skillmap app --index PATH``; each PATH is an index folder or a folder of
index folders; ``./indexes`` is searched by default) and opens on the first one given
(:func:`default_index_key`). ``skillmap app`` hands the list to the
Streamlit script through the environment (:data:`INDEX_PATHS_ENV`, :data:`FILTER_PATHS_ENV`),
which is also how tests configure it. Only folders holding a readable ``metadata.json`` are
listed; reading that file is all discovery does, so start-up stays fast however many
indexes there are. Second-opinion models (the "accurate" setting) are offered only when
present: EmbeddingGemma once ``skillmap encoder fetch embeddinggemma`` has put it in the
cache, and folders given with ``skillmap app --second-opinion FOLDER``
(:data:`SECOND_OPINION_PATHS_ENV`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from skillmap.errors import SkillmapError
from skillmap.index.skill_index import IndexMetadata

INDEX_PATHS_ENV = "SKILLMAP_APP_INDEXES"
DEFAULT_INDEX_ENV = "SKILLMAP_APP_DEFAULT_INDEX"   # the first --index: what the app opens on
FILTER_PATHS_ENV = "SKILLMAP_APP_FILTERS"
SECOND_OPINION_PATHS_ENV = "SKILLMAP_APP_SECOND_OPINIONS"
DEFAULT_INDEX_ROOTS = ("indexes",)

DEMO = "demo"            # choice key of the embedded default index
NO_FILTER = "none"
NO_SECOND_OPINION = "off"
HEURISTIC_FILTER = "keyword-length"


@dataclass(frozen=True)
class IndexChoice:
    """One index the user can pick: ``path`` None is the embedded demo index."""

    key: str
    label: str
    path: Path | None
    metadata: IndexMetadata | None = None


def _env_paths(name: str, defaults: tuple[str, ...] = ()) -> list[Path]:
    value = os.environ.get(name)
    parts = value.split(os.pathsep) if value else list(defaults)
    return [Path(p).expanduser() for p in parts if p.strip()]


def discover_indexes() -> list[IndexChoice]:
    """The demo index first, then every index found under the configured paths."""
    choices = [IndexChoice(DEMO, "Demo taxonomy (embedded, 189 skills)", None)]
    seen: set[Path] = set()
    for root in _env_paths(INDEX_PATHS_ENV, DEFAULT_INDEX_ROOTS):
        candidates = [root] if (root / "metadata.json").is_file() else \
            sorted(p for p in root.glob("*") if (p / "metadata.json").is_file()) \
            if root.is_dir() else []
        for folder in candidates:
            folder = folder.resolve()
            if folder in seen:
                continue
            seen.add(folder)
            try:
                meta = IndexMetadata.from_json(folder / "metadata.json")
            except SkillmapError:
                continue  # not ours or corrupt: loading it would fail with the same message
            # the folder first: a narrow sidebar cuts the end of the label
            label = (f"{folder.name} — {meta.taxonomy_name} {meta.taxonomy_version}".strip()
                     + f" ({meta.n_skills:,} skills)")
            choices.append(IndexChoice(str(folder), label, folder, meta))
    return choices


def default_index_key(choices: list[IndexChoice]) -> str:
    """The index the app opens on: the first ``--index`` given (an index folder, or the first
    index inside a folder of them), else the demo."""
    wanted = os.environ.get(DEFAULT_INDEX_ENV)
    if wanted:
        wanted_path = Path(wanted).expanduser().resolve()
        for choice in choices:
            if choice.path is not None and (choice.path == wanted_path
                                            or choice.path.parent == wanted_path):
                return choice.key
    return choices[0].key


def discover_filters() -> dict[str, str]:
    """Filter choices: key -> label. The shipped default (when there is one) comes first; a
    shipped filter that is not the default is offered second, after "off"."""
    from skillmap.filter import default_filter, shipped_filter

    choices: dict[str, str] = {}
    if default_filter() is not None:
        choices["default"] = "Default: reads the ad's sections (shipped)"
    choices[NO_FILTER] = "Off: every sentence searched alone"
    if default_filter() is None and shipped_filter() is not None:
        choices["shipped"] = "Trained filter (shipped, off by default)"
    if shipped_filter() is not None:
        choices["shipped-text"] = "Text classifier only (no sections)"
    choices[HEURISTIC_FILTER] = "Keyword/length heuristic"
    for path in _env_paths(FILTER_PATHS_ENV):
        if (path / "filter.json").is_file():
            choices[str(path.resolve())] = f"Trained filter — {path.name}"
    return choices


def discover_second_opinions() -> dict[str, str]:
    """Second-opinion choices: key (what ``ExtractorConfig.second_opinion`` takes, or
    :data:`NO_SECOND_OPINION`) -> label. Nothing is downloaded or assembled here: a packaged
    model is listed only when its finished folder is already in the cache."""
    from skillmap.encoder.packaged import EMBEDDINGGEMMA_300M, ready_folder

    choices = {NO_SECOND_OPINION: "Off (fast)"}
    if ready_folder(EMBEDDINGGEMMA_300M) is not None:
        choices[EMBEDDINGGEMMA_300M.aliases[0]] = "EmbeddingGemma-300M (accurate, much slower)"
    for path in _env_paths(SECOND_OPINION_PATHS_ENV):
        if (path / "modules.json").is_file():
            choices[str(path.resolve())] = f"{path.name} (accurate, slower)"
    return choices
