"""Which prompts a generation run sends: every skill covered, combinations drawn by mode.

``single`` asks for ``per_skill`` sentences for every skill. ``constrained`` draws 2-4 skills
from one Level-2 group per sentence; ``unconstrained`` draws 2-4 from the whole skill pool.
Both make ``per_skill`` passes over their pool, each pass a seeded shuffle cut into groups of
2-4, so every skill (the long tail included) appears in ``per_skill`` combined sentences and
the two modes have the same coverage and size distribution: only the hierarchy constraint
differs, which is what the comparison needs. ``negatives`` cycles through the kinds of
skill-free text (company, benefits, ...) until ``negatives`` sentences are requested.

The plan is a pure function of the taxonomy and the options, so a re-run (or a resume after a
kill) sends exactly the same requests in the same order.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Sequence

from skillmap.errors import SkillmapError
from skillmap.taxonomy import Skill, SkillGroup, Taxonomy

MIN_COMBINED, MAX_COMBINED = 2, 4
MAX_SENTENCES_PER_REQUEST = 10
#: ESCO's reuse levels, broadest first: the order ``single`` takes skills in (others last)
REUSE_ORDER = ("transversal", "cross-sector", "sector-specific", "occupation-specific")


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt: which skills (or which kind of negative), how many sentences, which seed."""

    mode: str
    index: int                       # names the request (its id and seed) within its mode
    skills: tuple[Skill, ...]
    n: int
    seed: int
    group: SkillGroup | None = None  # the Level-2 group of a constrained combination
    category: str = ""               # the kind of text, for negatives

    @property
    def request_id(self) -> str:
        return f"{self.mode}-{self.index:06d}"

    @property
    def skill_ids(self) -> list[str]:
        return [s.id for s in self.skills]


@dataclass
class GenerationPlan:
    """The ordered requests of a run plus what could not be planned, and why."""

    requests: list[GenerationRequest] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> number of skills

    def count(self, mode: str) -> int:
        return sum(1 for r in self.requests if r.mode == mode)

    def sentences_requested(self) -> int:
        return sum(r.n for r in self.requests)


