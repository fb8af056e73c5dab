"""Which skill text to match against, and how much lexical boost: re-tuning on validation data.

    python benchmarks/bench_skill_text.py --index ESCO_INDEX [--model MODEL] \
        --shared ../shared/benchmarks --cache /tmp/skill-text-cache

The index holds one vector per skill (its label, the default skill text). This script also
encodes every alternative label and every description with the same encoder (cached in
``--cache``, keyed by the model's fingerprint) and scores the ESCO validation sentences
(tech, house) against skill scores built from them:

- ``label``: the index as it is;
- ``max(label, alt labels)``: alternative labels as extra vectors per skill, a skill scoring
  its best-matching name;
- ``label + w x (max - label)``: part of the way towards that maximum;
- ``label + w x description``: the description's cosine as a second opinion.

Each row is scored with the lexical boost at every ``--boosts`` value (the name bonus of
the pipeline: a skill the sentence names verbatim gains it). Ranking is exact (all skills),
as the pipeline's ``rank_sentences`` with a flat index. Output: Markdown on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skillmap.encoder import SkillEncoder  # noqa: E402
from skillmap.index import SkillIndex  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from exact_ranking import SPLITS, best_per_skill, print_header, print_rows, read_split  # noqa: E402


def extra_vectors(index: SkillIndex, encoder: SkillEncoder, cache: Path):
    """Alternative-label vectors with their owners' positions, and description vectors."""
    key = hashlib.sha256(np.asarray(encoder.probe, np.float32).tobytes()).hexdigest()[:12]
    folder = cache / key
    files = [folder / name for name in ("alt.npy", "owner.npy", "description.npy")]
    if all(f.exists() for f in files):
        return tuple(np.load(f) for f in files)
    texts, owners = [], []
    for position, skill in enumerate(index.skills):
        texts += list(skill.alt_labels)
        owners += [position] * len(skill.alt_labels)
    alternatives = encoder.encode(texts, show_progress=True)
    descriptions = encoder.encode([s.description or s.label for s in index.skills],
                                  show_progress=True)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (alternatives, np.asarray(owners, np.int64), descriptions)
    for f, array in zip(files, arrays):
        np.save(f, array)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--model", help="encoder to load [the model the index records]")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/skill-text-cache"))
    parser.add_argument("--boosts", nargs="+", type=float, default=[0.0, 0.1, 0.2, 0.3])
    args = parser.parse_args()
    index = SkillIndex.load(args.index)
    encoder = SkillEncoder.cached(args.model or index.recorded_model())
    index.check_encoder(encoder)
    alternatives, owners, descriptions = extra_vectors(index, encoder, args.cache)
    labels = index.vectors
    skills = index.skills

    print_header(args.boosts)
    for part in SPLITS:
        split = read_split(args.shared, part, index)
        vectors = encoder.encode(split.texts)
        label = vectors @ labels.T
        best = np.maximum(label, best_per_skill(vectors @ alternatives.T, owners, len(skills)))
        description = vectors @ descriptions.T
        variants = {"label (the index)": label, "max(label, alt labels)": best}
        for w in (0.25, 0.5):
            variants[f"label + {w} x (max - label)"] = label + w * (best - label)
        for w in (0.1, 0.2):
            variants[f"label + {w} x description"] = label + w * description
        print_rows(split, variants, skills, args.boosts)


if __name__ == "__main__":
    main()
