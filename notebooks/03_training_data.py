# Databricks notebook source
# MAGIC %md
# MAGIC # Training data: inspect the curated tables and export the image list
# MAGIC
# MAGIC The training package reads the curation output directly (no export step): `curated` (offline
# MAGIC sample) or `matched` + `entry_probs` (online balancing, re-sampled every epoch). This notebook
# MAGIC pins the table version the trainer would see, previews the samples of two epochs, and writes
# MAGIC the URL list an image downloader (img2dataset) needs. It calls the `training` and `curation`
# MAGIC libraries and adds no logic.
# MAGIC
# MAGIC Locally: `python notebooks/03_training_data.py` (`WWCLIP_DATA=<curation output root>`).

# COMMAND ----------

import os

ON_DATABRICKS = "DATABRICKS_RUNTIME_VERSION" in os.environ
DEFAULTS = {
    "data": "/tmp/wwclip/walkthrough",  # the curation --output root
    "mode": "online",  # offline: curated; online: matched + entry_probs, re-balanced per epoch
    "seed": "0",
    "preview": "10",
    "export": "",  # where to write the image URL list (Parquet); empty: <data>/image_urls
}
if ON_DATABRICKS:
    for name, value in DEFAULTS.items():
        dbutils.widgets.text(name, value)  # noqa: F821 (defined by Databricks)
    params = {name: dbutils.widgets.get(name) for name in DEFAULTS}  # noqa: F821
else:
    params = {name: os.environ.get(f"WWCLIP_{name.upper()}", value) for name, value in DEFAULTS.items()}
print(params)

# COMMAND ----------

# MAGIC %md ## The table version training will read

# COMMAND ----------

from curation.readers import open_table
from training.online import load_entry_probs
from training.reader import iter_epoch_records, tables_under_root

table, probs_table = tables_under_root(params["data"], params["mode"])
snapshot = open_table(table)
print(f"{snapshot.format} table {table}, version {snapshot.version}: {len(snapshot.files)} files, "
      f"{snapshot.num_rows:,} rows, layout fingerprint {snapshot.fingerprint()}")
probs = load_entry_probs(probs_table) if probs_table else None
if probs:
    print(f"entry_probs: {len(probs)} languages")

# COMMAND ----------

# MAGIC %md ## Samples of epochs 0 and 1 (online mode re-picks the text and re-flips the coin per epoch)

# COMMAND ----------

from collections import Counter
from itertools import islice

for epoch in (0, 1):
    records = list(iter_epoch_records(snapshot, mode=params["mode"], probs_by_lang=probs,
                                      seed=int(params["seed"]), epoch=epoch))
    langs = Counter(r.lang for r in records)
    print(f"epoch {epoch}: {len(records):,} samples; top languages {langs.most_common(8)}")
    for r in islice(records, int(params["preview"])):
        print(f"  {r.uid}  {r.lang:>4}  {r.text[:90]}")

# COMMAND ----------

# MAGIC %md ## Image URL list for the downloader
# MAGIC
# MAGIC Online balancing may pick any matched image in some epoch, so it needs every image of
# MAGIC `matched`; the offline sample needs only those of `curated`.

# COMMAND ----------

from curation.spark.session import get_spark
from curation.spark.tables import read_table

spark = get_spark("wwclip-training-data")
fmt = snapshot.format
source = "matched" if params["mode"] == "online" else "curated"
urls = read_table(spark, params["data"], source, fmt).select("uid", "url").dropDuplicates(["uid"])
export = params["export"] or f"{params['data'].rstrip('/')}/image_urls"
urls.write.mode("overwrite").parquet(export)
print(f"wrote {spark.read.parquet(export).count():,} image URLs to {export}")
print(f"download: img2dataset --url_list {export} --input_format parquet --url_col url "
      f"--save_additional_columns '[\"uid\"]' --output_format files --output_folder <images>")
