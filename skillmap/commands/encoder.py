"""``skillmap encoder export-onnx``: run an encoder with ONNX Runtime (float32 or int8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.choices import choices
from skillmap.encoder.onnx import QUANTIZATIONS

encoder_app = typer.Typer(help="Convert encoders (ONNX Runtime export for faster CPU "
                          "inference).", no_args_is_help=True)


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
