"""Hostile files for the untrusted-folder and upload tests: folders whose files are devices,
links out, FIFOs, sparse giants or YAML alias bombs, and uploads that are zip, row or
Flate bombs. Used in-process by the tests and by the child process that measures peak
memory under `resource` limits (``python -m helpers.hostile``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import zipfile
import zlib
from pathlib import Path

import numpy as np

SECRET = "top-secret-first-line-of-a-file-outside"
DEMO_TAXONOMY = Path(__file__).resolve().parents[2] / "taxonomies" / "demo"
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

# what a file of a folder can be replaced by (each must be refused in one line)
REPLACEMENTS = ("dev-zero", "link-outside", "fifo", "directory", "sparse-10GB", "link-loop",
                "dangling-link", "yaml-alias-bomb", "deep-nesting")


def make_index(folder: Path) -> Path:
    """A valid index of the demo taxonomy with random vectors (no model needed)."""
    import faiss

    from skillmap.index.skill_index import IndexMetadata, SkillIndex
    from skillmap.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(DEMO_TAXONOMY)
    vectors = np.random.default_rng(0).normal(size=(len(taxonomy.skills), 8)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(8)
    index.add(vectors)
    probe = [round(float(x), 6) for x in vectors[0]]
    metadata = IndexMetadata(taxonomy.metadata.name, taxonomy.metadata.version,
                             taxonomy.fingerprint, "sentence-transformers/all-MiniLM-L6-v2", 8,
                             "{label}", len(taxonomy.skills), "flat", probe)
    SkillIndex(taxonomy, index, metadata).save(folder)
    return folder


def replace(path: Path, kind: str, outside: Path) -> None:
    """Put a hostile ``kind`` where ``path`` was."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "link-outside":
        secret = outside / "secret.txt"
        secret.write_text(SECRET + "\nid,label\n")
        path.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "sparse-10GB":
        with open(path, "wb") as handle:
            handle.truncate(10 * 1024 ** 3)
    elif kind == "link-loop":
        path.symlink_to(path.name)
    elif kind == "dangling-link":
        path.symlink_to(outside / "nothing-here")
    elif kind == "yaml-alias-bomb":
        path.write_text(yaml_alias_bomb())
    elif kind == "deep-nesting":
        path.write_text("[" * 100_000 + "]" * 100_000)


class Hang(Exception):
    """A call that did not return within its seconds (:func:`within`)."""


def within(seconds: int, function, *args):
    """``function(*args)``, raising :class:`Hang` after ``seconds``: a FIFO opened for
    reading, or /dev/zero read whole, would otherwise hang the test run."""
    def alarm(signum, frame):
        raise Hang(f"{getattr(function, '__name__', function)} ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return function(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def yaml_alias_bomb(levels: int = 9) -> str:
    """Ten lines that expand to 10**levels strings ("billion laughs")."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\nname: bomb\n"


# ------------------------------------------------------------------ uploads
# (written chunk by chunk: building a bomb must not itself take the memory it is about)
def docx_zip_bomb(inflated_mb: int = 400) -> bytes:
    """A .docx whose document.xml inflates to ``inflated_mb`` MB (~0.4 MB on disk)."""
    from helpers.documents import docx_bytes

    return _replace_member(docx_bytes(["We need Python."]), "word/document.xml",
                           (b"<w:p/>" * 174_762 for _ in range(inflated_mb)))


def xlsx_million_rows(rows: int = 1_000_000) -> bytes:
    """A workbook of ``rows`` one-cell rows (~5 MB zipped)."""
    import pandas as pd

    from helpers.documents import xlsx_bytes

    def sheet():
        yield (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
               b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
               b'<row r="1"><c r="A1" t="inlineStr"><is><t>text</t></is></c></row>')
        for start in range(2, rows + 2, 10_000):
            yield "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
                          for r in range(start, min(start + 10_000, rows + 2))).encode()
        yield b"</sheetData></worksheet>"

    return _replace_member(xlsx_bytes(pd.DataFrame({"text": ["x"]})),
                           "xl/worksheets/sheet1.xml", sheet())


def pdf_flate_bomb(inflated_mb: int = 500) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of text operators."""
    compressor = zlib.compressobj(9)
    chunk = b"BT /F1 11 Tf 50 780 Td (We need Python.) Tj ET\n" * 20_000
    body = b"".join(compressor.compress(chunk) for _ in range(inflated_mb * 1024 * 1024
                                                             // len(chunk)))
    body += compressor.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body
               + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def _replace_member(archive: bytes, name: str, chunks) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item.filename, source.read(item.filename))
                continue
            with target.open(item.filename, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
    return out.getvalue()


UPLOAD_BOMBS = {"ad.docx": docx_zip_bomb, "ads.xlsx": xlsx_million_rows, "ad.pdf": pdf_flate_bomb}
FOLDER_BOMBS = [("taxonomy", "taxonomy.yaml", kind) for kind in
                ("dev-zero", "sparse-10GB", "yaml-alias-bomb")] + [
    ("prompts", "single.yaml", kind) for kind in ("dev-zero", "sparse-10GB", "yaml-alias-bomb")
] + [("taxonomy", "skills.csv", kind) for kind in ("dev-zero", "sparse-10GB")] + [
    ("index", name, kind) for name in ("metadata.json", "index.faiss", "taxonomy/skills.csv")
    for kind in ("dev-zero", "sparse-10GB")] + [
    (folder, name, kind) for folder, name in (
        ("model", "modules.json"), ("model", "1_AttentionPooling/model.safetensors"),
        ("model", "1_AttentionPooling/attention_pooling_config.json"),
        ("filter", "filter.json"))
    for kind in ("dev-zero", "sparse-10GB", "deep-nesting")]


def make_model(folder: Path) -> Path:
    """A valid sentence-transformers folder of one small skillmap module (no backbone: the
    loader's checks run all the same, in a fraction of a second)."""
    from skillmap.encoder.modules import AttentionPooling

    (folder / "1_AttentionPooling").mkdir(parents=True)
    AttentionPooling(8, 4).save(str(folder / "1_AttentionPooling"))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "1_AttentionPooling",
         "type": "skillmap.encoder.modules.AttentionPooling"}]))
    return folder


