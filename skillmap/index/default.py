"""The default index: demo taxonomy x default encoder, built on first use, then cached.

Building it takes a few seconds on a CPU; the cache key is the taxonomy fingerprint, the
model id and the template, so editing the demo taxonomy or switching model rebuilds it
instead of serving stale vectors. An unwritable cache only costs the rebuild.
"""

from __future__ import annotations

import hashlib
import logging

from skillmap.defaults import cache_dir, demo_taxonomy_dir
from skillmap.encoder import SkillEncoder
from skillmap.errors import SkillmapError
from skillmap.index.skill_index import SkillIndex
from skillmap.taxonomy import load_taxonomy
from skillmap.taxonomy.skill_text import DEFAULT_TEMPLATE

log = logging.getLogger(__name__)


def default_index(encoder: SkillEncoder | None = None,
                  text_template: str = DEFAULT_TEMPLATE) -> SkillIndex:
    """Load the cached default index, building and caching it if needed (with ``encoder``,
    or else the default encoder, loaded for this call)."""
    encoder = encoder or SkillEncoder()
    taxonomy = load_taxonomy(demo_taxonomy_dir())
    key = hashlib.sha256(f"{taxonomy.fingerprint}|{encoder.model_id}|{text_template}"
                         .encode()).hexdigest()[:16]
    folder = cache_dir() / "indexes" / f"demo-{key}"
    if (folder / "metadata.json").is_file():
        try:
            index = SkillIndex.load(folder)
            index.check_encoder(encoder)
            return index
        except SkillmapError as exc:
            log.warning("rebuilding cached default index: %s", exc)
    # skill vectors always come from the float model: an int8 variant codes ads well but
    # loses accuracy when it also embeds the labels (docs/benchmarks.md)
    builder = encoder if encoder.backend == "torch" else SkillEncoder(encoder.model_id)
    index = SkillIndex.build(taxonomy, builder, text_template=text_template)
    try:
        index.save(folder)
    except OSError as exc:
        log.warning("could not cache the default index in %s: %s", folder, exc)
    return index
