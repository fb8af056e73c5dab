"""Offline, deterministic distant supervision: skill names placed into phrasings we wrote.

No language model is involved, and the corpus says so (``backend: template``,
``model: template-phrasings@vN``). For each sentence a skill is named by its label (with
ESCO's disambiguating parenthesis removed), one of its alternative labels, or, for
verb-phrase skills, the first clause of its description; that name goes into a verb or noun
phrasing chosen by the request's seed. The result is grammatical but formulaic — useful as
a default that needs nothing, and as the floor an LLM corpus has to beat. Noun-only
combinations are sometimes written as bare lists ("java reactjs sql"), as tech ads do.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Sequence


from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import AnswerHook, Backend, Completion, Job
from skillmap.generation.prompts import PromptTemplate, default_prompts_dir
from skillmap.generation.sampling import GenerationRequest
from skillmap.taxonomy import Skill, Taxonomy

_PAREN = re.compile(r"\s*\([^)]*\)")
_CLAUSE_END = re.compile(r"[.;:]|,\s(?:in order to|so that|such as|including|and ensure)\b")
SPARES = 12  # cheap; covers skills that share names with others (ESCO has many)
MAX_DESCRIPTION_WORDS = 7  # below QualityRules.copy_span: a phrase, never a copy
TERSE_KEYS = ("share", "lowercase", "tag_style", "separators", "patterns")
MAX_TAG_WORDS = 3  # "ruby-on-rails" is a tag; a hyphenated seven-word label is not


class TemplateBackend(Backend):
    """Fills ``prompts/template.yaml`` phrasings with skill names; deterministic per seed."""

    name = "template"
    cacheable = False
    names_by_design = True

    def __init__(self, language: str = "en", phrasings: str | Path | None = None):
        super().__init__(language)
        if language != "en":
            raise SkillmapError("the template backend only has English phrasings; use an LLM "
                                "backend (--llm openai or local) for other languages")
        self.path = Path(phrasings) if phrasings else default_prompts_dir() / "template.yaml"
        from skillmap.bounded import read_yaml

        self.phrasings: dict[str, Any] = read_yaml(self.path.parent, self.path.name,
                                                   what="template phrasings")
        if not isinstance(self.phrasings, dict):
            raise SkillmapError(f"{self.path}: expected a mapping of sections")
        self.verbs: set[str] = set()
        for key in ("id", "version", "verb", "noun", "combined_verbs", "combined_nouns",
                    "combined_mixed", "negatives", "fillers"):
            if key not in self.phrasings:
                raise SkillmapError(f"{self.path}: missing section {key!r}")
        terse = self.phrasings.get("terse")
        if terse is not None:
            missing = [k for k in TERSE_KEYS if not isinstance(terse, dict) or k not in terse]
            if missing:
                raise SkillmapError(f"{self.path}: section 'terse' needs {', '.join(missing)}")

    @property
    def model(self) -> str:
        return f"{self.phrasings['id']}@v{self.phrasings['version']}"

    def provenance(self, template: PromptTemplate) -> tuple[str, int]:
        """The phrasings file wrote the sentence, not the mode's LLM prompt."""
        return self.phrasings["id"], int(self.phrasings["version"])

    def variation(self, request: GenerationRequest, template: PromptTemplate) -> tuple[str, bool]:
        return "", False  # the phrasings file wrote the sentence, not the mode's prompt

    def prepare(self, taxonomy: Taxonomy) -> None:
        """Learn the taxonomy's verbs: the first words of its skill/competence labels.

        ESCO words skills/competences as imperative verb phrases ("manage budgets") but many
        alternative labels are noun phrases ("budget control"); a phrase reads as a verb
        phrase when its first word starts some skill/competence label and no knowledge label.
        """
        verbs, nouns = Counter(), Counter()
        for skill in taxonomy.skills:
            first = _first_word(skill.label)
            if first:
                (nouns if _is_knowledge(skill) else verbs)[first] += 1
        self.verbs = {w for w, n in verbs.items() if n > nouns.get(w, 0)}

    def generate(self, jobs: Sequence[Job], on_answer: AnswerHook | None = None
                 ) -> Iterator[tuple[int, Completion]]:
        for i, (request, _template) in enumerate(jobs):
            completion = Completion(sentences=self.sentences(request))
            if on_answer is not None:
                on_answer(i, completion)
            yield i, completion

    def sentences(self, request: GenerationRequest) -> list[str]:
        """``request.n`` sentences plus ``SPARES`` more, in order of preference.

        The runner keeps the first ``n`` that pass the quality checks and are new to the
        corpus, so a skill whose phrasing collides with another skill's (ESCO has skills that
        share labels) still gets its ``n`` sentences.
        """
        rng = random.Random(request.seed)
        count = request.n + SPARES
        if request.mode == "negatives":
            return [self._negative(request.category, rng) for _ in range(count)]
        if len(request.skills) == 1:
            # distinct phrasings within a request, so its n sentences never coincide
            verb_order = rng.sample(range(len(self.phrasings["verb"])),
                                    len(self.phrasings["verb"]))
            noun_order = rng.sample(range(len(self.phrasings["noun"])),
                                    len(self.phrasings["noun"]))
            return [self._single(request.skills[0], rng, verb_order[i % len(verb_order)],
                                 noun_order[i % len(noun_order)]) for i in range(count)]
        return [self._combined(request.skills, rng) for _ in range(count)]

    def _single(self, skill: Skill, rng: random.Random, verb_pick: int, noun_pick: int) -> str:
        phrase, is_verb = self._name(skill, rng, allow_description=True)
        if is_verb:
            return _finish(self._fill(self.phrasings["verb"][verb_pick], rng, v=phrase))
        return _finish(self._fill(self.phrasings["noun"][noun_pick], rng, k=phrase))

    def _combined(self, skills: Sequence[Skill], rng: random.Random) -> str:
        verbs, nouns = [], []
        for skill in skills:
            phrase, is_verb = self._name(skill, rng, allow_description=False)
            (verbs if is_verb else nouns).append(phrase)
        if verbs and nouns:
            pattern = rng.choice(self.phrasings["combined_mixed"])
        elif verbs:
            pattern = rng.choice(self.phrasings["combined_verbs"])
        else:
            terse = self.phrasings.get("terse")
            if terse and rng.random() < terse["share"]:
                return _terse_list(nouns, terse, rng)
            pattern = rng.choice(self.phrasings["combined_nouns"])
        return _finish(self._fill(pattern, rng, vs=_join(verbs), ks=_join(nouns)))

    def _negative(self, category: str, rng: random.Random) -> str:
        patterns = self.phrasings["negatives"].get(category)
        if not patterns:
            raise SkillmapError(f"{self.path}: no negatives of kind {category!r}")
        return self._fill(rng.choice(patterns), rng)

    def _fill(self, pattern: str, rng: random.Random, **given: str) -> str:
        """``pattern`` with the ``given`` slots set and every other slot drawn from `fillers`.

        Skill sentences may name a company, city or job title too ("At {company} you will
        {v}."): if only negatives ever named one, a filter would learn "a name = no skill".
        """
        # slots in pattern order (not a set: its order changes with PYTHONHASHSEED and so
        # would the random draws, breaking reproducibility across runs)
        slots = list(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(pattern)
                                   if name and name not in given))
        unknown = [slot for slot in slots if slot not in self.fillers]
        if unknown:
            raise SkillmapError(f"{self.path}: no fillers for slot {unknown[0]!r} in {pattern!r}")
        return pattern.format(**given, **{slot: rng.choice(self.fillers[slot]) for slot in slots})

    @cached_property
    def fillers(self) -> dict[str, list[str]]:
        return {k: [str(v) for v in values] for k, values in self.phrasings["fillers"].items()}

    def _name(self, skill: Skill, rng: random.Random, allow_description: bool) -> tuple[str, bool]:
        """A surface form of the skill and whether it reads as a verb phrase."""
        choices = [_PAREN.sub("", skill.label).strip()]
        choices += [_PAREN.sub("", alt).strip() for alt in skill.alt_labels if alt.strip()]
        roll = rng.random()
        if allow_description and not _is_knowledge(skill) and skill.description and roll < 0.2:
            clause = _description_clause(skill.description)
            if clause and self._is_verb_phrase(clause):
                return clause, True
        phrase = rng.choice(choices[1:]) if len(choices) > 1 and roll < 0.6 else choices[0]
        return phrase, self._is_verb_phrase(phrase)

    def _is_verb_phrase(self, phrase: str) -> bool:
        return _first_word(phrase) in self.verbs and phrase[:1].islower()


