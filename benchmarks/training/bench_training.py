"""Training throughput from a Parquet table: our loader vs synthetic tensors vs open_clip's own script.

Measures samples/s (global) for one model and batch size:

  (a) ``loader``      training.train from the curated Parquet table (decode, augment, tokenize, step);
  (b) ``synthetic``   the same model and optimizer step fed random tensors: the ceiling; 1 − a/b is the
                      loader overhead;
  (c) ``open_clip``   open_clip's training script (``open_clip_train.main``) on the same images, exported
                      to files + CSV (it cannot read Parquet), same architecture (its CLIP BPE tokenizer, so
                      our runs use the same 49,408-row text embedding);
  (d) ``loader_only`` our data path alone (no model), to show the loader's own ceiling.

Writes ``results.json`` and prints a Markdown table. GPU (one H100, ViT-B-32 at 224 px)::

    python benchmarks/training/bench_training.py --out /tmp/wwbench --model ViT-B-32 --image-px 256 \\
        --images 20000 --batch-size 256 --steps 60 --workers 8 --device cuda --precision bf16

CPU (what ``benchmarks/training/RESULTS.md`` records)::

    python benchmarks/training/bench_training.py --out /tmp/wwbench-cpu --model wwclip-small --image-px 128 \\
        --images 1500 --batch-size 64 --steps 30 --workers 1 --device cpu --precision fp32
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import time

CLIP_BPE_VOCAB = 49_408  # open_clip's default tokenizer: our runs use an embedding of the same size


def make_data(root: str, images: int, image_px: int) -> str:
    from training.demo_data import generate

    if not os.path.exists(os.path.join(root, "demo_summary.json")):
        generate(root, n_train=images, n_test=8, image_size=image_px, format="parquet", num_files=8,
                 row_group_size=256, corrupt=0)
    return os.path.join(root, "curated")


def run_ours(args, table: str, out: str) -> dict:
    from training.reader import DataConfig
    from training.train import TrainConfig, train

    cfg = TrainConfig(data=DataConfig(table=table, block_units=2), output_dir=out, model=args.model,
                      tokenizer_vocab_size=2000, text_vocab_size=CLIP_BPE_VOCAB, batch_size=args.batch_size,
                      max_steps=args.steps, warmup_steps=2, workers=args.workers, device=args.device,
                      precision=args.precision, log_every=max(1, args.steps // 6), save_every=None,
                      grad_checkpointing=args.grad_checkpointing, grad_clip=None)  # open_clip's default: no clipping
    summary = train(cfg)
    with open(os.path.join(out, "log.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # time-weighted over the logging windows after the first (warm-up) one, like open_clip's below
    windows = [(int(b["step"]) - int(a["step"]), float(b["samples_per_s"])) for a, b in itertools.pairwise(rows)]
    samples = sum(n * args.batch_size for n, _ in windows)
    seconds = sum(n * args.batch_size / r for n, r in windows)
    waits = [float(r["data_wait_frac"]) for r in rows[1:]]
    return {"samples_per_s": samples / seconds if seconds else summary["samples_per_s"],
            "data_wait_frac": sum(waits) / len(waits) if waits else float("nan"), "steps": summary["steps"],
            "torch_threads": torch_threads(), "log": rows}


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def run_synthetic(args, tokenizer_dir: str) -> dict:
    import torch

    from training.model import create_model, resolve_model_config
    from training.tokenizer import load_tokenizer
    from training.distributed import init_distributed, set_cpu_threads
    from training.optim import make_stepper, resolve_precision

    info = init_distributed(args.device)
    if info.device.type == "cpu":
        set_cpu_threads(None, args.workers)
    ctx = resolve_model_config(args.model)["text_cfg"]["context_length"]
    tok = load_tokenizer(tokenizer_dir, ctx)
    model, cfg = create_model(args.model, tok, device=info.device, grad_checkpointing=args.grad_checkpointing,
                              vocab_size=CLIP_BPE_VOCAB)
    stepper = make_stepper(model, info, precision=resolve_precision(args.precision, info.device), lr=1e-4,
                           weight_decay=0.2, grad_clip=None)
    size = cfg["vision_cfg"]["image_size"]
    images = torch.randn(args.batch_size, 3, size, size)
    texts = torch.randint(4, tok.vocab_size, (args.batch_size, ctx))
    texts[:, -1] = tok.eos_id
    warm = max(2, args.steps // 10)
    for i in range(args.steps + warm):
        if i == warm:
            if info.device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.time()
        stepper(images, texts, 1e-4)
    if info.device.type == "cuda":
        torch.cuda.synchronize()
    return {"samples_per_s": args.steps * args.batch_size / (time.time() - t0), "steps": args.steps}


def run_loader_only(args, table: str, tokenizer_dir: str) -> dict:
    from training.dataset import CuratedDataset, make_loader
    from training.reader import DataConfig
    from training.model import image_transforms, resolve_model_config
    from training.tokenizer import load_tokenizer

    cfg = resolve_model_config(args.model)
    tok = load_tokenizer(tokenizer_dir, cfg["text_cfg"]["context_length"])
    ds = CuratedDataset(DataConfig(table=table, block_units=2), batch_size=args.batch_size,
                        image_transform=image_transforms(cfg)[0], tokenizer=tok)
    n, t0, batches = 0, None, 0
    for batch in make_loader(ds, args.workers):
        batches += 1
        if batches == 2:  # skip worker start-up
            t0, n = time.time(), 0
        elif t0 is not None:
            n += len(batch["uids"])
        if batches >= args.steps + 1:
            break
    return {"samples_per_s": n / (time.time() - t0) if t0 and n else float("nan"), "batches": batches}


def export_csv(table: str, out_dir: str, rows: int) -> str:
    """Images to files + a tab-separated CSV (filepath, title): the input open_clip's script reads."""
    from training.evaluate import read_table_columns

    cols, pays = read_table_columns(table, ["uid", "text"])
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    path = os.path.join(out_dir, "train.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["filepath", "title"])
        for i in range(rows):
            j = i % len(pays)
            img = os.path.join(out_dir, "images", f"{cols['uid'][j]}.jpg")
            if not os.path.exists(img):
                with open(img, "wb") as g:
                    g.write(pays[j])
            w.writerow([img, cols["text"][j].replace("\t", " ")])
    return path


def run_open_clip(args, table: str, out: str, threads: int | None) -> dict:
    from training.model import resolve_model_config

    cfg = resolve_model_config(args.model)
    cfg["text_cfg"]["vocab_size"] = CLIP_BPE_VOCAB
    for key in ("pool_type", "hf_tokenizer_name", "eos_id", "pad_id"):
        cfg["text_cfg"].pop(key, None)  # open_clip's BPE: argmax pooling at the end-of-text id
    conf_dir = os.path.join(out, "configs")
    os.makedirs(conf_dir, exist_ok=True)
    name = "wwbench-" + re.sub(r"[^A-Za-z0-9-]", "-", args.model)
    with open(os.path.join(conf_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    rows = (args.steps + 1) * args.batch_size
    data = export_csv(table, out, rows)
    precision = {"fp32": "fp32", "bf16": "amp_bf16", "fp16": "amp", "auto": "fp32"}[args.precision]
    argv = ["--train-data", data, "--dataset-type", "csv", "--csv-img-key", "filepath", "--csv-caption-key",
            "title", "--model", name, "--batch-size", str(args.batch_size), "--epochs", "1", "--workers",
            str(args.workers), "--precision", precision, "--lr", "5e-4", "--warmup", "2", "--log-every-n-steps",
            str(max(1, args.steps // 6)), "--logs", os.path.join(out, "logs"), "--name", "bench",
            "--save-frequency", "0", "--device", args.device if args.device != "auto" else "cuda"]
    if args.grad_checkpointing:
        argv.append("--grad-checkpointing")
    code = ("import sys, open_clip; open_clip.add_model_config(sys.argv[1]); "
            "from open_clip_train.main import main; main(sys.argv[2:])")
    # same intra-op threads as our CPU run (training.distributed.set_cpu_threads); open_clip leaves torch's default
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else dict(os.environ)
    proc = subprocess.run([sys.executable, "-c", code, conf_dir, *argv], check=False, capture_output=True, text=True,
                          env=env)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return {"error": text[-2000:]}
    # "Batch (t): <seconds>" is the mean step time (data time included) of each logging window; skip the first
    times = [float(m) for m in re.findall(r"Batch \(t\): ([0-9.]+)", text)][1:]
    mean = sum(times) / len(times) if times else float("nan")
    return {"samples_per_s": args.batch_size / mean if times else float("nan"), "omp_threads": threads,
            "log_tail": "\n".join(line for line in text.splitlines() if "Train Epoch" in line)[-1500:]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default="wwclip-small")
    ap.add_argument("--images", type=int, default=1500)
    ap.add_argument("--image-px", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto")
    ap.add_argument("--grad-checkpointing", action="store_true")
    ap.add_argument("--modes", default="loader,synthetic,loader_only,open_clip")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    import logging

    logging.basicConfig(level=logging.WARNING)
    import torch

    os.makedirs(args.out, exist_ok=True)
    table = make_data(os.path.join(args.out, "data"), args.images, args.image_px)
    modes = args.modes.split(",")
    results: dict = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "args": vars(args),
                     "machine": {"python": platform.python_version(), "torch": torch.__version__,
                                 "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
                                 "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}}
    # Modes are interleaved and repeated: on a shared machine the load drifts; the median is reported.
    runs: dict[str, list[dict]] = {}
    tok_dir = os.path.join(args.out, "run0", "tokenizer")
    for r in range(args.repeats):
        run_dir = os.path.join(args.out, f"run{r}")
        if "loader" in modes:
            runs.setdefault("loader", []).append(run_ours(args, table, run_dir))
        if "synthetic" in modes and os.path.exists(tok_dir):
            runs.setdefault("synthetic", []).append(run_synthetic(args, tok_dir))
        if "open_clip" in modes:
            threads = runs["loader"][-1]["torch_threads"] if "loader" in runs and not torch.cuda.is_available() \
                else None
            runs.setdefault("open_clip", []).append(
                run_open_clip(args, table, os.path.join(args.out, f"open_clip{r}"), threads))
        if "loader_only" in modes and os.path.exists(tok_dir):
            runs.setdefault("loader_only", []).append(run_loader_only(args, table, tok_dir))
    for mode, rs in runs.items():
        rates = sorted(x.get("samples_per_s", float("nan")) for x in rs)
        results[mode] = {"samples_per_s": rates[len(rates) // 2], "all_samples_per_s": rates,
                         **{k: v for k, v in rs[-1].items() if k not in ("samples_per_s", "log")}}
    results["machine"]["load_avg_end"] = os.getloadavg()
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    print("| mode | samples/s (median) | runs |\n|---|---|---|")
    for mode in ("loader", "synthetic", "open_clip", "loader_only"):
        if mode in results:
            runs_text = ", ".join(f"{x:.1f}" for x in results[mode].get("all_samples_per_s", []))
            print(f"| {mode} | {results[mode].get('samples_per_s', float('nan')):.1f} | {runs_text} |")
    if "loader" in results and "synthetic" in results:
        overhead = 1 - results["loader"]["samples_per_s"] / results["synthetic"]["samples_per_s"]
        print(f"loader overhead vs synthetic: {overhead:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