def make_filter(folder: Path) -> Path:
    """A valid filter folder (the keyword heuristic: a manifest and nothing else)."""
    from skillmap.filter import resolve_filter

    resolve_filter("keyword-length").save(folder)
    return folder


def make_folder(kind: str, folder: Path) -> Path:
    """A valid folder of ``kind`` (taxonomy, prompts, index, model, filter)."""
    if kind == "index":
        return make_index(folder)
    if kind == "model":
        return make_model(folder)
    if kind == "filter":
        return make_filter(folder)
    shutil.copytree(DEMO_TAXONOMY if kind == "taxonomy" else PROMPTS, folder)
    return folder


def load_folder(kind: str, folder: Path):
    from skillmap.generation.prompts import load_prompt
    from skillmap.index import SkillIndex
    from skillmap.taxonomy import load_taxonomy

    if kind == "index":
        return SkillIndex.load(folder)
    if kind == "model":
        from skillmap.encoder.loading import load_model

        return load_model(folder)
    if kind == "filter":
        from skillmap.filter import load_filter

        return load_filter(folder)
    if kind == "prompts":
        return load_prompt("single", folder)
    return load_taxonomy(folder)


# ------------------------------------------------------------------ the measuring child
def main(root: str) -> None:
    """Build every bomb, then load each in this process under an address-space limit of
    what the process takes at that point plus 1 GiB; print one JSON line: each case's
    outcome and the peak RSS (the builders write their bombs chunk by chunk, so the peak
    is the loaders')."""
    import resource
    import time

    from skillmap.app.uploads import read_upload
    from skillmap.errors import SkillmapError

    root_path = Path(root)
    cases = []
    for number, (kind, relative, replacement) in enumerate(FOLDER_BOMBS):
        folder = make_folder(kind, root_path / f"case-{number}")
        replace(folder / relative, replacement, root_path)
        cases.append((f"{kind} {relative}: {replacement}",
                      lambda kind=kind, folder=folder: load_folder(kind, folder)))
    for name, build in UPLOAD_BOMBS.items():
        data = build()
        cases.append((f"upload {name}", lambda name=name, data=data: read_upload(name, data)))
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    limit = size + 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcomes = {}
    for name, run in cases:
        started = time.monotonic()
        try:
            run()
            outcomes[name] = "accepted"
        except SkillmapError as exc:
            outcomes[name] = f"refused in {time.monotonic() - started:.1f}s: {exc}"
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            outcomes[name] = f"FAILED with {type(exc).__name__}: {exc}"[:300]
    print(json.dumps({"outcomes": outcomes, "peak_rss_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not carried over from the parent
    whose fork started this process)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
