"""Synthetic data stage: prompts, sampling, template backend, quality checks, corpus, stats."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from helpers.hostile import REPLACEMENTS, SECRET, replace
from skillmap.errors import InputError, SkillmapError
from skillmap.generation import (CorpusRecord, CorpusWriter, QualityRules, ResponseCache,
                                 generate_corpus, load_prompt, make_backend, plan_requests,
                                 read_corpus)
from skillmap.generation.backends.base import Completion, prompt_context
from skillmap.generation.parsing import ParseError, parse_sentences
from skillmap.generation.sampling import derive_seed, sample_level2_groups
from skillmap.taxonomy import Skill, Taxonomy, TaxonomyMetadata
from skillmap.evaluation.corpus_stats import corpus_stats, distinct_n, self_similarity

ALL_MODES = ["single", "constrained", "unconstrained", "negatives"]


# --------------------------------------------------------------------------- prompts
@pytest.mark.parametrize("mode", ALL_MODES)
def test_every_mode_has_a_versioned_prompt_with_few_shot_examples(mode, demo_taxonomy):
    template = load_prompt(mode)
    assert template.mode == mode and template.version >= 1 and template.examples
    request = plan_requests(demo_taxonomy, [mode], per_skill=1,
                            negative_categories=list(load_prompt("negatives").categories),
                            negatives=5).requests[0]
    messages = template.messages(prompt_context(request, template, "de"))
    assert [m["role"] for m in messages[:3]] == ["system", "user", "assistant"]
    asked = messages[-1]["content"]
    assert "German" in asked and "JSON" in asked
    implicit = template.variation(request.seed)[1]
    for skill in request.skills:  # an implicit request gives the definition instead
        assert (skill.description if implicit else skill.label) in asked
    completion = template.completion_prompt(prompt_context(request, template, "en"))
    assert completion.rstrip().endswith("Sentence:")
    assert template.examples[0]["sentences"][0] in completion


def test_a_language_specific_prompt_file_wins(tmp_path):
    for mode in ALL_MODES:
        shutil.copy(REPO / "prompts" / f"{mode}.yaml", tmp_path)
    german = re.sub(r"(?m)^version: \d+$", "version: 7", (tmp_path / "single.yaml").read_text())
    (tmp_path / "single.de.yaml").write_text(german)
    assert load_prompt("single", tmp_path, "de").version == 7
    assert load_prompt("single", tmp_path, "en").version == load_prompt("single").version


def test_a_broken_prompt_file_is_a_clear_error(tmp_path):
    (tmp_path / "single.yaml").write_text("id: single\nversion: 0\nmode: single\n")
    with pytest.raises(SkillmapError, match="single.yaml: field version"):
        load_prompt("single", tmp_path)
    with pytest.raises(SkillmapError, match="no prompt template"):
        load_prompt("constrained", tmp_path)


# --------------------------------------------------------------------------- sampling
def test_single_mode_asks_per_skill_sentences_for_every_skill(demo_taxonomy):
    plan = plan_requests(demo_taxonomy, ["single"], per_skill=3)
    assert len(plan.requests) == len(demo_taxonomy)
    assert {r.skills[0].id for r in plan.requests} == {s.id for s in demo_taxonomy.skills}
    assert all(r.n == 3 for r in plan.requests)


def test_constrained_combinations_stay_inside_one_level2_group(demo_taxonomy):
    plan = plan_requests(demo_taxonomy, ["constrained"], per_skill=2, seed=5)
    appearances = Counter()
    for request in plan.requests:
        assert 2 <= len(request.skills) <= 5 and len(set(request.skill_ids)) == len(request.skills)
        groups = {demo_taxonomy.level2(s.id).id for s in request.skills}
        assert groups == {request.group.id}
        appearances.update(request.skill_ids)
    coverable = [s for s in demo_taxonomy.skills if demo_taxonomy.level2(s.id)]
    assert all(appearances[s.id] >= 2 for s in coverable)  # the tail is covered too


def test_constrained_plan_takes_the_groups_in_turn_with_ids_numbered_group_by_group(
        demo_taxonomy):
    """A partial run covers every group; ids and seeds stay those of the group-by-group plan,
    so a corpus and answer cache written before the order changed still match."""
    plan = plan_requests(demo_taxonomy, ["constrained"], per_skill=2, seed=5)
    groups = {r.group.id for r in plan.requests}
    assert len(groups) > 1
    assert {r.group.id for r in plan.requests[:len(groups)]} == groups
    by_id = sorted(plan.requests, key=lambda r: r.index)
    assert [r.index for r in by_id] == list(range(len(by_id)))
    in_id_order = [r.group.id for r in by_id]
    assert in_id_order == sorted(in_id_order)  # numbered group by group, groups in id order
    assert all(r.seed == derive_seed(5, "constrained", r.index) for r in plan.requests)


def test_single_plan_takes_broadly_reused_skills_first_with_ids_in_taxonomy_order():
    """A partial run covers transversal and cross-sector skills first; ids and seeds stay those
    of the taxonomy-order plan, so a corpus and answer cache written before still match."""
    levels = ["occupation-specific", "", "transversal", "sector-specific", "cross-sector",
              "transversal", "Cross-Sector", "unknown level"]
    skills = [Skill(f"s{i}", f"skill {i}", reuse_level=level) for i, level in enumerate(levels)]
    plan = plan_requests(Taxonomy(TaxonomyMetadata("t"), skills, []), ["single"], per_skill=12)
    order = [r.skills[0].id for r in plan.requests]
    assert order == ["s2", "s2", "s5", "s5", "s4", "s4", "s6", "s6", "s3", "s3",
                     "s0", "s0", "s1", "s1", "s7", "s7"]  # 12 sentences: two requests a skill
    assert sorted(r.index for r in plan.requests) == list(range(16))
    assert [r.index for r in plan.requests if r.skills[0].id == "s0"] == [0, 1]
    assert all(r.seed == derive_seed(0, "single", r.skills[0].id, r.index % 2)
               for r in plan.requests)
    no_levels = Taxonomy(TaxonomyMetadata("t"), [Skill(s.id, s.label) for s in skills], [])
    assert [r.skills[0].id for r in plan_requests(no_levels, ["single"]).requests] == [
        s.id for s in skills]


def test_reuse_levels_restrict_the_pool_of_every_mode_and_unknown_levels_are_named():
    levels = ["transversal", "cross-sector", "sector-specific", "", " Cross-Sector ",
              "occupation-specific"] * 3
    skills = [Skill(f"s{i}", f"skill {i}", reuse_level=level) for i, level in enumerate(levels)]
    tax = Taxonomy(TaxonomyMetadata("t"), skills, [])
    broad = {s.id for s in skills if s.reuse_level.strip().lower() in {"transversal",
                                                                      "cross-sector"}}
    plan = plan_requests(tax, ["single", "unconstrained"], per_skill=2, seed=3,
                         reuse_levels=["Transversal", "cross-sector"])
    single = [r for r in plan.requests if r.mode == "single"]
    combined = [r for r in plan.requests if r.mode == "unconstrained"]
    assert {r.skills[0].id for r in single} == broad
    drawn = Counter(s.id for r in combined for s in r.skills)
    assert set(drawn) == broad and min(drawn.values()) == 2  # each in per_skill sentences
    with pytest.raises(SkillmapError, match=r"--reuse-level regional: no skill has it "
                                            r"\(levels here: cross-sector, "):
        plan_requests(tax, ["single"], reuse_levels=["regional"])
    no_levels = Taxonomy(TaxonomyMetadata("t"), [Skill("a", "a"), Skill("b", "b")], [])
    with pytest.raises(SkillmapError, match="records no reuse levels"):
        plan_requests(no_levels, ["single"], reuse_levels=["transversal"])


def test_unconstrained_combinations_cross_groups_with_the_same_coverage(demo_taxonomy):
    constrained = plan_requests(demo_taxonomy, ["constrained"], per_skill=2, seed=5)
    unconstrained = plan_requests(demo_taxonomy, ["unconstrained"], per_skill=2, seed=5)
    crossing = sum(1 for r in unconstrained.requests
                   if len({demo_taxonomy.level2(s.id).id for s in r.skills}) > 1)
    assert crossing > 0.8 * len(unconstrained.requests)
    assert abs(len(constrained.requests) - len(unconstrained.requests)) < 0.15 * len(
        constrained.requests)
    assert all(r.group is None for r in unconstrained.requests)


def test_plans_are_seeded_and_limits_and_group_samples_apply(demo_taxonomy):
    a = plan_requests(demo_taxonomy, ["constrained"], seed=1)
    b = plan_requests(demo_taxonomy, ["constrained"], seed=1)
    c = plan_requests(demo_taxonomy, ["constrained"], seed=2)
    assert [r.skill_ids for r in a.requests] == [r.skill_ids for r in b.requests]
    assert [r.skill_ids for r in a.requests] != [r.skill_ids for r in c.requests]
    assert len(plan_requests(demo_taxonomy, ["single"], limit=7).requests) == 7
    groups = sample_level2_groups(demo_taxonomy, 3, seed=0)
    plan = plan_requests(demo_taxonomy, ["single", "constrained"], groups=groups)
    wanted = {g.id for g in groups}
    assert {demo_taxonomy.level2(s.id).id for r in plan.requests for s in r.skills} == wanted
    with pytest.raises(SkillmapError, match="Level-2 groups"):
        sample_level2_groups(demo_taxonomy, 500, seed=0)


def test_negatives_cycle_through_the_kinds_of_skill_free_text(demo_taxonomy):
    categories = list(load_prompt("negatives").categories)
    wanted = 5 * len(categories) + 3  # every kind at least once, the last request smaller
    requests = plan_requests(demo_taxonomy, ["negatives"], negatives=wanted,
                             negative_categories=categories).requests
    assert sum(r.n for r in requests) == wanted
    assert {r.category for r in requests} == set(categories)
    assert all(r.skills == () for r in requests)


# --------------------------------------------------------------------------- template
def test_template_corpus_is_deterministic_covers_every_skill_and_says_what_it_is(
        tmp_path, demo_taxonomy):
    backend = make_backend("template")
    report = generate_corpus(demo_taxonomy, backend, tmp_path / "a.jsonl", modes=ALL_MODES,
                             per_skill=3, negatives=40, seed=3)
    generate_corpus(demo_taxonomy, backend, tmp_path / "b.jsonl", modes=ALL_MODES,
                    per_skill=3, negatives=40, seed=3)
    generate_corpus(demo_taxonomy, backend, tmp_path / "c.jsonl", modes=ALL_MODES,
                    per_skill=3, negatives=40, seed=4)
    a = (tmp_path / "a.jsonl").read_text()
    assert a == (tmp_path / "b.jsonl").read_text()
    assert a != (tmp_path / "c.jsonl").read_text()
    records = list(read_corpus(tmp_path / "a.jsonl"))
    assert {r.backend for r in records} == {"template"}
    assert records[0].model.startswith("template-phrasings@v")
    single = Counter(r.skill_ids[0] for r in records if r.mode == "single")
    assert set(single) == {s.id for s in demo_taxonomy.skills}
    assert min(single.values()) >= 2  # 3 asked; a duplicate phrasing is dropped, not repeated
    negatives = [r for r in records if r.mode == "negatives"]
    assert negatives and all(r.skill_ids == [] and r.category for r in negatives)
    constrained = [r for r in records if r.mode == "constrained"]
    assert all(r.group for r in constrained)
    assert report.written == len(records)
    assert len({r.text.lower() for r in records}) == len(records)


def test_template_backend_writes_noun_combinations_as_bare_lists_too(tmp_path, demo_taxonomy):
    """Tech ads list their stack ("java reactjs sql"); the corpus must show that form, and a
    phrasings file without the optional `terse` section must still work (and write none)."""
    from skillmap.generation.backends.template_backend import TemplateBackend
    from skillmap.generation.sampling import GenerationRequest

    knowledge = tuple(s for s in demo_taxonomy.skills if s.skill_type == "knowledge")[:3]
    request = GenerationRequest(mode="constrained", index=0, skills=knowledge, n=40, seed=1)
    backend = make_backend("template")
    backend.prepare(demo_taxonomy)
    sentences = backend.sentences(request)
    prose = [s for s in sentences if " and " in s]
    bare = [s for s in sentences if " and " not in s]
    assert prose and bare
    assert any(s == s.lower() for s in bare)  # lower-cased, as stacks are often written

    phrasings = dict(backend.phrasings)
    del phrasings["terse"]
    older = tmp_path / "template.yaml"
    older.write_text(yaml.safe_dump(phrasings), encoding="utf-8")
    without = TemplateBackend(phrasings=older)
    without.prepare(demo_taxonomy)
    assert all(" and " in s for s in without.sentences(request))

    phrasings["terse"] = {"share": 0.5}  # a user's file with half a section: a clear error
    older.write_text(yaml.safe_dump(phrasings), encoding="utf-8")
    with pytest.raises(SkillmapError, match="section 'terse' needs lowercase, tag_style"):
        TemplateBackend(phrasings=older)


def test_template_skill_sentences_draw_other_slots_from_the_fillers(tmp_path, demo_taxonomy):
    """A skill sentence may name a company ("At {company} you will {v}."), so names do not
    mark negatives only; a slot with no fillers is a one-line error naming it."""
    from skillmap.generation.backends.template_backend import TemplateBackend
    from skillmap.generation.sampling import GenerationRequest

    phrasings = dict(make_backend("template").phrasings)
    phrasings["verb"] = ["At {company} you will {v}."]
    phrasings["noun"] = ["At {company} we use {k}."]
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(phrasings), encoding="utf-8")
    backend = TemplateBackend(phrasings=path)
    backend.prepare(demo_taxonomy)
    skill = demo_taxonomy.skills[0]
    sentences = backend.sentences(GenerationRequest("single", 0, (skill,), n=10, seed=2))
    companies = {c for c in phrasings["fillers"]["company"] if any(c in s for s in sentences)}
    assert len(companies) >= 2  # drawn per sentence, not fixed
    assert all(s.startswith("At ") and "{" not in s for s in sentences)

    phrasings["verb"] = phrasings["noun"] = ["At {employer} you will {v}."]
    path.write_text(yaml.safe_dump(phrasings), encoding="utf-8")
    backend = TemplateBackend(phrasings=path)
    backend.prepare(demo_taxonomy)
    with pytest.raises(SkillmapError, match="no fillers for slot 'employer'"):
        backend.sentences(GenerationRequest("single", 0, (skill,), n=1, seed=2))


def test_template_backend_reads_the_phrasings_of_a_prompts_folder(tmp_path):
    """`--prompts DIR` reproduces a corpus written with an older phrasings version."""
    folder = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", folder)
    phrasings = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    phrasings["version"] = 99
    (folder / "template.yaml").write_text(yaml.safe_dump(phrasings), encoding="utf-8")
    assert make_backend("template", prompts_dir=folder).model == "template-phrasings@v99"
    shipped = make_backend("template").model
    assert shipped != "template-phrasings@v99"
    (folder / "template.yaml").unlink()  # a folder of LLM prompts only: the shipped phrasings
    assert make_backend("template", prompts_dir=folder).model == shipped


def test_template_backend_refuses_languages_it_has_no_phrasings_for():
    with pytest.raises(SkillmapError, match="only has English"):
        make_backend("template", language="de")


# --------------------------------------------------------------------------- quality
@pytest.mark.parametrize("sentence, reason", [
    ("", "empty"),
    ("Python.", "too short"),
    ("word " * 70, "too long"),
    ("I'm sorry, but I cannot write job advertisements.", "refusal or meta text"),
    ("Write, test and maintain software in the Python programming language daily.",
     "copies the definition"),
])
def test_quality_rules_reject_bad_sentences(sentence, reason, demo_taxonomy):
    python = demo_taxonomy.skill("python-programming")
    assert QualityRules().check(sentence, [python]) == reason


def test_quality_rules_keep_a_real_ad_sentence(demo_taxonomy):
    python = demo_taxonomy.skill("python-programming")
    assert QualityRules().check("You will build our data pipelines in Python and review "
                                "pull requests from the team.", [python]) is None


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("answer", [
    '{"sentences": ["a b c d", "e f g h"]}',
    '```json\n{"sentences": ["a b c d", "e f g h"]}\n```',
    'Here you go: {"sentences": ["a b c d", "e f g h"]} Hope it helps!',
    '["a b c d", "e f g h"]',
])
def test_json_answers_are_recovered_from_common_wrappings(answer):
    assert parse_sentences(answer) == ["a b c d", "e f g h"]


@pytest.mark.parametrize("answer", ['{"sentences": ["a b c', "no json at all", "",
                                    '{"sentences": "not a list"}'])
def test_invalid_answers_raise_parse_errors(answer):
    with pytest.raises(ParseError):
        parse_sentences(answer)


# --------------------------------------------------------------------------- corpus + cache
def _record(text, mode="single"):
    return CorpusRecord(text=text, skill_ids=["x"], mode=mode, template_id="single",
                        template_version=1, backend="template", model="m", seed=0)


def test_corpus_writer_appends_deduplicates_and_repairs_a_torn_tail(tmp_path):
    path = tmp_path / "c.jsonl"
    with CorpusWriter(path) as writer:
        assert writer.add(_record("You will cook for 200 guests."))
        assert not writer.add(_record("you will  COOK for 200 guests"))  # same sentence
    with path.open("a") as handle:
        handle.write('{"text": "torn')
    with CorpusWriter(path) as writer:
        assert writer.repaired_bytes == len('{"text": "torn')
        assert writer.existing == 1
        assert not writer.add(_record("You will cook for 200 guests."))
        assert writer.add(_record("You will wash the dishes."))
    assert [r.text for r in read_corpus(path)] == ["You will cook for 200 guests.",
                                                   "You will wash the dishes."]


def test_a_malformed_corpus_line_names_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(_record("ok sentence here").model_dump_json() + "\n" + '{"text": 3}\n')
    with pytest.raises(InputError, match="line 2"):
        list(read_corpus(path))


def test_a_second_run_on_a_corpus_being_written_is_refused_and_changes_nothing(tmp_path):
    """Two runs at once on one --out would each write every sentence (each reads the corpus
    before the other's lines), and the second would cut the first one's half-written line."""
    path = tmp_path / "c.jsonl"
    with CorpusWriter(path, flush_every=1) as first:
        assert first.add(_record("You will cook for 200 guests."))
        with path.open("a") as handle:
            handle.write('{"text": "half-writ')  # the first run's line in flight
        before = path.read_bytes()
        with pytest.raises(InputError, match="another skillmap run is writing") as refused:
            with CorpusWriter(path):
                pass
        assert "\n" not in str(refused.value) and path.read_bytes() == before
        done = _cli("generate", "--out", str(path), "--per-skill", "1", "--negatives", "0")
        assert done.returncode != 0 and path.read_bytes() == before
        assert done.stderr.strip().splitlines()[-1].startswith(
            "skillmap: error: another skillmap run is writing")
    with CorpusWriter(path) as after:  # the lock goes with the run
        assert after.existing == 1


@pytest.mark.parametrize("kind", REPLACEMENTS)
def test_an_out_that_is_not_a_corpus_file_is_refused_in_one_line_and_left_alone(
        tmp_path, kind):
    """Devices, pipes (which would block), folders, links to nothing, a 10 GB file of zeros
    and files of other formats: refused before a byte is cut or written, the link target
    outside neither written nor created."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = tmp_path / "c.jsonl"
    path.write_text("placeholder")
    replace(path, kind, outside)

    def state():
        return sorted((str(f), f.lstat().st_size, f.lstat().st_mtime_ns)
                      for f in tmp_path.rglob("*"))

    before = state()
    with pytest.raises(InputError) as refused:
        with CorpusWriter(path):
            pass
    assert "\n" not in str(refused.value) and SECRET not in str(refused.value)
    assert state() == before


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(min_size=1, max_size=20), max_size=3),
       junk=st.binary(max_size=40) | st.sampled_from([b'{"text": "torn', b'{"', b"\n\n",
                                                     b'{"text": "\xe2\x82']),
       junk_first=st.booleans())
