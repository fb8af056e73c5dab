"""Small, shippable encoders: the trained head (and LoRA adapter) without the backbone.

A full sentence-transformers directory repeats the ~90 MB backbone. What skillmap trains on top
of a backbone that is already installed (all-MiniLM-L6-v2 from PyPI) is a few MB: the BiLSTM and
attention-pooling modules and, with ``--backbone-mode lora``, a LoRA adapter. A *bundle* is a
folder with just those parts and ``bundle.json`` naming the backbone; :func:`load_bundle`
re-assembles the full model from the installed backbone. The default encoder committed to the
repository is such a bundle, which is how it works on a fresh offline install.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from skillmap.encoder.skill_encoder import OFF_THE_SHELF_MODEL_ID
from skillmap.errors import SkillmapError
from skillmap.io import atomic_directory

BUNDLE_FILE = "bundle.json"


def is_bundle(path: str | Path) -> bool:
    return (Path(path) / BUNDLE_FILE).is_file()


def save_bundle(model, folder: str | Path, backbone: str | None, card: dict) -> Path:
    """Write the head modules (and a LoRA adapter, if the backbone carries one) of ``model``."""
    folder = Path(folder)
    head = [(i, module) for i, module in enumerate(model) if i > 0]
    with atomic_directory(folder, holds=BUNDLE_FILE) as tmp:
        entries = []
        for i, module in head:
            name = f"{i}_{type(module).__name__}"
            (tmp / name).mkdir()
            module.save(str(tmp / name))
            entries.append({"path": name, "type": f"{type(module).__module__}."
                                                  f"{type(module).__name__}"})
        transformer = model[0].model  # the transformers model (a PeftModel when adapted)
        adapter = None
        backbone = backbone or OFF_THE_SHELF_MODEL_ID
        if hasattr(transformer, "peft_config"):
            transformer.save_pretrained(str(tmp / "adapter"))  # adapter weights only
            _make_portable(tmp / "adapter", backbone)
            adapter = "adapter"
        manifest = {"name": card.get("name", f"skillmap/{folder.name}"),
                    "backbone": backbone,
                    "max_seq_length": model[0].max_seq_length,
                    "modules": entries, "adapter": adapter, "card": card}
        (tmp / BUNDLE_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def _make_portable(adapter: Path, backbone: str) -> None:
    """peft names the base model by the path it was loaded from (this machine's site-packages)
    and writes an empty model-card template; a shipped adapter names the backbone's id, lists
    its target modules in a stable order (peft writes a set) and carries no placeholder card."""
    config_path = adapter / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = backbone
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (adapter / "README.md").unlink(missing_ok=True)


@dataclass
class BundleParts:
    """What a bundle folder holds, checked: its manifest, adapter folder and head modules."""

    manifest: dict
    adapter: Path | None
    modules: list  # (module class, folder) per head module, in model order
    backbone: str  # the backbone's local path


def read_bundle(folder: str | Path, allow_pickle: bool | None = None) -> BundleParts:
    """Read and check a bundle's manifest and files, without loading any weights.

    ``bundle.json`` is data from wherever the bundle came from: module and adapter paths must
    stay inside the folder, module types must be known classes, and weights (bundle and
    backbone) load from safetensors only unless ``allow_pickle`` (see :mod:`skillmap.security`).
    """
    from skillmap.encoder.loading import check_config_sizes, module_classes
    from skillmap.encoder.skill_encoder import resolve_model
    from skillmap.security import check_model_files, resolve_inside

    from skillmap import bounded

    folder = Path(folder)
    manifest_path = folder / BUNDLE_FILE
    bounded.check_folder(folder, "bundle")
    manifest = bounded.read_json(folder, BUNDLE_FILE, "bundle manifest")
    if not (isinstance(manifest, dict) and isinstance(manifest.get("backbone"), str)
            and isinstance(manifest.get("modules"), list)
            and type(manifest.get("max_seq_length", 128)) is int
            and all(isinstance(e, dict) and isinstance(e.get("type"), str)
                    for e in manifest["modules"])):
        raise SkillmapError(f"{manifest_path}: not a skillmap bundle manifest (needs a backbone "
                            "and a list of modules with a type and a path)")
    check_model_files(folder, allow_pickle, what="bundle")
    adapter = manifest.get("adapter")
    adapter_dir = resolve_inside(folder, adapter, f"{manifest_path} adapter") if adapter else None
    classes = module_classes([entry["type"] for entry in manifest["modules"]], folder)
    parts = [(cls, resolve_inside(folder, entry.get("path"), f"{manifest_path} module path"))
             for cls, entry in zip(classes, manifest["modules"])]
    backbone_path = resolve_model(manifest["backbone"])[1]
    bounded.check_folder(backbone_path, "backbone")
    check_config_sizes(Path(backbone_path), "config.json")
    check_model_files(backbone_path, allow_pickle, what="backbone")
    return BundleParts(manifest, adapter_dir, parts, backbone_path)


def load_bundle(folder: str | Path, device: str | None = None,
                allow_pickle: bool | None = None):
    """The full SentenceTransformer: installed backbone + this bundle's trained parts (the
    LoRA adapter merged into the backbone, for inference)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Transformer

    from skillmap.encoder.loading import load_module
    from skillmap.security import safetensors_kwargs

    bundle = read_bundle(folder, allow_pickle)
    backbone = Transformer(bundle.backbone,
                           max_seq_length=bundle.manifest.get("max_seq_length", 128),
                           model_kwargs=safetensors_kwargs(allow_pickle))
    if bundle.adapter is not None:
        backbone.model = _with_adapter(backbone.model, bundle.adapter, folder).merge_and_unload()
    modules = [backbone] + [load_module(cls, path, allow_pickle) for cls, path in bundle.modules]
    return SentenceTransformer(modules=modules, device=device)


