# Databricks notebook source
# MAGIC %md
# MAGIC # Worldwide CLIP curation, stage by stage
# MAGIC
# MAGIC MetaCLIP 2 curation on the cluster's Spark: language ID → per-language metadata matching →
# MAGIC entry counts → per-language thresholds → balanced sampling, then the HTML report.
# MAGIC Every cell calls the `worldwide-clip` library (the same code as `jobs/curate.py`); the notebook
# MAGIC adds no logic.
# MAGIC
# MAGIC **Setup on Databricks**: attach the wheel built by the bundle (`databricks bundle deploy`,
# MAGIC see `docs/deploy.md`) as a cluster library, or `%pip install` it. Do not install `pyspark` or
# MAGIC `delta-spark` there: the runtime ships both. Use a dedicated (single user) or no-isolation
# MAGIC cluster: the tables are replaced atomically through the Hadoop FileSystem API of the JVM.
# MAGIC
# MAGIC **Locally** this file is plain Python: `python notebooks/01_curation_walkthrough.py`,
# MAGIC parameters from `WWCLIP_*` environment variables (e.g. `WWCLIP_OUTPUT=/tmp/out`).

# COMMAND ----------

import os

ON_DATABRICKS = "DATABRICKS_RUNTIME_VERSION" in os.environ
DEFAULTS = {
    "input": "",  # empty: the embedded multilingual sample
    "output": "/tmp/wwclip/walkthrough",
    "format": "delta",
    "metadata": "",  # empty: the embedded default metadata
    "t_en": "auto",  # paper scale: 170000
    "seed": "0",
    "report": "true",
}
if ON_DATABRICKS:
    for name, value in DEFAULTS.items():
        dbutils.widgets.text(name, value)  # noqa: F821 (defined by Databricks)
    params = {name: dbutils.widgets.get(name) for name in DEFAULTS}  # noqa: F821
else:
    params = {name: os.environ.get(f"WWCLIP_{name.upper()}", value) for name, value in DEFAULTS.items()}
print(params)


def show(df, n: int = 10) -> None:
    """Databricks' table view there, a text table elsewhere."""
    if ON_DATABRICKS:
        display(df.limit(n))  # noqa: F821
    else:
        df.show(n, truncate=60)

# COMMAND ----------

# MAGIC %md ## Configuration and metadata (validated before any Spark work)

# COMMAND ----------

from curation.pipeline.config import CurationConfig
from curation.pipeline.context import load_metadata
from curation.pipeline.curate import run_stage
from curation.pipeline.summary import format_summary
from curation.spark.session import get_spark
from curation.spark.tables import read_table

cfg = CurationConfig(input=params["input"] or None, output=params["output"], format=params["format"],
                     metadata=params["metadata"] or None, t_en=params["t_en"], seed=int(params["seed"])).validate()
metadata = load_metadata(cfg)
spark = get_spark("wwclip-walkthrough")  # the notebook's session on Databricks; local[*] with Delta elsewhere
print(f"metadata: {len(metadata.entries)} languages, {sum(map(len, metadata.entries.values())):,} entries")

# COMMAND ----------

# MAGIC %md ## 1. Language ID (fastText lid.176) → `texts_lid`

# COMMAND ----------

stats = run_stage(spark, cfg, "lid")
show(read_table(spark, cfg.output, "texts_lid", cfg.format).select("lang", "lang_score", "text", "reject_reason"))

# COMMAND ----------

# MAGIC %md ## 2. Substring matching per language → `matched` + `rejects`

# COMMAND ----------

stats = run_stage(spark, cfg, "match", metadata)
show(read_table(spark, cfg.output, "matched", cfg.format).select("lang", "entry_ids", "text"))
show(read_table(spark, cfg.output, "rejects", cfg.format).select("reason", "lang", "url", "text"))

# COMMAND ----------

# MAGIC %md ## 3. Texts per entry → `entry_counts`; 4. thresholds → `thresholds` + `entry_probs`

# COMMAND ----------

stats = run_stage(spark, cfg, "count", metadata)
stats = run_stage(spark, cfg, "thresholds")
show(read_table(spark, cfg.output, "thresholds", cfg.format).orderBy("total_count", ascending=False), 20)

# COMMAND ----------

# MAGIC %md ## 5. Balanced sampling → `curated`

# COMMAND ----------

stats = run_stage(spark, cfg, "sample")
show(read_table(spark, cfg.output, "curated", cfg.format).select("lang", "keep_prob", "text"))
print(format_summary(stats))

# COMMAND ----------

# MAGIC %md ## Report: per-language counts, head/tail curves with t, before/after balancing, rejects

# COMMAND ----------

if params["report"].lower() == "true":
    from curation.report import build_report

    report_path = build_report(cfg.output)  # <output>/report.html, read from the tables just written
    print(f"report: {report_path}")
    if ON_DATABRICKS:
        with open(report_path, encoding="utf-8") as f:
            displayHTML(f.read())  # noqa: F821