def test_a_corpus_writer_cuts_only_a_torn_corpus_line_and_never_a_file_it_refuses(
        tmp_path, texts, junk, junk_first):
    path = tmp_path / "fuzz.jsonl"
    lines = b"".join(_record(t).model_dump_json().encode() + b"\n" for t in texts)
    content = junk + lines if junk_first else lines + junk
    path.write_bytes(content)
    try:
        with CorpusWriter(path) as writer:
            existing = writer.existing
    except InputError as exc:
        assert "\n" not in str(exc) and path.read_bytes() == content
    else:
        kept = content[:content.rfind(b"\n") + 1]
        cut = content[len(kept):]
        assert path.read_bytes() == kept and (cut == b"" or cut.startswith(b'{"'))
        assert len(list(read_corpus(path))) == existing


def test_response_cache_keeps_answers_across_instances_but_never_failures(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cache.put("k1", Completion(sentences=["a"], prompt_tokens=3))
    cache.put("k2", Completion(error="timeout"))
    cache.close()
    again = ResponseCache(tmp_path / "cache.sqlite")
    assert again.get("k1").sentences == ["a"] and again.get("k1").prompt_tokens == 3
    assert again.get("k2") is None and len(again) == 1


# --------------------------------------------------------------------------- stats
def test_distinct_n_and_self_similarity_by_hand():
    assert distinct_n([["a", "b", "a", "b"]], 1) == 0.5
    assert distinct_n([["a", "b", "a", "b"]], 2) == pytest.approx(2 / 3)
    assert distinct_n([], 2) == 0.0
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert self_similarity(vectors) == pytest.approx((0 + 1 + 0) * 2 / 6)
    assert self_similarity(vectors[:1]) is None


def test_discriminability_is_high_for_faithful_sentences_and_low_for_wrong_labels(
        tmp_path, demo_index, encoder):
    skills = demo_index.skills[:40]
    with CorpusWriter(tmp_path / "good.jsonl") as good, \
            CorpusWriter(tmp_path / "bad.jsonl") as bad:
        for i, skill in enumerate(skills):
            text = f"You need {skill.label} for this job."
            wrong = skills[(i + 20) % len(skills)]
            good.add(_record(text).model_copy(update={"skill_ids": [skill.id]}))
            bad.add(_record(text).model_copy(update={"skill_ids": [wrong.id]}))
    faithful = corpus_stats(tmp_path / "good.jsonl", demo_index, encoder)
    wrong = corpus_stats(tmp_path / "bad.jsonl", demo_index, encoder)
    assert faithful.modes[0].hit_at_5 > 0.9 and wrong.modes[0].hit_at_5 < 0.2
    assert faithful.modes[0].label_mention_rate > 0.9 and wrong.modes[0].label_mention_rate < 0.2
    assert faithful.skills_covered == 40 and faithful.taxonomy_skills == len(demo_index.skills)
    assert faithful.sentences_per_skill["skills_with_0"] == len(demo_index.skills) - 40


# --------------------------------------------------------------------------- CLI
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "skillmap.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_cli_generate_and_stats_on_the_demo_taxonomy(tmp_path):
    out = tmp_path / "corpus.jsonl"
    done = _cli("generate", "--out", str(out), "--per-skill", "1", "--negatives", "20")
    assert done.returncode == 0, done.stderr
    assert "new sentences written" in done.stderr
    modes = Counter(json.loads(line)["mode"] for line in out.read_text().splitlines())
    assert set(modes) == {"single", "constrained", "negatives"}
    report = json.loads((tmp_path / "corpus.jsonl.report.json").read_text())
    assert report["written"] == sum(modes.values())
    stats = _cli("generate", "stats", str(out), "--json", "--sample", "50")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["skills_covered"] == 189 and data["lines"] == sum(modes.values())
    assert [m["mode"] for m in data["modes"]] == ["single", "constrained", "negatives"]


@pytest.mark.parametrize("args, message", [
    (["generate", "corpus"], "Missing option '--out'"),
    (["generate", "--llm", "openai"], "Missing option '--out'"),
    (["generate", "--out", "x.jsonl", "--llm", "openai"], "needs a model"),
    (["generate", "stats", "missing.jsonl"], "missing.jsonl: no such file"),
    (["generate", "--out", "x.jsonl", "--groups", "999"], "Level-2 groups"),
    (["generate", "--out", "x.jsonl", "--llm", "openai", "--model", "m", "--base-url",
      "http://127.0.0.1:9/v1", "--reuse-level", "transversal"], "records no reuse levels"),
])
def test_cli_generate_errors_are_one_line(tmp_path, args, message):
    env_free = _cli(*args, cwd=tmp_path)
    assert env_free.returncode == 2
    lines = env_free.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("skillmap: error:")
    assert not list(tmp_path.glob("x.jsonl*"))  # no corpus, report or answer cache


@pytest.mark.slow
def test_template_corpus_is_identical_across_processes_and_hash_seeds(tmp_path):
    import os

    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"corpus-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-m", "skillmap.cli", "generate", "--out",
                               str(out), "--mode", "single", "--mode", "unconstrained",
                               "--mode", "negatives", "--negatives", "60"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 500


def test_naming_a_skill_whose_label_repeats_its_definition_is_not_a_copy():
    from skillmap.taxonomy import Skill

    textile = Skill(id="t", label="textile products, semi-finished products and raw materials",
                    description="The offered textile products, semi-finished products and raw "
                                "materials, their functionalities and properties.")
    rules = QualityRules()
    assert rules.check("Knowledge of textile products, semi-finished products and raw "
                       "materials is required.", [textile]) is None
    assert rules.check("You know the offered textile products, semi-finished products and raw "
                       "materials, their functionalities.", [textile]) == "copies the definition"


def test_a_repeated_few_shot_example_is_dropped():
    template = load_prompt("constrained")
    example = template.example_sentences[0]
    assert QualityRules().check(example, (), template.example_sentences) == \
        "copies a prompt example"
    assert QualityRules().check("You will restock the shelves and help customers find what "
                                "they need.", (), template.example_sentences) is None


# --------------------------------------------------------------------------- prompts v2
def test_each_request_gets_a_seeded_style_and_implicit_flag(demo_taxonomy):
    template = load_prompt("single")
    draws = [template.variation(seed) for seed in range(2000)]
    assert draws == [template.variation(seed) for seed in range(2000)]  # pure in the seed
    assert {style for style, _ in draws} == set(template.styles)
    implicit = sum(flag for _, flag in draws) / len(draws)
    assert abs(implicit - template.implicit_share) < 0.05
    # style and flag vary independently: every style is drawn both ways
    assert {(s, f) for s, f in draws} == {(s, f) for s in template.styles for f in (True, False)}


def test_an_implicit_request_shows_the_definition_but_not_the_names(demo_taxonomy):
    template = load_prompt("single")
    plan = plan_requests(demo_taxonomy, ["single"], per_skill=1)
    shown = {}
    for request in plan.requests:
        context = prompt_context(request, template, "en")
        shown.setdefault(context["implicit"], (request, template.messages(context)[-1]["content"]))
    (explicit, explicit_text), (implicit, implicit_text) = shown[False], shown[True]
    assert explicit.skills[0].label in explicit_text
    assert implicit.skills[0].label not in implicit_text
    assert implicit.skills[0].description in implicit_text
    assert template.styles[template.variation(implicit.seed)[0]] in implicit_text


def test_the_style_asked_for_is_recorded_on_each_corpus_line(tmp_path, demo_taxonomy):
    from helpers.stub_openai import StubOpenAI
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    with StubOpenAI() as stub:
        backend = OpenAIBackend(model="stub", base_url=stub.base_url, api_key="sk-test")
        generate_corpus(demo_taxonomy, backend, tmp_path / "c.jsonl", modes=["single"],
                        per_skill=1, limit=12)
    template = load_prompt("single")
    records = list(read_corpus(tmp_path / "c.jsonl"))
    assert records and all(r.style in template.styles for r in records)
    assert {r.implicit for r in records} == {True, False}


@pytest.mark.parametrize("sentence", ["Python programming.", "Python, Python programming",
                                      "Experience in Python."])
def test_a_sentence_that_only_repeats_the_skill_name_is_dropped(sentence, demo_taxonomy):
    python = demo_taxonomy.skill("python-programming")
    assert QualityRules().check(sentence, [python]) == "only the skill's name"
    assert QualityRules().check(sentence, [python], names_by_design=True) is None


@pytest.mark.parametrize("sentence, language, wrong", [
    ("负责公司数据管道的开发和维护工作", "en", True),
    ("You will maintain our data pipelines and review the code of the team.", "en", False),
    ("Sie entwickeln und pflegen unsere Datenpipelines mit dem ganzen Team.", "en", True),
    ("Sie entwickeln und pflegen unsere Datenpipelines mit dem ganzen Team.", "de", False),
    ("Python, SQL, Docker, Kubernetes", "de", False),  # nothing to judge: kept
    ("负责公司数据管道的开发和维护工作", "zh", False),
    ("You will maintain our data pipelines and review the code.", "zh", True),
])
def test_a_sentence_in_another_language_is_dropped(sentence, language, wrong):
    from skillmap.generation.language import wrong_language

    assert bool(wrong_language(sentence, language)) is wrong
    reason = QualityRules().check(sentence, (), language=language)
    assert (reason == "wrong language") is wrong


def test_near_duplicates_of_the_same_skills_are_dropped_but_not_across_skills(tmp_path):
    path = tmp_path / "c.jsonl"
    first = "Plan the yearly budget and report variances to the finance director."
    near = "Plan the yearly budget and report all variances to the finance director."
    with CorpusWriter(path, near_duplicate=0.8) as writer:
        assert writer.add(_record(first))
        assert not writer.add(_record(near))
        other_skill = _record(near).model_copy(update={"skill_ids": ["y"]})
        assert writer.add(other_skill)
        assert writer.add(_record("Keep spending within the agreed envelope."))
    assert writer.near_duplicates == 1
    with CorpusWriter(path, near_duplicate=0.8) as writer:  # a resumed run remembers them
        assert not writer.add(_record(near))


def test_a_corpus_carried_without_its_cache_is_completed_without_asking_again(
        tmp_path, demo_taxonomy):
    from helpers.stub_openai import StubOpenAI
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    out = tmp_path / "c.jsonl"
    with StubOpenAI() as stub:
        backend = OpenAIBackend(model="stub", base_url=stub.base_url, api_key="sk-test")
        generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1, limit=6)
        first = out.read_text()
        # a new machine: the corpus was committed, its answer cache was not
        report = generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1,
                                 limit=9, cache=ResponseCache(tmp_path / "fresh.sqlite"))
        assert stub.calls == 6 + 3
    assert report.answered_in_corpus == 6 and report.model_calls == 3
    assert out.read_text().startswith(first) and len(list(read_corpus(out))) == 9


