"""RealSyn throughput per stage on local Spark (CPU): documents/s, images/s, sentences/s.

Generates N synthetic interleaved documents with the demo generator (``curation.realsyn.demo``,
pages of 1-3 rendered images and multilingual paragraphs, with all the demo's dirt), trains the
demo CLIP once (``wwclip-tiny``, 150 CPU steps; cached), then runs the five stages one at a time
(``--start-at S --stop-after S``) and times each. Inputs are cached under ``--work``.

Small default run (a few minutes)::

    PYTHONPATH=. python benchmarks/realsyn/bench_realsyn.py --work /tmp/rs-bench --documents 2000

The >= 100k-document point (what RESULTS.md records): the text-only stages (``extract``,
``sentences``) on all 100k documents, the model stages (``embed``, ``images``, ``pairs``: CLIP
embeddings on CPU) on the first ``--model-documents`` of them (page i depends only on (seed, i),
so the subset is a prefix of the same set). The subset runs first, all five stages (its extract +
sentences timed too), then extract + sentences on all documents; the results file is rewritten
after every stage::

    PYTHONPATH=. python benchmarks/realsyn/bench_realsyn.py --work /tmp/rs-bench --documents 100000 \\
        --model-documents 10000 --master 'local[2]' --gen-workers 2

Every stage gets ``documents/s`` (the run's documents / the stage's wall seconds) and
``images/s`` (the run's image references from ``extract`` / the stage's wall seconds), plus its
own input count and rate: documents for ``extract``; sentence references for ``sentences``; kept
distinct sentences for ``embed``; distinct image references for ``images``; kept images for
``pairs``. Rates are per wall second of the whole local Spark session (all cores). The results
JSON records the date, machine, load average around each stage, and which steps ran with a real
model and which were skipped (perplexity: no scorer given; synthetic captions: none given).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone

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


def prefix_inputs(data: str, work: str, documents: int) -> str:
    """The first ``documents`` pages of ``data`` (whole generator chunks) as a root of symlinks."""
    if documents % CHUNK:
        raise SystemExit(f"--model-documents must be a multiple of {CHUNK}")
    root = os.path.join(work, f"{os.path.basename(data)}-first{documents}")
    for sub in ("documents", "images"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
        for start in range(0, documents, CHUNK):
            name = f"part-{start:08d}.parquet"
            link = os.path.join(root, sub, name)
            if not os.path.exists(link):
                os.symlink(os.path.join(data, sub, name), link)
    return root


def run_stages(spark, data: str, out: str, model: str, documents: int, stages, seed: int, partitions: int,
               progress: str, earlier: list[dict] | None = None, dup_cosine: float = 0.95,
               perceptual: bool = True) -> tuple[list[dict], dict]:
    """Each stage of ``stages`` alone, timed; after each, every row so far goes to ``progress``
    (``{"partial": true, "stages": [...]}``), so a run stopped early keeps what it measured."""
    from curation.localfs import write_text
    from curation.realsyn.config import RealSynConfig
    from curation.realsyn.pipeline import run_realsyn

    if stages and stages[0] == "extract":
        shutil.rmtree(out, ignore_errors=True)  # otherwise the earlier stages' tables are reused
    rows, stats = [], {}
    for stage in stages:
        cfg = RealSynConfig(documents=os.path.join(data, "documents"), images=os.path.join(data, "images"),
                            output=out, clip_model=model, target_pairs=max(1, documents // 4), seed=seed,
                            output_partitions=partitions, start_at=stage, stop_after=stage, device="cpu",
                            image_dup_cosine=dup_cosine, perceptual_dedup=perceptual)
        load_before = os.getloadavg()[0]
        t0 = time.time()
        stats = run_realsyn(spark, cfg)
        seconds = time.time() - t0
        unit, n = stage_inputs(stats, stage, documents)
        image_refs = sum(stats["extract"]["image_refs"].values())
        rows.append({"stage": stage, "documents": documents, "seconds": round(seconds, 1), "input": unit, "n": n,
                     "per_s": round(n / seconds, 1), "documents_per_s": round(documents / seconds, 1),
                     "image_refs": image_refs, "images_per_s": round(image_refs / seconds, 1),
                     "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)})
        print(json.dumps(rows[-1]), flush=True)
        write_text(progress, json.dumps({"partial": True, "stages": [*(earlier or []), *rows]}, indent=1))
    return rows, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--documents", type=int, default=2000)
    ap.add_argument("--model-documents", type=int, default=0,
                    help="run embed/images/pairs on this prefix of the documents (0: all of them)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=100)
    ap.add_argument("--train-steps", type=int, default=150)
    ap.add_argument("--gen-workers", type=int, default=2)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=0, help="output partitions (0: from input size)")
    ap.add_argument("--stages", default="extract,sentences,embed,images,pairs",
                    help="stages to time (a later start reuses the earlier stages' tables of the same --work)")
    ap.add_argument("--image-dup-cosine", type=float, default=0.95)
    ap.add_argument("--no-perceptual-dedup", dest="perceptual", action="store_false")
    ap.add_argument("--warm-daemon", action="store_true",
                    help="fork Python workers from curation.spark.daemon (segmenters and torch loaded once per "
                         "executor, not per forked worker; see RESULTS.md for when it pays)")
    args = ap.parse_args(argv)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    os.makedirs(args.work, exist_ok=True)
    data = make_inputs(args.work, args.documents, args.seed, args.image_size, args.gen_workers)
    t0 = time.time()
    model = make_model(args.work, args.train_steps, args.seed)
    model_seconds = round(time.time() - t0, 1)

    from curation.localfs import write_text
    from curation.realsyn.config import STAGES
    from curation.spark.daemon import DAEMON_CONF
    from curation.spark.session import get_spark

    spark = get_spark("realsyn-bench", args.master, {"spark.ui.enabled": "false", "spark.driver.memory": "6g",
                                                     "spark.sql.shuffle.partitions": "8",
                                                     **(DAEMON_CONF if args.warm_daemon else {})})
    subset = args.model_documents if 0 < args.model_documents < args.documents else 0
    wanted = [x.strip() for x in args.stages.split(",") if x.strip()]
    if [x for x in wanted if x not in STAGES] or wanted != [x for x in STAGES if x in wanted]:
        raise SystemExit(f"--stages: a run of {STAGES} in order")
    dedup = {"dup_cosine": args.image_dup_cosine, "perceptual": args.perceptual}
    rows: list[dict] = []
    path = os.path.join(args.work, f"results-{args.documents}-{subset or args.documents}.json")
    if subset:  # the model stages on the prefix first, then the text-only stages on all documents
        sub_rows, stats = run_stages(spark, prefix_inputs(data, args.work, subset),
                                     os.path.join(args.work, f"out-{subset}"), model, subset, wanted, args.seed,
                                     args.partitions, progress=path, **dedup)
        rows += sub_rows
        text_stages = [x for x in wanted if x in ("extract", "sentences")]
        full_rows, _ = run_stages(spark, data, os.path.join(args.work, f"out-{args.documents}"), model,
                                  args.documents, text_stages, args.seed, args.partitions, progress=path,
                                  earlier=rows, **dedup)
        rows += full_rows
    else:
        rows, stats = run_stages(spark, data, os.path.join(args.work, f"out-{args.documents}"), model,
                                 args.documents, wanted, args.seed, args.partitions, progress=path, **dedup)
    spark.stop()
    result = {"started": started, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": "PYTHONPATH=. python benchmarks/realsyn/bench_realsyn.py " + " ".join(argv or sys.argv[1:]),
              "documents": args.documents, "model_documents": subset or args.documents, "master": args.master,
              "cpus": os.cpu_count(), "machine": f"{platform.machine()} {platform.processor()}".strip(),
              "stages": rows, "pairs": stats.get("pairs", {}).get("pairs"),
              "images_kept": stats.get("images", {}).get("kept"),
              "sentences_kept": stats.get("sentences", {}).get("kept"),
              "models": {"clip": f"wwclip-tiny open_clip, demo-trained {args.train_steps} CPU steps "
                                 f"({model_seconds} s incl. cache check), run on CPU for embed/images/pairs",
                         "perplexity": stats.get("sentences", {}).get("perplexity"),
                         "image_near_duplicates": stats.get("images", {}).get("near_duplicates"),
                         "synthetic_captions": stats.get("pairs", {}).get("synthetic")}}
    write_text(path, json.dumps(result, indent=1))
    print("\n| stage | documents | seconds | input | n | n/s | documents/s | images/s | load |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stage']} | {r['documents']:,} | {r['seconds']} | {r['input']} | {r['n']:,} | {r['per_s']} | "
              f"{r['documents_per_s']} | {r['images_per_s']} | {r['load_before']} -> {r['load_after']} |")
    print(f"\n-> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
