"""The embedded defaults: the demo taxonomy and where derived artefacts are cached.

With no ``--index``/``--taxonomy`` every command codes against the demo taxonomy in
``taxonomies/demo`` with the offline default encoder, so a first run needs no setup.
"""

from __future__ import annotations

import os
from pathlib import Path

from skillmap.errors import SkillmapError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def demo_taxonomy_dir() -> Path:
    """The project-written demo taxonomy (present in a source checkout / editable install)."""
    folder = PROJECT_ROOT / "taxonomies" / "demo"
    if not (folder / "skills.csv").is_file():
        raise SkillmapError("the embedded demo taxonomy was not found (install skillmap from "
                            "its source checkout with `pip install -e .`), or pass --index/"
                            "--taxonomy")
    return folder


def cache_dir() -> Path:
    """Where skillmap caches derived artefacts (default index); ``SKILLMAP_CACHE`` overrides."""
    env = os.environ.get("SKILLMAP_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("skillmap"))
