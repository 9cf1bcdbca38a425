"""Retrieval Recall@K at XM3600 size: peak memory and time of the chunked counting in
``training.evaluate.recall_at_k`` against the full-matrix argsort it replaced.

XM3600 has 3,600 images and 261,375 captions (36 languages); the benchmark scores all captions
at once (harder than the per-language evaluation, which has ~7,300 captions per language).
Embeddings are random unit vectors (``--dim``, default 1,024 as ViT-H/14-worldwide), captions are
assigned to images at random. Each measurement runs in a fresh subprocess; "peak" is the rise of
the process's maximum resident set size (``ru_maxrss``) over its value once the embeddings exist.

- ``chunked`` at full size (what the evaluator runs);
- ``argsort`` — the previous implementation (full ``[images, texts]`` score matrix, two int64
  argsorts) — only at ``--argsort-scale`` of the size, since at full size it needs ~30 GB; its
  full-size footprint is given by formula (scores 4 B + 2 argsorts 8 B + gathered owners 8 B + the
  comparison mask, per image×text pair), and the chunked hit counts are checked identical to it
  on the reduced set.

    python benchmarks/training/bench_recall.py --out benchmarks/training/recall_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

XM3600_IMAGES = 3_600
XM3600_CAPTIONS = 261_375


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _embeddings(images: int, captions: int, dim: int, seed: int):
    import numpy as np
    import torch

    g = torch.Generator().manual_seed(seed)
    img = torch.randn(images, dim, generator=g)
    txt = torch.randn(captions, dim, generator=g)
    img.div_(img.norm(dim=1, keepdim=True))
    txt.div_(txt.norm(dim=1, keepdim=True))
    owners = np.sort(np.random.default_rng(seed).integers(0, images, captions))
    return img, txt, owners


def old_argsort_recall(image_feats, text_feats, text_to_image, ks=(1, 5, 10)):
    """The implementation ``recall_at_k`` replaced (kept here only as the benchmark's baseline)."""
    import torch

    sims = image_feats @ text_feats.T
    t2i = torch.as_tensor(text_to_image)
    rank_t2i = sims.T.argsort(dim=1, descending=True)
    pos = (rank_t2i == t2i[:, None]).float().argmax(dim=1)
    del rank_t2i
    order_i2t = sims.argsort(dim=1, descending=True)
    owner = t2i[order_i2t]
    del order_i2t
    first_hit = (owner == torch.arange(sims.shape[0])[:, None]).float().argmax(dim=1)
    has_caption = torch.zeros(sims.shape[0], dtype=torch.bool)
    has_caption[t2i] = True
    out = {}
    for k in ks:
        out[f"text_to_image_R@{k}"] = float((pos < k).float().mean())
        out[f"image_to_text_R@{k}"] = float((first_hit[has_caption] < k).float().mean())
    return out


def worker(mode: str, images: int, captions: int, dim: int, seed: int, chunk_mb: int) -> dict:
    import torch

    from training.evaluate import recall_at_k

    img, txt, owners = _embeddings(images, captions, dim, seed)
    base = _rss_mib()
    t0 = time.perf_counter()
    if mode == "chunked":
        result = recall_at_k(img, txt, owners, chunk_bytes=chunk_mb << 20)
    else:
        result = old_argsort_recall(img, txt, owners)
    seconds = time.perf_counter() - t0
    # hit counts, not means: the old code averaged in float32, so its means differ in the 8th digit
    n = {"text_to_image": captions, "image_to_text": len(set(owners.tolist()))}
    hits = {k: round(v * n[k.split("_R@")[0]]) for k, v in result.items()}
    return {"mode": mode, "images": images, "captions": captions, "dim": dim, "chunk_mb": chunk_mb,
            "seconds": round(seconds, 2), "peak_rise_mib": round(_rss_mib() - base, 1),
            "embeddings_mib": round((img.numel() + txt.numel()) * 4 / 2**20, 1), "threads": torch.get_num_threads(),
            "recall": result, "hits": hits}


def run(mode: str, images: int, captions: int, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, "--images", str(images), "--captions", str(captions),
           "--dim", str(args.dim), "--seed", str(args.seed), "--chunk-mb", str(args.chunk_mb)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=XM3600_IMAGES)
    ap.add_argument("--captions", type=int, default=XM3600_CAPTIONS)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--chunk-mb", type=int, default=256, help="recall_at_k's chunk_bytes, MiB")
    ap.add_argument("--argsort-scale", type=float, default=0.1, help="size factor (both axes) of the argsort baseline")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--worker", choices=("chunked", "argsort"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.images, args.captions, args.dim, args.seed, args.chunk_mb)))
        return 0
    small_i, small_t = max(1, int(args.images * args.argsort_scale)), max(1, int(args.captions * args.argsort_scale))
    rows = [run("chunked", args.images, args.captions, args),
            run("chunked", small_i, small_t, args), run("argsort", small_i, small_t, args)]
    pairs = args.images * args.captions
    estimate_gib = pairs * (4 + 8 + 8 + 8 + 1) / 2**30
    same = rows[1]["hits"] == rows[2]["hits"]
    report = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "load_average": os.getloadavg()},
              "runs": rows, "argsort_full_size_estimate_gib": round(estimate_gib, 1),
              "chunked_equals_argsort_on_reduced_set": same}
    print(f"{'mode':<8} {'images':>7} {'captions':>9} {'seconds':>8} {'peak rise MiB':>14}")
    for r in rows:
        print(f"{r['mode']:<8} {r['images']:>7,} {r['captions']:>9,} {r['seconds']:>8.1f} {r['peak_rise_mib']:>14,.0f}")
    print(f"argsort at full size (estimate): {estimate_gib:.1f} GiB; chunked == argsort on the reduced set: {same}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
