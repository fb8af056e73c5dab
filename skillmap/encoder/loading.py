"""How a model folder becomes a SentenceTransformer: public API and one list of classes.

A sentence-transformers folder names the class of each of its modules in ``modules.json``;
a skillmap bundle (:mod:`skillmap.encoder.bundle`) does the same in ``bundle.json``. Both
are data from wherever the folder came from, so a class name is never imported: it is looked
up in :data:`MODULE_CLASSES`, the modules skillmap builds encoders from, and anything else is
refused in one line. Each module then loads itself with ``cls.load(path)`` from safetensors
only, and ``SentenceTransformer(modules=...)`` assembles them: no remote code, no pickle, and
no private sentence-transformers API (sentence-transformers would import the classes itself,
and needs ``trust_remote_code`` for any outside its package, which would also run Python
files shipped in the folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skillmap import bounded
from safetensors import SafetensorError

from skillmap.errors import SkillmapError, exception_line
from skillmap.security import check_model_files, resolve_inside, safetensors_kwargs

# The one list of module classes a model folder may name, by the package they come from.
# sentence-transformers moves its classes between releases (models.Normalize,
# sentence_transformer.modules.normalize.Normalize, base.modules.normalize.Normalize), so a
# type anywhere inside its package names its class of that name; skillmap's own classes must
# be named by their exact import path. Router, Asym and CLIPModel are left out: they load
# further classes by name themselves.
SKILLMAP_MODULES = "skillmap.encoder.modules"
MODULE_CLASSES = {
    "sentence_transformers": ("Transformer", "StaticEmbedding", "Pooling",
                              "WeightedLayerPooling", "Dense", "LayerNorm", "Dropout",
                              "Normalize", "CNN", "LSTM"),
    SKILLMAP_MODULES: ("BiLSTM", "AttentionPooling"),
}


def module_class(type_ref: Any) -> type | None:
    """The allowed class a ``type`` entry of ``modules.json``/``bundle.json`` names, or None."""
    if not isinstance(type_ref, str):
        return None
    path, _, name = type_ref.rpartition(".")
    if path == SKILLMAP_MODULES and name in MODULE_CLASSES[SKILLMAP_MODULES]:
        from skillmap.encoder import modules
    elif (path.split(".")[0] == "sentence_transformers"
          and name in MODULE_CLASSES["sentence_transformers"]):
        from sentence_transformers.sentence_transformer import modules
    else:
        return None
    return getattr(modules, name)


def module_classes(type_refs: list, where: str | Path) -> list[type]:
    """The classes for ``type_refs``, all of them allowed, or one :class:`SkillmapError`."""
    classes = [module_class(ref) for ref in type_refs]
    refused = [ref for ref, cls in zip(type_refs, classes) if cls is None]
    if refused:
        allowed = ", ".join(name for names in MODULE_CLASSES.values() for name in names)
        raise SkillmapError(f"{where}: refusing to import module classes {refused} (only "
                            f"sentence-transformers' and skillmap's encoder modules are "
                            f"loaded: {allowed})")
    return classes


# sizes in a saved config that a library allocates as they say: a folder from elsewhere asking
# for 4e9 hidden units would allocate until the process dies (transformers' config.json, the
# JSON config of each sentence-transformers module)
MAX_WIDTH = 65_536
SIZE_KEYS = {"hidden_size": MAX_WIDTH, "intermediate_size": 8 * MAX_WIDTH,
             "num_hidden_layers": 256, "num_attention_heads": 1024,
             "max_position_embeddings": 1_048_576, "vocab_size": 10_000_000,
             "type_vocab_size": 1024, "word_embedding_dimension": MAX_WIDTH,
             "embedding_dimension": MAX_WIDTH, "in_features": MAX_WIDTH,
             "out_features": MAX_WIDTH, "hidden_dim": MAX_WIDTH, "num_layers": 256,
             "out_channels": MAX_WIDTH, "dimension": MAX_WIDTH}


def _present(path: Path) -> bool:
    """Something is at ``path`` (a file, a folder, a device, a dangling link)."""
    return path.exists() or path.is_symlink()


def check_config_sizes(folder: Path, name: str, required: bool = False) -> None:
    """Refuse ``folder/name`` (a JSON config) if it is not a bounded regular file or a size in
    it is outside what skillmap can allocate; a missing optional file is the loader's
    business."""
    from skillmap.bounded import check_range

    if not required and not _present(folder / name):
        return
    config = bounded.read_json(folder, name, "model config")
    if not isinstance(config, dict):
        return
    for key, high in SIZE_KEYS.items():
        if key in config and config[key] is not None:
            check_range(config[key], key, 1, high, str(folder / name))


def load_module(cls: type, folder: Path, allow_pickle: bool | None):
    """One module from its folder, weights from safetensors only (unless opted in)."""
    own_config = getattr(cls, "config_file_name", "config.json")
    check_config_sizes(folder, own_config, required=own_config != "config.json")
    check_config_sizes(folder, "config.json")
    try:
        return cls.load(str(folder), trust_remote_code=False, local_files_only=True,
                        model_kwargs=safetensors_kwargs(allow_pickle))
    except SkillmapError:
        raise
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, SafetensorError) as exc:
        raise SkillmapError(f"{folder}: cannot load its {cls.__name__} module "
                            f"({exception_line(exc)})") from None


def _read_modules_json(path: Path) -> tuple[list, list]:
    """``(types, paths)`` of the modules ``modules.json`` lists, type-checked."""
    entries = bounded.read_json(path.parent, path.name, "modules.json")
    try:
        types = [entry["type"] for entry in entries]
        paths = [entry.get("path", "") for entry in entries]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SkillmapError(f"{path}: unreadable ({exc})") from None
    if not types:
        raise SkillmapError(f"{path}: lists no modules")
    return types, paths


def _model_options(folder: Path) -> dict:
    """The prompts a model was saved with (``config_sentence_transformers.json``): what
    ``SentenceTransformer(path)`` would have applied."""
    if not (folder / "config_sentence_transformers.json").exists():
        return {}
    config = bounded.read_json(folder, "config_sentence_transformers.json", "model config")
    if not isinstance(config, dict):
        return {}
    options = {}
    if isinstance(config.get("prompts"), dict):
        options["prompts"] = config["prompts"]
    if isinstance(config.get("default_prompt_name"), str):
        options["default_prompt_name"] = config["default_prompt_name"]
    return options


def load_model(path: str | Path, device: str | None = None, allow_pickle: bool | None = None):
    """A SentenceTransformer from a local folder or a hub id, without pickle or remote code.

    A skillmap bundle is rebuilt on its installed backbone (:func:`skillmap.encoder.bundle.
    load_bundle`); a folder with ``modules.json`` is loaded module by module (see the module
    docstring); a plain transformers folder or a hub id goes to ``SentenceTransformer(path)``
    with ``trust_remote_code=False`` (it then holds only sentence-transformers' own modules).
    """
    import sentence_transformers

    from skillmap.encoder.bundle import is_bundle, load_bundle

    if is_bundle(path):
        return load_bundle(path, device=device, allow_pickle=allow_pickle)
    folder = Path(path)
    bounded.check_folder(folder, "model folder")
    check_model_files(folder, allow_pickle)
    modules_file = folder / "modules.json"
    check_config_sizes(folder, "config.json")
    if not _present(modules_file):
        return sentence_transformers.SentenceTransformer(
            str(path), device=device, trust_remote_code=False,
            model_kwargs=safetensors_kwargs(allow_pickle))
    types, paths = _read_modules_json(modules_file)
    classes = module_classes(types, folder)
    folders = [folder if module_path == "" else  # "" is the folder itself (the Transformer)
               resolve_inside(folder, module_path, f"{modules_file} module path")
               for module_path in paths]
    modules = [load_module(cls, module_folder, allow_pickle)
               for cls, module_folder in zip(classes, folders)]
    return sentence_transformers.SentenceTransformer(modules=modules, device=device,
                                                     **_model_options(folder))
