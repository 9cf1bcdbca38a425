"""``python -m training.clic``: CLIC fine-tuning with evaluation before and after, evaluation alone, the demo.

    python -m training.clic finetune --pretrained runs/r1/model --table /data/long_captions \\
        --output-dir runs/clic --sugarcrepe /data/sugarcrepe --sugarcrepe-pp /data/scpp --eval-image-root /data/coco/val2017
    torchrun --nproc_per_node 4 -m training.clic finetune ...        # the same, on 4 processes
    python -m training.clic evaluate --model-dir runs/clic/model --sugarcrepe-pp /data/scpp --eval-image-root ...
    python -m training.clic demo --out /tmp/wwclip-clic-demo

``finetune`` takes every argument of the trainer (``python -m training.launch``, whose
``--method`` is ``clic`` here) plus the evaluation sources, and runs ``training.clic.finetune``:
evaluate, train in the trainer's loop, evaluate. ``--pretrained``: an exported model directory
(``<run>/model``), an open_clip checkpoint, or a training checkpoint (``<run>/checkpoints/step_N.pt``).
``--table``: a table (Parquet/Delta, with ``uid``, a caption column and an image column) or a
captions file (.jsonl / .csv / .tsv). See docs/clic.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from training.launch import build_parser as trainer_parser
from training.launch import config_from_args, setup_logging


def _eval_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("evaluation (before and after)")
    g.add_argument("--sugarcrepe", help="folder of SugarCrepe subset JSON files (or one folder per language)")
    g.add_argument("--sugarcrepe-pp", help="folder of SugarCrepe++ subset JSON files (or one folder per language)")
    g.add_argument("--eval-image-root", help="benchmark images (COCO val2017); default <folder>/images")
    g.add_argument("--retrieval", help="retrieval table / folder / .jsonl (training.evaluate)")
    g.add_argument("--zeroshot", help="zero-shot table or class-per-folder directory (training.evaluate)")
    g.add_argument("--classes", help="class file for --zeroshot")


def _eval_sources(args):
    from training.clic.finetune import EvalSources

    return EvalSources(args.sugarcrepe, args.sugarcrepe_pp, args.eval_image_root, args.retrieval, args.zeroshot,
                       args.classes)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training.clic", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    f = sub.add_parser("finetune", parents=[trainer_parser(add_help=False)], formatter_class=ap.formatter_class,
                       help="fine-tune the text tower with CLIC (the trainer's --method clic), evaluate before/after")
    f.set_defaults(method="clic")
    _eval_args(f)

    e = sub.add_parser("evaluate", help="SugarCrepe / SugarCrepe++ / retrieval / zero-shot of a model",
                       formatter_class=ap.formatter_class)
    e.add_argument("--model-dir", required=True, help="exported model directory or checkpoint")
    e.add_argument("--device", default="cpu")
    e.add_argument("--out", help="write the results JSON here")
    _eval_args(e)

    m = sub.add_parser("demo", help="offline demo on the shapes data (base CLIP, CLIC, before/after)",
                       formatter_class=ap.formatter_class)
    m.add_argument("--out", required=True)
    m.add_argument("--base-steps", type=int, default=400)
    m.add_argument("--clic-steps", type=int, default=600)
    m.add_argument("--batch-size", type=int, default=32)
    m.add_argument("--lr", type=float, default=2e-4)
    m.add_argument("--n-train", type=int, default=4000)
    m.add_argument("--n-eval", type=int, default=150)
    m.add_argument("--workers", type=int, default=1)
    m.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    m.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "finetune":
        from training.clic.finetune import finetune
        from training.distributed import shutdown_distributed

        cfg = config_from_args(args)
        setup_logging()
        try:
            results = finetune(cfg, _eval_sources(args))
        finally:
            shutdown_distributed()
        if os.environ.get("RANK", "0") == "0":
            print(json.dumps(results["train"], indent=1, default=str))
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("curation.readers").setLevel(logging.WARNING)
    if args.command == "evaluate":
        from training.clic.finetune import evaluate_path
        from training.distributed import set_cpu_threads

        if args.device == "cpu":
            set_cpu_threads(None, 0)
        sources = _eval_sources(args)
        if not sources.any():
            raise SystemExit("give at least one of --sugarcrepe, --sugarcrepe-pp, --retrieval, --zeroshot")
        results = evaluate_path(args.model_dir, sources, args.device)
        text = json.dumps(results, indent=1, ensure_ascii=False)
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text)
        print(text)
    else:
        from training.clic.demo import format_table, run

        summary = run(args.out, base_steps=args.base_steps, clic_steps=args.clic_steps, batch_size=args.batch_size,
                      lr=args.lr, n_train=args.n_train, n_eval=args.n_eval, seed=args.seed, workers=args.workers,
                      device=args.device)
        print(format_table(summary["figures"]))
        train = summary["train"]
        print(f"\nCLIC: {train['steps']} steps in {train['seconds']}s ({train['steps_per_s']} steps/s); "
              f"total {summary['total_seconds']}s -> {args.out}/clic_demo_results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
