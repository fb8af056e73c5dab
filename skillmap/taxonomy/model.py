"""In-memory model of a skill taxonomy: skills, groups and the hierarchy between them.

A taxonomy is a directed acyclic graph. Groups have a numeric ``level`` (ESCO: 0 = pillar,
1 and 2 = the broad groups analysts report on, 3 = fine groups). A skill's ``parents`` may
be groups or other, broader skills (ESCO links ~6,500 skills to a broader skill rather than
to a group), and a node may have several parents. A skill's Level-N group is therefore found
by walking *all* parent links upward; the first one reached, in parent order, is its
*primary* Level-N group, used where a single value is needed (output columns, sampling).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

from skillmap.errors import TaxonomyError

SKILL_TYPES = ("skill/competence", "knowledge", "")


@dataclass(frozen=True, slots=True)
class SkillGroup:
    """A node of the group hierarchy (ESCO: a skill group or a pillar)."""

    id: str
    label: str
    level: int
    parents: tuple[str, ...] = ()
    description: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class Skill:
    """One codable skill: what extraction returns and training targets."""

    id: str
    label: str
    alt_labels: tuple[str, ...] = ()
    description: str = ""
    skill_type: str = ""
    parents: tuple[str, ...] = ()
    #: ESCO's reuseLevel: transversal, cross-sector, sector-specific, occupation-specific
    reuse_level: str = ""


@dataclass(frozen=True, slots=True)
class TaxonomyMetadata:
    """Who made a taxonomy and which version it is; recorded in every index built on it."""

    name: str
    version: str = ""
    language: str = "en"
    source: str = ""
    licence: str = ""


@dataclass(eq=False)
class Taxonomy:
    """Skills plus groups, validated on construction.

    ``origins`` optionally maps an id to where it was defined (``"skills.csv row 12"``) so
    validation errors can point at the offending row.
    """

    metadata: TaxonomyMetadata
    skills: list[Skill]
    groups: list[SkillGroup]
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._skills_by_id: dict[str, Skill] = {}
        self._groups_by_id: dict[str, SkillGroup] = {}
        for group in self.groups:
            self._check_new_id(group.id)
            self._groups_by_id[group.id] = group
        for skill in self.skills:
            self._check_new_id(skill.id)
            self._skills_by_id[skill.id] = skill
        for node in [*self.groups, *self.skills]:
            for parent in node.parents:
                if parent == node.id:
                    raise TaxonomyError(f"{self._where(node.id)}: {node.id!r} is its own parent")
                if isinstance(node, SkillGroup) and parent not in self._groups_by_id:
                    raise TaxonomyError(
                        f"{self._where(node.id)}, column parents: group {node.id!r} has parent "
                        f"{parent!r}, which is not a group of this taxonomy")
                if parent not in self._groups_by_id and parent not in self._skills_by_id:
                    raise TaxonomyError(
                        f"{self._where(node.id)}, column parents: {node.id!r} has parent "
                        f"{parent!r}, which is defined nowhere in this taxonomy")
        self._ancestors: dict[str, tuple[str, ...]] = {}
        for node_id in [*self._groups_by_id, *self._skills_by_id]:
            self._group_ancestors(node_id)

    # -- validation helpers -------------------------------------------------------------
    def _where(self, node_id: str) -> str:
        return self.origins.get(node_id, f"id {node_id!r}")

    def _check_new_id(self, node_id: str) -> None:
        if node_id in self._skills_by_id or node_id in self._groups_by_id:
            first = self._where(node_id)
            raise TaxonomyError(f"duplicate id {node_id!r} (first defined at {first})")

    def _group_ancestors(self, root: str) -> tuple[str, ...]:
        """Group ids above ``root``, nearest first, each once; detects cycles.

        A node's result is its direct parent groups, then each parent's result in parent
        order. Walked depth-first with an explicit stack, not recursion: a parent chain
        deeper than Python's recursion limit (~1,000) raised RecursionError.
        """
        path: list[str] = []                        # the nodes being resolved, root first
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(root, 0)]  # (node, index of its next parent)
        while stack:
            node_id, i = stack.pop()
            if i == 0:
                if node_id in self._ancestors:
                    continue
                if node_id in on_path:
                    # ids are shown with repr so a line break in an id cannot split the message
                    cycle = " -> ".join(map(repr, [*path[path.index(node_id):], node_id]))
                    raise TaxonomyError(
                        f"{self._where(node_id)}: parent links form a cycle: {cycle}")
                path.append(node_id)
                on_path.add(node_id)
            node = self._groups_by_id.get(node_id) or self._skills_by_id[node_id]
            if i < len(node.parents):
                stack += [(node_id, i + 1), (node.parents[i], 0)]
                continue
            found = [p for p in node.parents if p in self._groups_by_id]
            for parent in node.parents:
                found.extend(self._ancestors[parent])
            self._ancestors[node_id] = tuple(dict.fromkeys(found))
            on_path.discard(path.pop())
        return self._ancestors[root]

    # -- lookups -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.skills)

    def __contains__(self, skill_id: object) -> bool:
        return skill_id in self._skills_by_id

    def skill(self, skill_id: str) -> Skill:
        try:
            return self._skills_by_id[skill_id]
        except KeyError:
            raise KeyError(f"no skill with id {skill_id!r}") from None

    def group(self, group_id: str) -> SkillGroup:
        try:
            return self._groups_by_id[group_id]
        except KeyError:
            raise KeyError(f"no group with id {group_id!r}") from None

    def groups_at_level(self, node_id: str, level: int) -> tuple[SkillGroup, ...]:
        """All groups of ``level`` above a skill or group, primary first."""
        return tuple(self._groups_by_id[g] for g in self._ancestors[node_id]
                     if self._groups_by_id[g].level == level)

    def level_group(self, node_id: str, level: int) -> SkillGroup | None:
        """The primary group of ``level`` above a skill or group, or None."""
        groups = self.groups_at_level(node_id, level)
        return groups[0] if groups else None

    def level1(self, skill_id: str) -> SkillGroup | None:
        return self.level_group(skill_id, 1)

    def level2(self, skill_id: str) -> SkillGroup | None:
        return self.level_group(skill_id, 2)

    def children(self, group_id: str) -> list[SkillGroup | Skill]:
        """Direct children (groups first, then skills) of a group, for browsing."""
        kids: list[SkillGroup | Skill] = [g for g in self.groups if group_id in g.parents]
        kids += [s for s in self.skills if group_id in s.parents]
        return kids

    def skills_in_group(self, group_id: str) -> list[Skill]:
        """Every skill below a group at any depth."""
        return [s for s in self.skills if group_id in self._ancestors[s.id]]

    @cached_property
    def levels(self) -> dict[int, int]:
        """Number of groups at each level."""
        counts: dict[int, int] = {}
        for group in self.groups:
            counts[group.level] = counts.get(group.level, 0) + 1
        return dict(sorted(counts.items()))

    def skills_without_level(self, level: int) -> list[Skill]:
        return [s for s in self.skills if not self.groups_at_level(s.id, level)]

    @cached_property
    def fingerprint(self) -> str:
        """A content hash: two taxonomies with equal fingerprints code identically."""
        digest = hashlib.sha256()
        for skill in self.skills:
            fields = [skill.id, skill.label, skill.alt_labels, skill.description,
                      skill.skill_type, skill.parents]
            if skill.reuse_level:  # indexes saved before the field existed keep their hash
                fields.append(skill.reuse_level)
            digest.update(json.dumps(fields).encode())
        for group in self.groups:
            digest.update(json.dumps([group.id, group.label, group.level, group.parents]).encode())
        return digest.hexdigest()[:16]

    def summary(self) -> dict:
        """Counts for `skillmap taxonomy info` and the app."""
        return {
            "name": self.metadata.name,
            "version": self.metadata.version,
            "skills": len(self.skills),
            "groups_per_level": self.levels,
            "skills_without_level1_group": len(self.skills_without_level(1)),
            "skills_without_level2_group": len(self.skills_without_level(2)),
            "skills_with_several_parents": sum(1 for s in self.skills if len(s.parents) > 1),
        }


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty stripped values, in order, each once."""
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))