def load_trained_parts(model, folder: str | Path, backbone: str,
                       allow_pickle: bool | None = None) -> None:
    """Put a bundle's trained parts into ``model`` (built by ``build_encoder`` with the same
    architecture on ``backbone``) to train them further: the head modules' weights, and the
    LoRA adapter attached *unmerged* and trainable, so that what training saves is again an
    adapter over the plain backbone, shippable as a bundle. Checks everything before it
    changes ``model``.
    """
    from skillmap.encoder.loading import load_module
    from skillmap.encoder.skill_encoder import resolve_model

    bundle = read_bundle(folder, allow_pickle)
    if Path(resolve_model(backbone)[1]).resolve() != Path(bundle.backbone).resolve():
        raise SkillmapError(f"{folder} was trained on backbone {bundle.manifest['backbone']}, "
                            f"not {backbone}; pass it as --backbone")
    head = list(model)[1:]
    wanted = [type(m).__name__ for m in head]
    found = [cls.__name__ for cls, _ in bundle.modules]
    if wanted != found:
        raise SkillmapError(f"{folder}: its head ({', '.join(found)}) is not the one being "
                            f"trained ({', '.join(wanted)}); pass the same --pooling")
    if bundle.adapter is None:
        raise SkillmapError(f"{folder} has no LoRA adapter to train further (--backbone-mode "
                            "lora needs one)")
    states = [load_module(cls, path, allow_pickle).state_dict() for cls, path in bundle.modules]
    for module, state in zip(head, states):
        module.load_state_dict(state)
    model[0].model = _with_adapter(model[0].model, bundle.adapter, folder, trainable=True)


def _with_adapter(transformer, adapter: Path, folder, trainable: bool = False):
    try:
        from peft import PeftModel
    except ImportError:
        raise SkillmapError(f"{folder} carries a LoRA adapter: pip install peft") from None
    with warnings.catch_warnings():  # peft's deprecation notices are not the user's concern
        warnings.simplefilter("ignore", FutureWarning)
        return PeftModel.from_pretrained(transformer, str(adapter), is_trainable=trainable)