def derive_seed(seed: int, *parts: object) -> int:
    """A stable 31-bit seed for one request (independent of Python's hash randomisation)."""
    digest = hashlib.sha256("|".join(str(p) for p in (seed, *parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def sample_level2_groups(taxonomy: Taxonomy, n_groups: int, seed: int) -> list[SkillGroup]:
    """A seeded sample of Level-2 groups that hold at least two skills."""
    members = _level2_members(taxonomy, taxonomy.skills)
    eligible = [taxonomy.group(g) for g, skills in members.items() if len(skills) >= MIN_COMBINED]
    if n_groups > len(eligible):
        raise SkillmapError(f"--groups {n_groups}: the taxonomy has only {len(eligible)} "
                            "Level-2 groups with two or more skills")
    return sorted(random.Random(seed).sample(eligible, n_groups), key=lambda g: g.id)


def plan_requests(taxonomy: Taxonomy, modes: Sequence[str], per_skill: int = 3, seed: int = 0,
                  negatives: int = 500, negative_categories: Sequence[str] = (),
                  groups: Sequence[SkillGroup] | None = None, limit: int | None = None,
                  negatives_per_request: int = 5,
                  reuse_levels: Sequence[str] | None = None) -> GenerationPlan:
    """Plan every request of a run, in mode order then plan order.

    ``groups`` restricts the skill pool to those Level-2 groups (for samples and comparisons);
    ``reuse_levels`` to skills of those reuse levels: with ``unconstrained``, sentences that
    combine broadly reused skills of different groups, the way ads list soft skills
    ("English, teamwork and independence"), which ``constrained`` (one group) cannot write;
    ``limit`` keeps at most that many requests per mode (for quick trials).
    """
    if per_skill < 1:
        raise SkillmapError("--per-skill must be at least 1")
    pool = list(taxonomy.skills)
    if groups is not None:
        wanted = {g.id for g in groups}
        pool = [s for s in pool if (g := taxonomy.level2(s.id)) is not None and g.id in wanted]
    if reuse_levels:
        pool = skills_at_reuse_levels(pool, reuse_levels)
    plan = GenerationPlan()
    for mode in modes:
        if mode == "single":
            requests = _plan_single(pool, per_skill, seed)
        elif mode == "constrained":
            requests = _plan_constrained(taxonomy, pool, per_skill, seed, plan)
        elif mode == "unconstrained":
            requests = _plan_unconstrained(pool, per_skill, seed)
        elif mode == "negatives":
            if not negative_categories:
                raise SkillmapError("negatives need the categories of the negatives prompt")
            requests = _plan_negatives(negatives, negative_categories, negatives_per_request, seed)
        else:
            raise SkillmapError(f"unknown generation mode {mode!r}")
        plan.requests.extend(requests[:limit] if limit is not None else requests)
    return plan


def _plan_single(pool: list[Skill], per_skill: int, seed: int) -> list[GenerationRequest]:
    """One request (or more, past ten sentences) per skill, broadly reused skills first.

    Job ads ask for transversal and cross-sector skills far more often than for
    occupation-specific ones, so a partial run (what a corpus is for hours on a CPU) should
    have covered those first. Ids and seeds keep the taxonomy-order numbering: they name the
    same prompts as runs planned before this order existed, so cached answers and written
    lines still match. A taxonomy without reuse levels keeps its own order.
    """
    requests = []
    for skill in pool:
        remaining, part = per_skill, 0
        while remaining > 0:
            n = min(remaining, MAX_SENTENCES_PER_REQUEST)
            requests.append(GenerationRequest("single", len(requests), (skill,), n,
                                              derive_seed(seed, "single", skill.id, part)))
            remaining -= n
            part += 1
    return sorted(requests, key=lambda r: _reuse_rank(r.skills[0]))


def skills_at_reuse_levels(pool: list[Skill], levels: Sequence[str]) -> list[Skill]:
    """The skills of ``pool`` at one of ``levels`` (case and spacing do not count)."""
    wanted = {_normalised(level) for level in levels}
    present = {_normalised(s.reuse_level) for s in pool} - {""}
    unknown = sorted(wanted - present)
    if unknown:
        known = ", ".join(sorted(present)) or "none: this taxonomy records no reuse levels"
        raise SkillmapError(f"--reuse-level {', '.join(unknown)}: no skill has it "
                            f"(levels here: {known})")
    return [s for s in pool if _normalised(s.reuse_level) in wanted]


def _normalised(level: str) -> str:
    return level.strip().lower()


def _reuse_rank(skill: Skill) -> int:
    level = _normalised(skill.reuse_level)
    return REUSE_ORDER.index(level) if level in REUSE_ORDER else len(REUSE_ORDER)


def _level2_members(taxonomy: Taxonomy, pool: list[Skill]) -> dict[str, list[Skill]]:
    """Skills by their *primary* Level-2 group, so each skill is drawn from exactly one group."""
    members: dict[str, list[Skill]] = {}
    for skill in pool:
        group = taxonomy.level2(skill.id)
        if group is not None:
            members.setdefault(group.id, []).append(skill)
    return members


def _plan_constrained(taxonomy: Taxonomy, pool: list[Skill], per_skill: int, seed: int,
                      plan: GenerationPlan) -> list[GenerationRequest]:
    members = _level2_members(taxonomy, pool)
    without_group = sum(1 for s in pool if taxonomy.level2(s.id) is None)
    if without_group:
        plan.skipped["constrained: skills with no Level-2 group"] = without_group
    by_group: list[list[GenerationRequest]] = []
    index = 0
    for group_id in sorted(members):
        skills = members[group_id]
        if len(skills) < MIN_COMBINED:
            plan.skipped["constrained: only skill of its Level-2 group"] = (
                plan.skipped.get("constrained: only skill of its Level-2 group", 0) + len(skills))
            continue
        rng = random.Random(derive_seed(seed, "constrained", group_id))
        group = taxonomy.group(group_id)
        requests = []
        for combo in _combinations(skills, per_skill, rng):
            requests.append(GenerationRequest("constrained", index, combo, 1,
                                              derive_seed(seed, "constrained", index), group=group))
            index += 1
        by_group.append(requests)
    return _round_robin(by_group)


def _round_robin(by_group: list[list[GenerationRequest]]) -> list[GenerationRequest]:
    """One request of each group in turn, so that any prefix of a long run (what a partial
    corpus is) covers every Level-2 group, not only the first groups in id order.

    Ids and seeds keep their group-by-group numbering: they name the same prompts as runs
    planned before this order existed, so cached answers and written lines still match.
    """
    return [request for turn in zip_longest(*by_group) for request in turn if request is not None]


def _plan_unconstrained(pool: list[Skill], per_skill: int, seed: int) -> list[GenerationRequest]:
    if len(pool) < MIN_COMBINED:
        return []
    rng = random.Random(derive_seed(seed, "unconstrained"))
    return [GenerationRequest("unconstrained", i, combo, 1, derive_seed(seed, "unconstrained", i))
            for i, combo in enumerate(_combinations(pool, per_skill, rng))]


def _combinations(skills: list[Skill], passes: int, rng: random.Random) -> list[tuple[Skill, ...]]:
    """``passes`` seeded shuffles of ``skills``, each cut into consecutive groups of 2-4.

    A leftover single skill is paired with another skill of the same pool so that no skill is
    left out of a pass.
    """
    combos: list[tuple[Skill, ...]] = []
    for _ in range(passes):
        order = skills[:]
        rng.shuffle(order)
        start = 0
        while start < len(order):
            size = rng.randint(MIN_COMBINED, MAX_COMBINED)
            chunk = order[start:start + size]
            start += size
            if len(chunk) == 1:
                partner = rng.choice([s for s in skills if s.id != chunk[0].id])
                chunk.append(partner)
            combos.append(tuple(chunk))
    return combos


def _plan_negatives(total: int, categories: Sequence[str], per_request: int,
                    seed: int) -> list[GenerationRequest]:
    requests = []
    remaining = total
    while remaining > 0:
        n = min(per_request, remaining)
        category = categories[len(requests) % len(categories)]
        requests.append(GenerationRequest("negatives", len(requests), (), n,
                                          derive_seed(seed, "negatives", len(requests)),
                                          category=category))
        remaining -= n
    return requests
