"""The rerank stage in the pipeline (``ExtractorConfig.rerank``): it reorders each sentence's
candidates, the reported score stays the cosine, weight 0 changes nothing, and the default
(``auto``) reranks with a torch encoder and not with one that has no token embeddings."""

from __future__ import annotations

import pytest

from skillmap.errors import SkillmapError
from skillmap.pipeline import Extractor, ExtractorConfig

SENTENCES = ["You write Python and SQL to build data pipelines.",
             "Experience with Docker and Kubernetes in production is required.",
             "You care for elderly residents and keep their records."]


def _ranked(demo_index, encoder, **options):
    config = ExtractorConfig(sentence_filter=None, min_score=-1.0, top_k=5, **options)
    return Extractor.from_config(config, encoder=encoder, index=demo_index).rank_sentences(
        SENTENCES)


def test_reranking_reorders_the_candidates_and_reports_their_cosine(demo_index, encoder):
    plain = _ranked(demo_index, encoder, rerank=None)
    strong = _ranked(demo_index, encoder, rerank="late-interaction", rerank_weight=10.0,
                     rerank_candidates=50)
    assert [[h for h, _, _ in row] for row in strong] != [[h for h, _, _ in row] for row in plain]
    vectors = encoder.encode(SENTENCES)
    for vector, row in zip(vectors, strong):
        for hit, cosine, _ in row:  # the score is the cosine, whatever the order
            assert cosine == pytest.approx(float(demo_index.vector(hit) @ vector), abs=1e-4)
    top50 = demo_index.search(vectors, 50)[1]
    named = [set(demo_index.label_matcher.find(s)) for s in SENTENCES]
    for row, allowed, names in zip(strong, top50, named):
        assert {h for h, _, _ in row} <= set(allowed.tolist()) | names


def test_weight_zero_gives_the_order_without_reranking(demo_index, encoder):
    plain = _ranked(demo_index, encoder, rerank="none")
    zero = _ranked(demo_index, encoder, rerank="late-interaction", rerank_weight=0.0)
    assert [[h for h, _, _ in row] for row in zero] == [[h for h, _, _ in row] for row in plain]


def test_auto_reranks_a_torch_encoder_and_not_one_without_token_embeddings(demo_index,
                                                                           encoder):
    from skillmap.rerank.registry import resolve_reranker

    class PooledOnly:  # what an ONNX backend offers: pooled vectors, no token embeddings
        def encode(self, texts):
            return encoder.encode(texts)

    assert ExtractorConfig().rerank == "auto"
    default = Extractor.from_config(ExtractorConfig(sentence_filter=None), encoder=encoder,
                                    index=demo_index)
    assert default.reranker is not None
    assert resolve_reranker("auto", encoder) == "late-interaction"
    assert resolve_reranker("auto", PooledOnly()) is None
    assert resolve_reranker("late-interaction", PooledOnly()) == "late-interaction"
    for off in ("none", None):
        assert Extractor.from_config(ExtractorConfig(sentence_filter=None, rerank=off),
                                     encoder=encoder, index=demo_index).reranker is None


@pytest.mark.parametrize("changes, words", [({"rerank": "colbert"}, "rerank must be one of"),
                                            ({"rerank_candidates": 0}, "rerank candidates"),
                                            ({"rerank_temperature": 0.0}, "temperature")])
def test_bad_rerank_settings_are_one_line_errors(changes, words):
    with pytest.raises(SkillmapError) as error:
        ExtractorConfig(**changes)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_extract_reranks_from_the_command_line(capsys):
    import io

    import pandas as pd

    from conftest import REPO
    from helpers.cli import run

    # interleave: each sentence's best skills in turn, so a reordering within a sentence shows
    options = ("--aggregation", "interleave", "--no-filter", "--format", "csv")
    tables = {}
    for choice in ("late-interaction", "none"):
        code, out, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", "--rerank",
                             choice, *options)
        assert code == 0, err
        tables[choice] = pd.read_csv(io.StringIO(out))
        assert len(tables[choice]) == 10 and tables[choice]["score"].between(0, 1).all()
    assert not tables["none"].equals(tables["late-interaction"])
    code, out, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", *options)
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out)).equals(tables["late-interaction"])  # auto = on


def test_the_reranker_weight_is_taken_from_the_command_line(capsys):
    import io

    import pandas as pd

    from conftest import REPO
    from helpers.cli import run

    options = ("--aggregation", "interleave", "--no-filter", "--format", "csv")
    tables = {}
    for name, extra in (("none", ("--rerank", "none")), ("zero", ("--rerank-weight", "0")),
                        ("heavy", ("--rerank-weight", "5"))):
        code, out, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", *extra,
                             *options)
        assert code == 0, err
        tables[name] = pd.read_csv(io.StringIO(out))
    assert tables["zero"].equals(tables["none"])  # weight 0: the reranker changes nothing
    assert not tables["heavy"].equals(tables["none"])
    code, _, err = run(capsys, "extract", REPO / "data" / "sample_ad.txt", "--rerank-weight",
                       "-1", *options)
    assert code == 2 and "--rerank-weight" in err


def test_the_shared_forward_pass_gives_the_encoders_own_vectors(demo_index, encoder):
    """Extraction takes the pooled vectors and the reranker's tokens from one forward pass;
    the vectors must be the ones the index was built to be searched with."""
    import numpy as np

    config = ExtractorConfig(sentence_filter=None, rerank="late-interaction")
    extractor = Extractor.from_config(config, encoder=encoder, index=demo_index)
    vectors, tokens = extractor.reranker.encode(SENTENCES)
    assert np.allclose(vectors, encoder.encode(SENTENCES), atol=1e-4)
    assert len(tokens) == len(SENTENCES)
    result = extractor.extract(" ".join(SENTENCES))
    assert [m.skill_id for m in result.skills] and all(0 <= m.score <= 1 for m in result.skills)


def test_tokenizing_uses_the_librarys_current_call(demo_index, encoder, monkeypatch):
    """sentence-transformers 6 deprecates ``tokenize`` (a warning on stderr for every user
    of the default pipeline); where ``preprocess`` exists, it is the one called."""
    import numpy as np

    config = ExtractorConfig(sentence_filter=None, rerank="late-interaction")
    extractor = Extractor.from_config(config, encoder=encoder, index=demo_index)
    model = extractor.reranker.model
    if not hasattr(model, "preprocess"):
        pytest.skip("this sentence-transformers has no preprocess(): tokenize is current")

    def deprecated(*args, **kwargs):
        raise AssertionError("called the deprecated tokenize()")

    monkeypatch.setattr(model, "tokenize", deprecated)
    vectors, _ = extractor.reranker.encode(SENTENCES)
    assert np.allclose(vectors, encoder.encode(SENTENCES), atol=1e-4)
