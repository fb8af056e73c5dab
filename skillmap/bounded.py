"""Reading files from folders skillmap did not write: inside the folder, regular, bounded.

An index, a taxonomy, a prompts folder or a model may come from anywhere, and each file in it
is read as that file *claims* to be: a symbolic link to ``/dev/zero`` or to a 100 GB sparse
file would be read until memory runs out, a link to ``~/.ssh/id_rsa`` would be read (and
quoted in an error message), and a ten-line YAML file of nested aliases expands to gigabytes.
Every loader of such a folder reads through this module:

- :func:`bounded_file` — the path of ``folder/relative`` if it stays inside ``folder``
  (:func:`~skillmap.security.resolve_inside`: no ``..``, no absolute path, no link out), is a
  regular file (not a device, FIFO or socket) and is no larger than its kind's cap
  (:data:`SIZE_CAPS`); for files another library opens by path (faiss, safetensors).
- :func:`read_bytes` / :func:`read_text` / :func:`read_json` / :func:`read_yaml` — the same
  checks, then a read that stops at the cap even if the file grows meanwhile.
- :func:`load_yaml` — YAML whose aliases (``*name``) expand to at most
  :data:`MAX_YAML_VALUES` values: a "billion laughs" file multiplies itself through them.
- :func:`check_folder` — every file of a model, bundle or filter folder, before a library
  (transformers, safetensors, peft) opens them by name: regular files inside the folder,
  each within its cap, and not too many of them.
- :func:`check_range` — a number from a config file inside the range skillmap can use
  (a bundle's ``hidden_dim`` of 4e9 would otherwise allocate until the process dies).

Every refusal is one :class:`~skillmap.errors.SkillmapError` line naming the file; the
content of a refused file is never read, so never quoted.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from skillmap.errors import SkillmapError, exception_line
from skillmap.security import resolve_inside

MiB = 1024 * 1024
# the largest file of each kind skillmap reads from an untrusted folder (the shipped and
# generated ones are far smaller: ESCO's skills.csv is ~7 MB, an index's metadata ~10 KB)
SIZE_CAPS = {
    "yaml": 1 * MiB,       # taxonomy.yaml, prompt templates, template phrasings
    "json": 16 * MiB,      # metadata.json, manifests, configs
    "csv": 256 * MiB,      # taxonomy tables
    "text": 16 * MiB,      # anything else read whole
    "tokenizer": 128 * MiB,  # a multilingual tokenizer's vocabulary (EmbeddingGemma's: 33 MB)
    "weights": 8 * 1024 * MiB,  # safetensors of a model (all-mpnet-base-v2: 438 MB)
}
MAX_FOLDER_FILES = 10_000  # files a model folder may hold (a hub snapshot has tens)
_TOKENIZER_FILES = frozenset({"tokenizer.json", "tokenizer_config.json", "tokenizer.model",
                              "sentencepiece.bpe.model", "spiece.model", "vocab.json",
                              "vocab.txt", "merges.txt"})
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".gguf", ".model", ".h5",
                    ".msgpack", ".ckpt")


def bounded_file(folder: str | os.PathLike, relative: str | os.PathLike, kind: str,
                 what: str = "file", cap: int | None = None) -> Path:
    """``folder/relative`` if it is a regular file inside ``folder`` within the size cap."""
    path = resolve_inside(folder, relative, what)
    limit = SIZE_CAPS[kind] if cap is None else cap
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SkillmapError(f"{path}: missing") from None
    except OSError as exc:
        raise SkillmapError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SkillmapError(f"{path}: not a regular file (a device, pipe or folder); refusing "
                            "to read it")
    if info.st_size > limit:
        raise SkillmapError(f"{path}: {info.st_size:,} bytes is over the limit for this "
                            f"{what} ({limit:,} bytes)")
    return path


def read_bytes(folder, relative, kind: str, what: str = "file", cap: int | None = None
               ) -> bytes:
    """The bytes of a :func:`bounded_file`, read no further than its cap."""
    path = bounded_file(folder, relative, kind, what, cap)
    limit = SIZE_CAPS[kind] if cap is None else cap
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SkillmapError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise SkillmapError(f"{path}: grew past {limit:,} bytes while it was read")
    return data


def read_text(folder, relative, kind: str, what: str = "file", cap: int | None = None) -> str:
    data = read_bytes(folder, relative, kind, what, cap)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkillmapError(f"{Path(folder) / relative}: not valid UTF-8 (byte "
                            f"0x{data[exc.start]:02x} at offset {exc.start})") from None


def read_json(folder, relative, what: str = "file", cap: int | None = None) -> Any:
    text = read_text(folder, relative, "json", what, cap)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SkillmapError(f"{Path(folder) / relative}: not valid JSON ({exc.msg} at line "
                            f"{exc.lineno})") from None
    except RecursionError:
        raise SkillmapError(f"{Path(folder) / relative}: JSON nested too deeply") from None


def read_yaml(folder, relative, what: str = "file", cap: int | None = None) -> Any:
    return load_yaml(read_text(folder, relative, "yaml", what, cap), str(Path(folder) / relative))


MAX_YAML_VALUES = 200_000  # values a YAML document may expand to, aliases counted each time


class _BudgetLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting what the document expands to.

    An alias (``*name``) repeats its anchor's value without copying it, so ten lines of
    nested aliases ("billion laughs") load quickly, then anything that walks the result —
    validation, printing, hashing — expands them into gigabytes. Aliases are allowed (PyYAML's
    own dumper writes them for shared lists) as long as the document, fully expanded, holds
    at most :data:`MAX_YAML_VALUES` values.
    """

    def compose_document(self):
        self._expanded = {}
        return super().compose_document()

    def compose_node(self, parent, index):
        node = super().compose_node(parent, index)
        sizes = self._expanded
        if id(node) not in sizes:  # an alias returns its (already counted) anchor's node
            if isinstance(node, yaml.SequenceNode):
                size = 1 + sum(sizes.get(id(child), 1) for child in node.value)
            elif isinstance(node, yaml.MappingNode):
                size = 1 + sum(sizes.get(id(k), 1) + sizes.get(id(v), 1) for k, v in node.value)
            else:
                size = 1
            sizes[id(node)] = size
            if size > MAX_YAML_VALUES:
                raise yaml.composer.ComposerError(
                    None, None, f"expands to more than {MAX_YAML_VALUES:,} values (aliases?)",
                    node.start_mark)
        return node


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML with the safe loader, within an expansion budget; errors as one line."""
    try:
        return yaml.load(text, Loader=_BudgetLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SkillmapError(f"{source}: not valid YAML ({exception_line(exc)})") from None
    except RecursionError:  # "[[[[..." overflows PyYAML's composer
        raise SkillmapError(f"{source}: not valid YAML (nested too deeply)") from None


def check_folder(folder: str | os.PathLike, what: str = "model folder") -> None:
    """Refuse a folder any file of which another library would read unbounded.

    Libraries open a model folder's files by name (``config.json``, ``tokenizer.json``, the
    weights) with no size cap and follow symbolic links. Each file must therefore be a regular
    file inside ``folder`` (a link inside the folder is fine), weights within
    ``SIZE_CAPS["weights"]``, a tokenizer's vocabulary files within ``SIZE_CAPS["tokenizer"]``
    (large for a multilingual model) and anything else within ``SIZE_CAPS["json"]``, and the folder
    must hold at most :data:`MAX_FOLDER_FILES` files. A path that is not a folder is left to
    the caller (a hub id, a single file).
    """
    root = Path(folder)
    if not root.is_dir():
        return
    # a Hugging Face cache snapshot links each file to ../../blobs of its own repository
    boundary = root.parents[1] if root.parent.name == "snapshots" else root
    seen = 0
    for current, folders, files in os.walk(root, followlinks=False):
        for name in folders:
            if (Path(current) / name).is_symlink():  # os.walk would not enter it: check it
                resolve_inside(boundary, (Path(current) / name).relative_to(boundary), what)
        for name in files:
            seen += 1
            if seen > MAX_FOLDER_FILES:
                raise SkillmapError(f"{root}: more than {MAX_FOLDER_FILES:,} files; refusing "
                                    f"to load this {what}")
            relative = (Path(current) / name).relative_to(boundary)
            kind = ("weights" if name.lower().endswith(_WEIGHT_SUFFIXES) else
                    "tokenizer" if name in _TOKENIZER_FILES else "json")
            bounded_file(boundary, relative, kind, what)


def check_range(value: Any, name: str, low: float, high: float, source: str = "",
                integer: bool = True) -> Any:
    """``value`` if it is a number (an integer when ``integer``) in ``[low, high]``."""
    kind = int if integer else (int, float)
    ok = (isinstance(value, kind) and not isinstance(value, bool)
          and (integer or math.isfinite(value)) and low <= value <= high)
    if not ok:
        where = f"{source}: " if source else ""
        raise SkillmapError(f"{where}{name} must be {'an integer' if integer else 'a number'} "
                            f"from {low:,} to {high:,}, got {value!r:.40}")
    return value