def test_another_seed_asks_only_for_skills_without_a_line_and_for_new_combinations(
        tmp_path, demo_taxonomy):
    """A second pass with another --seed retries what the quality checks dropped: in single
    mode only the skills with no line yet are asked (with fresh draws); in a multi-skill mode
    the seed draws other combinations under the same request ids, and those are asked."""
    from helpers.stub_openai import StubOpenAI
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    out = tmp_path / "c.jsonl"
    with StubOpenAI() as stub:
        backend = OpenAIBackend(model="stub", base_url=stub.base_url, api_key="sk-test")
        generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1, limit=6)
        lines = out.read_text().splitlines(keepends=True)
        # two answers the quality checks dropped: their skills have no line
        out.write_text("".join(lines[:2] + lines[4:]))
        missing = {tuple(json.loads(line)["skill_ids"]) for line in lines[2:4]}
        stub.calls = 0
        report = generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1,
                                 limit=6, seed=1,
                                 cache=ResponseCache(tmp_path / "fresh.sqlite"))
        assert stub.calls == 2 and report.answered_in_corpus == 4
        records = list(read_corpus(out))
        assert {tuple(r.skill_ids) for r in records[-2:]} == missing
        assert {r.seed for r in records[-2:]}.isdisjoint({r.seed for r in records[:4]})

        constrained = tmp_path / "m.jsonl"
        generate_corpus(demo_taxonomy, backend, constrained, modes=["constrained"],
                        per_skill=1, limit=4)
        stub.calls = 0
        report = generate_corpus(demo_taxonomy, backend, constrained, modes=["constrained"],
                                 per_skill=1, limit=4, seed=1,
                                 cache=ResponseCache(tmp_path / "fresh2.sqlite"))
    combos = [tuple(r.skill_ids) for r in read_corpus(constrained)]
    asked_again = sum(1 for c in combos[4:] if c not in combos[:4])
    assert stub.calls == report.model_calls == 4 - report.answered_in_corpus
    assert report.model_calls > 0 and asked_again == report.written


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dropped=st.integers(0, 4), failed=st.integers(0, 2))
def test_retry_passes_ask_again_only_the_skills_left_without_a_line(
        tmp_path_factory, demo_taxonomy, dropped, failed):
    """The first answers the stub gives are empty (dropped by the quality checks) or server
    errors (failed requests), whichever requests they meet; one retry pass asks exactly those
    skills again with the next seed, every skill ends with a line, an answered failure is no
    longer reported, and running the same command again asks nothing."""
    from helpers.stub_openai import StubOpenAI
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    tmp = tmp_path_factory.mktemp("retry")
    out = tmp / "c.jsonl"
    script = ["huge:0"] * dropped + ["500"] * failed
    with StubOpenAI(script=script) as stub:
        backend = OpenAIBackend(model="stub", base_url=stub.base_url, api_key="sk-test",
                                max_retries=0)
        planned = {tuple(r.skill_ids) for r in plan_requests(
            demo_taxonomy, ["single"], per_skill=1, limit=6).requests}
        report = generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1,
                                 limit=6, retry_passes=2,
                                 cache=ResponseCache(tmp / "c.sqlite"))
        retried = dropped + failed
        assert stub.calls == 6 + retried
        records = list(read_corpus(out))
        assert {tuple(r.skill_ids) for r in records} == planned and len(records) == 6
        assert report.retry_passes == ([{"seed": 1, "asked": retried, "written": retried}]
                                       if retried else [])
        assert report.failed == [] and sum(report.dropped.values()) == dropped
        assert (report.single_skills, report.single_skills_without_a_line) == (6, 0)
        assert {r.seed for r in records[6 - retried:]}.isdisjoint(
            {r.seed for r in records[:6 - retried]})
        if retried:
            assert "retry pass (seed 1)" in report.summary()
        before = out.read_bytes()
        calls = stub.calls
        generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1, limit=6,
                        retry_passes=2, cache=ResponseCache(tmp / "c.sqlite"))
        assert stub.calls == calls and out.read_bytes() == before


