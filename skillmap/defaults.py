"""The embedded defaults: the files skillmap ships and where derived artefacts are cached.

With no ``--index``/``--taxonomy`` every command codes against the demo taxonomy in
``taxonomies/demo`` with the offline default encoder, so a first run needs no setup; the
prompt files (``prompts/``) and the app's sample ad (``data/sample_ad.txt``) ship the same
way. They live at the top of the project; a built wheel carries them inside the package
(setup.py maps them there) and :func:`shipped_path` finds them in either place.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from skillmap.errors import SkillmapError

PACKAGED_DATA = "_data"  # where a wheel carries the shipped files (setup.py)


def shipped_path(name: str) -> Path:
    """A file or folder that ships with skillmap, by its path in the project:
    ``taxonomies/demo``, ``prompts`` or ``data/sample_ad.txt``.

    Installed from a wheel, it is package data (``skillmap/_data/<name>``, found with
    importlib.resources; pip unpacks wheels, so it is a real path); in a source checkout or
    an editable install, the project's own copy beside the package. The path may not exist
    (an installation that lost it): callers say what is missing.
    """
    package = files("skillmap")
    packaged = package.joinpath(PACKAGED_DATA, *name.split("/"))
    if packaged.is_file() or packaged.is_dir():
        return Path(str(packaged))
    return Path(str(package)).parent.joinpath(*name.split("/"))


def demo_taxonomy_dir() -> Path:
    """The project-written demo taxonomy: the default for every command."""
    folder = shipped_path("taxonomies/demo")
    if not (folder / "skills.csv").is_file():
        raise SkillmapError("the embedded demo taxonomy is missing from this installation of "
                            "skillmap (reinstall it), or pass --index/--taxonomy")
    return folder


def cache_dir() -> Path:
    """Where skillmap caches derived artefacts (default index); ``SKILLMAP_CACHE`` overrides."""
    env = os.environ.get("SKILLMAP_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("skillmap"))
