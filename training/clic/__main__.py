"""``python -m training.clic``: CLIC fine-tuning, evaluation, and the offline demo.

    python -m training.clic finetune --pretrained runs/r1/model --data /data/long_captions.jsonl \\
        --output-dir runs/clic --sugarcrepe /data/sugarcrepe --sugarcrepe-pp /data/scpp --image-root /data/coco/val2017
    python -m training.clic evaluate --model-dir runs/clic/model --sugarcrepe-pp /data/scpp --image-root ...
    python -m training.clic demo --out /tmp/wwclip-clic-demo

``--pretrained``: an exported model directory (``<run>/model``) or a training checkpoint
(``<run>/checkpoints/step_N.pt``). ``--data``: a table (Parquet/Delta, with ``uid``, a caption column
and an image column) or a captions file (.jsonl / .csv / .tsv). Defaults are the reference's (see
``training.clic.step.CLICConfig``). See docs/clic.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from training.clic.step import CLICConfig


def _eval_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("evaluation (before and after)")
    g.add_argument("--sugarcrepe", help="folder of SugarCrepe subset JSON files (or one folder per language)")
    g.add_argument("--sugarcrepe-pp", help="folder of SugarCrepe++ subset JSON files (or one folder per language)")
    g.add_argument("--image-root", help="benchmark images (COCO val2017); default <folder>/images")
    g.add_argument("--retrieval", help="retrieval table / folder / .jsonl (training.evaluate)")
    g.add_argument("--zeroshot", help="zero-shot table or class-per-folder directory (training.evaluate)")
    g.add_argument("--classes", help="class file for --zeroshot")


def _eval_sources(args):
    from training.clic.finetune import EvalSources

    return EvalSources(args.sugarcrepe, args.sugarcrepe_pp, args.image_root, args.retrieval, args.zeroshot,
                       args.classes)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training.clic", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    d = CLICConfig()

    f = sub.add_parser("finetune", help="fine-tune the text tower with CLIC", formatter_class=ap.formatter_class)
    f.add_argument("--pretrained", required=True, help="exported model directory or training checkpoint")
    f.add_argument("--data", required=True, help="table or captions file with long captions")
    f.add_argument("--output-dir", required=True)
    f.add_argument("--text-column", default="text")
    f.add_argument("--image-column")
    f.add_argument("--image-path-column")
    f.add_argument("--image-key-column")
    f.add_argument("--image-root-train", help="folder of the training images (tables with a path/key column)")
    f.add_argument("--window", type=int, default=512, help="captions files: records per partner pool")
    f.add_argument("--block-units", type=int, default=4, help="tables: row groups per partner pool")
    f.add_argument("--spacy", action="append", default=[], metavar="LANG=PIPELINE",
                   help="spaCy pipeline (name or path) for a language; repeatable")
    o = f.add_argument_group("optimisation (reference defaults)")
    o.add_argument("--batch-size", type=int, default=d.batch_size)
    o.add_argument("--epochs", type=int, default=d.epochs)
    o.add_argument("--max-steps", type=int)
    o.add_argument("--steps-per-epoch", type=int, help="default: source rows // batch size")
    o.add_argument("--lr", type=float, default=d.lr)
    o.add_argument("--lr-start", type=float, default=d.lr_start)
    o.add_argument("--lr-end", type=float, default=d.lr_end)
    o.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs)
    o.add_argument("--wd", type=float, default=d.weight_decay)
    o.add_argument("--beta1", type=float, default=d.betas[0])
    o.add_argument("--beta2", type=float, default=d.betas[1])
    o.add_argument("--eps", type=float, default=d.eps)
    o.add_argument("--weights", type=float, nargs=3, default=list(d.weights), metavar=("CONT", "SNEG", "UNI"))
    o.add_argument("--no-alternate", action="store_true", help="CLIC loss on every step (no plain CLIP steps)")
    o.add_argument("--grad-clip", type=float)
    o.add_argument("--join-size", type=int, default=224)
    o.add_argument("--seed", type=int, default=0)
    o.add_argument("--workers", type=int, default=2)
    o.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    o.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto")
    o.add_argument("--cpu-threads", type=int, help="CPU runs: torch threads (default: cores - workers)")
    o.add_argument("--log-every", type=int, default=10)
    _eval_args(f)

    e = sub.add_parser("evaluate", help="SugarCrepe / SugarCrepe++ / retrieval / zero-shot of a model",
                       formatter_class=ap.formatter_class)
    e.add_argument("--model-dir", required=True, help="exported model directory or training checkpoint")
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


def _spacy_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        lang, sep, pipeline = item.partition("=")
        if not sep or not lang or not pipeline:
            raise SystemExit(f"--spacy expects LANG=PIPELINE, got {item!r}")
        out[lang] = pipeline
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("curation.readers").setLevel(logging.WARNING)
    if args.command == "finetune":
        from training.clic.finetune import FinetuneConfig, finetune

        clic = CLICConfig(lr=args.lr, lr_start=args.lr_start, lr_end=args.lr_end, warmup_epochs=args.warmup_epochs,
                          betas=(args.beta1, args.beta2), eps=args.eps, weight_decay=args.wd,
                          batch_size=args.batch_size, epochs=args.epochs, weights=tuple(args.weights),
                          alternate=not args.no_alternate, grad_clip=args.grad_clip)
        cfg = FinetuneConfig(
            pretrained=args.pretrained, data=args.data, output_dir=args.output_dir, clic=clic,
            text_column=args.text_column, image_column=args.image_column, image_path_column=args.image_path_column,
            image_key_column=args.image_key_column, image_root=args.image_root_train, window=args.window,
            block_units=args.block_units, join_size=args.join_size, seed=args.seed, workers=args.workers,
            device=args.device, precision=args.precision, cpu_threads=args.cpu_threads, max_steps=args.max_steps,
            steps_per_epoch=args.steps_per_epoch, log_every=args.log_every, spacy=_spacy_map(args.spacy),
            eval=_eval_sources(args))
        results = finetune(cfg)
        print(json.dumps({k: results[k] for k in ("train",) if k in results}, indent=1, default=str))
    elif args.command == "evaluate":
        from training.clic.finetune import evaluate_model, load_pretrained
        from training.model import image_transforms
        from training.distributed import set_cpu_threads

        if args.device == "cpu":
            set_cpu_threads(None, 0)
        sources = _eval_sources(args)
        if not sources.any():
            raise SystemExit("give at least one of --sugarcrepe, --sugarcrepe-pp, --retrieval, --zeroshot")
        model, model_cfg, tokenizer = load_pretrained(args.model_dir, args.device)
        results = evaluate_model(model, tokenizer, image_transforms(model_cfg)[1], sources, args.device)
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
        print(f"\nCLIC: {summary['train']['steps']} steps in {summary['train']['seconds']}s "
              f"({summary['train']['steps_per_s']} steps/s); total {summary['total_seconds']}s -> "
              f"{args.out}/clic_demo_results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