def test_the_report_counts_the_skills_left_without_a_line_and_a_rerun_with_retries_fills_them(
        tmp_path, demo_taxonomy):
    from helpers.stub_openai import StubOpenAI
    from skillmap.generation.backends.openai_backend import OpenAIBackend

    out = tmp_path / "c.jsonl"
    with StubOpenAI(script=["huge:0", "huge:0"]) as stub:
        backend = OpenAIBackend(model="stub", base_url=stub.base_url, api_key="sk-test")
        report = generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1,
                                 limit=6, cache=ResponseCache(tmp_path / "c.sqlite"))
        assert (report.single_skills, report.single_skills_without_a_line) == (6, 2)
        assert "single: 4 of 6 skills have a sentence (--retry-passes 2" in report.summary()
        again = generate_corpus(demo_taxonomy, backend, out, modes=["single"], per_skill=1,
                                limit=6, retry_passes=1,
                                cache=ResponseCache(tmp_path / "c.sqlite"))
    assert stub.calls == 6 + 2 and again.single_skills_without_a_line == 0
    assert "single: 6 of 6 skills have a sentence\n" in again.summary()
    assert json.loads((tmp_path / "c.jsonl.report.json").read_text())[
        "single_skills_without_a_line"] == 0


def test_retry_passes_need_the_single_mode(tmp_path, demo_taxonomy):
    with pytest.raises(SkillmapError, match="--retry-passes retries single-mode"):
        generate_corpus(demo_taxonomy, make_backend("template"), tmp_path / "c.jsonl",
                        modes=["constrained"], retry_passes=1)
    assert not (tmp_path / "c.jsonl").exists()
