"""Build CODER text banks and print the comparison table (CLIP / CODER / CODER*, Tip-Adapter / CODER-Tip).

    python -m training.coder --demo [--out DIR]        # offline: demo data + model + knowledge, CPU
    python -m training.coder --model-dir RUN/model --classes classes.json --test TEST \\
        [--shot-pool TRAIN] [--knowledge knowledge.json] [--wordnet oewn.xml omw-fr.xml] [--tau 0.1]

``--test`` / ``--shot-pool``: zero-shot table (image column + ``label``) or class-per-folder tree;
``--classes``: the zero-shot class file of ``training.evaluate``; ``--knowledge``: see
``training.coder.knowledge`` (docs/coder.md); ``--wordnet``: local WN-LMF files (synonyms).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile

from training.coder.fewshot import SHOT_COUNTS, SearchConfig
from training.coder.harness import CoderEvalConfig, format_table, run_coder_evaluation


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training.coder", description=__doc__.split("\n")[0])
    ap.add_argument("--demo", action="store_true", help="run on the offline demo (generates what is missing)")
    ap.add_argument("--out", help="demo: output folder [$TMPDIR/wwclip-coder-demo]; else: results JSON path")
    ap.add_argument("--demo-steps", type=int, default=120,
                    help="demo: training steps of the demo model [%(default)s; 400 saturates zero-shot at 99%%]")
    ap.add_argument("--model-dir", help="exported model directory (<run>/model)")
    ap.add_argument("--classes", help="class file: per-language classnames and templates")
    ap.add_argument("--test", help="test set: zero-shot table or class-per-folder directory")
    ap.add_argument("--shot-pool", help="labelled training images (same formats) to draw k shots per class from")
    ap.add_argument("--knowledge", help="knowledge JSON (attributes, analogous classes, differences)")
    ap.add_argument("--wordnet", nargs="*", default=[], help="local WN-LMF files for synonyms")
    ap.add_argument("--languages", nargs="*", help="evaluate only these languages of the class file")
    ap.add_argument("--cache-dir", help="bank cache folder [<out>/banks for the demo; none otherwise]")
    ap.add_argument("--tau", type=float, default=0.1, help="CODER* threshold [%(default)s]")
    ap.add_argument("--shots", type=int, nargs="*", default=list(SHOT_COUNTS))
    ap.add_argument("--aug-passes", type=int, default=10, help="augmented passes per cache key [%(default)s]")
    ap.add_argument("--beta-steps", type=int, default=500)
    ap.add_argument("--alpha-steps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-column")
    ap.add_argument("--device", default="cpu")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = CoderEvalConfig(tau=args.tau, shots=tuple(args.shots), aug_passes=args.aug_passes, seed=args.seed,
                             search=SearchConfig(beta_steps=args.beta_steps, alpha_steps=args.alpha_steps,
                                                 rounds=args.rounds))
    results_path = args.out
    if args.demo:
        from training.coder.demo import prepare_demo

        out = args.out or os.path.join(tempfile.gettempdir(), "wwclip-coder-demo")
        paths = prepare_demo(out, model_dir=args.model_dir, steps=args.demo_steps, seed=args.seed, device=args.device)
        args.model_dir, args.classes, args.test = paths["model_dir"], paths["classes"], paths["test"]
        args.shot_pool = args.shot_pool or paths["pool"]
        args.knowledge = args.knowledge or paths["knowledge"]
        args.cache_dir = args.cache_dir or os.path.join(out, "banks")
        results_path = os.path.join(out, "coder_results.json")
    missing = [f"--{n.replace('_', '-')}" for n in ("model_dir", "classes", "test") if not getattr(args, n)]
    if missing:
        ap.error(f"give {', '.join(missing)} (or --demo)")
    result = evaluate_paths(args, config)
    table = format_table(result)
    if results_path:
        result["table"] = table
        with open(results_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
    print(table)
    print(f"\n{result['test_images']} test images, {result.get('pool_images', 0)} pool images, "
          f"{result['seconds']}s" + (f" -> {results_path}" if results_path else ""))
    return 0


def evaluate_paths(args: argparse.Namespace, config: CoderEvalConfig) -> dict:
    """Load model, class file, data and knowledge named on the command line; run the evaluation."""
    from training.coder.knowledge import load_knowledge
    from training.evaluate import load_zero_shot_data
    from training.model import image_transforms, load_exported

    with open(args.classes, encoding="utf-8") as f:
        languages = json.load(f)["languages"]
    if args.languages:
        absent = sorted(set(args.languages) - set(languages))
        if absent:
            raise SystemExit(f"languages not in the class file: {absent}")
        languages = {k: languages[k] for k in args.languages}
    names = {k: v["classnames"] for k, v in languages.items()}
    knowledge = load_knowledge(args.knowledge, names) if args.knowledge else {}
    knowledge = {k: v for k, v in knowledge.items() if k in languages}
    for path in [args.test, args.shot_pool, *args.wordnet]:
        if path and not os.path.exists(path):
            raise SystemExit(f"not found: {path}")
    model, model_cfg, tokenizer = load_exported(args.model_dir, device=args.device)
    _, preprocess = image_transforms(model_cfg)
    test_payloads, test_labels = load_zero_shot_data(args.test, args.image_column)
    pool_payloads = pool_labels = None
    if args.shot_pool:
        pool_payloads, pool_labels = load_zero_shot_data(args.shot_pool, args.image_column)
    return run_coder_evaluation(model, tokenizer, preprocess, model_cfg["vision_cfg"].get("image_size", 224),
                                test_payloads=test_payloads, test_labels=test_labels, languages=languages,
                                knowledge=knowledge, wordnet=args.wordnet, pool_payloads=pool_payloads,
                                pool_labels=pool_labels, cache_dir=args.cache_dir, device=args.device, config=config)


if __name__ == "__main__":
    sys.exit(main())
