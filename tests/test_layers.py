"""Stages import only downward (issue 23, fault 3).

:data:`LAYERS` is the order of skillmap's stage packages, lowest first: a module may refer to
its own stage and to stages *before* it in the list, never to a later one, and no two stages
may reach each other. Every reference counts, lazy ones (inside a function) and module names
written as strings included, because a lazy import is still a dependency: it only fails later.
The graph is measured from the source by :mod:`tests.helpers.layers`; ``python -m
tests.helpers.layers`` (from the repository root) prints it.
"""

from __future__ import annotations

import textwrap

from helpers.layers import PACKAGE_DIR, mutual_pairs, stage_graph

LAYERS = [
    # foundations: no knowledge of skills or models
    "errors", "version", "security", "bounded", "io", "defaults", "choices",
    # data: what skills, ads and training corpora are
    "taxonomy", "segmentation", "corpus",
    # writing training data
    "generation",
    # models and the pipeline, each on the ones before it
    "encoder", "index", "rerank", "filter", "pipeline",
    # measuring the pipeline
    "evaluation",
    # surfaces
    "batch", "app", "commands", "cli",
    # the package facade (``from skillmap import Extractor``)
    "skillmap",
]


def test_every_stage_has_a_place_in_the_layer_order():
    stages = set(stage_graph())
    assert stages - set(LAYERS) == set(), "add the new stage to LAYERS, below what uses it"
    assert set(LAYERS) - stages == set(), "remove the stage that no longer exists from LAYERS"
    assert len(LAYERS) == len(set(LAYERS))


def test_no_stage_imports_a_later_stage():
    graph = stage_graph()
    upward = [f"{edge.source}:{edge.line} -> {edge.target}" + (" (lazy)" if edge.lazy else "")
              for stage, targets in graph.items() for target, edges in targets.items()
              if LAYERS.index(target) > LAYERS.index(stage) for edge in edges]
    assert upward == []


def test_no_two_stages_reach_each_other():
    assert mutual_pairs(stage_graph()) == []


def test_the_graph_sees_lazy_and_string_imports(tmp_path):
    """The rule is only as good as the measurement: a reference hidden in a function, in a
    ``TYPE_CHECKING`` block or in a string passed to ``import_module`` is an edge too."""
    package = tmp_path / "skillmap"
    for stage in ("low", "high", "other", "named"):
        (package / stage).mkdir(parents=True)
        (package / stage / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "low" / "mod.py").write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from skillmap.other import thing

        def later():
            from skillmap.high import x
            import importlib
            return importlib.import_module("skillmap.named.mod")
    """))
    (package / "high" / "mod.py").write_text("from ..low import mod\n")
    graph = stage_graph(package)
    assert set(graph["low"]) == {"high", "other", "named"}
    assert [edge.lazy for edge in graph["low"]["high"]] == [True]
    assert set(graph["high"]) == {"low"}  # a relative import resolves to its stage
    assert mutual_pairs(graph) == [("high", "low")]


def test_the_measured_package_is_this_checkout():
    assert (PACKAGE_DIR / "pipeline" / "extractor.py").is_file()
