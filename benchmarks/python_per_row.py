"""Python CPU per row: a Spark worker's Arrow functions against the reference's per-text loop (issue 22).

Same rows, same process, fastText model and automata built before timing, so the figure is the
per-row Python work alone (no JVM, no Parquet, no fixed costs):

- ``reference loop``: ``benchmarks.metaclip_reference._annotate_batch`` (validation, uid,
  ``lid.detect``, ``Matcher.match`` text by text), run twice to bracket the machine's noise;
- ``spark arrow``: ``columnar.annotate_lid_arrow`` + ``columnar.match_arrow`` over Arrow batches
  of ``--batch-rows`` rows, with ``--lid reference`` and ``--lid improved``;
- ``fastText predict alone``: ``lid.detect`` over the same texts, i.e. the lid.176 call that
  both engines make once per (distinct) text: the floor that no engine doing MetaCLIP 2's LID
  goes under.

Process CPU time (``time.process_time``), so a loaded machine inflates it less than wall time.

    python -m benchmarks.python_per_row --rows 20000
"""

from __future__ import annotations

import argparse
import glob
import os
import time
from collections import defaultdict

import pyarrow.parquet as pq

from benchmarks.metaclip_reference import _annotate_batch
from curation import columnar, lid
from curation.matching import Matcher
from curation.metadata import read_metadata

HERE = os.path.dirname(os.path.abspath(__file__))
FINGERPRINT = "python-per-row-benchmark"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(HERE, "data", "realistic_1m"))
    parser.add_argument("--metadata", default=os.path.join(HERE, "data", "realistic_metadata.parquet"))
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    table = pq.read_table(sorted(glob.glob(os.path.join(args.corpus, "*.parquet")))[0]).slice(0, args.rows)
    urls, texts = table.column("url").combine_chunks(), table.column("text").combine_chunks()
    entries = dict(read_metadata(args.metadata).entries)
    lid.detect(["warm up"])
    matchers = {lang: Matcher(values) for lang, values in entries.items()}
    for lang, values in entries.items():
        columnar.get_matcher(FINGERPRINT, lang, values)
    n, step = len(urls), args.batch_rows

    def reference_loop() -> tuple[float, float]:
        timings: dict[str, float] = defaultdict(float)
        cpu = time.process_time()
        for s in range(0, n, step):
            _annotate_batch(urls.slice(s, step).to_pylist(), texts.slice(s, step).to_pylist(), 4096, {},
                            matchers, timings)
        return time.process_time() - cpu, 0.0  # the loop times its LID in wall seconds only

    def spark_arrow(mode: str) -> tuple[float, float]:
        cpu, lid_cpu = time.process_time(), 0.0
        for s in range(0, n, step):
            t = time.process_time()
            out = columnar.annotate_lid_arrow(urls.slice(s, step), texts.slice(s, step), None, 4096, 0.0, mode)
            lid_cpu += time.process_time() - t
            columnar.match_arrow(out["lang"], texts.slice(s, step), out["reject_reason"], entries, FINGERPRINT)
        return time.process_time() - cpu, lid_cpu

    def fasttext_alone() -> tuple[float, float]:
        cpu = time.process_time()
        for s in range(0, n, step):
            lid.detect(texts.slice(s, step).to_pylist())
        return time.process_time() - cpu, 0.0

    for name, run in (("fastText predict alone", fasttext_alone), ("reference loop", reference_loop),
                      ("spark arrow, --lid reference", lambda: spark_arrow("reference")),
                      ("spark arrow, --lid improved", lambda: spark_arrow("improved")),
                      ("reference loop again", reference_loop)):
        total, lid_part = run()
        lid_text = f" (validation + uid + LID {1e6 * lid_part / n:.1f})" if lid_part else ""
        print(f"{name}: {1e6 * total / n:.1f} µs/row{lid_text}", flush=True)


if __name__ == "__main__":
    main()
