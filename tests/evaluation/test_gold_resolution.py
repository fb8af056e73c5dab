"""Gold labels of another taxonomy release (``--near-labels``): each near rule resolves what
it should, refuses what names more than one skill, and never changes a strict resolution."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from skillmap.cli import main
from skillmap.evaluation.benchmarks import LabelResolver, read_skill_extraction_csv
from skillmap.taxonomy.model import Skill, Taxonomy, TaxonomyMetadata

SKILLS = [
    Skill("s-innov", "think innovatively"),
    Skill("s-staff", "manage staff",
          alt_labels=("manage subordinates",
                      "supervise personnel manage team manage personnel supervise staff")),
    Skill("s-soa", "service-oriented modelling", alt_labels=("SaaS",)),
    Skill("s-agenda", "manage personnel agenda"),
    Skill("s-a", "plan events", alt_labels=("organise meetings and parties",)),
    Skill("s-b", "host events", alt_labels=("organise meetings and conferences",)),
    Skill("s-java", "Java (computer programming)"),
    Skill("s-js", "JavaScript"),
]


def taxonomy() -> Taxonomy:
    return Taxonomy(TaxonomyMetadata("test"), list(SKILLS), [])


def test_each_near_rule_resolves_a_label_of_another_release():
    resolver = LabelResolver(taxonomy(), near=True)
    # a spelling corrected between releases
    assert resolver.resolve("think innovately") == "s-innov"
    # a label ESCO joined with others into one alternative-label line (not "manage personnel
    # agenda", whose preferred label only starts with it)
    assert resolver.resolve("manage personnel") == "s-staff"
    # a renamed skill with its other name in brackets
    assert resolver.resolve("SaaS (service-oriented modelling)") == "s-soa"
    assert resolver.near_resolved == {"think innovately": "s-innov",
                                      "manage personnel": "s-staff",
                                      "SaaS (service-oriented modelling)": "s-soa"}


def test_near_rules_refuse_what_names_more_than_one_skill():
    resolver = LabelResolver(taxonomy(), near=True)
    assert resolver.resolve("organise meetings") is None          # inside two skills' lines
    assert resolver.resolve("JavaScript (Java (computer programming))") is None  # two skills
    assert resolver.resolve("team") is None                       # one word: too weak a clue
    assert resolver.resolve("cook pasta like a pro") is None
    assert resolver.near_resolved == {}


def test_strict_by_default():
    resolver = LabelResolver(taxonomy())
    for label in ("think innovately", "manage personnel", "SaaS (service-oriented modelling)"):
        assert resolver.resolve(label) is None
    assert resolver.near_resolved == {}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([s.label for s in SKILLS] + [a for s in SKILLS for a in s.alt_labels]
                       + [s.id for s in SKILLS]) | st.text(max_size=40))
def test_near_never_changes_a_strict_resolution(label):
    strict, near = LabelResolver(taxonomy()), LabelResolver(taxonomy(), near=True)
    found = strict.resolve(label)
    if found is not None:
        assert near.resolve(label) == found and near.near_resolved == {}
    else:  # a near resolution is reported, and names a skill of the taxonomy
        resolved = near.resolve(label)
        assert (resolved is None) == (label.strip() not in near.near_resolved)
        assert resolved is None or resolved in {s.id for s in SKILLS}


def test_cli_reports_each_label_resolved_near(tmp_path, capsys, demo_taxonomy):
    label = next(s.label for s in demo_taxonomy.skills if len(s.label) >= 12)
    slip = label[:-2] + label[-1]            # one letter dropped
    bench = tmp_path / "bench.csv"
    bench.write_text(f"sentence,span,sub_span,label\nSome sentence.,x,,{slip}\n", encoding="utf-8")
    assert read_skill_extraction_csv(bench, demo_taxonomy).unresolved == 1
    near = read_skill_extraction_csv(bench, demo_taxonomy, near=True)
    assert near.unresolved == 0 and near.near_resolved == {slip: label}
    assert main(["eval", "--benchmark", str(bench), "--near-labels"]) == 0
    assert f"gold label {slip!r} resolved by --near-labels to {label!r}" in capsys.readouterr().out
    assert main(["eval", "--benchmark", str(bench), "--near-labels", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unresolved"] == 0 and report["near_resolved"] == {slip: label}
    assert main(["eval", "--benchmark", str(bench), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unresolved"] == 1
