"""RealSyn throughput per stage on local Spark (CPU): documents/s, images/s, sentences/s.

Generates N synthetic interleaved documents with the demo generator (``curation.realsyn.demo``,
pages of 1-3 rendered images and multilingual paragraphs, with all the demo's dirt), trains the
demo CLIP once (``wwclip-tiny``, 150 CPU steps; cached), then runs the five stages one at a time
(``--start-at S --stop-after S``) and times each. Inputs are cached under ``--work``.

Small default run (a few minutes)::

    PYTHONPATH=. python benchmarks/realsyn/bench_realsyn.py --work /tmp/rs-bench --documents 2000

The >= 100k-document point (what RESULTS.md records)::

    PYTHONPATH=. python benchmarks/realsyn/bench_realsyn.py --work /tmp/rs-bench --documents 100000 \\
        --master 'local[2]' --gen-workers 2

Rates are per wall second of the whole local Spark session (all cores), with the stage's own
input counts: documents for ``extract``; sentence references for ``sentences``; kept distinct
sentences for ``embed``; distinct image references for ``images``; kept images for ``pairs``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import time

CHUNK = 1000


def _chunk(args: tuple[str, int, int, int, int]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.ids import image_uid
    from curation.realsyn.demo import DOC_SCHEMA, IMAGE_SCHEMA, make_document

    root, start, stop, seed, size = args
    docs, images = [], {}
    for i in range(start, stop):
        doc = make_document(i, seed, size)
        for url, (blob, w, h) in doc.pop("_files").items():
            if blob is not None:
                images[url] = {"uid": image_uid(url), "url": url, "jpg": blob, "width": w, "height": h}
        doc.pop("_captions")
        doc.pop("_pairs")
        docs.append(doc)
    pq.write_table(pa.Table.from_pylist(docs, schema=DOC_SCHEMA),
                   os.path.join(root, "documents", f"part-{start:08d}.parquet"))
    pq.write_table(pa.Table.from_pylist(list(images.values()), schema=IMAGE_SCHEMA),
                   os.path.join(root, "images", f"part-{start:08d}.parquet"))
    return stop - start


def make_inputs(work: str, documents: int, seed: int, image_size: int, workers: int) -> str:
    root = os.path.join(work, f"data-{documents}-{seed}-{image_size}")
    if os.path.exists(os.path.join(root, "_DONE")):
        return root
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "documents"))
    os.makedirs(os.path.join(root, "images"))
    jobs = [(root, s, min(documents, s + CHUNK), seed, image_size) for s in range(0, documents, CHUNK)]
    t0 = time.time()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        done = sum(pool.imap_unordered(_chunk, jobs))
    open(os.path.join(root, "_DONE"), "w").write(f"{done} documents in {time.time() - t0:.0f} s\n")
    return root


def make_model(work: str, steps: int, seed: int) -> str:
    from curation.realsyn.demo import generate

    src = os.path.join(work, f"model-{steps}-{seed}")
    if not os.path.exists(os.path.join(src, "clip", "open_clip_config.json")):
        generate(src, documents=300, seed=seed, num_files=1, train_steps=steps)
    return os.path.join(src, "clip")


def stage_inputs(stats: dict, stage: str, documents: int) -> tuple[str, int]:
    if stage == "extract":
        return "documents", documents
    if stage == "sentences":
        return "sentence refs", stats["sentences"]["references_in"]
    if stage == "embed":
        return "sentences", stats["embed"]["sentences"]
    if stage == "images":
        return "images", stats["images"]["distinct"]
    return "images", stats["pairs"]["images_in"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--documents", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=100)
    ap.add_argument("--train-steps", type=int, default=150)
    ap.add_argument("--gen-workers", type=int, default=2)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=0, help="output partitions (0: from input size)")
    args = ap.parse_args(argv)

    os.makedirs(args.work, exist_ok=True)
    data = make_inputs(args.work, args.documents, args.seed, args.image_size, args.gen_workers)
    model = make_model(args.work, args.train_steps, args.seed)

    from curation.realsyn.config import STAGES, RealSynConfig
    from curation.realsyn.pipeline import run_realsyn
    from curation.spark.session import get_spark

    spark = get_spark("realsyn-bench", args.master, {"spark.ui.enabled": "false", "spark.driver.memory": "6g",
                                                     "spark.sql.shuffle.partitions": "8"})
    out = os.path.join(args.work, f"out-{args.documents}")
    shutil.rmtree(out, ignore_errors=True)
    rows, stats = [], {}
    for stage in STAGES:
        cfg = RealSynConfig(documents=os.path.join(data, "documents"), images=os.path.join(data, "images"),
                            output=out, clip_model=model, target_pairs=max(1, args.documents // 4), seed=args.seed,
                            output_partitions=args.partitions, start_at=stage, stop_after=stage, device="cpu")
        t0 = time.time()
        stats = run_realsyn(spark, cfg)
        seconds = time.time() - t0
        unit, n = stage_inputs(stats, stage, args.documents)
        rows.append({"stage": stage, "seconds": round(seconds, 1), "input": unit, "n": n,
                     "per_s": round(n / seconds, 1), "documents_per_s": round(args.documents / seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    spark.stop()
    total = sum(r["seconds"] for r in rows)
    result = {"documents": args.documents, "master": args.master, "cpus": os.cpu_count(),
              "machine": platform.processor() or platform.machine(), "stages": rows,
              "total_seconds": round(total, 1), "documents_per_s": round(args.documents / total, 2),
              "pairs": stats["pairs"]["pairs"], "images_kept": stats["images"]["kept"],
              "sentences_kept": stats["sentences"]["kept"], "clip_model": "wwclip-tiny (demo-trained)",
              "perplexity": stats["sentences"]["perplexity"]}
    path = os.path.join(args.work, f"results-{args.documents}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print("\n| stage | seconds | input | n | n/s | documents/s |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stage']} | {r['seconds']} | {r['input']} | {r['n']} | {r['per_s']} | {r['documents_per_s']} |")
    print(f"\ntotal {total:.0f} s, {result['documents_per_s']} documents/s end to end -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