def _is_knowledge(skill: Skill) -> bool:
    return skill.skill_type == "knowledge" or "(" in skill.label


def _first_word(phrase: str) -> str:
    parts = phrase.split()
    return parts[0] if parts else ""


def _description_clause(description: str) -> str:
    """The description's first clause, lower-cased, if it is a short part of it."""
    whole = description.strip().rstrip(".")
    clause = _CLAUSE_END.split(whole, maxsplit=1)[0].strip()
    words = clause.split()
    if not words or len(words) > MAX_DESCRIPTION_WORDS or clause == whole:
        return ""  # a description that is one short clause would be copied whole
    return clause[0].lower() + clause[1:]


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _terse_list(names: list[str], terse: dict[str, Any], rng: random.Random) -> str:
    """Skill names as a bare list ("java reactjs sql"), as tech ads write their stack.

    Real requirement lines are often nothing but names, lower-cased or written like tags
    ("ruby-on-rails"); sentences in full prose alone never show an encoder or a filter that.
    """
    lowercase = rng.random() < terse["lowercase"]
    written = []
    for name in names:
        if len(name.split()) <= MAX_TAG_WORDS and rng.random() < terse["tag_style"]:
            name = "-".join(name.lower().split())
        written.append(name.lower() if lowercase else name)
    listed = rng.choice(terse["separators"]).join(written)
    return _squash(rng.choice(terse["patterns"]).format(list=listed))


def _squash(text: str) -> str:
    """One space between words: slot fillers can leave doubles."""
    return re.sub(r"\s+", " ", text).strip()


def _finish(sentence: str) -> str:
    sentence = _squash(sentence)
    if sentence.startswith("- "):
        return sentence  # a bullet fragment: no capital, no full stop, as ads write them
    sentence = sentence[0].upper() + sentence[1:]
    return sentence.replace("..", ".")
