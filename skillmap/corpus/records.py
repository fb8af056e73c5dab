"""The synthetic corpus file: JSONL, one sentence per line, appended safely and de-duplicated.

Each line is a :class:`CorpusRecord` (the fields of the design's corpus format). The writer
opens an existing corpus for *appending*: it first cuts off a torn last line (a run killed
mid-write), then remembers every sentence already there so a resumed or repeated run adds
only what is new. Lines are written whole and flushed in batches, with an fsync before the
file is closed, so the file on disk is always a sequence of complete lines.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import IO, Iterator

from pydantic import BaseModel, ConfigDict, ValidationError

from skillmap.corpus.text import near_duplicate, normalise, words
from skillmap.errors import InputError
from skillmap.io import UTF8_BOM, bounded_lines, open_regular_file, try_lock


class CorpusRecord(BaseModel):
    """One synthetic training sentence and where it came from."""

    model_config = ConfigDict(extra="ignore")
    text: str
    skill_ids: list[str]
    mode: str
    template_id: str
    template_version: int
    backend: str
    model: str
    seed: int
    group: str | None = None       # Level-2 group id of a constrained combination
    category: str | None = None    # kind of text, for negatives
    language: str = "en"
    request_id: str = ""
    style: str | None = None       # the form the prompt asked for (duty, terse list, ...)
    implicit: bool | None = None   # whether the prompt asked to avoid the skills' own words


def read_corpus(path: str | os.PathLike, complete_lines_only: bool = False
                ) -> Iterator[CorpusRecord]:
    """Records of a corpus file (``.jsonl``, or ``.jsonl.gz`` as committed in
    ``data/corpora/``); a malformed line (bad JSON, bad UTF-8, not a record) is an
    :class:`InputError` naming the line. ``complete_lines_only``: a last line without its
    newline (a killed writer's, perhaps cut inside a character) is left out."""
    path = Path(path)
    # bytes, decoded line by line: a torn multi-byte character in a left-out last line must
    # not fail the lines before it
    raw = open_regular_file(path, "corpus")
    with raw, (gzip.open(raw, "rb") if path.suffix == ".gz" else raw) as handle:
        for number, line in _lines(handle, path):
            if complete_lines_only and not line.endswith(b"\n"):
                return
            if number == 1 and line.startswith(UTF8_BOM):  # saved by an editor that adds one
                line = line[len(UTF8_BOM):]
            if not line.strip():
                continue
            try:
                yield CorpusRecord.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "line"
                raise InputError(f"{path} line {number}: {where}: {first['msg']}") from None


MAX_LINE_BYTES = 1 << 20  # a corpus line is one sentence and its provenance


def _lines(handle, path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbered lines; a damaged gzip stream, or a line too long to be a corpus line (a
    file of zeros, a binary file), is an :class:`InputError`, read no further than that."""
    try:
        yield from bounded_lines(handle, MAX_LINE_BYTES, lambda n: InputError(
            f"{path} line {n}: longer than {MAX_LINE_BYTES:,} bytes, not a corpus line"))
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read corpus {path}: {exc}") from None


class CorpusWriter:
    """Append-only, de-duplicating JSONL writer; use as a context manager."""

    def __init__(self, path: str | os.PathLike, flush_every: int = 200,
                 near_duplicate: float | None = None):
        self.path = Path(path)
        self.flush_every = flush_every
        self.seen: set[bytes] = set()  # 16-byte digests: memory stays small on big corpora
        # near-duplicates are looked for among sentences of the same skills only: that is
        # where a model repeats itself, and it keeps the check linear in the corpus size
        self.near_threshold = near_duplicate
        self._by_skills: dict[tuple[str, ...], list[frozenset[str]]] = {}
        self.existing = 0
        self.written = 0
        self.duplicates = 0
        self.near_duplicates = 0
        # (request id, its skills, template id, template version, model) of the lines written
        # so far: a run whose answer cache is lost (a new machine) does not ask those prompts
        # again. The skills are part of it because another --seed draws other combinations
        # under the same request ids (multi-skill modes); those are new prompts. A retry
        # pass asks the requests that have none.
        self.answered: set[tuple[str, tuple[str, ...], str, int, str]] = set()
        self.repaired_bytes = 0
        self._handle: IO[str] | None = None
        self._unflushed = 0

    def __enter__(self) -> "CorpusWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_symlink() and not self.path.exists():  # would create its target
            raise InputError(f"{self.path}: a link to nothing (or a loop of links); choose a "
                             "file for --out")
        if self.path.exists() and not self.path.is_file():  # a FIFO would block
            raise InputError(f"{self.path}: not a regular file (a folder, device or pipe); "
                             "choose a file for --out")
        # the lock comes before the torn tail is cut and the lines are read: a second run on
        # the same file would cut the first one's half-written line, and, having read the
        # corpus before the first run's new lines, write every sentence again
        try:
            handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write corpus {self.path}: {exc.strerror or exc}"
                             ) from None
        try:
            if not try_lock(handle.fileno()):
                raise InputError(f"another skillmap run is writing {self.path}; wait for it "
                                 "to finish (then run again to complete it), or choose "
                                 "another --out")
            # every complete line must be a corpus line before anything is cut: --out naming
            # some other file is refused with that file as it was
            for record in read_corpus(self.path, complete_lines_only=True):
                self.seen.add(_dedupe_key(record.text))
                self._remember(record)
                self.existing += 1
            self.repaired_bytes = _cut_torn_tail(self.path)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        return self

    def add(self, record: CorpusRecord) -> bool:
        """Append ``record`` unless its sentence is already in the corpus; True if written."""
        key = _dedupe_key(record.text)
        if key in self.seen:
            self.duplicates += 1
            return False
        if self.near_threshold is not None and record.skill_ids and near_duplicate(
                frozenset(words(record.text)), self._by_skills.get(tuple(record.skill_ids), ()),
                self.near_threshold):
            self.near_duplicates += 1
            return False
        self.seen.add(key)
        self._remember(record)
        assert self._handle is not None, "use CorpusWriter as a context manager"
        self._handle.write(record.model_dump_json() + "\n")
        self.written += 1
        self._unflushed += 1
        if self._unflushed >= self.flush_every:
            self.flush()
        return True

    def _remember(self, record: CorpusRecord) -> None:
        if record.request_id:
            self.answered.add(answer_key(record.request_id, record.skill_ids,
                                         record.template_id, record.template_version,
                                         record.model))
        if self.near_threshold is not None and record.skill_ids:
            self._by_skills.setdefault(tuple(record.skill_ids), []).append(
                frozenset(words(record.text)))

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            self._unflushed = 0

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


def answer_key(request_id: str, skill_ids, template_id: str, template_version: int,
               model: str) -> tuple[str, tuple[str, ...], str, int, str]:
    """What names one answered prompt among a corpus's lines (see ``CorpusWriter.answered``)."""
    return request_id, tuple(skill_ids), template_id, template_version, model


def in_heldout(text: str, fraction: float) -> bool:
    """Whether a sentence belongs to the held-out split: by its hash, so the same sentence is
    on the same side in every run and every model trained on the corpus."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def _dedupe_key(text: str) -> bytes:
    """A sentence's identity for de-duplication (case, spacing, punctuation do not count)."""
    return hashlib.blake2b(normalise(text).encode(), digest_size=16).digest()


def _cut_torn_tail(path: Path) -> int:
    """Truncate ``path`` after its last newline when what follows is the start of a corpus
    line (a killed writer's); returns how many bytes were cut. Anything else there is not
    ours to cut: an :class:`InputError`, the file untouched."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        block = 1 << 16
        position = size
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        else:
            keep = 0
        if keep < size:
            handle.seek(keep)
            if not handle.read(2) == b'{"':
                raise InputError(f"{path}: its last line is not a corpus line; it is not a "
                                 "skillmap corpus, choose another --out")
            handle.truncate(keep)
        return size - keep
