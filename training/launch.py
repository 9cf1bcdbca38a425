"""Command-line launcher: argparse → ``TrainConfig`` → ``training.train.train``.

Single process::

    python -m training.launch --data /data/wwclip --mode online --output-dir runs/r1

Several processes on one node (CPU: gloo; GPUs: NCCL, one process per GPU)::

    torchrun --nproc_per_node 2 -m training.launch --data /data/wwclip --mode online \\
        --model ViT-B-32 --batch-size 256 --epochs 10 --output-dir runs/r1 --resume latest

``--data`` is the curation output root (``curated``; online mode: ``matched`` + ``entry_probs``);
``--table`` points at one table instead. Relaunching with ``--resume latest`` continues from the
last checkpoint, mid-epoch, with the same data order. ``--pretrained PATH`` starts from a local
open_clip checkpoint (``training.pretrained``); ``--english-batch`` / ``--english-seen-pairs`` /
``--worldwide-scale`` derive the batch and steps from an English-only recipe (``training.scaling``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from training.optim import PRECISIONS
from training.reader import DataConfig, tables_under_root
from training.scaling import METACLIP2_SCALE, format_recipe, worldwide_recipe
from training.train import TrainConfig

DEFAULT_MODEL = "wwclip-tiny"
DEFAULT_BATCH_SIZE = 64


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training.launch", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d = ap.add_argument_group("data")
    d.add_argument("--data", help="curation output root holding curated / matched / entry_probs")
    d.add_argument("--table", help="train on this table instead of one under --data")
    d.add_argument("--mode", choices=("offline", "online"), default="offline",
                   help="offline: the curated table; online: MetaCLIP 2 balancing of matched every epoch")
    d.add_argument("--entry-probs", help="entry_probs table (online mode; default: beside the table)")
    d.add_argument("--format", choices=("auto", "parquet", "delta"), default="auto")
    d.add_argument("--version", type=int, help="Delta version of the training table (time travel)")
    d.add_argument("--entry-probs-version", type=int, help="Delta version of entry_probs")
    d.add_argument("--text-column", default="text")
    d.add_argument("--image-column", help="image bytes column (default: jpg/png/image/... if present)")
    d.add_argument("--image-path-column", help="column of image paths relative to --image-root")
    d.add_argument("--image-key-column", help="img2dataset 'key' column: images at <root>/<key[:5]>/<key>.jpg")
    d.add_argument("--image-root", help="folder of downloaded images (default: the table's parent folder)")
    d.add_argument("--data-seed", type=int, default=0, help="balancing and shuffling seed (same as curation's)")
    d.add_argument("--block-units", type=int, default=4, help="row groups shuffled together per worker")
    d.add_argument("--balance", choices=("yield", "rows"), default="yield",
                   help="deal row groups to ranks by expected samples (online: sum of keep probabilities, one "
                        "scan of uid/lang/entry_ids at start, cached) or by rows")
    d.add_argument("--workers", type=int, default=2, help="data-loader workers per process")
    m = ap.add_argument_group("model")
    m.add_argument("--model", help=f"open_clip name, wwclip-tiny/-small, or config JSON (default {DEFAULT_MODEL}; "
                                   "with --pretrained: the config beside the checkpoint)")
    m.add_argument("--pretrained", help="start from this local open_clip checkpoint (file or folder; needs its "
                                        "tokenizer: --tokenizer or beside it)")
    m.add_argument("--tokenizer", help="HF tokenizer directory / tokenizer.json (default: train one on the data)")
    m.add_argument("--tokenizer-vocab-size", type=int, default=32_000)
    m.add_argument("--context-length", type=int)
    m.add_argument("--text-vocab-size", type=int, help="text embedding rows (>= tokenizer vocab; default: equal)")
    m.add_argument("--grad-checkpointing", action="store_true")
    o = ap.add_argument_group("optimisation")
    o.add_argument("--batch-size", type=int, help=f"per process (default {DEFAULT_BATCH_SIZE})")
    o.add_argument("--drop-last", action="store_true",
                   help="skip each epoch's last step if it holds fewer than the global batch (default: train it)")
    o.add_argument("--epochs", type=int, default=1)
    o.add_argument("--max-steps", type=int, help="train this many steps (cycling epochs); sets the schedule")
    o.add_argument("--steps-per-epoch", type=int, help="override the estimate used for the LR schedule")
    o.add_argument("--stop-at-step", type=int, help="checkpoint and exit at this step (resume later)")
    o.add_argument("--lr", type=float, default=5e-4)
    o.add_argument("--wd", type=float, default=0.2)
    o.add_argument("--warmup", type=int, default=100)
    o.add_argument("--grad-clip", type=float, default=1.0)
    o.add_argument("--precision", choices=PRECISIONS, default="auto")
    o.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    o.add_argument("--cpu-threads", type=int, help="CPU runs: torch threads per process (default: cores/process - workers)")
    o.add_argument("--seed", type=int, default=0, help="model initialisation seed")
    w = ap.add_argument_group("worldwide scaling (MetaCLIP 2; training.scaling)")
    w.add_argument("--english-batch", type=int,
                   help="global batch of the English-only recipe; sets --batch-size = floor(scale x this / ranks)")
    w.add_argument("--english-seen-pairs", type=float,
                   help="seen pairs of the English-only recipe; sets --max-steps = ceil(scale x this / global batch)")
    w.add_argument("--worldwide-scale", type=float,
                   help=f"factor on batch and seen pairs (default {METACLIP2_SCALE} with --english-batch)")
    r = ap.add_argument_group("run")
    r.add_argument("--output-dir", required=True)
    r.add_argument("--resume", help="'latest' or a checkpoint path")
    r.add_argument("--log-every", type=int, default=10)
    r.add_argument("--save-every", type=int, default=1000)
    r.add_argument("--keep-checkpoints", type=int, default=2)
    r.add_argument("--no-csv-log", action="store_true")
    r.add_argument("--tensorboard", action="store_true")
    r.add_argument("--record-data-order", action="store_true", help="write each step's uids per rank")
    return ap


def apply_worldwide_scaling(args: argparse.Namespace, world_size: int) -> None:
    """Fill ``batch_size`` / ``max_steps`` from the English-only recipe (``training.scaling``)."""
    if args.english_batch is None:
        if args.worldwide_scale is not None or args.english_seen_pairs is not None:
            raise SystemExit("--worldwide-scale / --english-seen-pairs need --english-batch (the English-only recipe)")
        return
    if args.batch_size is not None:
        raise SystemExit("--english-batch computes the per-process batch; do not give --batch-size as well")
    if args.english_seen_pairs is not None and args.max_steps is not None:
        raise SystemExit("--english-seen-pairs computes --max-steps; do not give both")
    scale = args.worldwide_scale if args.worldwide_scale is not None else METACLIP2_SCALE
    try:
        recipe = worldwide_recipe(args.english_batch, world_size, scale, args.english_seen_pairs)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    args.batch_size = recipe.per_rank_batch
    if recipe.steps is not None:
        args.max_steps = recipe.steps
    args.worldwide_recipe = recipe


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Validate the arguments into a typed config (errors before any work)."""
    if not args.data and not args.table:
        raise SystemExit("give --data (curation output root) or --table")
    apply_worldwide_scaling(args, int(os.environ.get("WORLD_SIZE", "1")))
    if args.batch_size is None:
        args.batch_size = DEFAULT_BATCH_SIZE
    if args.model is None and not args.pretrained:
        args.model = DEFAULT_MODEL
    table, probs = (args.table, args.entry_probs) if args.table else tables_under_root(args.data, args.mode)
    data = DataConfig(table=table, mode=args.mode, entry_probs=args.entry_probs or probs, format=args.format,
                      version=args.version, entry_probs_version=args.entry_probs_version,
                      text_column=args.text_column, image_bytes_column=args.image_column,
                      image_path_column=args.image_path_column, image_key_column=args.image_key_column,
                      image_root=args.image_root, seed=args.data_seed, block_units=args.block_units,
                      balance=args.balance)
    return TrainConfig(
        data=data, output_dir=args.output_dir, model=args.model, pretrained=args.pretrained, tokenizer=args.tokenizer,
        tokenizer_vocab_size=args.tokenizer_vocab_size, context_length=args.context_length,
        text_vocab_size=args.text_vocab_size,
        batch_size=args.batch_size, drop_last=args.drop_last, epochs=args.epochs, max_steps=args.max_steps,
        stop_at_step=args.stop_at_step,
        steps_per_epoch=args.steps_per_epoch, lr=args.lr, weight_decay=args.wd, warmup_steps=args.warmup,
        grad_clip=args.grad_clip or None, precision=args.precision, grad_checkpointing=args.grad_checkpointing,
        workers=args.workers, device=args.device, cpu_threads=args.cpu_threads, seed=args.seed, log_every=args.log_every,
        save_every=args.save_every or None, keep_checkpoints=args.keep_checkpoints, resume=args.resume,
        csv_log=not args.no_csv_log, tensorboard=args.tensorboard, record_data_order=args.record_data_order)


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return config_from_args(build_parser().parse_args(argv))


def setup_logging() -> None:
    rank = os.environ.get("RANK", "0")
    logging.basicConfig(level=logging.INFO if rank == "0" else logging.WARNING, stream=sys.stdout,
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = config_from_args(args)
    setup_logging()
    if getattr(args, "worldwide_recipe", None) is not None and os.environ.get("RANK", "0") == "0":
        print(format_recipe(args.worldwide_recipe))
    from training.distributed import shutdown_distributed
    from training.train import train

    try:
        summary = train(cfg)
    finally:
        shutdown_distributed()
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
